"""kill -9 under acks=all production: every record the broker acknowledged is there after a
restart, in order, once."""

import signal
import tempfile
import threading
import time

from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTopicPartition

from conftest import start_weir
from kafka_util import idempotent_batch, init_producer_id, produce_answer, produce_v3, raw_request


def test_acknowledged_records_survive_kill_9():
    data = tempfile.mkdtemp(prefix="weir-smoke-kafka-kill-")
    proc, _ = start_weir(data_dir=data)
    bootstrap = proc.kafka_bootstrap
    acked = []
    lock = threading.Lock()

    def delivered(err, msg):
        if err is None:
            with lock:
                acked.append((msg.offset(), msg.value()))

    p = CKProducer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 1,
                    "enable.idempotence": True, "message.timeout.ms": 5000,
                    "reconnect.backoff.max.ms": 100})
    # Produce until a few thousand records are acknowledged, then kill the broker while
    # more are in flight.
    i = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for _ in range(200):
            p.produce("durable", value=f"record {i}".encode(), partition=0,
                      on_delivery=delivered)
            i += 1
        # Keep about a thousand records in flight.
        while len(p) > 1000 and time.monotonic() < deadline:
            p.poll(0.01)
        with lock:
            if len(acked) >= 3000:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    # Whatever was still in flight fails (the broker is gone); what was acknowledged stays.
    p.flush(10)
    with lock:
        acknowledged = sorted(acked)
    assert len(acknowledged) >= 3000

    proc, _ = start_weir(data_dir=data)
    try:
        c = CKConsumer({"bootstrap.servers": proc.kafka_bootstrap, "group.id": "durability",
                        "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        c.assign([CKTopicPartition("durable", 0, 0)])
        stored, end = {}, time.monotonic() + 60
        last_acked = acknowledged[-1][0]
        while time.monotonic() < end and (not stored or max(stored) < last_acked):
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                stored[m.offset()] = m.value()
        c.close()
        for offset, value in acknowledged:
            assert stored.get(offset) == value, offset
        # Offsets are dense and each value appears once.
        values = [stored[o] for o in sorted(stored)]
        assert sorted(stored) == list(range(len(stored)))
        assert len(set(values)) == len(values)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_an_idempotent_retry_after_a_restart_is_not_written_twice():
    data = tempfile.mkdtemp(prefix="weir-smoke-kafka-pid-")
    proc, _ = start_weir(data_dir=data)
    pid, epoch = init_producer_id(proc.kafka_bootstrap)

    def batch(seq, values):
        return idempotent_batch(pid, epoch, seq, values)

    base_offset = produce_answer
    first = base_offset(raw_request(proc.kafka_bootstrap, produce_v3("again", batch(0, [b"a", b"b"]))))
    second = base_offset(raw_request(proc.kafka_bootstrap, produce_v3("again", batch(2, [b"c"]))))
    assert (first, second) == ((0, 0), (0, 2))
    proc.terminate()
    assert proc.wait(30) == 0
    # The producer's answer was lost; it retries its last batch against the restarted broker.
    proc, _ = start_weir(data_dir=data)
    try:
        retried = base_offset(raw_request(proc.kafka_bootstrap, produce_v3("again", batch(2, [b"c"]))))
        assert retried == (0, 2), "answered with the offset it was first written at"
        gap = base_offset(raw_request(proc.kafka_bootstrap, produce_v3("again", batch(9, [b"z"]))))
        assert gap[0] == 45
        nxt = base_offset(raw_request(proc.kafka_bootstrap, produce_v3("again", batch(3, [b"d"]))))
        assert nxt == (0, 3)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
