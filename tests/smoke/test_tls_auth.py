"""TLS and SigV4 verification with boto3 (botocore's own signer) against a real Weir server."""

import subprocess

import boto3
import botocore.exceptions
import pytest

from conftest import start_weir


@pytest.fixture(scope="module")
def secure_endpoint(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    proc, url = start_weir(
        {
            "WEIR_TLS__CERT": str(cert),
            "WEIR_TLS__KEY": str(key),
            "WEIR_AUTH__ACCESS_KEY_ID": "AKIDSECURE",
            "WEIR_AUTH__SECRET_ACCESS_KEY": "s3cr3t",
        }
    )
    assert url.startswith("https://")
    yield url, str(cert)
    proc.terminate()
    assert proc.wait(30) == 0


def client(endpoint, ca, secret):
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="ap-southeast-2",
        aws_access_key_id="AKIDSECURE",
        aws_secret_access_key=secret,
        verify=ca,
    )


def test_signed_requests_over_tls(secure_endpoint):
    url, ca = secure_endpoint
    k = client(url, ca, "s3cr3t")
    k.create_stream(StreamName="tls", ShardCount=1)
    k.get_waiter("stream_exists").wait(StreamName="tls", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    k.put_record(StreamName="tls", Data=b"secure", PartitionKey="p")
    arn = k.describe_stream_summary(StreamName="tls")["StreamDescriptionSummary"]["StreamARN"]
    assert ":ap-southeast-2:" in arn


def test_wrong_secret_is_refused(secure_endpoint):
    url, ca = secure_endpoint
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(url, ca, "wrong").list_streams()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
