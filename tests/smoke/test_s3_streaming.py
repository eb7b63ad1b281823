"""PutObject and UploadPart bodies stream to disk as they are checked: a large upload does not
grow the server's memory, a refused body stores nothing, and the payload hash is enforced."""

import hashlib
import os
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import s3_client, start_weir

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    proc, url = start_weir()
    yield proc, url
    proc.terminate()
    assert proc.wait(30) == 0


def client(url):
    return s3_client(url)


def peak_mib(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def patterned_file(path, size):
    block = bytes(range(256)) * (MIB // 256)
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            f.write(block)
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(MIB), b""):
            digest.update(piece)
    return digest.hexdigest()


def streamed_md5(body):
    digest = hashlib.md5()
    for piece in body.iter_chunks(MIB):
        digest.update(piece)
    return digest.hexdigest()


def test_large_uploads_stream_without_growing_memory(server, tmp_path):
    proc, url = server
    s3 = client(url)
    s3.create_bucket(Bucket="stream")
    path = tmp_path / "big.bin"
    size = 384 * MIB
    md5 = patterned_file(path, size)
    before = peak_mib(proc)
    # boto3 sends a file body aws-chunked with a CRC32 trailer.
    with open(path, "rb") as f:
        etag = s3.put_object(Bucket="stream", Key="single", Body=f)["ETag"]
    assert etag == f'"{md5}"'
    got = s3.get_object(Bucket="stream", Key="single")
    assert got["ContentLength"] == size and streamed_md5(got["Body"]) == md5
    # Multipart: 6 parts of 64 MiB.
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=64 * MIB, max_concurrency=2)
    s3.upload_file(str(path), "stream", "multi", Config=cfg)
    got = s3.get_object(Bucket="stream", Key="multi")
    assert got["ContentLength"] == size and streamed_md5(got["Body"]) == md5
    grew = peak_mib(proc) - before
    assert grew < 128, f"peak RSS grew by {grew:.0f} MiB for {size // MIB} MiB uploads"


def test_refused_bodies_store_nothing(server):
    proc, url = server
    s3 = client(url)
    s3.create_bucket(Bucket="refused")
    body = os.urandom(3 * MIB)
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.put_object(Bucket="refused", Key="bad-md5", Body=body, ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert e.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.put_object(Bucket="refused", Key="bad-crc", Body=body, ChecksumCRC32="AAAAAA==")
    assert e.value.response["Error"]["Code"] == "BadDigest"
    up = s3.create_multipart_upload(Bucket="refused", Key="parts")["UploadId"]
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.upload_part(Bucket="refused", Key="parts", UploadId=up, PartNumber=1, Body=body, ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert e.value.response["Error"]["Code"] == "BadDigest"
    assert s3.list_parts(Bucket="refused", Key="parts", UploadId=up).get("Parts", []) == []
    assert s3.list_objects_v2(Bucket="refused").get("KeyCount") == 0
    # A missing bucket is still NoSuchBucket, whatever the body.
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=body)


def signed_put(url, bucket, key, body, headers, sent=None):
    """A PUT signed by botocore for `body` (its SHA-256 in the signature); `sent` goes instead."""
    req = AWSRequest(method="PUT", url=f"{url}/{bucket}/{key}", data=body, headers=headers)
    S3SigV4Auth(Credentials("AKIDSMOKE", "secret"), "s3", "us-east-1").add_auth(req)
    data = body if sent is None else sent
    prepared = urllib.request.Request(req.url, data=data, method="PUT", headers=dict(req.headers))
    try:
        with urllib.request.urlopen(prepared) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_payload_hash_and_size_limits(server):
    proc, url = server
    s3 = client(url)
    s3.create_bucket(Bucket="hashes")
    body = b"the body that was signed"
    status, text = signed_put(url, "hashes", "wrong", body, {}, sent=b"the body that was swapped")
    assert status == 400 and "<Code>XAmzContentSHA256Mismatch</Code>" in text, text
    status, text = signed_put(url, "hashes", "right", body, {})
    assert status == 200, text
    assert s3.get_object(Bucket="hashes", Key="right")["Body"].read() == body
    assert "Contents" not in s3.list_objects_v2(Bucket="hashes", Prefix="wrong")
    # Over S3's 5 GiB single-PUT limit: refused from the declared length, before any data.
    status, text = signed_put(url, "hashes", "huge", b"", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "X-Amz-Decoded-Content-Length": str(5 * 1024**3 + 1), "Content-Encoding": "aws-chunked"})
    assert status == 400 and "<Code>EntityTooLarge</Code>" in text, text


