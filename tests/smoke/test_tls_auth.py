"""TLS and SigV4 verification with boto3 (botocore's own signer) against a real Weir server."""

import boto3
import botocore.exceptions
import pytest

from conftest import make_certificates, start_weir


@pytest.fixture(scope="module")
def secure_endpoint(tmp_path_factory):
    cert, key, ca = make_certificates(tmp_path_factory.mktemp("tls"))
    proc, url = start_weir(
        {
            "WEIR_TLS__CERT": str(cert),
            "WEIR_TLS__KEY": str(key),
            "WEIR_AUTH__ACCESS_KEY_ID": "AKIDSECURE",
            "WEIR_AUTH__SECRET_ACCESS_KEY": "s3cr3t",
        }
    )
    assert url.startswith("https://")
    yield url, str(ca)
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


def test_bucket_mapped_to_an_https_endpoint(secure_endpoint, tmp_path):
    """A second Weir maps bucket `lake` to the TLS + SigV4 Weir (trusting its certificate by
    `ca_file`); boto3 writes through the second and reads the result from the first."""
    url, ca = secure_endpoint
    backing = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", verify=ca,
        aws_access_key_id="AKIDSECURE", aws_secret_access_key="s3cr3t",
    )
    backing.create_bucket(Bucket="backing")
    config = tmp_path / "weir.toml"
    config.write_text(
        "[[s3.remote_buckets]]\n"
        'bucket = "lake"\n'
        f'endpoint = "{url}"\n'
        'remote_bucket = "backing"\n'
        'access_key_id = "AKIDSECURE"\n'
        'secret_access_key = "s3cr3t"\n'
        f'ca_file = "{ca}"\n'
    )
    proc, front = start_weir(extra_args=("--config", str(config)))
    try:
        s3 = boto3.client(
            "s3", endpoint_url=front, region_name="us-east-1",
            aws_access_key_id="AKIDANY", aws_secret_access_key="any",
        )
        s3.put_object(Bucket="lake", Key="dt=2026-11-25/part-0.json", Body=b'{"n": 1}\n')
        got = backing.get_object(Bucket="backing", Key="dt=2026-11-25/part-0.json")["Body"].read()
        assert got == b'{"n": 1}\n'
        listed = s3.list_objects_v2(Bucket="lake", Prefix="dt=")
        assert [o["Key"] for o in listed["Contents"]] == ["dt=2026-11-25/part-0.json"]
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
