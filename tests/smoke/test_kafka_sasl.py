"""SASL on the Kafka front door with real clients: PLAIN and SCRAM-SHA-256/512 (librdkafka,
kafka-python), MSK IAM with tokens from aws-msk-iam-sasl-signer (OAUTHBEARER) and the Java
plugin's AWS_MSK_IAM payload, all checked against the configured users and keys; without
authentication nothing but ApiVersions is served."""

import socket
import struct
import time

import pytest
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
from botocore.credentials import CredentialProvider, Credentials
from confluent_kafka import KafkaError
from confluent_kafka import Producer as CKProducer
from kafka.net.sasl.msk import AwsMskIamClient

from conftest import start_weir
from kafka_util import kafka_python_roundtrip, roundtrip

KEY_ID, SECRET = "AKIDKAFKASMOKE", "kafka-smoke-secret"


@pytest.fixture(scope="module")
def server():
    proc, _ = start_weir(extra_env={
        "WEIR_KAFKA__SASL_USERS": "alice:alice-secret,bob:bob-secret",
        "WEIR_KAFKA__REQUIRE_SASL": "true",
        "WEIR_AUTH__ACCESS_KEY_ID": KEY_ID,
        "WEIR_AUTH__SECRET_ACCESS_KEY": SECRET,
    })
    yield proc.kafka_bootstrap
    proc.terminate()
    assert proc.wait(30) == 0


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_librdkafka_authenticates_with_users(server, mechanism):
    roundtrip(server, f"sasl-{mechanism.lower()}", {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
        "sasl.username": "alice", "sasl.password": "alice-secret"})


def refused(bootstrap, extra):
    """Whether librdkafka reports an authentication failure (not a timeout) with `extra`."""
    errors = []
    p = CKProducer({"bootstrap.servers": bootstrap, "error_cb": errors.append, **extra})
    end = time.monotonic() + 30
    while time.monotonic() < end and not any(
            e.code() == KafkaError._AUTHENTICATION for e in errors):
        p.poll(0.1)
    return [e for e in errors if e.code() == KafkaError._AUTHENTICATION]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_a_wrong_password_is_refused(server, mechanism):
    errors = refused(server, {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
                              "sasl.username": "alice", "sasl.password": "guess"})
    assert errors and "Invalid username or password" in errors[0].str()


def test_kafka_python_authenticates_with_scram(server):
    opts = dict(bootstrap_servers=server, security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="bob",
                sasl_plain_password="bob-secret")
    assert kafka_python_roundtrip("sasl-kp", b"hello", **opts) == [b"hello"]


def iam_token(secret):
    """A token made by the signer library (as MSK clients make them) with these keys."""
    creds = Credentials(KEY_ID, secret)

    class Provider(CredentialProvider):
        def load(self):
            return creds

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
        "us-east-1", Provider())
    return token, expiry_ms / 1000


def test_msk_iam_tokens_from_the_signer_library(server):
    token, expiry = iam_token(SECRET)
    roundtrip(server, "sasl-iam", {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": lambda _config: (token, expiry)})
    bad, bad_expiry = iam_token("not-the-secret")
    errors = refused(server, {"security.protocol": "SASL_PLAINTEXT",
                              "sasl.mechanism": "OAUTHBEARER",
                              "oauth_cb": lambda _config: (bad, bad_expiry)})
    assert errors and "signature" in errors[0].str()


def send(sock, body):
    sock.sendall(struct.pack(">i", len(body)) + body)
    (n,) = struct.unpack(">i", sock.recv(4))
    out = b""
    while len(out) < n:
        out += sock.recv(n - len(out))
    return out


def test_the_java_plugins_aws_msk_iam_payload(server):
    host, port = server.rsplit(":", 1)
    header = lambda key, version, corr: struct.pack(">hhih", key, version, corr, 3) + b"cli"
    with socket.create_connection((host, int(port)), timeout=10) as s:
        mech = b"AWS_MSK_IAM"
        answer = send(s, header(17, 1, 1) + struct.pack(">h", len(mech)) + mech)
        assert struct.unpack(">h", answer[4:6]) == (0,)
        payload = AwsMskIamClient(host=host, access_key=KEY_ID, secret_key=SECRET,
                                  region="us-east-1").first_message()
        answer = send(s, header(36, 0, 2) + struct.pack(">i", len(payload)) + payload)
        assert struct.unpack(">h", answer[4:6]) == (0,), answer
        assert b"request-id" in answer


def test_nothing_but_api_versions_before_authenticating(server):
    host, port = server.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        # Metadata v1 for all topics: the broker closes the connection.
        s.sendall(struct.pack(">i", 14) + struct.pack(">hhih", 3, 1, 5, 0) + struct.pack(">i", -1))
        assert s.recv(4) == b""
