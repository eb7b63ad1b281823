"""Kafka benchmark with librdkafka (confluent-kafka): durable produce throughput (acks=all),
consume throughput, and produce latency at moderate load, against any broker.

    python scripts/bench_kafka.py --bootstrap 127.0.0.1:9092 [--records 500000] [--size 1024]

Every record is checked on the way back: all of them, once, in order within each partition
(the run fails otherwise).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[
        name].result(60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        meta = admin.list_topics(name, timeout=10).topics.get(name)
        if meta is not None and meta.error is None and len(meta.partitions) == partitions:
            return
        time.sleep(0.05)
    sys.exit(f"topic {name} did not appear")


def produce(bootstrap, topic, records, size, partitions):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "batch.size": 1_000_000, "queue.buffering.max.messages": 200_000,
                  "enable.idempotence": True})
    failed = []
    acked = [0]

    def done(err, msg):
        if err is not None:
            failed.append(err)
        else:
            acked[0] += 1

    pad = b"x" * (size - 16)
    start = time.perf_counter()
    for i in range(records):
        value = i.to_bytes(8, "big") + b"........" + pad
        while True:
            try:
                p.produce(topic, value=value, partition=i % partitions, on_delivery=done)
                break
            except BufferError:
                p.poll(0.001)
        if i % 1000 == 0:
            p.poll(0)
    p.flush(300)
    elapsed = time.perf_counter() - start
    if failed or acked[0] != records:
        sys.exit(f"produce failed: {len(failed)} errors, {acked[0]} acknowledged: {failed[:3]}")
    return elapsed


def consume(bootstrap, topic, records, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    last = [-1] * partitions
    got, nbytes = 0, 0
    start = time.perf_counter()
    deadline = time.monotonic() + 300
    while got < records and time.monotonic() < deadline:
        for m in c.consume(num_messages=10_000, timeout=1.0):
            if m.error() is not None:
                continue
            v = m.value()
            i = int.from_bytes(v[:8], "big")
            part = m.partition()
            if i % partitions != part or i <= last[part]:
                sys.exit(f"record {i} out of order in partition {part} (after {last[part]})")
            last[part] = i
            got += 1
            nbytes += len(v)
    elapsed = time.perf_counter() - start
    c.close()
    if got != records:
        sys.exit(f"consumed {got} of {records}")
    return elapsed, nbytes


def consume_native(bootstrap, topic, records):
    """The same records read by kcat (librdkafka's own consumer, in C) when it is installed:
    the broker's fetch path measured without a Python loop per record. Both consumers keep
    librdkafka's default fetch sizes (1 MiB per partition, 50 MiB per answer). Returns (seconds,
    bytes) or None."""
    kcat = shutil.which("kcat")
    if kcat is None:
        return None
    start = time.perf_counter()
    out = subprocess.run(
        [kcat, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
         "-f", "%S\n", "-X", "fetch.wait.max.ms=100"],
        stdout=subprocess.PIPE, timeout=300)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        print(f"(kcat could not consume from this broker: exit {out.returncode})")
        return None
    sizes = [int(x) for x in out.stdout.split()]
    if len(sizes) != records:
        sys.exit(f"kcat consumed {len(sizes)} of {records}")
    return elapsed, sum(sizes)


def produce_native(bootstrap, topic, records, size, partitions):
    """The produce phase again with kcat (librdkafka in C, acks=all, idempotent) into a topic of
    its own, when kcat is installed; checked by the partitions' high watermarks. Returns
    seconds, or None."""
    kcat = shutil.which("kcat")
    if kcat is None:
        return None
    create_topic(bootstrap, topic, partitions)
    line = b"x" * size + b"\n"
    with tempfile.NamedTemporaryFile() as f:
        for _ in range(records // 1000):
            f.write(line * 1000)
        f.write(line * (records % 1000))
        f.flush()
        start = time.perf_counter()
        out = subprocess.run(
            [kcat, "-P", "-b", bootstrap, "-t", topic, "-l", f.name, "-X", "acks=all",
             "-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "enable.idempotence=true"],
            timeout=300)
        elapsed = time.perf_counter() - start
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    stored = sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                 for p in range(partitions))
    c.close()
    if out.returncode != 0 or stored != records:
        print(f"(kcat produced {stored} of {records}, exit {out.returncode})")
        return None
    return elapsed


def latency(bootstrap, topic, count, size):
    """One record at a time (the next sent when the last is acknowledged)."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
    waits = []
    pad = b"y" * size
    for _ in range(count):
        box = []
        t0 = time.perf_counter()
        p.produce(topic, value=pad, partition=0, on_delivery=lambda e, m: box.append(e))
        while not box:
            p.poll(0.0005)
        if box[0] is not None:
            sys.exit(f"latency produce failed: {box[0]}")
        waits.append((time.perf_counter() - t0) * 1000)
    p.flush(30)
    waits.sort()
    return statistics.median(waits), waits[int(len(waits) * 0.99) - 1]


def cpu_seconds(pid):
    """User + system CPU seconds the server process has used (None without a pid)."""
    if not pid:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--records", type=int, default=500_000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--latency-records", type=int, default=2000)
    ap.add_argument("--server-pid", type=int, default=0,
                    help="the broker's pid, to report the CPU it used per phase")
    a = ap.parse_args()
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    create_topic(a.bootstrap, topic, a.partitions)
    c0 = cpu_seconds(a.server_pid)
    t = produce(a.bootstrap, topic, a.records, a.size, a.partitions)
    c1 = cpu_seconds(a.server_pid)
    mb = a.records * a.size / 1e6
    used = f", broker CPU {c1 - c0:.1f} s" if c0 is not None else ""
    print(f"produce (acks=all, {a.size} B, {a.partitions} partitions): "
          f"{a.records / t:,.0f} records/s ({mb / t:,.0f} MB/s) in {t:.1f} s{used}")
    t, nbytes = consume(a.bootstrap, topic, a.records, a.partitions)
    c2 = cpu_seconds(a.server_pid)
    used = f", broker CPU {c2 - c1:.1f} s" if c0 is not None else ""
    print(f"consume from earliest: {a.records / t:,.0f} records/s ({nbytes / 1e6 / t:,.0f} MB/s) "
          f"in {t:.1f} s, every record once and in order{used}")
    c_before = cpu_seconds(a.server_pid)
    t = produce_native(a.bootstrap, f"{topic}-kcat", a.records, a.size, a.partitions)
    if t is not None:
        c_after = cpu_seconds(a.server_pid)
        used = f", broker CPU {c_after - c_before:.1f} s" if c0 is not None else ""
        print(f"produce with kcat (C, acks=all, idempotent): {a.records / t:,.0f} records/s "
              f"({mb / t:,.0f} MB/s) in {t:.1f} s{used}")
    c2 = cpu_seconds(a.server_pid)
    native = consume_native(a.bootstrap, topic, a.records)
    if native is not None:
        t, nbytes = native
        c3 = cpu_seconds(a.server_pid)
        used = f", broker CPU {c3 - c2:.1f} s" if c0 is not None else ""
        print(f"consume from earliest with kcat (C): {a.records / t:,.0f} records/s "
              f"({nbytes / 1e6 / t:,.0f} MB/s) in {t:.1f} s{used}")
    p50, p99 = latency(a.bootstrap, topic, a.latency_records, a.size)
    print(f"produce latency, one record at a time: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
