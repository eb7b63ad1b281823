"""What the Kafka smoke tests share: raw requests on a socket, idempotent batches by hand, a
librdkafka produce-then-consume round trip."""

import socket
import struct
import time

from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition


def raw_request(bootstrap, body):
    """Sends one size-prefixed request; the answer's bytes, or b"" when the broker closed."""
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        try:
            head = s.recv(4)
        except ConnectionResetError:
            return b""
        if len(head) < 4:
            return b""
        (n,) = struct.unpack(">i", head)
        out = b""
        while len(out) < n:
            out += s.recv(n - len(out))
        return out


def produce_v3(topic, batch, correlation=9):
    """A Produce v3 request (acks all) of one batch for partition 0."""
    header = struct.pack(">hhih", 0, 3, correlation, 3) + b"cli"
    name = topic.encode()
    return (header + struct.pack(">hhii", -1, -1, 5000, 1) + struct.pack(">h", len(name)) + name
            + struct.pack(">iii", 1, 0, len(batch)) + bytes(batch))


def idempotent_batch(pid, epoch, seq, values):
    """A record batch of `values` from producer `pid`/`epoch`, first sequence `seq`."""
    from kafka.record.default_records import DefaultRecordBatchBuilder

    b = DefaultRecordBatchBuilder(2, 0, False, pid, epoch, seq, 1 << 20)
    for i, v in enumerate(values):
        b.append(i, 1_700_000_000_000, None, v, [])
    return b.build()


def produce_answer(answer):
    """(error code, base offset) of a Produce v3 answer for one partition."""
    n = struct.unpack(">h", answer[8:10])[0]
    at = 10 + n + 4 + 4
    return struct.unpack(">hq", answer[at:at + 10])


def init_producer_id(bootstrap):
    """(producer id, epoch) from InitProducerId v0."""
    init = struct.pack(">hhih", 22, 0, 1, 3) + b"cli" + struct.pack(">hi", -1, 60000)
    error, pid, epoch = struct.unpack(">hqh", raw_request(bootstrap, init)[8:20])
    assert error == 0 and pid >= 0
    return pid, epoch


def roundtrip(bootstrap, topic, extra):
    """Produces three records and reads them back with librdkafka under `extra` settings."""
    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", **extra})
    for i in range(3):
        p.produce(topic, value=f"{topic} {i}".encode(), partition=0)
    assert p.flush(30) == 0
    c = CKConsumer({"bootstrap.servers": bootstrap, "group.id": topic,
                    "auto.offset.reset": "earliest", **extra})
    c.assign([CKTopicPartition(topic, 0, 0)])
    got, end = [], time.monotonic() + 30
    while len(got) < 3 and time.monotonic() < end:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            got.append(m.value())
    c.close()
    assert got == [f"{topic} {i}".encode() for i in range(3)]


def kafka_python_roundtrip(topic, value, **opts):
    """Produces `value` to partition 0 of `topic` with kafka-python and reads it back from the
    start (with `opts`: bootstrap servers, security settings); the values read."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    p = KafkaProducer(acks="all", **opts)
    p.send(topic, value=value).get(timeout=30)
    p.close()
    c = KafkaConsumer(group_id=None, auto_offset_reset="earliest", **opts)
    c.assign([TopicPartition(topic, 0)])
    got, end = [], time.monotonic() + 30
    while not got and time.monotonic() < end:
        for batch in c.poll(timeout_ms=200).values():
            got.extend(r.value for r in batch)
    c.close()
    return got
