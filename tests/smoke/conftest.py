"""Starts a real `weir serve` on a free loopback port for the Python smoke tests."""

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest

ADDR = re.compile(r"listening on (https?://\S+)")
FLINK = re.compile(r"Flink SQL Gateway on (http://[^\s,;]+)")
KAFKA = re.compile(r"Kafka on ([^\s,;]+)")
KAFKA_TLS = re.compile(r"Kafka TLS on ([^\s,;]+)")

# Data directories made for servers here: removed when the session ends (a server's log
# preallocates its segments, so a run would otherwise leave gigabytes behind).
_DATA_DIRS = []


@pytest.fixture(scope="session", autouse=True)
def _remove_data_dirs():
    yield
    for d in _DATA_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def start_weir(extra_env=None, extra_args=(), data_dir=None):
    """Starts `weir serve` on a free port (on `data_dir`, else a new one); returns (process,
    endpoint URL)."""
    binary = os.environ.get("WEIR_BIN", "target/debug/weir")
    data = data_dir
    if data is None:
        data = tempfile.mkdtemp(prefix="weir-smoke-")
        _DATA_DIRS.append(data)
    env = dict(
        os.environ,
        NO_COLOR="1",
        WEIR_KINESIS__CREATE_DELAY_MS="0",
        WEIR_KINESIS__DELETE_DELAY_MS="0",
        # Glue Python shell jobs run with this interpreter (it has boto3).
        WEIR_GLUE__PYTHON=sys.executable,
        # The Flink SQL Gateway on a free port too (its address: `proc.flink_url`).
        WEIR_FLINK__LISTEN="127.0.0.1:0",
        # The Kafka listener too (its address: `proc.kafka_bootstrap`).
        WEIR_KAFKA__LISTEN="127.0.0.1:0",
    )
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, *extra_args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    found = {}
    ready = threading.Event()
    # The server's last log lines, for tests that wait for something it logs.
    proc.log_lines = collections.deque(maxlen=5000)

    def drain():
        for line in proc.stderr:
            proc.log_lines.append(line)
            m = ADDR.search(line)
            if m and not ready.is_set():
                found["addr"] = m.group(1)
                f = FLINK.search(line)
                found["flink"] = f.group(1) if f else None
                k = KAFKA.search(line)
                found["kafka"] = k.group(1) if k else None
                t = KAFKA_TLS.search(line)
                found["kafka_tls"] = t.group(1) if t else None
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    assert ready.wait(30) and "addr" in found, "weir did not start"
    proc.flink_url = found.get("flink")
    proc.kafka_bootstrap = found.get("kafka")
    proc.kafka_tls_bootstrap = found.get("kafka_tls")
    return proc, found["addr"]


@pytest.fixture(scope="session")
def endpoint():
    proc, url = start_weir()
    yield url
    proc.terminate()
    assert proc.wait(30) == 0, "weir did not shut down cleanly"


@pytest.fixture(scope="session")
def aws_env():
    return dict(
        os.environ,
        AWS_ACCESS_KEY_ID="AKIDSMOKE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION="us-east-1",
    )


def s3_client(url, attempts=None):
    """A boto3 S3 client for a test server (path-style; `attempts`: retries included)."""
    import boto3

    extra = {"retries": {"max_attempts": attempts}} if attempts else {}
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
        config=boto3.session.Config(s3={"addressing_style": "path"}, **extra),
    )


def make_certificates(d):
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 it signs (rustls
    refuses a CA as end entity), written under the directory `d`: (cert, key, ca) paths."""
    ca, ca_key = d / "ca.pem", d / "ca-key.pem"
    cert, key, csr, ext = d / "cert.pem", d / "key.pem", d / "req.csr", d / "ext.cnf"

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
            "/CN=Weir test CA", "-keyout", str(ca_key), "-out", str(ca))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", str(key), "-out", str(csr))
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert))
    return cert, key, ca
