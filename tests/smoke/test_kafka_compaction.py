"""Log compaction of a topic created with cleanup.policy=compact, read back by librdkafka
(confluent-kafka) and kafka-python: each key's newest value stays at its offset, deleted keys
go with their tombstones, offsets keep their gaps, and a record without a key is refused."""

import signal
import tempfile
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KPTopicPartition

from conftest import start_weir

TOPIC = "compacted"


@pytest.fixture(scope="module")
def server():
    # Small segments, so that a few hundred records seal several; the compactor looks often.
    proc, _ = start_weir({
        "WEIR_KINESIS__SEGMENT_BYTES": "8192",
        "WEIR_KAFKA__COMPACTION_INTERVAL_MS": "100",
    })
    yield proc.kafka_bootstrap
    proc.terminate()
    assert proc.wait(30) == 0


def read_all(bootstrap):
    """Every record of partition 0 from the beginning: (offset, key, value)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader",
                  "enable.auto.commit": False})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        c.assign([TopicPartition(TOPIC, 0, 0)])
        out = []
        deadline = time.monotonic() + 30
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                raise KafkaException(m.error())
            out.append((m.offset(), m.key(), m.value()))
        return out, high
    finally:
        c.close()


def test_a_compacted_topic_keeps_the_newest_value_of_each_key(server):
    admin = AdminClient({"bootstrap.servers": server})
    made = admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1, config={
        "cleanup.policy": "compact",
        "delete.retention.ms": "0",
        "min.cleanable.dirty.ratio": "0.01",
    })])
    made[TOPIC].result(30)
    p = Producer({"bootstrap.servers": server, "acks": "all", "linger.ms": 0})
    for rnd in range(3):
        for k in range(40):
            p.produce(TOPIC, key=f"k{k}", value=f"{rnd}:" + "x" * 100, partition=0)
        p.flush(30)
    for k in range(10):
        p.produce(TOPIC, key=f"k{k}", value=None, partition=0)  # tombstones
    p.flush(30)
    # Distinct keys after, so every value and tombstone above lies in a sealed segment (a
    # segment rolls between appends once past its size).
    for i in range(200):
        p.produce(TOPIC, key=f"filler{i}", value="f" * 100, partition=0)
        if i % 20 == 19:
            p.flush(30)
    want = {f"k{k}".encode(): b"2:" + b"x" * 100 for k in range(10, 40)}

    deadline = time.monotonic() + 60
    while True:
        got, high = read_all(server)
        keyed = [r for r in got if r[1].startswith(b"k")]
        if len(keyed) == len(want) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert high == 3 * 40 + 10 + 200
    assert {k: v for _, k, v in keyed} == want
    assert len(keyed) == len(want)
    offsets = [o for o, _, _ in got]
    assert offsets == sorted(set(offsets)) and offsets[0] > 0
    assert sum(1 for r in got if r[1].startswith(b"filler")) == 200

    # kafka-python reads the same records across the gaps.
    kc = KafkaConsumer(bootstrap_servers=server, enable_auto_commit=False,
                       consumer_timeout_ms=5000)
    tp = KPTopicPartition(TOPIC, 0)
    kc.assign([tp])
    kc.seek_to_beginning(tp)
    seen = []
    for m in kc:
        seen.append((m.offset, m.key, m.value))
        if m.offset >= high - 1:
            break
    kc.close()
    assert seen == got

    # A record without a key is refused (Kafka's INVALID_RECORD).
    errors = []
    p2 = Producer({"bootstrap.servers": server, "acks": "all", "retries": 0})
    p2.produce(TOPIC, value=b"no key", partition=0,
               on_delivery=lambda err, msg: errors.append(err))
    p2.flush(30)
    assert errors and errors[0] is not None and errors[0].code() == 87, errors


def test_kill_9_while_compacting_keeps_each_keys_newest_acknowledged_record():
    data = tempfile.mkdtemp(prefix="weir-smoke-kafka-compact-kill-")
    env = {"WEIR_KINESIS__SEGMENT_BYTES": "8192", "WEIR_KAFKA__COMPACTION_INTERVAL_MS": "20"}
    proc, _ = start_weir(env, data_dir=data)
    topic = "compact-kill"
    admin = AdminClient({"bootstrap.servers": proc.kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config={
        "cleanup.policy": "compact", "delete.retention.ms": "0",
        "min.cleanable.dirty.ratio": "0.01"})])[topic].result(30)
    acked, tombstones = {}, {}
    lock = threading.Lock()

    def delivered(err, msg, i):
        if err is None:
            with lock:
                acked[msg.key()] = max(acked.get(msg.key(), -1), i)

    p = Producer({"bootstrap.servers": proc.kafka_bootstrap, "acks": "all", "linger.ms": 1,
                  "enable.idempotence": True, "message.timeout.ms": 5000,
                  "reconnect.backoff.max.ms": 100})
    i, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        for _ in range(100):
            key = f"k{i % 50}".encode()
            value = None if i % 10 == 3 else f"{i}:".encode() + b"v" * 80
            if value is None:
                tombstones.setdefault(key, []).append(i)
            p.produce(topic, key=key, value=value, headers=[("i", str(i).encode())],
                      partition=0,
                      on_delivery=lambda err, msg, i=i: delivered(err, msg, i))
            i += 1
        while len(p) > 500 and time.monotonic() < deadline:
            p.poll(0.01)
        with lock:
            if len(acked) == 50 and i >= 4000:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    p.flush(10)

    proc, _ = start_weir(env, data_dir=data)
    try:
        def read_back():
            c = Consumer({"bootstrap.servers": proc.kafka_bootstrap, "group.id": "after-kill",
                          "enable.auto.commit": False})
            _, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            c.assign([TopicPartition(topic, 0, 0)])
            got, end = [], time.monotonic() + 60
            while (not got or got[-1][0] < high - 1) and time.monotonic() < end:
                m = c.poll(0.5)
                if m is not None and m.error() is None:
                    got.append((m.offset(), m.key(), int(dict(m.headers())["i"])))
            c.close()
            return got, high

        # Compaction runs (before the kill or since): records go, offsets stay.
        deadline = time.monotonic() + 60
        got, high = read_back()
        while len(got) == high and time.monotonic() < deadline:
            time.sleep(0.1)
            got, high = read_back()
        offsets = [o for o, _, _ in got]
        assert offsets == sorted(set(offsets))
        assert len(got) < high
        newest = {}
        for _, key, n in got:
            # A key's records keep their order.
            assert n > newest.get(key, -1)
            newest[key] = n
        with lock:
            for key, n in acked.items():
                if key in newest:
                    assert newest[key] >= n, key
                else:
                    # Gone only when a tombstone at or after its newest acknowledged record was.
                    assert any(t >= n for t in tombstones.get(key, [])), key
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
