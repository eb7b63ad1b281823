"""Kafka over TLS (MSK's TLS listener) with the AWS port's certificate: librdkafka over SSL and
SASL_SSL, kafka-python's own AWS_MSK_IAM (which needs TLS), and MSK's TLS bootstrap strings."""

import boto3
import pytest

from conftest import make_certificates, start_weir
from kafka_util import kafka_python_roundtrip, roundtrip

KEY_ID, SECRET = "AKIDKAFKATLS", "kafka-tls-secret"


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    cert, key, ca = make_certificates(tmp_path_factory.mktemp("kafka-tls"))
    proc, url = start_weir({
        "WEIR_TLS__CERT": str(cert), "WEIR_TLS__KEY": str(key),
        "WEIR_KAFKA__TLS_LISTEN": "127.0.0.1:0",
        "WEIR_KAFKA__SASL_USERS": "alice:alice-secret",
        "WEIR_AUTH__ACCESS_KEY_ID": KEY_ID, "WEIR_AUTH__SECRET_ACCESS_KEY": SECRET,
        "WEIR_KAFKA__CLUSTER_CREATE_DELAY_MS": "0",
    })
    assert proc.kafka_tls_bootstrap, "the Kafka TLS address was not logged"
    yield proc, url, str(ca)
    proc.terminate()
    assert proc.wait(30) == 0


def test_librdkafka_over_ssl_and_sasl_ssl(secure):
    proc, _, ca = secure
    tls = proc.kafka_tls_bootstrap
    roundtrip(tls, "tls-plain", {"security.protocol": "SSL", "ssl.ca.location": ca})
    roundtrip(tls, "tls-scram", {"security.protocol": "SASL_SSL", "ssl.ca.location": ca,
                                 "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "alice",
                                 "sasl.password": "alice-secret"})


def test_kafka_pythons_aws_msk_iam_over_tls(secure, monkeypatch):
    proc, _, ca = secure
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    opts = dict(bootstrap_servers=proc.kafka_tls_bootstrap, security_protocol="SASL_SSL",
                ssl_cafile=ca, sasl_mechanism="AWS_MSK_IAM")
    assert kafka_python_roundtrip("tls-iam", b"signed", **opts) == [b"signed"]


def test_msk_tls_bootstrap_strings(secure):
    proc, url, ca = secure
    client = boto3.client("kafka", endpoint_url=url, region_name="us-east-1", verify=ca,
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    arn = client.create_cluster(
        ClusterName="secure", KafkaVersion="3.6.0", NumberOfBrokerNodes=1,
        BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": ["s"]},
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}},
        ClientAuthentication={"Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}},
                              "Unauthenticated": {"Enabled": True}})["ClusterArn"]
    brokers = client.get_bootstrap_brokers(ClusterArn=arn)
    # The cluster's own TLS listener, on the broker's host.
    tls = brokers["BootstrapBrokerStringTls"]
    assert tls != proc.kafka_tls_bootstrap
    assert tls.rsplit(":", 1)[0] == proc.kafka_tls_bootstrap.rsplit(":", 1)[0]
    assert brokers["BootstrapBrokerStringSaslScram"] == tls
    assert brokers["BootstrapBrokerStringSaslIam"] == tls
    assert "BootstrapBrokerString" not in brokers
    roundtrip(brokers["BootstrapBrokerStringTls"], "tls-msk",
              {"security.protocol": "SSL", "ssl.ca.location": ca})
