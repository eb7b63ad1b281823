"""The MSK control plane (`kafka`, REST-JSON) with boto3: a cluster created, described through
CREATING to ACTIVE, its bootstrap string (its own listener, its own topics) used by a Kafka
client, configurations, tags, nodes, errors of MSK's types, deletion closing its listener, its
bootstrap string kept across a restart."""

import os
import signal
import socket
import tempfile
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions

from conftest import start_weir


@pytest.fixture(scope="module")
def server():
    proc, endpoint = start_weir(extra_env={"WEIR_KAFKA__CLUSTER_CREATE_DELAY_MS": "300"})
    yield proc, endpoint
    proc.terminate()
    assert proc.wait(30) == 0


def msk(endpoint):
    return boto3.client("kafka", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def wait_state(client, arn, state):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = client.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
        if info["State"] == state:
            return info
        time.sleep(0.05)
    raise AssertionError(f"{arn} never became {state}")


BROKERS = {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-1", "subnet-2"],
           "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}}}


def produce(bootstrap, topic, value):
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce(topic, value=value, partition=0)
    assert p.flush(30) == 0


def first_record(bootstrap, topic):
    c = CKConsumer({"bootstrap.servers": bootstrap, "group.id": "msk",
                    "auto.offset.reset": "earliest"})
    c.assign([CKTopicPartition(topic, 0, 0)])
    got, end = None, time.monotonic() + 30
    while got is None and time.monotonic() < end:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            got = m.value()
    c.close()
    return got


def test_a_cluster_from_creation_to_a_kafka_client_to_deletion(server):
    proc, endpoint = server
    client = msk(endpoint)
    made = client.create_cluster(ClusterName="orders", KafkaVersion="3.6.0",
                                 NumberOfBrokerNodes=3, BrokerNodeGroupInfo=BROKERS,
                                 Tags={"team": "data"})
    arn = made["ClusterArn"]
    assert made["State"] == "CREATING"
    # arn:aws:kafka:{region}:{account}:cluster/{name}/{uuid}, as Terraform parses it.
    parts = arn.split(":")
    assert parts[:5] == ["arn", "aws", "kafka", "us-east-1", "000000000000"]
    assert parts[5].startswith("cluster/orders/")
    # (CREATING for the configured delay: seen by the wait below; the unit test in
    # weir-kafka clusters.rs checks the states at given times.)
    info = wait_state(client, arn, "ACTIVE")
    assert info["ClusterType"] == "PROVISIONED"
    prov = info["Provisioned"]
    assert prov["NumberOfBrokerNodes"] == 3
    assert prov["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m5.large"
    assert prov["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.6.0"
    v1 = client.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert v1["ClusterName"] == "orders" and v1["Tags"] == {"team": "data"}
    assert v1["CreationTime"].year >= 2024

    brokers = client.get_bootstrap_brokers(ClusterArn=arn)
    bootstrap = brokers["BootstrapBrokerString"]
    # The cluster's own listener, on the broker's host.
    assert bootstrap != proc.kafka_bootstrap
    assert bootstrap.rsplit(":", 1)[0] == proc.kafka_bootstrap.rsplit(":", 1)[0]
    # The bootstrap string is a real Kafka endpoint.
    produce(bootstrap, "msk-topic", b"via the bootstrap string")
    assert first_record(bootstrap, "msk-topic") == b"via the bootstrap string"
    # A cluster is a namespace: the broker's own listener and another cluster do not see it.
    assert "msk-topic" not in AdminClient({"bootstrap.servers": proc.kafka_bootstrap}).list_topics(
        timeout=10).topics
    other = client.create_cluster(ClusterName="other", KafkaVersion="3.6.0",
                                  NumberOfBrokerNodes=1, BrokerNodeGroupInfo=BROKERS)
    other_bootstrap = client.get_bootstrap_brokers(
        ClusterArn=other["ClusterArn"])["BootstrapBrokerString"]
    assert other_bootstrap != bootstrap
    produce(other_bootstrap, "msk-topic", b"in the other cluster")
    assert first_record(other_bootstrap, "msk-topic") == b"in the other cluster"
    assert first_record(bootstrap, "msk-topic") == b"via the bootstrap string"
    client.delete_cluster(ClusterArn=other["ClusterArn"])

    nodes = client.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert len(nodes) == 3 and nodes[0]["NodeType"] == "BROKER"
    listed = client.list_clusters()["ClusterInfoList"]
    # (The other cluster is listed while DELETING, as on MSK, for a moment.)
    names = [c["ClusterName"] for c in listed]
    assert names in (["orders"], ["orders", "other"])
    assert arn in [c["ClusterArn"] for c in client.list_clusters_v2()["ClusterInfoList"]]

    client.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "dev"}

    with pytest.raises(ClientError) as dup:
        client.create_cluster(ClusterName="orders", KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                              BrokerNodeGroupInfo=BROKERS)
    assert dup.value.response["Error"]["Code"] == "ConflictException"
    assert dup.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    assert client.delete_cluster(ClusterArn=arn)["State"] == "DELETING"
    # Its listener closes.
    host, port = bootstrap.rsplit(":", 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the deleted cluster's listener stayed open")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.describe_cluster(ClusterArn=arn)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NotFoundException"
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the cluster was never gone")


def test_serverless_clusters_bootstrap_with_iam(server):
    proc, endpoint = server
    client = msk(endpoint)
    made = client.create_cluster_v2(ClusterName="events", Serverless={
        "VpcConfigs": [{"SubnetIds": ["subnet-1"]}],
        "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}}})
    assert made["ClusterType"] == "SERVERLESS"
    # The provisioned-only API refuses a serverless cluster.
    with pytest.raises(ClientError) as refused:
        client.describe_cluster(ClusterArn=made["ClusterArn"])
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    # A provisioned cluster made with V2 is described by the v1 API too.
    v2 = client.create_cluster_v2(ClusterName="ledger", Provisioned={
        "BrokerNodeGroupInfo": BROKERS, "KafkaVersion": "3.7.x", "NumberOfBrokerNodes": 2})
    v1 = client.describe_cluster(ClusterArn=v2["ClusterArn"])["ClusterInfo"]
    assert v1["NumberOfBrokerNodes"] == 2
    assert v1["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.7.x"
    brokers = client.get_bootstrap_brokers(ClusterArn=made["ClusterArn"])
    iam = brokers["BootstrapBrokerStringSaslIam"]
    assert iam.rsplit(":", 1)[0] == proc.kafka_bootstrap.rsplit(":", 1)[0]
    assert iam != proc.kafka_bootstrap
    assert "BootstrapBrokerString" not in brokers
    kinds = {c["ClusterName"]: c["ClusterType"]
             for c in client.list_clusters_v2(ClusterTypeFilter="SERVERLESS")["ClusterInfoList"]}
    assert kinds == {"events": "SERVERLESS"}
    client.delete_cluster(ClusterArn=v2["ClusterArn"])


def test_configurations_and_errors(server):
    _, endpoint = server
    client = msk(endpoint)
    props = b"auto.create.topics.enable=true\nnum.partitions=3\n"
    made = client.create_configuration(Name="base", KafkaVersions=["3.6.0"],
                                       ServerProperties=props, Description="defaults")
    assert made["LatestRevision"]["Revision"] == 1 and made["State"] == "ACTIVE"
    desc = client.describe_configuration(Arn=made["Arn"])
    assert desc["Name"] == "base" and desc["KafkaVersions"] == ["3.6.0"]
    rev = client.describe_configuration_revision(Arn=made["Arn"], Revision=1)
    assert rev["ServerProperties"] == props
    assert [c["Name"] for c in client.list_configurations()["Configurations"]] == ["base"]

    missing = "arn:aws:kafka:us-east-1:000000000000:cluster/none/0000-1"
    with pytest.raises(ClientError) as nf:
        client.describe_cluster(ClusterArn=missing)
    assert nf.value.response["Error"]["Code"] == "NotFoundException"
    assert nf.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A number of brokers outside MSK's 1-15: BadRequestException from the model's checks.
    with pytest.raises(ClientError) as bad:
        client.create_cluster(ClusterName="big", KafkaVersion="3.6.0", NumberOfBrokerNodes=99,
                              BrokerNodeGroupInfo=BROKERS)
    assert bad.value.response["Error"]["Code"] == "BadRequestException"


def test_firehose_delivers_an_msk_topic_to_s3(server):
    import json
    import urllib.request

    proc, endpoint = server
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE",
              aws_secret_access_key="secret")
    client, fh, s3 = msk(endpoint), boto3.client("firehose", **kw), boto3.client("s3", **kw)
    arn = client.create_cluster(ClusterName="feed", KafkaVersion="3.6.0", NumberOfBrokerNodes=1,
                                BrokerNodeGroupInfo=BROKERS)["ClusterArn"]
    wait_state(client, arn, "ACTIVE")
    bootstrap = client.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    p.produce("feed-topic", value=b"before\n", partition=0)
    assert p.flush(30) == 0
    s3.create_bucket(Bucket="msk-lake")
    fh.create_delivery_stream(
        DeliveryStreamName="from-msk", DeliveryStreamType="MSKAsSource",
        MSKSourceConfiguration={
            "MSKClusterARN": arn, "TopicName": "feed-topic",
            "AuthenticationConfiguration": {
                "RoleARN": "arn:aws:iam::000000000000:role/firehose", "Connectivity": "PRIVATE"}},
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::msk-lake", "Prefix": "msk/",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300}})
    desc = fh.describe_delivery_stream(DeliveryStreamName="from-msk")["DeliveryStreamDescription"]
    assert desc["DeliveryStreamType"] == "MSKAsSource"
    src = desc["Source"]["MSKSourceDescription"]
    assert (src["MSKClusterARN"], src["TopicName"]) == (arn, "feed-topic")
    # Records produced after the delivery stream's start are delivered, each once, also
    # from a partition added while it runs (CreatePartitions).
    for i in range(20):
        p.produce("feed-topic", value=f"after {i}\n".encode(), partition=0)
    assert p.flush(30) == 0
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_partitions([NewPartitions("feed-topic", 2)])["feed-topic"].result(30)
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(5):
        p.produce("feed-topic", value=f"grown {i}\n".encode(), partition=1)
    assert p.flush(30) == 0
    req = urllib.request.Request(f"{endpoint}/_weir/firehose/us-east-1/from-msk/flush",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        counts = json.loads(resp.read())
    assert counts["recordsDelivered"] == 25, counts
    lines = []
    for o in s3.list_objects_v2(Bucket="msk-lake", Prefix="msk/")["Contents"]:
        lines += s3.get_object(Bucket="msk-lake", Key=o["Key"])["Body"].read().decode().splitlines()
    assert sorted(lines) == sorted([f"after {i}" for i in range(20)]
                                   + [f"grown {i}" for i in range(5)])
    # An unknown cluster is refused.
    with pytest.raises(ClientError) as bad:
        fh.create_delivery_stream(
            DeliveryStreamName="nowhere", DeliveryStreamType="MSKAsSource",
            MSKSourceConfiguration={
                "MSKClusterARN": arn.replace("feed", "gone"), "TopicName": "feed-topic",
                "AuthenticationConfiguration": {
                    "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                    "Connectivity": "PRIVATE"}},
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::msk-lake"})
    assert bad.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_a_cluster_keeps_its_bootstrap_string_and_topics_across_a_restart():
    data = tempfile.mkdtemp(prefix="weir-smoke-msk-restart-")
    env = {"WEIR_KAFKA__CLUSTER_CREATE_DELAY_MS": "0"}
    proc, endpoint = start_weir(env, data_dir=data)
    try:
        client = msk(endpoint)
        arn = client.create_cluster(ClusterName="kept", KafkaVersion="3.6.0",
                                    NumberOfBrokerNodes=1, BrokerNodeGroupInfo=BROKERS)["ClusterArn"]
        bootstrap = client.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
        produce(bootstrap, "kept-topic", b"before the restart")
        # A cluster deleted just before a kill -9: its topics and files go, then or at the start.
        gone = client.create_cluster(ClusterName="gone", KafkaVersion="3.6.0",
                                     NumberOfBrokerNodes=1, BrokerNodeGroupInfo=BROKERS)
        produce(client.get_bootstrap_brokers(ClusterArn=gone["ClusterArn"])[
            "BootstrapBrokerString"], "gone-topic", b"x")
        gone_dir = os.path.join(data, "kafka", "clusters", gone["ClusterArn"].rsplit("/", 1)[1])
        assert os.path.isdir(gone_dir)
        client.delete_cluster(ClusterArn=gone["ClusterArn"])
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.terminate()
            assert proc.wait(30) == 0
    proc, endpoint = start_weir(env, data_dir=data)
    try:
        again = msk(endpoint).get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
        assert again == bootstrap
        assert first_record(again, "kept-topic") == b"before the restart"
        deadline = time.monotonic() + 30
        while os.path.isdir(gone_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.isdir(gone_dir)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
