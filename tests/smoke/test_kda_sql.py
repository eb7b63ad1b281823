"""Kinesis Data Analytics SQL applications running on Weir's streaming engine, driven with boto3
as AWS's getting-started guide drives them: the stock-ticker demo's records go into a Kinesis
stream, the application's SQL runs, its output is read back from the destination stream."""

import json
import re
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import start_weir

ROLE = "arn:aws:iam::123456789012:role/kda"

# The getting-started application's filter (the console's "Continuous filter" template).
FILTER = """-- ** Continuous Filter **
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), sector VARCHAR(12), change DOUBLE, price DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, sector, change, price
FROM   "SOURCE_SQL_STREAM_001"
WHERE  sector SIMILAR TO '%TECH%';"""

# The guide's aggregate: a count per ticker over tumbling windows (one second here).
AGGREGATE = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), ticker_symbol_count INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, COUNT(*) AS ticker_symbol_count
FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' SECOND);"""

TICKS = [
    {"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": -0.25, "PRICE": 84.5},
    {"TICKER_SYMBOL": "XOM", "SECTOR": "ENERGY", "CHANGE": 1.5, "PRICE": 90.25},
    {"TICKER_SYMBOL": "MSFT", "SECTOR": "TECHNOLOGY", "CHANGE": 0.75, "PRICE": 51.0},
    {"TICKER_SYMBOL": "WFC", "SECTOR": "FINANCIAL", "CHANGE": -2.0, "PRICE": 47.5},
    {"TICKER_SYMBOL": "INTC", "SECTOR": "TECHNOLOGY", "CHANGE": 0.5, "PRICE": 33.25},
]


def clients(url):
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    return boto3.client("kinesisanalytics", **kw), boto3.client("kinesis", **kw)


def stream_arn(kinesis, name):
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.05})
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def schema():
    cols = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
    return {
        "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
        "RecordEncoding": "UTF-8",
        "RecordColumns": [{"Name": n, "SqlType": t, "Mapping": f"$.{n}"} for n, t in cols],
    }


def json_schema(columns):
    """A JSON input schema of (name, SQL type[, mapping]) columns (mapping `$.name` by default)."""
    return {"RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
            "RecordColumns": [{"Name": c[0], "SqlType": c[1], "Mapping": c[2] if len(c) > 2 else f"$.{c[0]}"} for c in columns]}


