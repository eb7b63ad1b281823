"""kafkajs (npm) on Weir's Kafka front door: admin, idempotent gzip produce with keys and
headers, a consumer group reading both partitions, committed offsets fetched back."""

import json
import os
import subprocess

import pytest

from conftest import start_weir

HERE = os.path.dirname(os.path.abspath(__file__))
# scripts/test installs kafkajs here (outside the clone).
NODE_MODULES = os.environ.get(
    "WEIR_NODE_MODULES", os.path.expanduser("~/.cache/weir/npm-smoke/node_modules"))


def test_kafkajs_produces_consumes_and_commits():
    if not os.path.isdir(os.path.join(NODE_MODULES, "kafkajs")):
        pytest.fail(f"kafkajs is not installed in {NODE_MODULES} (scripts/test installs it)")
    proc, _ = start_weir()
    try:
        out = subprocess.run(
            ["node", os.path.join(HERE, "kafkajs", "roundtrip.js"), proc.kafka_bootstrap, "js-topic"],
            env=dict(os.environ, NODE_PATH=NODE_MODULES), capture_output=True, text=True,
            timeout=120)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    assert sorted((r["partition"], r["baseOffset"]) for r in result["sent"]) == [(0, "0"), (1, "0")]
    got = sorted(result["got"], key=lambda m: (m["partition"], int(m["offset"])))
    assert [(m["partition"], m["key"], m["value"], m["n"]) for m in got] == [
        (i % 2, f"k{i}", f"v{i}", str(i)) for i in [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]]
    (topic,) = result["offsets"]
    assert sorted((p["partition"], p["offset"]) for p in topic["partitions"]) == [(0, "5"), (1, "5")]
    assert {"groupId": "js-topic-group", "protocolType": "consumer"} in result["groups"]["groups"]
