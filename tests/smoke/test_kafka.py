"""The Kafka front door with real Kafka clients (kafka-python, confluent-kafka/librdkafka): topics
are Weir streams, so what Kafka clients produce Kinesis clients read, and the reverse."""

import struct
import time

import boto3
import pytest
from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from conftest import start_weir
from kafka_util import (idempotent_batch, init_producer_id, produce_answer, produce_v3,
                        raw_request)


@pytest.fixture(scope="module")
def server():
    proc, endpoint = start_weir()
    assert proc.kafka_bootstrap, "the Kafka address was not logged"
    yield proc.kafka_bootstrap, endpoint
    proc.terminate()
    assert proc.wait(30) == 0


def kinesis(endpoint):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def consume(bootstrap, topic, count, partition=0, deadline=30):
    """`count` records of one partition from its start, with kafka-python (no group)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", consumer_timeout_ms=1000)
    tp = TopicPartition(topic, partition)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got, end = [], time.monotonic() + deadline
    while len(got) < count and time.monotonic() < end:
        for batch in c.poll(timeout_ms=500).values():
            got.extend(batch)
    c.close()
    return got


def test_kafka_python_produces_and_consumes_in_order(server):
    bootstrap, _ = server
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    sent = [p.send("orders", key=f"k{i}".encode(), value=f"order {i}".encode()) for i in range(5)]
    offsets = [f.get(timeout=30).offset for f in sent]
    p.close()
    assert offsets == [0, 1, 2, 3, 4]
    got = consume(bootstrap, "orders", 5)
    assert [(r.offset, r.key, r.value) for r in got] == [
        (i, f"k{i}".encode(), f"order {i}".encode()) for i in range(5)]
    # Earliest and latest offsets (ListOffsets).
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    tp = TopicPartition("orders", 0)
    assert c.beginning_offsets([tp]) == {tp: 0}
    assert c.end_offsets([tp]) == {tp: 5}
    c.close()


def test_kafka_records_are_kinesis_records_and_back(server):
    bootstrap, endpoint = server
    k = kinesis(endpoint)
    p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, enable_idempotence=False)
    p.send("bridge", key=b"user-7", value=b'{"a": 1}').get(timeout=30)
    p.close()
    # Kafka → Kinesis: the value is the Data, the key the PartitionKey.
    shard = k.list_shards(StreamName="bridge")["Shards"][0]["ShardId"]
    it = k.get_shard_iterator(StreamName="bridge", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = k.get_records(ShardIterator=it)["Records"]
    assert [(r["Data"], r["PartitionKey"]) for r in recs] == [(b'{"a": 1}', "user-7")]
    # Kinesis → Kafka: PutRecords read by a Kafka consumer, after the Kafka record.
    k.put_records(StreamName="bridge", Records=[
        {"Data": f"kinesis {i}".encode(), "PartitionKey": f"pk{i}"} for i in range(3)])
    got = consume(bootstrap, "bridge", 4)
    assert [(r.offset, r.key, r.value) for r in got] == [(0, b"user-7", b'{"a": 1}')] + [
        (i + 1, f"pk{i}".encode(), f"kinesis {i}".encode()) for i in range(3)]


def test_null_keys_tombstones_and_raw_keys_come_back_as_produced(server):
    bootstrap, endpoint = server
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    p.send("shapes", key=None, value=b"no key", timestamp_ms=1_600_000_000_000).get(timeout=30)
    p.send("shapes", key=b"gone", value=None, headers=[("why", b"deleted")]).get(timeout=30)
    p.send("shapes", key=b"", value=b"empty key").get(timeout=30)
    p.send("shapes", key=bytes([0xff, 0x00, 0x7f]), value=b"binary key").get(timeout=30)
    p.close()
    got = consume(bootstrap, "shapes", 4)
    assert [(r.key, r.value, r.headers) for r in got] == [
        (None, b"no key", []), (b"gone", None, [("why", b"deleted")]),
        (b"", b"empty key", []), (bytes([0xff, 0x00, 0x7f]), b"binary key", [])]
    assert got[0].timestamp == 1_600_000_000_000
    # ListOffsets by time goes by the records' timestamps (the producer's, here).
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    tp = TopicPartition("shapes", 0)
    by_time = c.offsets_for_times({tp: 1_600_000_000_000})[tp]
    assert (by_time.offset, by_time.timestamp) == (0, 1_600_000_000_000)
    assert c.offsets_for_times({tp: 1_600_000_000_001})[tp].offset == 1
    assert c.offsets_for_times({tp: 4_000_000_000_000})[tp] is None
    c.close()
    # Kinesis readers see a partition key for each (the partition number where Kafka had
    # none, hex for bytes that are not text) and empty data for the tombstone.
    k = kinesis(endpoint)
    it = k.get_shard_iterator(StreamName="shapes", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = k.get_records(ShardIterator=it)["Records"]
    assert [(r["PartitionKey"], r["Data"]) for r in recs] == [
        ("0", b"no key"), ("gone", b""), ("0", b"empty key"), ("ff007f", b"binary key")]


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_librdkafka_produces_compressed_batches(server, compression):
    bootstrap, _ = server
    topic = f"ck-{compression}"
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", "compression.type": compression,
                    "linger.ms": 5, "enable.idempotence": True})
    delivered = []
    for i in range(20):
        p.produce(topic, key=f"key-{i}".encode(), value=(f"value {i} " * 20).encode(),
                  headers=[("n", str(i).encode()), ("n", b"again"), ("empty", None)],
                  timestamp=1_700_000_000_000 + i,
                  on_delivery=lambda err, msg: delivered.append((err, msg.offset() if msg else None)))
    assert p.flush(30) == 0
    assert all(err is None for err, _ in delivered), delivered
    assert sorted(o for _, o in delivered) == list(range(20))
    c = CKConsumer({"bootstrap.servers": bootstrap, "group.id": "weir-smoke",
                    "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([CKTopicPartition(topic, 0, 0)])
    got, end = [], time.monotonic() + 30
    while len(got) < 20 and time.monotonic() < end:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append((m.offset(), m.key(), m.value(), m.headers(), m.timestamp()))
    c.close()
    # Keys, values, ordered (repeated, null-valued) headers and the producer's timestamps.
    from confluent_kafka import TIMESTAMP_CREATE_TIME
    assert got == [(i, f"key-{i}".encode(), (f"value {i} " * 20).encode(),
                    [("n", str(i).encode()), ("n", b"again"), ("empty", None)],
                    (TIMESTAMP_CREATE_TIME, 1_700_000_000_000 + i)) for i in range(20)]


def test_an_unknown_partition_and_a_bad_offset_are_refused(server):
    bootstrap, _ = server
    p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, enable_idempotence=False)
    p.send("refusals", value=b"x").get(timeout=30)
    with pytest.raises(Exception):
        p.send("refusals", value=b"y", partition=5).get(timeout=5)
    p.close()
    # A fetch past the end: OFFSET_OUT_OF_RANGE, reset to earliest by the client.
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                      consumer_timeout_ms=1000)
    tp = TopicPartition("refusals", 0)
    c.assign([tp])
    c.seek(tp, 100)
    got, end = [], time.monotonic() + 30
    while not got and time.monotonic() < end:
        for batch in c.poll(timeout_ms=500).values():
            got.extend(batch)
    c.close()
    assert [(r.offset, r.value) for r in got] == [(0, b"x")]


def test_a_lying_request_closes_its_connection_not_the_broker(server):
    bootstrap, _ = server
    header = lambda key, version: struct.pack(">hhih", key, version, 9, 3) + b"cli"
    # Metadata v1 claiming two billion topics in a few bytes: refused before anything is sized.
    assert raw_request(bootstrap, header(3, 1) + struct.pack(">ih", 2**31 - 1, 2) + b"t1") == b""
    # A produce whose batch claims two billion records (Produce v3, acks 1, one partition).
    batch = bytearray(61)
    batch[8:12] = struct.pack(">i", 49)
    batch[16] = 2
    batch[57:61] = struct.pack(">i", 2**31 - 1)
    produce = (header(0, 3) + struct.pack(">hhii", -1, 1, 5000, 1) + struct.pack(">h", 4) + b"lies"
               + struct.pack(">iii", 1, 0, len(batch)) + bytes(batch))
    answer = raw_request(bootstrap, produce)
    # Answered (CRC fails first here: CORRUPT_MESSAGE), the broker still up.
    assert answer[:4] == struct.pack(">i", 9)
    assert answer[10:14] == b"lies" and struct.unpack(">h", answer[22:24]) == (2,)
    # The broker still serves: an ApiVersions v0 answer (error code 0).
    answer = raw_request(bootstrap, header(18, 0))
    assert answer[:6] == struct.pack(">ih", 9, 0)


def test_an_idempotent_producers_retry_is_not_written_twice(server):
    bootstrap, endpoint = server
    # kafka-python 3 is idempotent by default: InitProducerId, then sequenced batches.
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(5):
        p.send("idem", key=b"k", value=f"v{i}".encode())
    p.flush()
    p.close()
    # A retried batch, as a producer resends one whose answer it lost: same id, same sequence.
    pid, epoch = init_producer_id(bootstrap)

    def batch(seq, values):
        return idempotent_batch(pid, epoch, seq, values)

    base_offset = produce_answer

    first = base_offset(raw_request(bootstrap, produce_v3("idem", batch(0, [b"a", b"b"]))))
    again = base_offset(raw_request(bootstrap, produce_v3("idem", batch(0, [b"a", b"b"]))))
    assert first == again == (0, 5)
    # A gap in the sequence: OUT_OF_ORDER_SEQUENCE_NUMBER (45), nothing written.
    gap = base_offset(raw_request(bootstrap, produce_v3("idem", batch(5, [b"c"]))))
    assert gap[0] == 45
    nxt = base_offset(raw_request(bootstrap, produce_v3("idem", batch(2, [b"c"]))))
    assert nxt == (0, 7)
    got = consume(bootstrap, "idem", 8)
    assert [r.value for r in got] == [b"v0", b"v1", b"v2", b"v3", b"v4", b"a", b"b", b"c"]


def test_kafka_records_reach_enhanced_fan_out_subscribers(server):
    bootstrap, endpoint = server
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(3):
        p.send("fanned", key=f"user-{i}".encode(), value=f"event {i}".encode(),
               headers=[("h", b"kept for Kafka readers")])
    p.flush()
    p.close()
    k = kinesis(endpoint)
    arn = k.describe_stream_summary(StreamName="fanned")["StreamDescriptionSummary"]["StreamARN"]
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="kafka-reader")["Consumer"]
    out = k.subscribe_to_shard(ConsumerARN=consumer["ConsumerARN"], ShardId="shardId-000000000000",
                               StartingPosition={"Type": "TRIM_HORIZON"})
    got = []
    for event in out["EventStream"]:
        got += [(r["PartitionKey"], r["Data"]) for r in event["SubscribeToShardEvent"]["Records"]]
        if len(got) >= 3:
            break
    out["EventStream"].close()
    assert got == [(f"user-{i}", f"event {i}".encode()) for i in range(3)]
