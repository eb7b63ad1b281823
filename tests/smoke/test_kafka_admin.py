"""Kafka admin calls on Weir with librdkafka's AdminClient (confluent-kafka) and kafka-python:
topics created and deleted, configs described and altered (retention.ms is the stream's
retention), max.message.bytes enforced, the cluster described."""

import boto3
import pytest
from confluent_kafka import KafkaException
from confluent_kafka import Producer as CKProducer
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewTopic)
from kafka import KafkaAdminClient
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
                 config={"retention.ms": "172800000", "cleanup.policy": "compact"}),
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
    assert got["cleanup.policy"].value == "compact" and not got["cleanup.policy"].is_default
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