def test_trailers_must_match_what_x_amz_trailer_announces(server):
    """An aws-chunked body's checksum trailers are the ones `x-amz-trailer` names: one announced
    but missing, or sent unannounced, is MalformedTrailerError; a value of the wrong form and a
    checksum both as header and trailer are InvalidRequest; nothing is stored."""
    import base64
    import zlib

    proc, url = server
    s3 = client(url)
    s3.create_bucket(Bucket="trailers")
    crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()

    def put(key, trailer_header, trailer_lines):
        body = b"5\r\nhello\r\n0\r\n" + trailer_lines + b"\r\n"
        headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5"}
        if trailer_header:
            headers["x-amz-trailer"] = trailer_header
        req = urllib.request.Request(f"{url}/trailers/{key}", data=body, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    assert put("ok", "x-amz-checksum-crc32", f"x-amz-checksum-crc32:{crc}\r\n".encode())[0] == 200
    for key, header, lines in [("missing", "x-amz-checksum-crc32", b""), ("unannounced", None, f"x-amz-checksum-crc32:{crc}\r\n".encode())]:
        status, text = put(key, header, lines)
        assert status == 400 and "<Code>MalformedTrailerError</Code>" in text, (key, text)
    status, text = put("bad-value", "x-amz-checksum-sha1", b"x-amz-checksum-sha1:not-a-sha1\r\n")
    assert status == 400 and "<Code>InvalidRequest</Code>" in text and "Value for x-amz-checksum-sha1 trailing header is invalid." in text, text
    # A checksum both as a header and announced as a trailer.
    req = urllib.request.Request(f"{url}/trailers/both", data=b"5\r\nhello\r\n0\r\n" + f"x-amz-checksum-crc32:{crc}\r\n\r\n".encode(), method="PUT", headers={
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5",
        "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-checksum-crc32": crc})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert "Expecting a single x-amz-checksum- header" in err.value.read().decode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="trailers")["Contents"]] == ["ok"]


def rss_mib(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_slow_readers_wait_within_the_read_budget(tmp_path):
    """Thirty clients GET a 32 MiB object and read nothing: the bodies waiting for them stay
    within the read budget (8 MiB here) instead of a few MiB each, small objects are still
    served, and once they go the object is read whole."""
    import socket
    import time

    proc, url = start_weir(extra_env={"WEIR_KINESIS__READ_MEMORY_MB": "8"})
    stalled = []
    try:
        s3 = client(url)
        s3.create_bucket(Bucket="slow")
        path = tmp_path / "big"
        digest = patterned_file(path, 32 * MIB)
        s3.upload_file(str(path), "slow", "big")
        s3.put_object(Bucket="slow", Key="small", Body=b"tiny")
        host, port = url.removeprefix("http://").split(":")
        before_rss = rss_mib(proc)
        for _ in range(30):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sock.connect((host, int(port)))
            sock.sendall(f"GET /slow/big HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            stalled.append(sock)
        # Small objects are still served while the big ones wait for their readers.
        assert s3.get_object(Bucket="slow", Key="small")["Body"].read() == b"tiny"
        # Let the server fill whatever it will (only makes the bound below stricter).
        last, still = rss_mib(proc), 0
        deadline = time.monotonic() + 10
        while still < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
            now = rss_mib(proc)
            still = still + 1 if now <= last + 0.5 else 0
            last = max(last, now)
        grown = rss_mib(proc) - before_rss
        assert grown < 8 + 40, f"server RSS grew {grown:.0f} MiB for 30 stalled readers"
        for sock in stalled:
            sock.close()
        stalled = []
        got = s3.get_object(Bucket="slow", Key="big")["Body"]
        assert streamed_md5(got) == digest
    finally:
        for sock in stalled:
            sock.close()
        proc.terminate()
        assert proc.wait(30) == 0


def test_connections_beyond_the_limit_wait():
    """With at most 3 connections served at once, a fourth client waits to be accepted (it is
    not refused) and is served as soon as one of the others goes."""
    import socket
    import threading
    import time

    proc, url = start_weir(extra_env={"WEIR_MAX_CONNECTIONS": "3"})
    host, port = url.removeprefix("http://").split(":")
    idle = []
    try:
        s3 = client(url)
        s3.create_bucket(Bucket="conns")
        s3.close()  # its pooled connection goes
        for _ in range(3):
            sock = socket.create_connection((host, int(port)))
            idle.append(sock)
        # Wait until the server has taken all three (each answers a request).
        for sock in idle:
            sock.sendall(f"HEAD /conns HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        done = threading.Event()

        got = []

        def fourth():
            c = client(url)
            c.put_object(Bucket="conns", Key="k", Body=b"waited")
            got.append(c.get_object(Bucket="conns", Key="k")["Body"].read())
            c.close()
            done.set()

        t = threading.Thread(target=fourth, daemon=True)
        t.start()
        assert not done.wait(0.5), "a fourth connection was served beside three"
        idle.pop().close()
        assert done.wait(30), "the waiting client was not served after a slot freed"
        t.join(30)
        assert got == [b"waited"]
    finally:
        for sock in idle:
            sock.close()
        proc.terminate()
        assert proc.wait(30) == 0


def test_object_records_stay_within_their_memory_share():
    """With 1 MiB for the records of all objects, PUTs of new keys are refused with 503
    ServiceUnavailable once it is full (nothing stored); overwrites and deletes go on, and a
    delete makes room."""
    proc, url = start_weir(extra_env={"WEIR_S3__INDEX_MEMORY_MB": "1"})
    try:
        s3 = s3_client(url, attempts=1)
        s3.create_bucket(Bucket="index")
        stored = []
        for i in range(2000):
            key = f"{i:04d}-" + "k" * 1000
            try:
                s3.put_object(Bucket="index", Key=key, Body=b"v")
            except s3.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "ServiceUnavailable"
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                refused = key
                break
            stored.append(key)
        else:
            raise AssertionError("never refused")
        assert len(stored) > 100
        listed = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="index") for o in p.get("Contents", [])]
        assert listed == stored
        s3.put_object(Bucket="index", Key=stored[0], Body=b"w")
        s3.delete_object(Bucket="index", Key=stored[1])
        s3.put_object(Bucket="index", Key=refused, Body=b"v")
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
