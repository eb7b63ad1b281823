"""A short soak (issue #10): a fixed amount of mixed work under a 256 MiB memory budget —
Kinesis PutRecords read by a GetRecords tail reader and an enhanced fan-out subscriber, S3
small objects and an 8 MiB object each round, Firehose with 500 active partitions — while the
server's RSS is sampled. RSS stays under the budget and flat after the warm-up, and every
acknowledged record and object is there. `WEIR_SOAK_ROUNDS` makes it longer (BENCHMARKS.md)."""

import json
import os
import threading
import time

import boto3

from conftest import start_weir
from test_firehose import flush

BUDGET_MIB = 256
ROUNDS = int(os.environ.get("WEIR_SOAK_ROUNDS", "6"))
KW = dict(region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_mixed_load_stays_in_its_memory_budget(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path / "data"), extra_env={"WEIR_MEMORY_LIMIT_MB": str(BUDGET_MIB)})
    cfg = boto3.session.Config(s3={"addressing_style": "path"}, max_pool_connections=16)
    k = boto3.client("kinesis", endpoint_url=url, config=cfg, **KW)
    s3 = boto3.client("s3", endpoint_url=url, config=cfg, **KW)
    fh = boto3.client("firehose", endpoint_url=url, config=cfg, **KW)
    stop = threading.Event()
    samples = []  # (round, RSS MiB)
    current = [0]
    counts = {"efo": 0}  # one key per thread: `+=` on a shared key is not atomic
    errors = []
    try:
        k.create_stream(StreamName="soak", ShardCount=2)
        k.get_waiter("stream_exists").wait(StreamName="soak", WaiterConfig={"Delay": 0.05})
        arn = k.describe_stream_summary(StreamName="soak")["StreamDescriptionSummary"]["StreamARN"]
        consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="soak")["Consumer"]["ConsumerARN"]
        deadline = time.monotonic() + 30
        while k.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        shards = [s["ShardId"] for s in k.list_shards(StreamName="soak")["Shards"]]
        s3.create_bucket(Bucket="soak")
        fh.create_delivery_stream(DeliveryStreamName="soak-fh", ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::soak",
            "Prefix": "fh/p=!{partitionKeyFromQuery:p}/", "ErrorOutputPrefix": "fh-errors/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "MetadataExtraction", "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{p: .p}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                {"Type": "AppendDelimiterToRecord"}]}})
        while fh.describe_delivery_stream(DeliveryStreamName="soak-fh")["DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
            time.sleep(0.02)

        def sampler():
            while not stop.is_set():
                samples.append((current[0], rss_mib(proc.pid)))
                stop.wait(0.1)

        def tail(shard):
            c = boto3.client("kinesis", endpoint_url=url, **KW)
            try:
                it = c.get_shard_iterator(StreamName="soak", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                while not stop.is_set():
                    r = c.get_records(ShardIterator=it, Limit=10000)
                    counts[shard] = counts.get(shard, 0) + len(r["Records"])
                    it = r["NextShardIterator"]
                    if not r["Records"]:
                        stop.wait(0.05)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"tail {shard}: {e}")

        def efo():
            c = boto3.client("kinesis", endpoint_url=url, **KW)
            position = {"Type": "TRIM_HORIZON"}
            try:
                while not stop.is_set():
                    out = c.subscribe_to_shard(ConsumerARN=consumer, ShardId=shards[0], StartingPosition=position)
                    for event in out["EventStream"]:
                        e = event["SubscribeToShardEvent"]
                        counts["efo"] += len(e["Records"])
                        position = {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": e["ContinuationSequenceNumber"]}
                        if stop.is_set():
                            break
                    out["EventStream"].close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"efo: {e}")

        threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in
                   [(sampler, ()), (tail, (shards[0],)), (tail, (shards[1],)), (efo, ())]]
        for t in threads:
            t.start()
        put_total = 0
        per_shard = {s: 0 for s in shards}
        fh_total = 0
        small = 0
        big = os.urandom(8 * 1024 * 1024)
        pad = "x" * 900
        for rnd in range(ROUNDS):
            current[0] = rnd
            for b in range(10):
                r = k.put_records(StreamName="soak", Records=[
                    {"Data": (b"%d-%d-%d-" % (rnd, b, i)).ljust(1024, b"."), "PartitionKey": f"k{i}"} for i in range(500)])
                assert r["FailedRecordCount"] == 0
                for rec in r["Records"]:
                    per_shard[rec["ShardId"]] += 1
                put_total += 500
            for i in range(50):
                s3.put_object(Bucket="soak", Key=f"small/{rnd}/{i}", Body=b"s" * 1024)
                small += 1
            s3.put_object(Bucket="soak", Key=f"big/{rnd}", Body=big)
            assert s3.get_object(Bucket="soak", Key=f"big/{rnd}")["ContentLength"] == len(big)
            for b in range(4):
                r = fh.put_record_batch(DeliveryStreamName="soak-fh", Records=[
                    {"Data": json.dumps({"p": f"{(b * 500 + i) % 500:03d}", "r": rnd, "pad": pad}).encode()} for i in range(500)])
                assert r["FailedPutCount"] == 0
                fh_total += 500
        # Readers catch up, then stop.
        deadline = time.monotonic() + 60
        tailed = lambda: sum(counts.get(s, 0) for s in shards)  # noqa: E731
        while (tailed() < put_total or counts["efo"] < per_shard[shards[0]]) and time.monotonic() < deadline:
            time.sleep(0.05)
        current[0] = ROUNDS
        delivered = flush(url, "soak-fh")
        stop.set()
        for t in threads:
            t.join(30)
        assert errors == []
        assert tailed() == put_total, (counts, put_total)
        assert counts["efo"] == per_shard[shards[0]], (counts, per_shard)
        assert delivered["recordsDelivered"] == fh_total and delivered["recordsFailed"] == 0, delivered
        parts = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="soak", Prefix="fh/"):
            parts |= {o["Key"].split("/")[1] for o in page["Contents"]}
        assert len(parts) == 500
        listed = s3.list_objects_v2(Bucket="soak", Prefix="small/", MaxKeys=1000)["KeyCount"]
        assert listed == min(small, 1000)

        peak = max(m for _, m in samples)
        warm = [m for r, m in samples if r < ROUNDS // 3]
        later = [m for r, m in samples if ROUNDS // 3 <= r < ROUNDS]
        step = max(1, ROUNDS // 10)
        series = [max([m for r, m in samples if i <= r < i + step] or [0]) for i in range(0, ROUNDS, step)]
        print(f"soak: {ROUNDS} rounds, {len(samples)} RSS samples, peak {peak:.0f} MiB, warm-up max {max(warm):.0f}, "
              f"after {max(later):.0f}; max per {step} rounds: {[round(m) for m in series]}")
        assert peak < BUDGET_MIB, f"peak RSS {peak:.0f} MiB over the {BUDGET_MIB} MiB budget"
        # Flat after the warm-up: no growth with the amount of work done.
        third = [m for r, m in samples if r >= 2 * ROUNDS // 3 and r < ROUNDS]
        middle = [m for r, m in samples if ROUNDS // 3 <= r < 2 * ROUNDS // 3]
        assert max(third) <= max(middle) * 1.25 + 16, (max(middle), max(third))
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)
