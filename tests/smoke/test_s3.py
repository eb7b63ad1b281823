"""The S3 basics with boto3 and the aws CLI against a real Weir server."""

import json
import subprocess

import boto3
import pytest


@pytest.fixture
def s3(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
        config=boto3.session.Config(s3={"addressing_style": "path"}),
    )


def test_boto3_objects(s3):
    s3.create_bucket(Bucket="smoke")
    s3.put_object(Bucket="smoke", Key="a/b.txt", Body=b"hello", Metadata={"who": "boto3"})
    s3.put_object(Bucket="smoke", Key="a/c d.txt", Body=b"world")
    got = s3.get_object(Bucket="smoke", Key="a/b.txt")
    assert got["Body"].read() == b"hello"
    assert got["Metadata"] == {"who": "boto3"}
    listed = s3.list_objects_v2(Bucket="smoke", Prefix="a/")
    assert [o["Key"] for o in listed["Contents"]] == ["a/b.txt", "a/c d.txt"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="smoke", Key="missing")


def test_aws_cli_s3(endpoint, aws_env, tmp_path):
    src = tmp_path / "f.txt"
    src.write_bytes(b"cli bytes")

    def aws(*args):
        out = subprocess.run(
            ["aws", "--endpoint-url", endpoint, "s3", *args], env=aws_env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    aws("mb", "s3://cli-bucket")
    aws("cp", str(src), "s3://cli-bucket/dir/f.txt")
    assert "dir/f.txt" in aws("ls", "--recursive", "s3://cli-bucket")
    dst = tmp_path / "back.txt"
    aws("cp", "s3://cli-bucket/dir/f.txt", str(dst))
    assert dst.read_bytes() == b"cli bytes"
    aws("rm", "s3://cli-bucket/dir/f.txt")
    aws("rb", "s3://cli-bucket")