def create_app(kda, name, code, source, dest, input_schema=None, output=None):
    """An application reading `source` into SOURCE_SQL_STREAM_001, its DESTINATION_SQL_STREAM
    going to the Kinesis stream `dest` as JSON (or to `output`)."""
    kda.create_application(
        ApplicationName=name,
        Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
                 "InputSchema": input_schema or schema()}],
        Outputs=[output or {"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                            "DestinationSchema": {"RecordFormatType": "JSON"}}],
        ApplicationCode=code,
    )


def wait_status(kda, name, status, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        d = kda.describe_application(ApplicationName=name)["ApplicationDetail"]
        if d["ApplicationStatus"] == status:
            return d
        time.sleep(0.05)
    raise AssertionError(f"{name} did not become {status}: {d['ApplicationStatus']}")


def start(kda, name, position):
    d = kda.describe_application(ApplicationName=name)["ApplicationDetail"]
    input_id = d["InputDescriptions"][0]["InputId"]
    kda.start_application(ApplicationName=name, InputConfigurations=[
        {"Id": input_id, "InputStartingPositionConfiguration": {"InputStartingPosition": position}}])
    return wait_status(kda, name, "RUNNING")


class Reader:
    """Reads a one-shard stream from its start, keeping its place."""

    def __init__(self, kinesis, stream):
        self.kinesis = kinesis
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        self.iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def read(self, count, deadline=30):
        """Polls until `count` more records came (or the deadline passes); returns them."""
        out = []
        end = time.monotonic() + deadline
        while len(out) < count and time.monotonic() < end:
            r = self.kinesis.get_records(ShardIterator=self.iterator)
            self.iterator = r["NextShardIterator"]
            out.extend(json.loads(x["Data"]) for x in r["Records"])
            if not r["Records"]:
                time.sleep(0.05)
        return out

    def nothing_more(self):
        r = self.kinesis.get_records(ShardIterator=self.iterator)
        return r["Records"] == []


def put(kinesis, stream, rows):
    kinesis.put_records(StreamName=stream, Records=[
        {"Data": json.dumps(r).encode(), "PartitionKey": r["TICKER_SYMBOL"]} for r in rows])


def tech(rows):
    return [r for r in rows if "TECH" in r["SECTOR"]]


def test_the_getting_started_filter_runs_stops_and_resumes(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "gs-source")
    dest = stream_arn(kinesis, "gs-dest")
    create_app(kda, "gs-filter", FILTER, source, dest)
    put(kinesis, "gs-source", TICKS)
    d = start(kda, "gs-filter", "TRIM_HORIZON")
    assert d["InputDescriptions"][0]["InputStartingPositionConfiguration"] == {"InputStartingPosition": "TRIM_HORIZON"}

    out = Reader(kinesis, "gs-dest")
    got = out.read(3)
    assert got == tech(TICKS), got

    # Stopped, it keeps its place: what came meanwhile is read once when it resumes.
    kda.stop_application(ApplicationName="gs-filter")
    wait_status(kda, "gs-filter", "READY")
    later = [dict(t, PRICE=t["PRICE"] + 1) for t in TICKS]
    put(kinesis, "gs-source", later)
    start(kda, "gs-filter", "LAST_STOPPED_POINT")
    got = out.read(3)
    assert got == tech(later), got
    put(kinesis, "gs-source", TICKS[:1])
    assert out.read(1) == TICKS[:1]
    assert out.nothing_more()

    # Started again from NOW, it reads only what comes after.
    kda.stop_application(ApplicationName="gs-filter")
    wait_status(kda, "gs-filter", "READY")
    start(kda, "gs-filter", "NOW")
    put(kinesis, "gs-source", TICKS[2:3])
    assert out.read(1) == TICKS[2:3]
    assert out.nothing_more()
    kda.stop_application(ApplicationName="gs-filter")
    d = wait_status(kda, "gs-filter", "READY")

    # Deleted, it leaves no internal stream behind (one was kept to resume it).
    def internal():
        names = kinesis.list_streams(Limit=1000)["StreamNames"]
        return {n for n in names if n.startswith("weir-kda-")}
    before = internal()
    kda.delete_application(ApplicationName="gs-filter", CreateTimestamp=d["CreateTimestamp"])
    end = time.monotonic() + 30
    while len(internal()) != len(before) - 1 and time.monotonic() < end:
        time.sleep(0.05)
    assert len(internal()) == len(before) - 1


def test_a_tumbling_count_per_ticker(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "agg-source")
    dest = stream_arn(kinesis, "agg-dest")
    create_app(kda, "gs-aggregate", AGGREGATE, source, dest)
    rows = TICKS * 3 + TICKS[:2]
    put(kinesis, "agg-source", rows)
    start(kda, "gs-aggregate", "TRIM_HORIZON")
    # The records arrive within a window or two: the counts per ticker add up to what was put.
    out = Reader(kinesis, "agg-dest")
    totals = {}
    end = time.monotonic() + 30
    want = {t["TICKER_SYMBOL"]: sum(1 for r in rows if r["TICKER_SYMBOL"] == t["TICKER_SYMBOL"]) for t in TICKS}
    while totals != want and time.monotonic() < end:
        for r in out.read(1, deadline=1):
            assert set(r) == {"TICKER_SYMBOL", "TICKER_SYMBOL_COUNT"}, r
            totals[r["TICKER_SYMBOL"]] = totals.get(r["TICKER_SYMBOL"], 0) + r["TICKER_SYMBOL_COUNT"]
    assert totals == want
    kda.stop_application(ApplicationName="gs-aggregate")
    wait_status(kda, "gs-aggregate", "READY")


def test_code_and_configuration_errors(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "bad-source")
    with pytest.raises(ClientError) as e:
        kda.create_application(ApplicationName="bad-code", ApplicationCode="CREATE OR REPLACE PUMP \"P\" AS SELEC")
    assert e.value.response["Error"]["Code"] == "CodeValidationException"
    # What Weir does not run yet is refused at start, the application staying READY.
    rows_under = schema()
    rows_under["RecordFormat"]["MappingParameters"]["JSONMappingParameters"]["RecordRowPath"] = "$.ticks[1]"
    create_app(kda, "row-path", FILTER, source, source, input_schema=rows_under)
    with pytest.raises(ClientError) as e:
        start(kda, "row-path", "NOW")
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert "RecordRowPath" in e.value.response["Error"]["Message"]
    assert kda.describe_application(ApplicationName="row-path")["ApplicationDetail"]["ApplicationStatus"] == "READY"
    # Code that names a column the input does not have is planned, and refused, at start.
    create_app(kda, "no-column", FILTER.replace("sector SIMILAR", "industry SIMILAR"), source, source)
    with pytest.raises(ClientError) as e:
        start(kda, "no-column", "NOW")
    assert e.value.response["Error"]["Code"] == "InvalidApplicationConfigurationException"
    assert "INDUSTRY" in e.value.response["Error"]["Message"]
    assert kda.describe_application(ApplicationName="no-column")["ApplicationDetail"]["ApplicationStatus"] == "READY"


def test_a_running_application_survives_kill_9(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        kda, kinesis = clients(url)
        source = stream_arn(kinesis, "k9-source")
        dest = stream_arn(kinesis, "k9-dest")
        create_app(kda, "k9", FILTER, source, dest)
        start(kda, "k9", "TRIM_HORIZON")
        put(kinesis, "k9-source", TICKS)
        assert Reader(kinesis, "k9-dest").read(3) == tech(TICKS)
    finally:
        proc.kill()
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        kda, kinesis = clients(url)
        assert kda.describe_application(ApplicationName="k9")["ApplicationDetail"]["ApplicationStatus"] == "RUNNING"
        later = [dict(t, CHANGE=t["CHANGE"] * 2) for t in TICKS]
        put(kinesis, "k9-source", later)
        # At least once across the crash: every record is there, the new ones after the old.
        out, got = Reader(kinesis, "k9-dest"), []
        end = time.monotonic() + 30
        while got[-3:] != tech(later) and time.monotonic() < end:
            got += out.read(1, deadline=1)
        assert got[:3] == tech(TICKS) and got[-3:] == tech(later), got
    finally:
        proc.terminate()
        proc.wait(30)


# The guide's sliding window: each row with the minimum and maximum price of its ticker over
# the minute before it.
SLIDING = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), min_price REAL, max_price REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol,
       MIN(price) OVER W1 AS min_price,
       MAX(price) OVER W1 AS max_price
FROM "SOURCE_SQL_STREAM_001"
WINDOW W1 AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING);"""


def test_a_sliding_window(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "slide-source")
    dest = stream_arn(kinesis, "slide-dest")
    create_app(kda, "gs-sliding", SLIDING, source, dest)
    rows = TICKS + [dict(t, PRICE=t["PRICE"] * 2) for t in TICKS] + [dict(t, PRICE=t["PRICE"] / 2) for t in TICKS]
    put(kinesis, "slide-source", rows)
    start(kda, "gs-sliding", "TRIM_HORIZON")
    got = Reader(kinesis, "slide-dest").read(len(rows))
    assert len(got) == len(rows)
    last = {r["TICKER_SYMBOL"]: r for r in got}
    for t in TICKS:
        assert last[t["TICKER_SYMBOL"]] == {"TICKER_SYMBOL": t["TICKER_SYMBOL"], "MIN_PRICE": t["PRICE"] / 2, "MAX_PRICE": t["PRICE"] * 2}
    kda.stop_application(ApplicationName="gs-sliding")
    wait_status(kda, "gs-sliding", "READY")


# The guide's reference data example: ticker symbols joined with company names from S3.
REFERENCE = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), "Company" varchar(20), sector VARCHAR(12), change DOUBLE, price DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
   SELECT STREAM ticker_symbol, "c"."Company", sector, change, price
   FROM "SOURCE_SQL_STREAM_001" LEFT JOIN "CompanyName" as "c"
   ON "SOURCE_SQL_STREAM_001".ticker_symbol = "c"."Ticker";"""


def test_a_reference_table_join(endpoint):
    kda, kinesis = clients(endpoint)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    s3.create_bucket(Bucket="kda-reference")
    s3.put_object(Bucket="kda-reference", Key="TickerReference.csv", Body=b"AMZN,Amazon\nMSFT,Microsoft\nXOM,Exxon\n")
    source = stream_arn(kinesis, "ref-source")
    dest = stream_arn(kinesis, "ref-dest")
    create_app(kda, "gs-reference", REFERENCE, source, dest)
    kda.add_application_reference_data_source(ApplicationName="gs-reference", CurrentApplicationVersionId=1, ReferenceDataSource={
        "TableName": "CompanyName",
        "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::kda-reference", "FileKey": "TickerReference.csv", "ReferenceRoleARN": ROLE},
        "ReferenceSchema": {
            "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
            "RecordEncoding": "UTF-8",
            "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(4)"}, {"Name": "Company", "SqlType": "VARCHAR(20)"}]}})
    put(kinesis, "ref-source", TICKS)
    start(kda, "gs-reference", "TRIM_HORIZON")
    got = Reader(kinesis, "ref-dest").read(len(TICKS))
    names = {"AMZN": "Amazon", "MSFT": "Microsoft", "XOM": "Exxon"}
    assert got == [{"TICKER_SYMBOL": t["TICKER_SYMBOL"], "Company": names.get(t["TICKER_SYMBOL"]), "SECTOR": t["SECTOR"],
                    "CHANGE": t["CHANGE"], "PRICE": t["PRICE"]} for t in TICKS], got
    kda.stop_application(ApplicationName="gs-reference")
    wait_status(kda, "gs-reference", "READY")


