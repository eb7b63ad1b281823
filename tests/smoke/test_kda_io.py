"""Kinesis Data Analytics SQL applications' inputs and outputs, with boto3: InputParallelism,
Firehose delivery streams as input, input preprocessing functions, JSONPath arrays, CSV
delimiters, JSON reference data, Lambda outputs and refused writes tried again."""

import json
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import start_weir
from test_kda_sql import (FILTER, REFERENCE, ROLE, TICKS, Reader, clients, create_app, json_schema, put,
                          schema, start, stream_arn, tech, wait_status)


def test_input_parallelism_splits_the_shards(endpoint):
    # InputParallelism 2 over four shards: SOURCE_SQL_STREAM_001 and _002 each read two of
    # them; a pump per in-application stream brings every row, once.
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), price REAL, part INTEGER);
CREATE OR REPLACE PUMP "P1" AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol, price, 1 FROM "SOURCE_SQL_STREAM_001";
CREATE OR REPLACE PUMP "P2" AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol, price, 2 FROM "SOURCE_SQL_STREAM_002";"""
    kda, kinesis = clients(endpoint)
    kinesis.create_stream(StreamName="par-source", ShardCount=4)
    kinesis.get_waiter("stream_exists").wait(StreamName="par-source", WaiterConfig={"Delay": 0.05})
    source = kinesis.describe_stream_summary(StreamName="par-source")["StreamDescriptionSummary"]["StreamARN"]
    dest = stream_arn(kinesis, "par-dest")
    kda.create_application(
        ApplicationName="gs-par",
        Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
                 "InputParallelism": {"Count": 2}, "InputSchema": schema()}],
        Outputs=[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                  "DestinationSchema": {"RecordFormatType": "JSON"}}],
        ApplicationCode=code,
    )
    rows = [{"TICKER_SYMBOL": f"T{i:03d}", "SECTOR": "TECH", "CHANGE": 0.5, "PRICE": float(i)} for i in range(200)]
    put(kinesis, "par-source", rows)
    start(kda, "gs-par", "TRIM_HORIZON")
    got = Reader(kinesis, "par-dest").read(len(rows))
    assert sorted(g["TICKER_SYMBOL"] for g in got) == [r["TICKER_SYMBOL"] for r in rows]
    # Both in-application streams carried rows, and a shard went to one of them only.
    shard_of = {}
    for s in kinesis.list_shards(StreamName="par-source")["Shards"]:
        it = kinesis.get_shard_iterator(StreamName="par-source", ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for rec in kinesis.get_records(ShardIterator=it, Limit=1000)["Records"]:
            shard_of[json.loads(rec["Data"])["TICKER_SYMBOL"]] = s["ShardId"]
    parts = {}
    for g in got:
        parts.setdefault(shard_of[g["TICKER_SYMBOL"]], set()).add(g["PART"])
    assert all(len(p) == 1 for p in parts.values()), parts
    assert {p for ps in parts.values() for p in ps} == {1, 2}, parts
    kda.stop_application(ApplicationName="gs-par")
    wait_status(kda, "gs-par", "READY")
    # Down to one in-application stream: resumed, it reads every shard (the shards that were
    # the other part's from their start: at least once).
    one = code.split(";")[0] + ";" + code.split(";")[1] + ";"
    kda.update_application(ApplicationName="gs-par", CurrentApplicationVersionId=1, ApplicationUpdate={
        "ApplicationCodeUpdate": one,
        "InputUpdates": [{"InputId": "1.1", "InputParallelismUpdate": {"CountUpdate": 1}}]})
    more = [{"TICKER_SYMBOL": f"U{i:03d}", "SECTOR": "TECH", "CHANGE": 0.5, "PRICE": float(i)} for i in range(40)]
    put(kinesis, "par-source", more)
    start(kda, "gs-par", "LAST_STOPPED_POINT")
    reader = Reader(kinesis, "par-dest")
    end = time.monotonic() + 30
    seen = set()
    while not {m["TICKER_SYMBOL"] for m in more} <= seen:
        assert time.monotonic() < end, sorted(seen)
        seen |= {g["TICKER_SYMBOL"] for g in reader.read(1, deadline=1)}
    kda.stop_application(ApplicationName="gs-par")
    wait_status(kda, "gs-par", "READY")


PREPROCESSOR = r'''
import base64, json, sys
event = json.load(sys.stdin)
assert event["applicationArn"].startswith("arn:aws:kinesisanalytics:"), event
assert event["streamArn"].endswith(":stream/pre-source"), event
out = []
for r in event["records"]:
    meta = r["kinesisStreamRecordMetadata"]
    assert meta["shardId"].startswith("shardId-") and meta["sequenceNumber"] and meta["partitionKey"], meta
    row = json.loads(base64.b64decode(r["data"]))
    if row["ticker"] == "DROP":
        out.append({"recordId": r["recordId"], "result": "Dropped"})
    elif row["ticker"] == "FAIL":
        out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
    else:
        mapped = {"TICKER_SYMBOL": row["ticker"], "SECTOR": row["sector"].upper(), "CHANGE": 0.0, "PRICE": row["price"]}
        out.append({"recordId": r["recordId"], "result": "Ok", "data": base64.b64encode(json.dumps(mapped).encode()).decode()})
json.dump({"records": out}, sys.stdout)
'''


def test_an_input_preprocessing_function(tmp_path):
    # The function maps each record to the input schema's JSON, drops one and fails one (to
    # error_stream); the application sees only what it returned.
    script = tmp_path / "pre.py"
    script.write_text(PREPROCESSOR)
    config = tmp_path / "weir.toml"
    config.write_text(f'[[functions]]\nname = "pre"\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(script))}]\n')
    proc, url = start_weir(extra_args=("--config", str(config)))
    try:
        kda, kinesis = clients(url)
        source = stream_arn(kinesis, "pre-source")
        dest = stream_arn(kinesis, "pre-dest")
        errors = stream_arn(kinesis, "pre-errors")
        kda.create_application(
            ApplicationName="gs-pre",
            Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
                     "InputProcessingConfiguration": {"InputLambdaProcessor": {
                         "ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:pre", "RoleARN": ROLE}},
                     "InputSchema": schema()}],
            Outputs=[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                      "DestinationSchema": {"RecordFormatType": "JSON"}},
                     {"Name": "error_stream", "KinesisStreamsOutput": {"ResourceARN": errors, "RoleARN": ROLE},
                      "DestinationSchema": {"RecordFormatType": "JSON"}}],
            ApplicationCode=FILTER,
        )
        raw = [{"ticker": "AMZN", "sector": "technology", "price": 84.5}, {"ticker": "DROP", "sector": "technology", "price": 1},
               {"ticker": "FAIL", "sector": "technology", "price": 2}, {"ticker": "XOM", "sector": "energy", "price": 90.25},
               {"ticker": "MSFT", "sector": "technology", "price": 51.0}]
        kinesis.put_records(StreamName="pre-source", Records=[{"Data": json.dumps(r).encode(), "PartitionKey": r["ticker"]} for r in raw])
        start(kda, "gs-pre", "TRIM_HORIZON")
        got = Reader(kinesis, "pre-dest").read(2)
        assert [(g["TICKER_SYMBOL"], g["SECTOR"], g["PRICE"]) for g in got] == [("AMZN", "TECHNOLOGY", 84.5), ("MSFT", "TECHNOLOGY", 51.0)], got
        failed = Reader(kinesis, "pre-errors").read(1)
        assert json.loads(bytes.fromhex(failed[0]["DATA_ROW"]))["ticker"] == "FAIL", failed
        assert failed[0]["ERROR_NAME"] == "Lambda_Processing_Failed", failed
        # A function not registered in Weir's config is refused at start.
        kda.create_application(
            ApplicationName="gs-pre-missing",
            Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
                     "InputProcessingConfiguration": {"InputLambdaProcessor": {
                         "ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:nope", "RoleARN": ROLE}},
                     "InputSchema": schema()}],
            Outputs=[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                      "DestinationSchema": {"RecordFormatType": "JSON"}}],
            ApplicationCode=FILTER,
        )
        with pytest.raises(ClientError) as e:
            start(kda, "gs-pre-missing", "NOW")
        assert "not registered" in e.value.response["Error"]["Message"], e.value.response
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_firehose_delivery_stream_as_input(endpoint):
    # Records put to the delivery stream reach the application (and still the delivery's
    # destination); one reading a delivery stream that does not exist is refused at start.
    kda, kinesis = clients(endpoint)
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    fh = boto3.client("firehose", **kw)
    boto3.client("s3", **kw).create_bucket(Bucket="kda-firehose-in")
    fh.create_delivery_stream(DeliveryStreamName="ticks-in", DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration={
        "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::kda-firehose-in", "Prefix": "raw/",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
    end = time.monotonic() + 30
    while (d := fh.describe_delivery_stream(DeliveryStreamName="ticks-in")["DeliveryStreamDescription"])["DeliveryStreamStatus"] != "ACTIVE":
        assert time.monotonic() < end
        time.sleep(0.05)
    dest = stream_arn(kinesis, "fhin-dest")

    def app(name, delivery):
        kda.create_application(
            ApplicationName=name,
            Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "InputSchema": schema(), "KinesisFirehoseInput": {
                "ResourceARN": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{delivery}", "RoleARN": ROLE}}],
            Outputs=[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                      "DestinationSchema": {"RecordFormatType": "JSON"}}],
            ApplicationCode=FILTER)

    app("gs-firehose-in", "ticks-in")
    start(kda, "gs-firehose-in", "NOW")
    fh.put_record_batch(DeliveryStreamName="ticks-in", Records=[{"Data": json.dumps(t).encode()} for t in TICKS])
    assert Reader(kinesis, "fhin-dest").read(3) == tech(TICKS)
    kda.stop_application(ApplicationName="gs-firehose-in")
    wait_status(kda, "gs-firehose-in", "READY")
    # Put while stopped, read on LAST_STOPPED_POINT.
    fh.put_record(DeliveryStreamName="ticks-in", Record={"Data": json.dumps(TICKS[0]).encode()})
    start(kda, "gs-firehose-in", "LAST_STOPPED_POINT")
    assert Reader(kinesis, "fhin-dest").read(4)[3:] == [TICKS[0]]
    kda.stop_application(ApplicationName="gs-firehose-in")
    wait_status(kda, "gs-firehose-in", "READY")
    app("gs-firehose-missing", "nope")
    with pytest.raises(ClientError) as e:
        start(kda, "gs-firehose-missing", "NOW")
    assert e.value.response["Error"]["Code"] == "InvalidApplicationConfigurationException", e.value.response


def test_array_paths_flatten_and_read_arrays(endpoint):
    # The developer guide's JSONPath example: `$.orders[0:].orderId` makes a row per order
    # (the other values repeated; an empty array gives one row of nulls), `$.tags[0:]` reads
    # the whole array as text; and rows under a RecordRowPath `$.batch[0:]`.
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (customer VARCHAR(16), order_id VARCHAR(8), item VARCHAR(16), tags VARCHAR(64));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM * FROM "SOURCE_SQL_STREAM_001";"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "orders-source")
    dest = stream_arn(kinesis, "orders-dest")
    cols = [("CUSTOMER", "VARCHAR(16)", "$.customerName"), ("ORDER_ID", "VARCHAR(8)", "$.orders[0:].orderId"),
            ("ITEM", "VARCHAR(16)", "$.orders[0:].itemName"), ("TAGS", "VARCHAR(64)", "$.tags[0:]")]
    create_app(kda, "gs-orders", code, source, dest, input_schema=json_schema(cols))
    john = {"customerName": "John Doe", "tags": ["new", "vip"], "orders": [
        {"orderId": "23284", "itemName": "Widget", "itemPrice": "33.99"},
        {"orderId": "63122", "itemName": "Gadget", "itemPrice": "22.50"},
        {"orderId": "77284", "itemName": "Sprocket", "itemPrice": "12.00"}]}
    jane = {"customerName": "Jane Doe", "tags": [], "orders": []}
    kinesis.put_records(StreamName="orders-source", Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "k"} for r in (john, jane)])
    start(kda, "gs-orders", "TRIM_HORIZON")
    got = Reader(kinesis, "orders-dest").read(4)
    assert got == [
        {"CUSTOMER": "John Doe", "ORDER_ID": "23284", "ITEM": "Widget", "TAGS": '["new","vip"]'},
        {"CUSTOMER": "John Doe", "ORDER_ID": "63122", "ITEM": "Gadget", "TAGS": '["new","vip"]'},
        {"CUSTOMER": "John Doe", "ORDER_ID": "77284", "ITEM": "Sprocket", "TAGS": '["new","vip"]'},
        {"CUSTOMER": "Jane Doe", "ORDER_ID": None, "ITEM": None, "TAGS": "[]"},
    ], got
    kda.stop_application(ApplicationName="gs-orders")
    wait_status(kda, "gs-orders", "READY")
    # Rows under a RecordRowPath: each element of `batch` is a row.
    batched = json_schema([("TICKER_SYMBOL", "VARCHAR(4)", "$.batch[0:].TICKER_SYMBOL"), ("SECTOR", "VARCHAR(16)"),
                           ("CHANGE", "REAL"), ("PRICE", "REAL")])
    batched["RecordFormat"]["MappingParameters"]["JSONMappingParameters"]["RecordRowPath"] = "$.batch[0:]"
    source2 = stream_arn(kinesis, "batch-source")
    dest2 = stream_arn(kinesis, "batch-dest")
    create_app(kda, "gs-batch", FILTER, source2, dest2, input_schema=batched)
    kinesis.put_record(StreamName="batch-source", Data=json.dumps({"batch": TICKS}).encode(), PartitionKey="k")
    start(kda, "gs-batch", "TRIM_HORIZON")
    assert Reader(kinesis, "batch-dest").read(3) == tech(TICKS)
    kda.stop_application(ApplicationName="gs-batch")
    wait_status(kda, "gs-batch", "READY")


def test_a_refused_output_write_is_tried_again_in_place():
    # The output stream does not exist when the rows come: the write is tried again until it
    # exists, the application running all along, each row written once.
    proc, endpoint = start_weir()
    try:
        kda, kinesis = clients(endpoint)
        source = stream_arn(kinesis, "late-source")
        dest = "arn:aws:kinesis:us-east-1:123456789012:stream/late-dest"
        create_app(kda, "gs-late", FILTER, source, dest)
        start(kda, "gs-late", "TRIM_HORIZON")
        put(kinesis, "late-source", TICKS)
        # The output is created only once the server has logged a refused write.
        end = time.monotonic() + 30
        while not any("a write refused" in line for line in list(proc.log_lines)):
            assert time.monotonic() < end, "no write was refused"
            time.sleep(0.05)
        stream_arn(kinesis, "late-dest")
        refused_then_written(kda, kinesis)
    finally:
        proc.terminate()
        proc.wait(30)


def refused_then_written(kda, kinesis):
    got = Reader(kinesis, "late-dest").read(3)
    assert got == tech(TICKS), got
    assert Reader(kinesis, "late-dest").read(4, deadline=1) == tech(TICKS)
    assert kda.describe_application(ApplicationName="gs-late")["ApplicationDetail"]["ApplicationStatus"] == "RUNNING"
    kda.stop_application(ApplicationName="gs-late")
    wait_status(kda, "gs-late", "READY")


def test_json_reference_data(endpoint):
    # Reference data as JSON lines (mapped by JSONPath), joined as in the CSV example.
    kda, kinesis = clients(endpoint)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    s3.create_bucket(Bucket="kda-reference-json")
    lines = [{"symbol": "AMZN", "company": {"name": "Amazon"}}, {"symbol": "MSFT", "company": {"name": "Microsoft"}}]
    s3.put_object(Bucket="kda-reference-json", Key="tickers.json", Body="\n".join(json.dumps(x) for x in lines).encode())
    source = stream_arn(kinesis, "refj-source")
    dest = stream_arn(kinesis, "refj-dest")
    create_app(kda, "gs-reference-json", REFERENCE, source, dest)
    kda.add_application_reference_data_source(ApplicationName="gs-reference-json", CurrentApplicationVersionId=1, ReferenceDataSource={
        "TableName": "CompanyName",
        "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::kda-reference-json", "FileKey": "tickers.json", "ReferenceRoleARN": ROLE},
        "ReferenceSchema": {
            "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
            "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(4)", "Mapping": "$.symbol"},
                              {"Name": "Company", "SqlType": "VARCHAR(20)", "Mapping": "$.company.name"}]}})
    put(kinesis, "refj-source", TICKS)
    start(kda, "gs-reference-json", "TRIM_HORIZON")
    got = Reader(kinesis, "refj-dest").read(len(TICKS))
    names = {"AMZN": "Amazon", "MSFT": "Microsoft"}
    assert [(g["TICKER_SYMBOL"], g["Company"]) for g in got] == [(t["TICKER_SYMBOL"], names.get(t["TICKER_SYMBOL"])) for t in TICKS], got
    kda.stop_application(ApplicationName="gs-reference-json")
    wait_status(kda, "gs-reference-json", "READY")


OUTPUT_FUNCTION = r'''
import base64, json, os, sys
event = json.load(sys.stdin)
assert event["applicationArn"].startswith("arn:aws:kinesisanalytics:"), event
with open(os.environ["WEIR_SMOKE_KDA_OUT"], "a") as f:
    for r in event["records"]:
        assert r["lambdaDeliveryRecordMetadata"]["retryHint"] == 0, r
        f.write(base64.b64decode(r["data"]).decode() + "\n")
json.dump({"records": [{"recordId": r["recordId"], "result": "Ok"} for r in event["records"]]}, sys.stdout)
'''


def test_a_lambda_output(tmp_path):
    script = tmp_path / "out.py"
    script.write_text(OUTPUT_FUNCTION)
    out = tmp_path / "rows.jsonl"
    config = tmp_path / "weir.toml"
    config.write_text(f'[[functions]]\nname = "sink"\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(script))}]\n')
    proc, url = start_weir(extra_env={"WEIR_SMOKE_KDA_OUT": str(out)}, extra_args=("--config", str(config)))
    try:
        kda, kinesis = clients(url)
        source = stream_arn(kinesis, "lam-source")
        create_app(kda, "gs-lambda", FILTER, source, None, output={
            "Name": "DESTINATION_SQL_STREAM", "LambdaOutput": {
                "ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:sink", "RoleARN": ROLE},
            "DestinationSchema": {"RecordFormatType": "JSON"}})
        put(kinesis, "lam-source", TICKS)
        start(kda, "gs-lambda", "TRIM_HORIZON")
        end = time.monotonic() + 30
        got = []
        while len(got) < 3:
            assert time.monotonic() < end, got
            time.sleep(0.05)
            got = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
        assert got == tech(TICKS), got
    finally:
        proc.terminate()
        proc.wait(30)


def test_csv_records_with_several_rows_and_longer_delimiters(endpoint):
    # A record holds several rows; the delimiters are "\r\n" and "||" (KDA splits records by
    # RecordRowDelimiter and rows by RecordColumnDelimiter, whatever their length).
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "csv-source")
    dest = stream_arn(kinesis, "csv-dest")
    csv_schema = {
        "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {
            "RecordRowDelimiter": "\r\n", "RecordColumnDelimiter": "||"}}},
        "RecordEncoding": "UTF-8",
        "RecordColumns": [{"Name": n, "SqlType": t} for n, t in
                          [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]],
    }
    create_app(kda, "gs-csv", FILTER, source, dest, input_schema=csv_schema)
    kinesis.put_records(StreamName="csv-source", Records=[
        {"Data": "".join(f'{t["TICKER_SYMBOL"]}||{t["SECTOR"]}||{t["CHANGE"]}||{t["PRICE"]}\r\n' for t in part).encode(), "PartitionKey": "k"}
        for part in (TICKS[:3], TICKS[3:])])
    start(kda, "gs-csv", "TRIM_HORIZON")
    assert Reader(kinesis, "csv-dest").read(3) == tech(TICKS)
    kda.stop_application(ApplicationName="gs-csv")
    wait_status(kda, "gs-csv", "READY")
