"""A full disk and failing fsyncs, with real clients: Weir stops acknowledging writes with
AWS-style errors (Kinesis InternalFailure, S3 InternalError, Firehose
ServiceUnavailableException), keeps serving reads, never acknowledges what is not durable, and
resumes by itself when space returns. The disk is a size-limited tmpfs the test mounts; failing
fsyncs come from a small LD_PRELOAD shim the test compiles, so the binary under test is the
release one, unchanged."""

import json
import os
import shutil
import subprocess
import time
import urllib.request

import boto3
import pytest

from conftest import start_weir

KB = 1024
MIB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def clients(url):
    cfg = boto3.session.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret", config=cfg)
    return boto3.client("kinesis", **kw), boto3.client("s3", **kw), boto3.client("firehose", **kw)


def fill(disk, leave):
    """Fills the disk but `leave` bytes; returns the filler's path."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def active(k, name):
    deadline = time.monotonic() + 30
    while k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def read_all(k, name):
    shard = k.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    it = k.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got = []
    while True:
        r = k.get_records(ShardIterator=it, Limit=10000)
        got += [x["Data"] for x in r["Records"]]
        if not r["Records"]:
            return got
        it = r["NextShardIterator"]


def put_until_refused(k, name, tag, acked):
    """PutRecords of 100 × 1 KiB until a call is refused; returns the error code."""
    for i in range(500):
        batch = [f"{tag}-{i}-{j}-".encode().ljust(KB, b"x") for j in range(100)]
        try:
            r = k.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "p"} for d in batch])
        except k.exceptions.ClientError as e:
            return e.response["Error"]["Code"]
        for d, rec in zip(batch, r["Records"]):
            if "SequenceNumber" in rec:
                acked.append(d)
            else:
                return rec["ErrorCode"]
    raise AssertionError("the disk never filled")


def survives_kill(proc, data, stream, acked, obj):
    """kill -9, restart on the same data: the stream holds exactly `acked`, the object its body."""
    proc.kill()
    proc.wait()
    proc, url = start_weir(data_dir=str(data))
    try:
        k, s3, _ = clients(url)
        assert read_all(k, stream) == acked
        bucket, key, body = obj
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def flush(url, name):
    req = urllib.request.Request(f"{url}/_weir/firehose/us-east-1/{name}/flush", method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def delivered_lines(s3, bucket):
    lines = []
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        lines += s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().splitlines()
    return lines


def test_a_full_disk_refuses_writes_serves_reads_and_recovers(small_disk):
    data = small_disk / "data"
    proc, url = start_weir(data_dir=str(data))
    try:
        k, s3, fh = clients(url)
        k.create_stream(StreamName="full", ShardCount=1)
        active(k, "full")
        s3.create_bucket(Bucket="full-lake")
        fh.create_delivery_stream(
            DeliveryStreamName="full-ds",
            ExtendedS3DestinationConfiguration={
                "BucketARN": "arn:aws:s3:::full-lake",
                "RoleARN": "arn:aws:iam::000000000000:role/r",
                "BufferingHints": {"IntervalInSeconds": 900, "SizeInMBs": 128},
            },
        )
    except Exception:
        proc.kill()
        raise
    acked = []
    filler = fill(small_disk, 2 * MIB)
    code = put_until_refused(k, "full", "a", acked)
    assert code == "InternalFailure", code
    # Reads go on: everything acknowledged, in order, nothing refused.
    assert read_all(k, "full") == acked
    assert k.describe_stream_summary(StreamName="full")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    # S3 refuses what it cannot store, and leaves nothing half-written.
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.put_object(Bucket="full-lake", Key="too-big", Body=os.urandom(4 * MIB))
    assert e.value.response["Error"]["Code"] == "InternalError"
    assert "Contents" not in s3.list_objects_v2(Bucket="full-lake", Prefix="too-big")
    # Firehose takes records into its durable intake until that cannot store them.
    fh_acked = []
    for i in range(200):
        batch = [json.dumps({"i": i, "j": j, "pad": "x" * 900}).encode() for j in range(100)]
        try:
            r = fh.put_record_batch(DeliveryStreamName="full-ds", Records=[{"Data": d + b"\n"} for d in batch])
        except fh.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ServiceUnavailableException", e.response
            break
        fh_acked += [d for d, res in zip(batch, r["RequestResponses"]) if "RecordId" in res]
    else:
        raise AssertionError("Firehose never refused")
    # Space returns: every service writes again by itself.
    filler.unlink()
    r = k.put_records(StreamName="full", Records=[{"Data": b"after", "PartitionKey": "p"}])
    assert r["FailedRecordCount"] == 0
    acked.append(b"after")
    s3.put_object(Bucket="full-lake", Key="after", Body=b"fine")
    fh.put_record_batch(DeliveryStreamName="full-ds", Records=[{"Data": b'{"after": 1}\n'}])
    fh_acked.append(b'{"after": 1}')
    flush(url, "full-ds")
    lines = [line for line in delivered_lines(s3, "full-lake") if line != b"fine"]
    assert sorted(lines) == sorted(fh_acked), (len(lines), len(fh_acked))
    # kill -9 and restart: exactly what was acknowledged.
    survives_kill(proc, data, "full", acked, ("full-lake", "after", b"fine"))


SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* fsync and fdatasync fail with EIO while the file named by WEIR_TEST_FSYNC_FAIL exists. */
static int failing(void) {
    const char *flag = getenv("WEIR_TEST_FSYNC_FAIL");
    return flag && access(flag, F_OK) == 0;
}
int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "fsync");
    if (failing()) { errno = EIO; return -1; }
    return real(fd);
}
int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "fdatasync");
    if (failing()) { errno = EIO; return -1; }
    return real(fd);
}
"""


def test_failing_fsyncs_are_never_acknowledged(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the fsync shim")
    src = tmp_path / "shim.c"
    src.write_text(SHIM)
    lib = tmp_path / "libfsyncfail.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(src), "-ldl"], check=True)
    flag = tmp_path / "fail-now"
    data = tmp_path / "data"
    env = {"LD_PRELOAD": str(lib), "WEIR_TEST_FSYNC_FAIL": str(flag)}
    proc, url = start_weir(extra_env=env, data_dir=str(data))
    k, s3, fh = clients(url)
    k.create_stream(StreamName="eio", ShardCount=1)
    active(k, "eio")
    s3.create_bucket(Bucket="eio-lake")
    acked = []
    for i in range(5):
        d = f"before-{i}".encode()
        k.put_record(StreamName="eio", Data=d, PartitionKey="p")
        acked.append(d)
    flag.touch()
    with pytest.raises(k.exceptions.ClientError) as e:
        k.put_record(StreamName="eio", Data=b"while failing", PartitionKey="p")
    assert e.value.response["Error"]["Code"] == "InternalFailure"
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.put_object(Bucket="eio-lake", Key="k", Body=b"while failing")
    assert e.value.response["Error"]["Code"] == "InternalError"
    # Reads are served while writes fail.
    assert read_all(k, "eio") == acked
    flag.unlink()
    k.put_record(StreamName="eio", Data=b"after", PartitionKey="p")
    acked.append(b"after")
    s3.put_object(Bucket="eio-lake", Key="k", Body=b"after")
    assert read_all(k, "eio") == acked
    survives_kill(proc, data, "eio", acked, ("eio-lake", "k", b"after"))