def test_an_update_restarts_a_running_application_on_its_new_code(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "upd-source")
    dest = stream_arn(kinesis, "upd-dest")
    create_app(kda, "gs-update", FILTER, source, dest)
    put(kinesis, "upd-source", TICKS)
    start(kda, "gs-update", "TRIM_HORIZON")
    out = Reader(kinesis, "upd-dest")
    assert out.read(3) == tech(TICKS)
    energy = FILTER.replace("'%TECH%'", "'ENERGY'")
    kda.update_application(ApplicationName="gs-update", CurrentApplicationVersionId=1,
                           ApplicationUpdate={"ApplicationCodeUpdate": energy})
    d = wait_status(kda, "gs-update", "RUNNING")
    assert d["ApplicationVersionId"] == 2
    # The new code goes on from where the old one stopped: nothing read twice, nothing skipped.
    put(kinesis, "upd-source", TICKS)
    assert out.read(1) == [t for t in TICKS if t["SECTOR"] == "ENERGY"]
    assert out.nothing_more()
    kda.stop_application(ApplicationName="gs-update")
    wait_status(kda, "gs-update", "READY")


# A stream-to-stream join: orders and trades split from one input into in-application
# streams, then joined within a minute of each other.
JOIN = """CREATE OR REPLACE STREAM "Orders" (order_id INTEGER, ticker VARCHAR(4), amount DOUBLE);
CREATE OR REPLACE STREAM "Trades" (order_id INTEGER, amount DOUBLE);
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (order_id INTEGER, ticker VARCHAR(4), order_amount DOUBLE, trade_amount DOUBLE);
CREATE OR REPLACE PUMP "ORDER_PUMP" AS INSERT INTO "Orders"
  SELECT STREAM "id", "ticker", "amount" FROM "SOURCE_SQL_STREAM_001" WHERE "kind" = 'order';
CREATE OR REPLACE PUMP "TRADE_PUMP" AS INSERT INTO "Trades"
  SELECT STREAM "id", "amount" FROM "SOURCE_SQL_STREAM_001" WHERE "kind" = 'trade';
CREATE OR REPLACE PUMP "JOIN_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM o.order_id, o.ticker, o.amount, t.amount
  FROM "Orders" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS o
  JOIN "Trades" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t
  ON o.order_id = t.order_id;"""


