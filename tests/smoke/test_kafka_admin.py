"""Kafka admin calls on Weir with librdkafka's AdminClient (confluent-kafka) and kafka-python:
topics created and deleted, configs described and altered (retention.ms is the stream's
retention), max.message.bytes enforced, the cluster described."""

import time

import boto3
import pytest
from confluent_kafka import KafkaException
from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewPartitions, NewTopic)
from kafka import KafkaAdminClient
from kafka.admin import NewPartitions as KPNewPartitions
from kafka.admin import NewTopic as KPNewTopic

from conftest import start_weir


@pytest.fixture(scope="module")
def server():
    proc, endpoint = start_weir()
    yield proc.kafka_bootstrap, endpoint
    proc.terminate()
    assert proc.wait(30) == 0


def kinesis(endpoint):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def configs(admin, topic):
    res = ConfigResource("topic", topic)
    return admin.describe_configs([res])[res].result(30)


def test_topics_are_created_described_altered_and_deleted(server):
    bootstrap, endpoint = server
    admin = AdminClient({"bootstrap.servers": bootstrap})
    made = admin.create_topics([
        NewTopic("admin-a", num_partitions=3, replication_factor=1,
                 config={"retention.ms": "172800000", "cleanup.policy": "compact,delete"}),
        NewTopic("admin-b", num_partitions=1, replication_factor=3),
    ])
    made["admin-a"].result(30)
    with pytest.raises(KafkaException) as refused:
        made["admin-b"].result(30)
    assert refused.value.args[0].name() == "INVALID_REPLICATION_FACTOR"
    # Again (even with a replication factor it could not have): TOPIC_ALREADY_EXISTS.
    with pytest.raises(KafkaException) as again:
        admin.create_topics([NewTopic("admin-a", 1, 3)])["admin-a"].result(30)
    assert again.value.args[0].name() == "TOPIC_ALREADY_EXISTS"
    # The topic is a stream of three shards kept two days.
    stream = kinesis(endpoint).describe_stream_summary(StreamName="admin-a")["StreamDescriptionSummary"]
    assert (stream["OpenShardCount"], stream["RetentionPeriodHours"]) == (3, 48)
    meta = admin.list_topics(timeout=30)
    assert sorted(meta.topics["admin-a"].partitions) == [0, 1, 2]

    got = configs(admin, "admin-a")
    assert got["retention.ms"].value == "172800000"
    assert got["cleanup.policy"].value == "compact,delete" and not got["cleanup.policy"].is_default
    assert got["max.message.bytes"].value == "1048588" and got["max.message.bytes"].is_default

    res = ConfigResource("topic", "admin-a", incremental_configs=[
        ConfigEntry("retention.ms", "259200000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("max.message.bytes", "2000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE),
    ])
    admin.incremental_alter_configs([res])[res].result(30)
    got = configs(admin, "admin-a")
    assert got["retention.ms"].value == "259200000"
    assert got["max.message.bytes"].value == "2000"
    assert got["cleanup.policy"].value == "delete" and got["cleanup.policy"].is_default
    stream = kinesis(endpoint).describe_stream_summary(StreamName="admin-a")["StreamDescriptionSummary"]
    assert stream["RetentionPeriodHours"] == 72

    # A bad value is refused with INVALID_CONFIG and changes nothing.
    bad = ConfigResource("topic", "admin-a", incremental_configs=[
        ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as invalid:
        admin.incremental_alter_configs([bad])[bad].result(30)
    assert invalid.value.args[0].name() == "INVALID_CONFIG"

    # max.message.bytes bounds each produced batch: MESSAGE_TOO_LARGE.
    errors = []
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0,
                    "message.send.max.retries": 0})
    p.produce("admin-a", value=b"x" * 5000, partition=0,
              on_delivery=lambda err, msg: errors.append(err))
    p.produce("admin-a", value=b"small", partition=1,
              on_delivery=lambda err, msg: errors.append(err))
    p.flush(30)
    assert sorted(str(e.name()) if e else "ok" for e in errors) == ["MSG_SIZE_TOO_LARGE", "ok"]

    # Raised past a mebibyte, a record that large goes in.
    big = ConfigResource("topic", "admin-a", incremental_configs=[
        ConfigEntry("max.message.bytes", "3000000", incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([big])[big].result(30)
    errors = []
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", "message.max.bytes": 4000000})
    p.produce("admin-a", value=b"y" * 2_000_000, partition=2,
              on_delivery=lambda err, msg: errors.append(err))
    p.flush(30)
    assert errors == [None]

    cluster = admin.describe_cluster().result(30)
    assert cluster.cluster_id == "weir" and len(cluster.nodes) == 1

    admin.delete_topics(["admin-a"])["admin-a"].result(30)
    assert "admin-a" not in kinesis(endpoint).list_streams()["StreamNames"]
    with pytest.raises(KafkaException) as gone:
        admin.delete_topics(["admin-a"])["admin-a"].result(30)
    assert gone.value.args[0].name() == "UNKNOWN_TOPIC_OR_PART"


def test_kafka_python_creates_and_deletes_topics(server):
    bootstrap, endpoint = server
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([KPNewTopic("kp-admin", num_partitions=2, replication_factor=1)])
    assert "kp-admin" in admin.list_topics()
    shards = kinesis(endpoint).list_shards(StreamName="kp-admin")["Shards"]
    assert len(shards) == 2
    admin.delete_topics(["kp-admin"])
    assert "kp-admin" not in admin.list_topics()
    admin.close()


def test_partitions_are_added_and_old_ones_keep_their_records(server):
    bootstrap, endpoint = server
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("grow", num_partitions=1, replication_factor=1)])["grow"].result(30)
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce("grow", key=b"a", value=b"before", partition=0)
    p.flush(30)

    def refusal(count):
        with pytest.raises(KafkaException) as refused:
            admin.create_partitions([NewPartitions("grow", count)])["grow"].result(30)
        return refused.value.args[0].name(), refused.value.args[0].str()

    # Kafka's refusals: no no-op (nor decrease, below), assignments must match the increase.
    assert refusal(1) == ("INVALID_PARTITIONS", "Topic already has 1 partition(s).")
    with pytest.raises(KafkaException) as refused:
        admin.create_partitions([NewPartitions("grow", 3, replica_assignment=[[1]])])["grow"].result(30)
    assert refused.value.args[0].name() == "INVALID_REPLICA_ASSIGNMENT"
    with pytest.raises(KafkaException) as refused:
        admin.create_partitions([NewPartitions("nope", 3)])["nope"].result(30)
    assert refused.value.args[0].name() == "UNKNOWN_TOPIC_OR_PART"
    # validate_only changes nothing.
    admin.create_partitions([NewPartitions("grow", 3)], validate_only=True)["grow"].result(30)
    assert len(admin.list_topics("grow", timeout=10).topics["grow"].partitions) == 1

    admin.create_partitions([NewPartitions("grow", 3)])["grow"].result(30)
    assert sorted(admin.list_topics("grow", timeout=10).topics["grow"].partitions) == [0, 1, 2]
    assert refusal(2) == ("INVALID_PARTITIONS",
                          "The topic grow currently has 3 partition(s); 2 would not be an increase.")
    # Every partition takes writes (a new producer: a client learns of new partitions at its
    # next metadata refresh); partition 0 kept its record.
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    for part in range(3):
        p.produce("grow", key=b"a", value=f"after {part}".encode(), partition=part)
    p.flush(30)
    c = CKConsumer({"bootstrap.servers": bootstrap, "group.id": "grow-reader",
                    "auto.offset.reset": "earliest"})
    c.assign([CKTopicPartition("grow", part, 0) for part in range(3)])
    got, deadline = set(), time.monotonic() + 30
    while len(got) < 4 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.add((m.partition(), m.offset(), m.value()))
    c.close()
    assert got == {(0, 0, b"before"), (0, 1, b"after 0"), (1, 0, b"after 1"), (2, 0, b"after 2")}

    # Kinesis sees three open shards still covering every hash key, none closed.
    shards = kinesis(endpoint).list_shards(StreamName="grow")["Shards"]
    assert len(shards) == 3
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in shards)
    ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                    for s in shards)
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))

    # kafka-python's admin too.
    kp = KafkaAdminClient(bootstrap_servers=bootstrap)
    kp.create_partitions({"grow": KPNewPartitions(total_count=4)})
    kp.close()
    assert len(admin.list_topics("grow", timeout=10).topics["grow"].partitions) == 4
