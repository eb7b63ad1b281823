"""A short Kinesis scenario with boto3 and with the `aws` CLI against a real Weir server."""

import base64
import json
import re
import subprocess
import time

import boto3
import botocore.exceptions
import pytest


@pytest.fixture
def kinesis(endpoint):
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
    )


def test_boto3_scenario(kinesis):
    kinesis.create_stream(StreamName="boto", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName="boto", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    before = int(time.time())
    put = kinesis.put_record(StreamName="boto", Data=b"\x00hello", PartitionKey="a")
    assert put["ShardId"].startswith("shardId-")
    # AWS's sequence number layout, checked as kinesalite's recordings of AWS check it:
    # 2 . creation secs (9 hex) . shard nibble . index (16 hex) . 00 . record secs (9 hex) . shard (8 hex) . 2
    shard_ix = int(put["ShardId"].split("-")[1])
    hexed = format(int(put["SequenceNumber"]), "x")
    assert re.fullmatch(r"2[0-9a-f]{9}%x[0-9a-f]{16}00[0-9a-f]{9}%08x2" % (shard_ix, shard_ix), hexed), hexed
    assert before - 5 <= int(hexed[29:38], 16) <= time.time() + 1
    batch = kinesis.put_records(
        StreamName="boto",
        Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"} for i in range(50)],
    )
    assert batch["FailedRecordCount"] == 0 and len(batch["Records"]) == 50

    shards = kinesis.list_shards(StreamName="boto")["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
    got = []
    for shard in shards:
        it = kinesis.get_shard_iterator(StreamName="boto", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        out = kinesis.get_records(ShardIterator=it)
        assert out["MillisBehindLatest"] == 0
        got += [r["Data"] for r in out["Records"]]
    assert sorted(got) == sorted([b"\x00hello"] + [f"r{i}".encode() for i in range(50)])

    summary = kinesis.describe_stream_summary(StreamName="boto")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2 and summary["StreamStatus"] == "ACTIVE"
    assert "boto" in kinesis.list_streams()["StreamNames"]

    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream(StreamName="missing")
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName="boto", ShardCount=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kinesis.get_records(ShardIterator="bm90LWFuLWl0ZXJhdG9y")
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    kinesis.delete_stream(StreamName="boto")


def aws(endpoint, env, *args):
    out = subprocess.run(
        ["aws", "--endpoint-url", endpoint, "--output", "json", "kinesis", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_aws_cli_scenario(endpoint, aws_env):
    aws(endpoint, aws_env, "create-stream", "--stream-name", "cli", "--shard-count", "1")
    aws(endpoint, aws_env, "wait", "stream-exists", "--stream-name", "cli")
    # CLI v1 base64-encodes blob arguments itself.
    put = aws(endpoint, aws_env, "put-record", "--stream-name", "cli", "--partition-key", "p", "--data", "from-cli")
    it = aws(
        endpoint,
        aws_env,
        "get-shard-iterator",
        "--stream-name",
        "cli",
        "--shard-id",
        put["ShardId"],
        "--shard-iterator-type",
        "AT_SEQUENCE_NUMBER",
        "--starting-sequence-number",
        put["SequenceNumber"],
    )["ShardIterator"]
    records = aws(endpoint, aws_env, "get-records", "--shard-iterator", it)["Records"]
    assert base64.b64decode(records[0]["Data"]) == b"from-cli"
    assert "cli" in aws(endpoint, aws_env, "list-streams")["StreamNames"]
    aws(endpoint, aws_env, "add-tags-to-stream", "--stream-name", "cli", "--tags", "env=smoke")
    tags = aws(endpoint, aws_env, "list-tags-for-stream", "--stream-name", "cli")["Tags"]
    assert tags == [{"Key": "env", "Value": "smoke"}]
    aws(endpoint, aws_env, "delete-stream", "--stream-name", "cli")


def test_boto3_enhanced_fan_out(kinesis):
    kinesis.create_stream(StreamName="fan", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="fan", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    arn = kinesis.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="py")["Consumer"]
    kinesis.put_records(StreamName="fan", Records=[{"Data": f"e{i}".encode(), "PartitionKey": "k"} for i in range(3)])
    out = kinesis.subscribe_to_shard(
        ConsumerARN=consumer["ConsumerARN"],
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "TRIM_HORIZON"},
    )
    got = []
    for event in out["EventStream"]:
        got += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if len(got) >= 3:
            break
    out["EventStream"].close()
    assert got == [b"e0", b"e1", b"e2"]
    listed = kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["py"]
    kinesis.delete_stream(StreamName="fan", EnforceConsumerDeletion=True)


def test_reads_share_a_memory_budget():
    """With GetRecords answers limited to 1 MiB held at once, concurrent readers of 8 MB of
    records wait their turn and all read everything."""
    import threading

    from conftest import start_weir

    proc, url = start_weir(extra_env={"WEIR_KINESIS__READ_MEMORY_MB": "1"})
    try:
        k = boto3.client("kinesis", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
        k.create_stream(StreamName="budget", ShardCount=1)
        k.get_waiter("stream_exists").wait(StreamName="budget", WaiterConfig={"Delay": 0.05})
        data = [bytes([i]) * (200 * 1024) for i in range(40)]
        for i in range(0, 40, 5):
            k.put_records(StreamName="budget", Records=[{"Data": d, "PartitionKey": "p"} for d in data[i:i + 5]])
        results = {}

        def reader(n):
            c = boto3.client("kinesis", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
            it = c.get_shard_iterator(StreamName="budget", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            got = []
            while True:
                r = c.get_records(ShardIterator=it)
                got += [x["Data"] for x in r["Records"]]
                if not r["Records"]:
                    break
                it = r["NextShardIterator"]
            results[n] = got

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(results) == list(range(6))
        assert all(r == data for r in results.values())
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_large_requests_share_the_read_budget():
    """Request bodies above a connection's buffer hold a share of a budget as large as the read
    budget while they are handled: with 1 MiB, eight writers of 4 MiB PutRecords calls take
    turns, and everything written is read back."""
    import threading

    from conftest import start_weir

    proc, url = start_weir(extra_env={"WEIR_KINESIS__READ_MEMORY_MB": "1"})
    try:
        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
        k = boto3.client("kinesis", **kw)
        k.create_stream(StreamName="big-requests", ShardCount=4)
        k.get_waiter("stream_exists").wait(StreamName="big-requests", WaiterConfig={"Delay": 0.05})
        written = []
        lock = threading.Lock()

        def writer(n):
            c = boto3.client("kinesis", **kw)
            for round in range(2):
                batch = [bytes([n, round, j]) * (256 * 1024 // 3) for j in range(16)]
                r = c.put_records(StreamName="big-requests", Records=[{"Data": d, "PartitionKey": f"{n}-{j}"} for j, d in enumerate(batch)])
                assert r["FailedRecordCount"] == 0
                with lock:
                    written.extend(batch)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(written) == 8 * 2 * 16
        got = []
        for shard in k.list_shards(StreamName="big-requests")["Shards"]:
            it = k.get_shard_iterator(StreamName="big-requests", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                r = k.get_records(ShardIterator=it)
                got += [x["Data"] for x in r["Records"]]
                if not r["Records"]:
                    break
                it = r["NextShardIterator"]
        assert sorted(got) == sorted(written)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