def test_a_stream_to_stream_join(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "join-source")
    dest = stream_arn(kinesis, "join-dest")
    cols = [("kind", "VARCHAR(8)"), ("id", "INTEGER"), ("ticker", "VARCHAR(4)"), ("amount", "DOUBLE")]
    create_app(kda, "gs-join", JOIN, source, dest, input_schema=json_schema(cols))
    rows = [
        {"kind": "order", "id": 1, "ticker": "AMZN", "amount": 100.0},
        {"kind": "order", "id": 2, "ticker": "MSFT", "amount": 50.0},
        {"kind": "trade", "id": 1, "amount": 60.0},
        {"kind": "trade", "id": 1, "amount": 40.0},
        {"kind": "trade", "id": 3, "amount": 10.0},
    ]
    kinesis.put_records(StreamName="join-source", Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "k"} for r in rows])
    start(kda, "gs-join", "TRIM_HORIZON")
    got = Reader(kinesis, "join-dest").read(2)
    want = [{"ORDER_ID": 1, "TICKER": "AMZN", "ORDER_AMOUNT": 100.0, "TRADE_AMOUNT": a} for a in (60.0, 40.0)]
    key = lambda r: r["TRADE_AMOUNT"]
    assert sorted(got, key=key) == sorted(want, key=key)
    kda.stop_application(ApplicationName="gs-join")
    wait_status(kda, "gs-join", "READY")


TOP_K = """CREATE OR REPLACE STREAM DESTINATION_SQL_STREAM ("TICKER_SYMBOL" VARCHAR(4), "MOST_FREQUENT_VALUES" BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM * FROM TABLE (TOP_K_ITEMS_TUMBLING(
    CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 2, 1));"""

DISTINCT = """CREATE OR REPLACE STREAM DESTINATION_SQL_STREAM (NUMBER_OF_DISTINCT_ITEMS BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(
    CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 1));"""


@pytest.mark.parametrize("name,code,want", [
    # Records read together enter at one ROWTIME: one window holds them all.
    ("topk", TOP_K, [{"TICKER_SYMBOL": "AMZN", "MOST_FREQUENT_VALUES": 4}, {"TICKER_SYMBOL": "XOM", "MOST_FREQUENT_VALUES": 4}]),
    ("distinct", DISTINCT, [{"NUMBER_OF_DISTINCT_ITEMS": 5}]),
    # A cursor with its own columns and a filter (a view of the stream).
    ("distinct-where", DISTINCT.replace('SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"',
                                        'SELECT STREAM ticker_symbol, sector AS s FROM "SOURCE_SQL_STREAM_001" WHERE price > 50'),
     [{"NUMBER_OF_DISTINCT_ITEMS": 3}]),
    # The cursor's query is KDA SQL too (SIMILAR TO's patterns).
    ("distinct-similar", DISTINCT.replace('SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"',
                                          'SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001" '
                                          "WHERE price > 50 AND sector SIMILAR TO '%TECH%'"),
     [{"NUMBER_OF_DISTINCT_ITEMS": 2}]),
])
def test_the_analytic_table_functions(endpoint, name, code, want):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, f"{name}-source")
    dest = stream_arn(kinesis, f"{name}-dest")
    create_app(kda, f"gs-{name}", code, source, dest)
    put(kinesis, f"{name}-source", TICKS * 3 + TICKS[:2])
    start(kda, f"gs-{name}", "TRIM_HORIZON")
    got = Reader(kinesis, f"{name}-dest").read(len(want))
    assert sorted(got, key=json.dumps) == sorted(want, key=json.dumps)
    kda.stop_application(ApplicationName=f"gs-{name}")
    wait_status(kda, f"gs-{name}", "READY")


def test_records_that_do_not_map_go_to_the_error_stream(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "err-source")
    dest = stream_arn(kinesis, "err-dest")
    errors = stream_arn(kinesis, "err-errors")
    # A second pump reads the input too: each bad record is still reported once.
    code = FILTER + """
CREATE OR REPLACE STREAM "ALL_ROWS" (ticker_symbol VARCHAR(4));
CREATE OR REPLACE PUMP "ALL_PUMP" AS INSERT INTO "ALL_ROWS" SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001";"""
    create_app(kda, "gs-errors", code, source, dest)
    kda.add_application_output(ApplicationName="gs-errors", CurrentApplicationVersionId=1, Output={
        "Name": "error_stream", "KinesisStreamsOutput": {"ResourceARN": errors, "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"}})
    bad = [b"not json at all", b'{"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": "abc", "PRICE": 1}']
    # A row over KDA's 512 KB row limit (a 600 KB SECTOR) cannot enter the stream either.
    big = json.dumps(dict(TICKS[0], SECTOR="T" * 600_000)).encode()
    records = [json.dumps(t).encode() for t in TICKS[:2]] + bad + [big, json.dumps(TICKS[2]).encode()]
    kinesis.put_records(StreamName="err-source", Records=[{"Data": d, "PartitionKey": "k"} for d in records])
    start(kda, "gs-errors", "TRIM_HORIZON")
    assert Reader(kinesis, "err-dest").read(2) == tech(TICKS[:3])
    errors_out = Reader(kinesis, "err-errors")
    got = errors_out.read(3)
    # DATA_ROW holds the record hex-encoded, as AWS documents it (its first 24,576 bytes).
    assert [bytes.fromhex(g["DATA_ROW"]) for g in got] == bad + [big[:24_576]]
    assert "512 KB" in got[2]["MESSAGE"]
    assert errors_out.read(1, deadline=1) == []
    for g in got:
        assert set(g) == {"ERROR_TIME", "ERROR_LEVEL", "ERROR_NAME", "MESSAGE", "DATA_ROWTIME", "DATA_ROW", "PUMP_NAME"}
        assert g["ERROR_LEVEL"] == "ERROR" and g["MESSAGE"]
    kda.stop_application(ApplicationName="gs-errors")
    wait_status(kda, "gs-errors", "READY")


