"""A Flink SQL `lambda` sink: rows handed to a function registered in Weir's config by Kinesis
Data Analytics' Lambda output contract, sent again until the function acknowledges them."""

import json
import sys
import time

import boto3

from conftest import start_weir
from test_flink_gateway import Client

FUNCTION = r'''
import base64, json, os, sys
event = json.load(sys.stdin)
out = os.environ["WEIR_SMOKE_LAMBDA_OUT"]
calls_file = out + ".calls"
calls = int(open(calls_file).read()) if os.path.exists(calls_file) else 0
open(calls_file, "w").write(str(calls + 1))
assert event["applicationArn"].startswith("arn:aws:kinesisanalytics:")
results = []
for i, r in enumerate(event["records"]):
    # The first invocation fails its first record: it must come again.
    failed = calls == 0 and i == 0
    if not failed:
        with open(out, "a") as f:
            f.write(json.dumps({"row": json.loads(base64.b64decode(r["data"])),
                                "retryHint": r["lambdaDeliveryRecordMetadata"]["retryHint"]}) + "\n")
    results.append({"recordId": r["recordId"], "result": "DeliveryFailed" if failed else "Ok"})
json.dump({"records": results}, sys.stdout)
'''


def test_rows_reach_a_function_until_it_acknowledges_them(tmp_path):
    script = tmp_path / "collect.py"
    script.write_text(FUNCTION)
    out = tmp_path / "delivered.jsonl"
    config = tmp_path / "weir.toml"
    config.write_text(f'[[functions]]\nname = "collect"\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(script))}]\n')
    proc, url = start_weir(extra_env={"WEIR_SMOKE_LAMBDA_OUT": str(out)}, extra_args=("--config", str(config)))
    try:
        k = boto3.client("kinesis", endpoint_url=url, region_name="us-east-1",
                         aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
        k.create_stream(StreamName="alerts", ShardCount=1)
        c = Client(proc.flink_url)
        c.execute(
            """CREATE TABLE alerts (host STRING, cpu DOUBLE)
               WITH ('connector' = 'kinesis', 'stream' = 'alerts',
                     'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
        )
        c.execute(
            """CREATE TABLE pager (host STRING, cpu DOUBLE)
               WITH ('connector' = 'lambda',
                     'function' = 'arn:aws:lambda:us-east-1:000000000000:function:collect',
                     'format' = 'json');"""
        )
        c.execute("INSERT INTO pager SELECT host, cpu FROM alerts WHERE cpu > 90;")
        k.put_records(
            StreamName="alerts",
            Records=[{"PartitionKey": h, "Data": json.dumps({"host": h, "cpu": cpu}).encode()}
                     for h, cpu in [("a", 95.0), ("b", 50.0), ("c", 99.5)]],
        )
        deadline = time.monotonic() + 30
        got = []
        while len(got) < 2:
            assert time.monotonic() < deadline, got
            time.sleep(0.05)
            got = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        assert sorted(g["row"]["host"] for g in got) == ["a", "c"]
        # The record the function failed came again, marked as a retry.
        assert max(g["retryHint"] for g in got) == 1, got
        # An unknown function is refused when the job starts.
        c.execute(
            "CREATE TABLE nowhere (host STRING) WITH ('connector' = 'lambda', 'function' = 'nope', 'format' = 'json');"
        )
        try:
            c.execute("INSERT INTO nowhere SELECT host FROM alerts;")
        except RuntimeError as e:
            assert "not registered" in str(e), e
        else:
            raise AssertionError("an unregistered function was accepted")
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
