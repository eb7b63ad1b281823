"""kill -9 in the middle of concurrent PUTs and DELETEs (boto3): after a restart every
acknowledged write is there — small objects (kept in the bucket's journal) and large ones (data
files) alike — acknowledged deletes stay deleted, and an overwritten key holds its last
acknowledged value or a later one, whole."""

import signal
import threading

from botocore.exceptions import BotoCoreError, ClientError

from conftest import s3_client as conftest_s3_client
from conftest import start_weir

THREADS = 8
KILL_AFTER = 600  # acknowledged writes before the kill


def s3_client(url):
    return conftest_s3_client(url, attempts=1)


def body(t, i):
    # Every 10th object is larger than what the journal keeps inline.
    size = 100 * 1024 if i % 10 == 9 else 1000 + i % 7
    return (f"{t}:{i}:".encode() * (size // 4 + 1))[:size]


def test_acknowledged_objects_survive_kill_9(tmp_path):
    data = str(tmp_path / "data")
    proc, url = start_weir(data_dir=data)
    s3_client(url).create_bucket(Bucket="crash")
    acked = {}  # key -> body
    deleted = set()
    deleting = {}  # key -> body, while its DELETE is in flight (either outcome is right)
    latest = {}  # thread -> last acknowledged version of its overwritten key
    lock = threading.Lock()
    enough = threading.Event()

    def writer(t):
        s3 = s3_client(url)
        i = 0
        try:
            while True:
                key = f"t{t}/{i:05d}"
                b = body(t, i)
                s3.put_object(Bucket="crash", Key=key, Body=b)
                s3.put_object(Bucket="crash", Key=f"hot/{t}", Body=f"{i}".encode().ljust(3000, b"."))
                with lock:
                    acked[key] = b
                    latest[t] = i
                    if len(acked) >= KILL_AFTER:
                        enough.set()
                if i % 5 == 4:
                    with lock:
                        deleting[key] = acked.pop(key)
                    s3.delete_object(Bucket="crash", Key=key)
                    with lock:
                        del deleting[key]
                        deleted.add(key)
                i += 1
        except (BotoCoreError, ClientError, OSError):
            return  # the server is gone

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    assert enough.wait(120), "writes did not get through"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for th in threads:
        th.join(60)
    proc, url = start_weir(data_dir=data)
    try:
        s3 = s3_client(url)
        keys = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash"):
            keys |= {o["Key"] for o in page.get("Contents", [])}
        missing = [k for k in acked if k not in keys]
        assert not missing, f"acknowledged objects lost: {missing[:5]}"
        for key, b in acked.items():
            assert s3.get_object(Bucket="crash", Key=key)["Body"].read() == b, key
        assert not (deleted & keys), "acknowledged deletes undone"
        for key in deleting.keys() & keys:
            assert s3.get_object(Bucket="crash", Key=key)["Body"].read() == deleting[key], key
        for t, i in latest.items():
            got = s3.get_object(Bucket="crash", Key=f"hot/{t}")["Body"].read()
            assert len(got) == 3000
            assert int(got.rstrip(b".")) >= i
        # Writes go on after the restart.
        s3.put_object(Bucket="crash", Key="after", Body=b"fine")
        assert s3.get_object(Bucket="crash", Key="after")["Body"].read() == b"fine"
    finally:
        proc.kill()
        proc.wait()