def test_a_pump_with_a_column_list(endpoint):
    # The SQL reference's CREATE PUMP form: the query's columns go where the list says.
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" ("price" DOUBLE, "ticker" VARCHAR(4), "note" VARCHAR(8));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM" ("ticker", "price")
SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001";"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "cols-source")
    dest = stream_arn(kinesis, "cols-dest")
    create_app(kda, "gs-columns", code, source, dest)
    put(kinesis, "cols-source", TICKS[:2])
    start(kda, "gs-columns", "TRIM_HORIZON")
    got = Reader(kinesis, "cols-dest").read(2)
    assert got == [{"price": t["PRICE"], "ticker": t["TICKER_SYMBOL"], "note": None} for t in TICKS[:2]], got
    kda.stop_application(ApplicationName="gs-columns")
    wait_status(kda, "gs-columns", "READY")


def test_nested_json_paths(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "nest-source")
    dest = stream_arn(kinesis, "nest-dest")
    cols = [("TICKER_SYMBOL", "VARCHAR(4)", "$.stock.symbol"), ("SECTOR", "VARCHAR(16)", "$.stock.sector"),
            ("CHANGE", "REAL", "$.quote.change"), ("PRICE", "REAL", "$.quote.price")]
    create_app(kda, "gs-nested", FILTER, source, dest, input_schema=json_schema(cols))
    nested = [{"stock": {"symbol": t["TICKER_SYMBOL"], "sector": t["SECTOR"]}, "quote": {"change": t["CHANGE"], "price": t["PRICE"]}}
              for t in TICKS]
    kinesis.put_records(StreamName="nest-source", Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "k"} for r in nested])
    start(kda, "gs-nested", "TRIM_HORIZON")
    assert Reader(kinesis, "nest-dest").read(3) == tech(TICKS)
    kda.stop_application(ApplicationName="gs-nested")
    wait_status(kda, "gs-nested", "READY")


def test_lag_over_a_sliding_window(endpoint):
    # Each row with its ticker's previous price within the minute (none for the first).
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), price REAL, previous_price REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, price, LAG(price, 1) OVER W1
FROM "SOURCE_SQL_STREAM_001"
WINDOW W1 AS (PARTITION BY ticker_symbol ROWS 3 PRECEDING);"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "lag-source")
    dest = stream_arn(kinesis, "lag-dest")
    create_app(kda, "gs-lag", code, source, dest)
    rows = TICKS + [dict(t, PRICE=t["PRICE"] + 1) for t in TICKS]
    put(kinesis, "lag-source", rows)
    start(kda, "gs-lag", "TRIM_HORIZON")
    got = Reader(kinesis, "lag-dest").read(len(rows))
    by_ticker = {}
    for r in got:
        by_ticker.setdefault(r["TICKER_SYMBOL"], []).append(r)
    for t in TICKS:
        first, second = by_ticker[t["TICKER_SYMBOL"]]
        assert first == {"TICKER_SYMBOL": t["TICKER_SYMBOL"], "PRICE": t["PRICE"], "PREVIOUS_PRICE": None}
        assert second == {"TICKER_SYMBOL": t["TICKER_SYMBOL"], "PRICE": t["PRICE"] + 1, "PREVIOUS_PRICE": t["PRICE"]}
    kda.stop_application(ApplicationName="gs-lag")
    wait_status(kda, "gs-lag", "READY")


