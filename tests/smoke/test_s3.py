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

    # sync up, change a file, sync again (only the change travels), sync down with --delete.
    tree = tmp_path / "tree"
    for rel, data in {"a.txt": b"a", "sub/b.txt": b"bb", "sub/deep/c d.txt": b"ccc"}.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    aws("sync", str(tree), "s3://cli-bucket/tree")
    listing = aws("ls", "--recursive", "s3://cli-bucket/tree/")
    assert all(k in listing for k in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/deep/c d.txt")), listing
    (tree / "sub/b.txt").write_bytes(b"changed!")
    second = aws("sync", str(tree), "s3://cli-bucket/tree")
    assert "sub/b.txt" in second and "a.txt" not in second, second
    down = tmp_path / "down"
    (down / "stale.txt").parent.mkdir(parents=True)
    (down / "stale.txt").write_bytes(b"old")
    aws("sync", "--delete", "s3://cli-bucket/tree", str(down))
    assert (down / "sub/b.txt").read_bytes() == b"changed!"
    assert (down / "sub/deep/c d.txt").read_bytes() == b"ccc"
    assert not (down / "stale.txt").exists()
    aws("rm", "--recursive", "s3://cli-bucket/tree")
    aws("rb", "s3://cli-bucket")


def test_aws_cli_multipart_copy(endpoint, aws_env, tmp_path):
    """The CLI switches to multipart uploads (and ranged downloads) above 8 MiB."""
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (20 * 4096))  # 20 MiB
    out = subprocess.run(
        ["aws", "--endpoint-url", endpoint, "s3", "mb", "s3://cli-big"], env=aws_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for args in (["cp", str(big), "s3://cli-big/big.bin"], ["cp", "s3://cli-big/big.bin", str(tmp_path / "back.bin")]):
        out = subprocess.run(["aws", "--endpoint-url", endpoint, "s3", *args], env=aws_env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    head = subprocess.run(
        ["aws", "--endpoint-url", endpoint, "s3api", "head-object", "--bucket", "cli-big", "--key", "big.bin"],
        env=aws_env,
        capture_output=True,
        text=True,
    )
    assert head.returncode == 0, head.stderr
    assert json.loads(head.stdout)["ETag"].endswith('-3"'), head.stdout  # 8 MiB parts: 8 + 8 + 4


def test_pyarrow_reads_parquet_through_weir_s3(endpoint, s3):
    """An independent reader: pyarrow's S3FileSystem writes and reads a Parquet file via Weir."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import fs

    s3.create_bucket(Bucket="pyarrow-lake")
    host = endpoint.split("://", 1)[1]
    filesystem = fs.S3FileSystem(
        access_key="AKIDSMOKE", secret_key="secret", endpoint_override=host, scheme="http", region="us-east-1"
    )
    table = pa.table({"id": list(range(1000)), "name": [f"row-{i}" for i in range(1000)]})
    pq.write_table(table, "pyarrow-lake/events/part-0.parquet", filesystem=filesystem)
    # Also a file written by boto3, read by pyarrow.
    buf = pa.BufferOutputStream()
    pq.write_table(table.slice(0, 10), buf)
    s3.put_object(Bucket="pyarrow-lake", Key="events/part-1.parquet", Body=buf.getvalue().to_pybytes())
    back = pq.read_table("pyarrow-lake/events/part-0.parquet", filesystem=filesystem)
    assert back.equals(table)
    dataset = pq.ParquetDataset("pyarrow-lake/events/", filesystem=filesystem)
    assert dataset.read().num_rows == 1010
