"""Kafka consumer groups on Weir with real clients: librdkafka (confluent-kafka) members
rebalancing across a three-partition topic, committed offsets surviving a restart, and
kafka-python's consumer and admin client."""

import tempfile
import time

import boto3
from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from conftest import start_weir


def kinesis(endpoint):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def three_partitions(endpoint, name):
    """A topic of three partitions: a Kinesis stream of three shards."""
    k = kinesis(endpoint)
    k.create_stream(StreamName=name, ShardCount=3)
    k.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})


def produce(bootstrap, topic, count, start=0):
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2})
    for i in range(start, start + count):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 3)
    assert p.flush(30) == 0


def member(bootstrap, group, name):
    return CKConsumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
                       "enable.auto.commit": False, "auto.offset.reset": "earliest",
                       "session.timeout.ms": 10000, "heartbeat.interval.ms": 200})


def test_three_members_share_a_topic_and_offsets_survive_a_restart():
    data = tempfile.mkdtemp(prefix="weir-smoke-groups-")
    proc, endpoint = start_weir(data_dir=data)
    try:
        bootstrap = proc.kafka_bootstrap
        three_partitions(endpoint, "shared")
        produce(bootstrap, "shared", 30)
        members = [member(bootstrap, "trio", f"m{i}") for i in range(3)]
        for m in members:
            m.subscribe(["shared"])
        got = {}
        deadline = time.monotonic() + 60
        # Every member polls until the group has settled on one partition each and all
        # thirty records are in.
        while time.monotonic() < deadline:
            for i, m in enumerate(members):
                msg = m.poll(0.05)
                if msg is not None and msg.error() is None:
                    got[(msg.partition(), msg.offset())] = (i, msg.value())
            parts = [sorted(tp.partition for tp in m.assignment()) for m in members]
            if len(got) == 30 and sorted(sum(parts, [])) == [0, 1, 2] and all(parts):
                break
        assert sorted(sum(parts, [])) == [0, 1, 2] and all(len(p) == 1 for p in parts), parts
        assert sorted(v for _, v in got.values()) == sorted(f"v{i}".encode() for i in range(30))
        # Each member read only the partition it holds (the first generation may have given
        # them out differently: only what was read after the final assignment is checked).
        for m in members:
            m.commit(asynchronous=False)
        committed = members[0].committed([CKTopicPartition("shared", p) for p in range(3)])
        assert sorted(tp.offset for tp in committed) == [10, 10, 10]
        # One member leaves: the other two take its partition over.
        members[2].close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for m in members[:2]:
                m.poll(0.05)
            parts = [sorted(tp.partition for tp in m.assignment()) for m in members[:2]]
            if sorted(sum(parts, [])) == [0, 1, 2]:
                break
        assert sorted(sum(parts, [])) == [0, 1, 2], parts
        for m in members[:2]:
            m.close()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0

    # A restart on the same data: the group resumes where it committed.
    proc, endpoint = start_weir(data_dir=data)
    try:
        bootstrap = proc.kafka_bootstrap
        produce(bootstrap, "shared", 3, start=30)
        m = member(bootstrap, "trio", "again")
        m.subscribe(["shared"])
        fresh, deadline = [], time.monotonic() + 60
        while len(fresh) < 3 and time.monotonic() < deadline:
            msg = m.poll(0.1)
            if msg is not None and msg.error() is None:
                fresh.append(msg.value())
        # Nothing more arrives after the three new ones.
        extra = m.poll(1.0)
        m.close()
        assert sorted(fresh) == [b"v30", b"v31", b"v32"]
        assert extra is None or extra.error() is not None
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_kafka_python_group_and_admin_calls():
    proc, endpoint = start_weir()
    try:
        bootstrap = proc.kafka_bootstrap
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        for i in range(5):
            p.send("kp-group", value=f"r{i}".encode())
        p.flush()
        p.close()
        c = KafkaConsumer("kp-group", bootstrap_servers=bootstrap, group_id="kp",
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          consumer_timeout_ms=1000)
        got, deadline = [], time.monotonic() + 60
        while len(got) < 5 and time.monotonic() < deadline:
            for batch in c.poll(timeout_ms=200).values():
                got.extend(r.value for r in batch)
        assert got == [f"r{i}".encode() for i in range(5)]
        c.commit()
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        listed = {g["group_id"]: g for g in admin.list_groups()}
        assert listed["kp"]["protocol_type"] == "consumer"
        assert listed["kp"]["group_state"] == "Stable"
        desc = admin.describe_groups(["kp"])["kp"]
        assert desc["error"] is None and desc["group_state"] == "Stable"
        assert desc["protocol_type"] == "consumer" and len(desc["members"]) == 1
        offsets = admin.list_group_offsets("kp")["kp"]
        assert {tp.partition: om.offset for tp, om in offsets.items()} == {0: 5}
        c.close()
        # Once empty, the group can be deleted (with its offsets); deleting it again is refused.
        assert admin.delete_groups(["kp"]) == {"kp": "OK"}
        assert "kp" not in {g["group_id"] for g in admin.list_groups()}
        assert admin.delete_groups(["kp"]) == {"kp": "GroupIdNotFoundError"}
        admin.close()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
