"""A streaming job survives kill -9: Weir restarts it from its last checkpoint, the window it
was filling keeps every row (read before the crash or put while Weir was down), and windows
closed before the crash are written again only if they closed after the last checkpoint (here
none: the checkpoint waited for covers every row read before the crash)."""

import json
import os
import signal
import tempfile
import time

from conftest import start_weir
from test_flink_gateway import Client, kinesis, read_stream


def checkpointed(data, records):
    """Whether some job's checkpoint covers `records` input records."""
    jobs = os.path.join(data, "stream", "jobs")
    for job in os.listdir(jobs) if os.path.isdir(jobs) else []:
        path = os.path.join(jobs, job, "checkpoint.json")
        if os.path.exists(path):
            with open(path) as f:
                if json.load(f)["records_in"] >= records:
                    return True
    return False


def put(k, rows):
    for i, (ts, v) in enumerate(rows):
        k.put_record(
            StreamName="events",
            PartitionKey=f"k{i % 5}",
            Data=json.dumps({"ts": ts, "v": v}).encode(),
        )


def test_a_job_resumes_after_kill_9_without_losing_a_window():
    data = tempfile.mkdtemp(prefix="weir-flink-crash-")
    proc, url = start_weir(data_dir=data)
    k = kinesis(url)
    k.create_stream(StreamName="events", ShardCount=2)
    k.create_stream(StreamName="sums", ShardCount=1)
    c = Client(proc.flink_url)
    c.execute("SET 'execution.checkpointing.interval' = '100 ms';")
    c.execute(
        """CREATE TABLE events (ts TIMESTAMP(3), v BIGINT,
             WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
           WITH ('connector' = 'kinesis', 'stream' = 'events',
                 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
    )
    c.execute(
        """CREATE TABLE sums (window_start TIMESTAMP(3), n BIGINT, total BIGINT)
           WITH ('connector' = 'kinesis', 'stream' = 'sums', 'format' = 'json');"""
    )
    c.execute(
        """INSERT INTO sums SELECT window_start, COUNT(*), SUM(v)
           FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
           GROUP BY window_start, window_end;"""
    )
    # Window 10:00 closes; window 10:01 is being filled when Weir dies.
    first = [(f"2026-01-01 10:00:{s:02d}", s) for s in range(0, 60, 6)]
    filling = [(f"2026-01-01 10:01:{s:02d}", 100 + s) for s in range(0, 30, 3)]
    put(k, first + filling)
    deadline = time.monotonic() + 30
    while not checkpointed(data, len(first) + len(filling)):
        assert time.monotonic() < deadline, "no checkpoint covered the input"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)

    proc, url = start_weir(data_dir=data)
    try:
        k = kinesis(url)
        late_part = [(f"2026-01-01 10:01:{s:02d}", 200 + s) for s in range(30, 60, 5)]
        # The closing row on every key, so every shard's watermark passes the window.
        put(k, late_part + [("2026-01-01 10:02:30", 0)] * 5)
        got = read_stream(k, "sums", 2)
        by_window = {}
        for r in got:
            by_window.setdefault(r["window_start"], []).append((r["n"], r["total"]))
        assert set(by_window) == {"2026-01-01 10:00:00", "2026-01-01 10:01:00"}
        # The first window closed before the checkpoint that covered every input row: written
        # once (the restart resumed after what that checkpoint had read).
        assert by_window["2026-01-01 10:00:00"] == [(10, sum(v for _, v in first))]
        # The filling window lost nothing and was written once (it closed after the restart).
        rows = filling + late_part
        assert by_window["2026-01-01 10:01:00"] == [(len(rows), sum(v for _, v in rows))]
        _, jobs = Client(proc.flink_url).execute("SHOW JOBS;")
        assert [j[2] for j in jobs] == ["RUNNING"]
    finally:
        proc.terminate()
        proc.wait(30)