def test_lag_ignoring_nulls_and_nth_value_from_last(endpoint):
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (price REAL, previous REAL, second_last REAL, first_one REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM price, LAG(price, 1) IGNORE NULLS OVER W1, NTH_VALUE(price, 2) FROM LAST OVER W1,
    NTH_VALUE(price, 1) FROM FIRST RESPECT NULLS OVER W1
FROM "SOURCE_SQL_STREAM_001"
WINDOW W1 AS (PARTITION BY ticker_symbol ROWS 3 PRECEDING);"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "nth-source")
    dest = stream_arn(kinesis, "nth-dest")
    create_app(kda, "gs-nth", code, source, dest)
    prices = [1.0, None, None, 4.0, 5.0]
    put(kinesis, "nth-source", [dict(TICKS[0], PRICE=p) for p in prices])
    start(kda, "gs-nth", "TRIM_HORIZON")
    got = Reader(kinesis, "nth-dest").read(len(prices))
    # Frames of up to four rows: the row and the three before it.
    want = [
        (1.0, None, None, 1.0),
        (None, 1.0, 1.0, 1.0),
        (None, 1.0, None, 1.0),
        (4.0, 1.0, None, 1.0),
        (5.0, 4.0, 4.0, None),
    ]
    assert [(r["PRICE"], r["PREVIOUS"], r["SECOND_LAST"], r["FIRST_ONE"]) for r in got] == want, got
    kda.stop_application(ApplicationName="gs-nth")
    wait_status(kda, "gs-nth", "READY")


def test_an_output_to_firehose(endpoint):
    import urllib.request
    kda, kinesis = clients(endpoint)
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    s3, fh = boto3.client("s3", **kw), boto3.client("firehose", **kw)
    s3.create_bucket(Bucket="kda-firehose")
    fh.create_delivery_stream(DeliveryStreamName="kda-out", DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration={
        "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::kda-firehose", "Prefix": "out/",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 300}})
    # Not waited for: a put while it is CREATING is refused and tried again in place.
    arn = fh.describe_delivery_stream(DeliveryStreamName="kda-out")["DeliveryStreamDescription"]["DeliveryStreamARN"]
    source = stream_arn(kinesis, "fh-source")
    create_app(kda, "gs-firehose", FILTER, source, None, output={
        "Name": "DESTINATION_SQL_STREAM", "KinesisFirehoseOutput": {"ResourceARN": arn, "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "CSV"}})
    put(kinesis, "fh-source", TICKS)
    start(kda, "gs-firehose", "TRIM_HORIZON")
    # Delivered when flushed (instead of after 300 s): one CSV record per row, which Firehose
    # concatenates as they are.
    want = "".join(f'{t["TICKER_SYMBOL"]},{t["SECTOR"]},{t["CHANGE"]},{t["PRICE"]}' for t in tech(TICKS))
    end = time.monotonic() + 30
    body = ""
    while len(body) < len(want) and time.monotonic() < end:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/_weir/firehose/us-east-1/kda-out/flush", method="POST")).read()
        objs = s3.list_objects_v2(Bucket="kda-firehose", Prefix="out/").get("Contents", [])
        body = b"".join(s3.get_object(Bucket="kda-firehose", Key=o["Key"])["Body"].read() for o in objs).decode()
        time.sleep(0.05)
    assert body == want, body
    kda.stop_application(ApplicationName="gs-firehose")
    wait_status(kda, "gs-firehose", "READY")


def test_a_stagger_window(endpoint):
    # The guide's stagger example: a count per ticker and event minute, a window opening with
    # each partition's first row (one second long here).
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), event_minute TIMESTAMP, ticker_count INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, FLOOR(event_time TO MINUTE), COUNT(*) AS ticker_count
FROM "SOURCE_SQL_STREAM_001"
WINDOWED BY STAGGER (
    PARTITION BY FLOOR(event_time TO MINUTE), ticker_symbol RANGE INTERVAL '1' SECOND);"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "stagger-source")
    dest = stream_arn(kinesis, "stagger-dest")
    cols = [("TICKER_SYMBOL", "VARCHAR(4)"), ("EVENT_TIME", "TIMESTAMP")]
    create_app(kda, "gs-stagger", code, source, dest, input_schema=json_schema(cols))
    rows = [("AMZN", "10:00:10"), ("AMZN", "10:00:50"), ("MSFT", "10:00:30"), ("AMZN", "10:01:05")]
    kinesis.put_records(StreamName="stagger-source", Records=[
        {"Data": json.dumps({"TICKER_SYMBOL": t, "EVENT_TIME": f"2024-05-01 {at}.000"}).encode(), "PartitionKey": t}
        for t, at in rows])
    start(kda, "gs-stagger", "TRIM_HORIZON")
    got = Reader(kinesis, "stagger-dest").read(3)
    summary = sorted((r["TICKER_SYMBOL"], r["EVENT_MINUTE"][11:16], r["TICKER_COUNT"]) for r in got)
    assert summary == [("AMZN", "10:00", 2), ("AMZN", "10:01", 1), ("MSFT", "10:00", 1)], got
    kda.stop_application(ApplicationName="gs-stagger")
    wait_status(kda, "gs-stagger", "READY")


def test_log_parsing_functions(endpoint):
    # The developer guide's REGEX_LOG_PARSE and W3C_LOG_PARSE examples over an Apache log line;
    # Python's `re` (the same greedy semantics as Java's) checks the regex groups.
    dev = '203.0.113.24 - - [25/Mar/2018:15:25:37 -0700] "GET /index.php HTTP/1.1" 200 125 "-" "Mozilla/5.0 [en] Gecko/20100101 Firefox/52.0"'
    common = '192.168.254.30 - John [24/May/2004:22:01:02 -0700] "GET /icons/apache_pb.gif HTTP/1.1" 304 0'
    pattern = r"(\w.+) (\d.+) (\w.+) (\w.+)"
    code = r"""CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (logentry VARCHAR(256), match1 VARCHAR(256),
  match2 VARCHAR(256), host VARCHAR(16), request VARCHAR(64), status VARCHAR(8));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM T.LOGENTRY, T.REC.COLUMN1, T.REC.COLUMN2, T.W.COLUMN1, T.W.COLUMN5, T.W.COLUMN6
    FROM (SELECT STREAM LOGENTRY, REGEX_LOG_PARSE(LOGENTRY, '""" + pattern + r"""') AS REC,
                 W3C_LOG_PARSE(LOGENTRY, 'COMMON') AS W
          FROM SOURCE_SQL_STREAM_001) AS T;"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "logs-source")
    dest = stream_arn(kinesis, "logs-dest")
    create_app(kda, "gs-logs", code, source, dest, input_schema=json_schema([("LOGENTRY", "VARCHAR(256)", "$.log")]))
    lines = [dev, common, "not a log line"]
    kinesis.put_records(StreamName="logs-source", Records=[
        {"Data": json.dumps({"log": x}).encode(), "PartitionKey": "k"} for x in lines])
    start(kda, "gs-logs", "TRIM_HORIZON")
    got = Reader(kinesis, "logs-dest").read(3)
    m = re.fullmatch(pattern, dev)
    assert got[0] == {"LOGENTRY": dev, "MATCH1": m.group(1), "MATCH2": m.group(2), "HOST": "203.0.113.24",
                      "REQUEST": "GET /index.php HTTP/1.1", "STATUS": "200"}, got
    # The common log line does not match the regex (its last group needs two characters).
    assert re.fullmatch(pattern, common) is None
    assert got[1] == {"LOGENTRY": common, "MATCH1": None, "MATCH2": None, "HOST": "192.168.254.30",
                      "REQUEST": "GET /icons/apache_pb.gif HTTP/1.1", "STATUS": "304"}, got
    # A line that matches neither gives NULL fields.
    assert got[2] == {"LOGENTRY": "not a log line", "MATCH1": None, "MATCH2": None, "HOST": None,
                      "REQUEST": None, "STATUS": None}, got
    kda.stop_application(ApplicationName="gs-logs")
    wait_status(kda, "gs-logs", "READY")


HEART_RATE_CODE = """CREATE OR REPLACE STREAM "TEMP_STREAM" ("heartRate" INTEGER, "rateType" varchar(20), "ANOMALY_SCORE" DOUBLE);
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" ("heartRate" INTEGER, "rateType" varchar(20), "ANOMALY_SCORE" DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
   INSERT INTO "TEMP_STREAM"
      SELECT STREAM "heartRate", "rateType", ANOMALY_SCORE
      FROM TABLE(RANDOM_CUT_FOREST(
              CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));
CREATE OR REPLACE PUMP "OUTPUT_PUMP" AS
   INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM * FROM "TEMP_STREAM"
      ORDER BY FLOOR("TEMP_STREAM".ROWTIME TO SECOND), ANOMALY_SCORE DESC;"""


def test_random_cut_forest_scores_the_outlier(endpoint):
    # The developer guide's anomaly detection example: heart rates, one far off.
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "rcf-source")
    dest = stream_arn(kinesis, "rcf-dest")
    cols = [("heartRate", "INTEGER"), ("rateType", "VARCHAR(20)")]
    create_app(kda, "gs-rcf", HEART_RATE_CODE, source, dest, input_schema=json_schema(cols))
    rates = [60 + (i * 37) % 41 for i in range(400)] + [190] + [60 + (i * 13) % 41 for i in range(20)]
    rows = [{"heartRate": r, "rateType": "HIGH" if r > 150 else "NORMAL"} for r in rates]
    for k in range(0, len(rows), 200):
        kinesis.put_records(StreamName="rcf-source", Records=[
            {"Data": json.dumps(r).encode(), "PartitionKey": "k"} for r in rows[k:k + 200]])
    start(kda, "gs-rcf", "TRIM_HORIZON")
    got = Reader(kinesis, "rcf-dest").read(len(rows))
    assert len(got) == len(rows)
    assert sorted((g["heartRate"], g["rateType"]) for g in got) == sorted((r["heartRate"], r["rateType"]) for r in rows)
    # The model learns from the first 256 rows (score 0), then scores; the outlier stands out.
    by_order = [g for g in got if g["ANOMALY_SCORE"] == 0]
    assert len(by_order) == 256, len(by_order)
    outlier = next(g for g in got if g["heartRate"] == 190)
    normal = [g["ANOMALY_SCORE"] for g in got if g["ANOMALY_SCORE"] > 0 and g["heartRate"] != 190]
    assert outlier["ANOMALY_SCORE"] > 2 * (sum(normal) / len(normal)), (outlier, sum(normal) / len(normal))
    kda.stop_application(ApplicationName="gs-rcf")
    wait_status(kda, "gs-rcf", "READY")


def test_explanations_and_hotspots(endpoint):
    # The SQL reference's RANDOM_CUT_FOREST_WITH_EXPLANATION (WHERE ANOMALY_SCORE > 0) and
    # the developer guide's HOTSPOTS over x, y points, one application with two pumps.
    code = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (anomaly REAL, ANOMALY_EXPLANATION VARCHAR(20480));
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT "ANOMALY_SCORE", "ANOMALY_EXPLANATION" FROM TABLE (RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 256, 100000, 1, true)) WHERE ANOMALY_SCORE > 0;
CREATE OR REPLACE STREAM "HOT_STREAM" ("x" DOUBLE, "y" DOUBLE, "is_hot" VARCHAR(4), HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "HOT_PUMP" AS INSERT INTO "HOT_STREAM"
    SELECT "x", "y", "is_hot", "HOTSPOTS_RESULT"
    FROM TABLE (HOTSPOTS(CURSOR(SELECT STREAM "x", "y", "is_hot" FROM "SOURCE_SQL_STREAM_001"), 1000, 0.2, 17));"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "hot-source")
    dest = stream_arn(kinesis, "hot-dest")
    hot = stream_arn(kinesis, "hot-spots")
    cols = [("x", "DOUBLE"), ("y", "DOUBLE"), ("is_hot", "VARCHAR(4)")]
    kda.create_application(
        ApplicationName="gs-hot",
        Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
                 "InputSchema": json_schema(cols)}],
        Outputs=[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
                  "DestinationSchema": {"RecordFormatType": "JSON"}},
                 {"Name": "HOT_STREAM", "KinesisStreamsOutput": {"ResourceARN": hot, "RoleARN": ROLE},
                  "DestinationSchema": {"RecordFormatType": "JSON"}}],
        ApplicationCode=code,
    )
    # Background on a 1-unit grid over [0, 10)^2; every third row in the square [3.2, 3.7)^2.
    rows = []
    for i in range(300):
        if i % 3 == 2:
            f = (i * 0.618) % 1
            rows.append({"x": 3.2 + 0.5 * f, "y": 3.2 + 0.5 * ((f * 7) % 1), "is_hot": "Y"})
        else:
            rows.append({"x": float(i % 10), "y": float((i // 10) % 10), "is_hot": "N"})
    rows.append({"x": 9.5, "y": 500.0, "is_hot": "N"})
    kinesis.put_records(StreamName="hot-source", Records=[{"Data": json.dumps(r).encode(), "PartitionKey": "k"} for r in rows])
    start(kda, "gs-hot", "TRIM_HORIZON")
    spots = Reader(kinesis, "hot-spots").read(len(rows))
    assert [(s["x"], s["is_hot"]) for s in spots] == [(r["x"], r["is_hot"]) for r in rows]
    last = json.loads(spots[-1]["HOTSPOTS_RESULT"])["hotspots"]
    assert len(last) >= 1 and last[0]["density"] > 40, last
    assert 3.2 <= last[0]["minValues"][0] and last[0]["maxValues"][0] < 3.7, last
    assert 3.2 <= last[0]["minValues"][1] and last[0]["maxValues"][1] < 3.7, last
    assert json.loads(spots[0]["HOTSPOTS_RESULT"]) == {"hotspots": []}
    # Scores after the first 256 rows only; each explanation's attributions add up to its score.
    scored = Reader(kinesis, "hot-dest").read(len(rows) - 256)
    assert len(scored) == len(rows) - 256
    for s in scored:
        e = json.loads(s["ANOMALY_EXPLANATION"])
        assert list(e) == ["x", "y"], e
        assert list(e["x"]) == ["DIRECTION", "STRENGTH", "ATTRIBUTION_SCORE"], e
        total = sum(float(v["ATTRIBUTION_SCORE"]) for v in e.values())
        assert abs(total - s["ANOMALY"]) < 0.01, (total, s)
    far = json.loads(scored[-1]["ANOMALY_EXPLANATION"])
    assert far["y"]["DIRECTION"] == "HIGH" and float(far["y"]["ATTRIBUTION_SCORE"]) > float(far["x"]["ATTRIBUTION_SCORE"]), far
    kda.stop_application(ApplicationName="gs-hot")
    wait_status(kda, "gs-hot", "READY")


DIVIDE = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), ratio INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, CAST(price AS INTEGER) / CAST(change AS INTEGER) FROM "SOURCE_SQL_STREAM_001";"""

# The same division inside a tumbling window's aggregate.
DIVIDE_IN_WINDOW = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), ratio INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, SUM(CAST(price AS INTEGER) / CAST(change AS INTEGER)) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' SECOND);"""


@pytest.mark.parametrize("name,code", [("div", DIVIDE), ("divwin", DIVIDE_IN_WINDOW)])
def test_rows_the_sql_fails_on_go_to_the_error_stream(endpoint, name, code):
    # Integer division by zero fails its row, not the application: the row goes to
    # error_stream and the others come out (a stateless pump, and a window's aggregate).
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, f"{name}-source")
    dest = stream_arn(kinesis, f"{name}-dest")
    errors = stream_arn(kinesis, f"{name}-errors")
    app = f"gs-{name}"
    create_app(kda, app, code, source, dest)
    kda.add_application_output(ApplicationName=app, CurrentApplicationVersionId=1, Output={
        "Name": "error_stream", "KinesisStreamsOutput": {"ResourceARN": errors, "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"}})
    # Many good rows around the bad ones: the bad ones are found within a batch.
    filler = [dict(t, CHANGE=1.0) for t in TICKS] * 40
    put(kinesis, f"{name}-source", filler + TICKS + filler)
    start(kda, app, "TRIM_HORIZON")
    want = [{"TICKER_SYMBOL": "XOM", "RATIO": 90}, {"TICKER_SYMBOL": "WFC", "RATIO": -23}]
    if code == DIVIDE:
        got = Reader(kinesis, f"{name}-dest").read(len(filler) * 2 + 2)
        assert got[len(filler):len(filler) + 2] == want, got
    else:
        want = {t["TICKER_SYMBOL"]: 80 * int(t["PRICE"]) for t in TICKS}
        want["XOM"] += 90
        want["WFC"] += -23
        # The rows may fall in more than one window: their sums add up.
        out, sums, end = Reader(kinesis, f"{name}-dest"), {}, time.monotonic() + 30
        while sums != want and time.monotonic() < end:
            for r in out.read(1, deadline=1):
                sums[r["TICKER_SYMBOL"]] = sums.get(r["TICKER_SYMBOL"], 0) + r["RATIO"]
        assert sums == want
    failed = Reader(kinesis, f"{name}-errors").read(3)
    assert [json.loads(bytes.fromhex(f["DATA_ROW"]))["TICKER_SYMBOL"] for f in failed] == ["AMZN", "MSFT", "INTC"], failed
    assert all(f["ERROR_NAME"] == "Error_Evaluating_Row" and "zero" in f["MESSAGE"].lower() for f in failed), failed
    assert all(f["PUMP_NAME"] == "STREAM_PUMP" for f in failed), failed
    assert kda.describe_application(ApplicationName=app)["ApplicationDetail"]["ApplicationStatus"] == "RUNNING"
    kda.stop_application(ApplicationName=app)
    wait_status(kda, app, "READY")


def test_a_sql_function(endpoint):
    # The SQL reference's CREATE FUNCTION example, called in a pump.
    code = """CREATE FUNCTION get_fraction( degrees DOUBLE )
    RETURNS DOUBLE
    CONTAINS SQL
    RETURN degrees - FLOOR(degrees) ;
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), cents DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, get_fraction(price) FROM "SOURCE_SQL_STREAM_001";"""
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "fn-source")
    dest = stream_arn(kinesis, "fn-dest")
    create_app(kda, "gs-function", code, source, dest)
    put(kinesis, "fn-source", TICKS)
    start(kda, "gs-function", "TRIM_HORIZON")
    got = Reader(kinesis, "fn-dest").read(len(TICKS))
    assert got == [{"TICKER_SYMBOL": t["TICKER_SYMBOL"], "CENTS": t["PRICE"] % 1} for t in TICKS], got
    kda.stop_application(ApplicationName="gs-function")
    wait_status(kda, "gs-function", "READY")
