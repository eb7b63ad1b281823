"""Flink SQL over Weir streams through the Flink SQL Gateway REST API, called as Flink's SQL
client calls it (api_versions on /v1, a session, statements, result/0 polled with
rowFormat=PLAIN_TEXT until ready, nextResultUri followed), with boto3 writing the input stream
and reading the results. The queries and their answers are the Flink documentation's
window TVF examples (Bid table, 10-minute windows)."""

import json
import time
import urllib.error
import urllib.request

import boto3
import pytest

from conftest import s3_client, start_weir

BIDS = [
    ("2020-04-15 08:05:00", 4.00, "C", "supplier1"),
    ("2020-04-15 08:07:00", 2.00, "A", "supplier1"),
    ("2020-04-15 08:09:00", 5.00, "D", "supplier2"),
    ("2020-04-15 08:11:00", 3.00, "B", "supplier2"),
    ("2020-04-15 08:13:00", 1.00, "E", "supplier1"),
    ("2020-04-15 08:17:00", 6.00, "F", "supplier2"),
]


@pytest.fixture(scope="module")
def weir():
    proc, url = start_weir()
    assert proc.flink_url, "the gateway address was not logged"
    yield url, proc.flink_url
    proc.terminate()
    assert proc.wait(30) == 0


def call(base, method, path, body=None):
    """One gateway call as the SQL client makes it: a JSON body on every method."""
    data = json.dumps(body if body is not None else {}).encode()
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Client:
    """The SQL client's calls for one session (Flink's ExecutorImpl, gateway mode)."""

    def __init__(self, base):
        self.base = base
        status, versions = call(base, "GET", "/v1/api_versions")
        assert status == 200 and "V2" in versions["versions"], versions
        status, opened = call(
            base, "POST", "/v2/sessions", {"properties": {"execution.runtime-mode": "streaming"}}
        )
        assert status == 200, opened
        self.session = opened["sessionHandle"]

    def submit(self, statement):
        status, body = call(
            self.base,
            "POST",
            f"/v2/sessions/{self.session}/statements",
            {"statement": statement, "executionTimeout": 0},
        )
        assert status == 200, body
        return body["operationHandle"]

    def execute(self, statement):
        """Runs a statement; returns (first page, every row), or raises with the error."""
        op = self.submit(statement)
        page = first_page(
            self.base, f"/v2/sessions/{self.session}/operations/{op}/result/0?rowFormat=PLAIN_TEXT"
        )
        first, rows = page, []
        while True:
            rows += [r["fields"] for r in page["results"]["data"]]
            if "nextResultUri" not in page:
                return first, rows
            status, page = call(self.base, "GET", page["nextResultUri"])
            assert status == 200, page


def first_page(base, path):
    """Polls an operation's first result page until it is ready (as the SQL client does);
    raises with the error the gateway reports."""
    deadline = time.monotonic() + 30
    while True:
        status, page = call(base, "GET", path)
        if status != 200:
            raise RuntimeError(page["errors"][-1])
        if page["resultType"] != "NOT_READY":
            return page
        assert time.monotonic() < deadline, "statement never finished"
        time.sleep(0.05)


def kinesis(url):
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
    )


def read_stream(k, name, want, deadline_s=30):
    """Every record of a stream as JSON, polled until `want` arrived (or a deadline)."""
    deadline = time.monotonic() + deadline_s
    while True:
        out = []
        for shard in k.list_shards(StreamName=name)["Shards"]:
            it = k.get_shard_iterator(
                StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while it:
                r = k.get_records(ShardIterator=it)
                out += [json.loads(x["Data"]) for x in r["Records"]]
                if not r["Records"]:
                    break
                it = r.get("NextShardIterator")
        if len(out) >= want or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def bid_table(url):
    return f"""CREATE TABLE Bid (
        bidtime TIMESTAMP(3),
        price DECIMAL(10, 2),
        item STRING,
        supplier_id STRING,
        WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
    ) WITH (
        'connector' = 'kinesis',
        'stream.arn' = 'arn:aws:kinesis:us-east-1:000000000000:stream/bids',
        'aws.region' = 'us-east-1',
        'aws.endpoint' = '{url}',
        'source.init.position' = 'TRIM_HORIZON',
        'format' = 'json'
    );"""


def sink_table(name, stream):
    return f"""CREATE TABLE {name} (
        window_start TIMESTAMP(3),
        window_end TIMESTAMP(3),
        total_price DECIMAL(10, 2)
    ) WITH ('connector' = 'kinesis', 'stream' = '{stream}', 'format' = 'json');"""


def test_flink_docs_window_examples_run_over_weir_streams(weir):
    url, gateway = weir
    k = kinesis(url)
    for name in ["bids", "tumbled", "hopped", "cumulated"]:
        k.create_stream(StreamName=name, ShardCount=1)
    for ts, price, item, supplier in BIDS + [("2020-04-15 08:31:00", 0.5, "Z", "supplier3")]:
        k.put_record(
            StreamName="bids",
            PartitionKey=supplier,
            Data=json.dumps(
                {"bidtime": ts, "price": price, "item": item, "supplier_id": supplier}
            ).encode(),
        )
    c = Client(gateway)
    first, rows = c.execute(bid_table(url))
    assert first["resultKind"] == "SUCCESS" and rows == [["OK"]]
    assert first["isQueryResult"] is False
    for name, stream in [("tumbled", "tumbled"), ("hopped", "hopped"), ("cumulated", "cumulated")]:
        c.execute(sink_table(name, stream))
    jobs = []
    for sink, window in [
        ("tumbled", "TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)"),
        (
            "hopped",
            "HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES)",
        ),
        (
            "cumulated",
            "CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES)",
        ),
    ]:
        first, rows = c.execute(
            f"""INSERT INTO {sink}
            SELECT window_start, window_end, SUM(price) AS total_price
            FROM TABLE({window})
            GROUP BY window_start, window_end;"""
        )
        assert first["resultKind"] == "SUCCESS_WITH_CONTENT"
        assert first["results"]["columns"][0]["name"] == "job id"
        assert rows == [[first["jobID"]]]
        jobs.append(first["jobID"])

    def windows(stream, n):
        got = read_stream(k, stream, n)
        return sorted(
            (r["window_start"][11:16], r["window_end"][11:16], float(r["total_price"]))
            for r in got
        )

    assert windows("tumbled", 2) == [("08:00", "08:10", 11.0), ("08:10", "08:20", 10.0)]
    assert windows("hopped", 4) == [
        ("08:00", "08:10", 11.0),
        ("08:05", "08:15", 15.0),
        ("08:10", "08:20", 10.0),
        ("08:15", "08:25", 6.0),
    ]
    assert windows("cumulated", 8) == [
        ("08:00", "08:06", 4.0),
        ("08:00", "08:08", 6.0),
        ("08:00", "08:10", 11.0),
        ("08:10", "08:12", 3.0),
        ("08:10", "08:14", 4.0),
        ("08:10", "08:16", 4.0),
        ("08:10", "08:18", 10.0),
        ("08:10", "08:20", 10.0),
    ]

    first, rows = c.execute("SHOW JOBS;")
    assert [col["name"] for col in first["results"]["columns"]] == [
        "job id",
        "job name",
        "status",
        "start time",
    ]
    assert {r[0]: r[2] for r in rows if r[0] in jobs} == {j: "RUNNING" for j in jobs}
    assert "insert-into_default_catalog.default_database.tumbled" in [r[1] for r in rows]
    # The JobManager-style view: state, counters, watermark, checkpoints, lag per shard.
    status, overview = call(gateway, "GET", "/jobs/overview")
    assert status == 200 and {j["jid"] for j in overview["jobs"]} >= set(jobs)
    status, detail = call(gateway, "GET", f"/jobs/{jobs[0]}")
    assert status == 200 and detail["state"] == "RUNNING" and detail["end-time"] == -1
    weir_counts = detail["weir"]
    assert weir_counts["records-in"] == 7 and weir_counts["records-out"] == 2
    assert weir_counts["watermark"] is not None
    deadline = time.monotonic() + 30
    while call(gateway, "GET", f"/jobs/{jobs[0]}")[1]["weir"]["lag"] != {"Bid/shardId-000000000000": 0}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert call(gateway, "GET", "/jobs/nope")[0] == 404
    for j in jobs:
        c.execute(f"STOP JOB '{j}';")
    _, rows = c.execute("SHOW JOBS;")
    assert {r[0]: r[2] for r in rows if r[0] in jobs} == {j: "CANCELED" for j in jobs}


def test_sessions_settings_and_errors_as_the_gateway_reports_them(weir):
    url, gateway = weir
    c = Client(gateway)
    c.execute("SET 'table.exec.source.idle-timeout' = '5 s';")
    status, cfg = call(gateway, "GET", f"/v2/sessions/{c.session}")
    assert status == 200
    assert cfg["properties"]["table.exec.source.idle-timeout"] == "5 s"
    assert cfg["properties"]["execution.runtime-mode"] == "streaming"
    first, rows = c.execute("SHOW TABLES;")
    assert first["resultKind"] == "SUCCESS_WITH_CONTENT" and rows == []

    # A failing statement: the handle comes back, the status is ERROR, the fetch a 500 whose
    # last "Caused by:" is what the SQL client prints.
    op = c.submit("INSERT INTO nowhere SELECT * FROM nothing;")
    path = f"/v2/sessions/{c.session}/operations/{op}"
    deadline = time.monotonic() + 30
    while call(gateway, "GET", path + "/status")[1]["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert call(gateway, "GET", path + "/status")[1] == {"status": "ERROR"}
    status, body = call(gateway, "GET", path + "/result/0?rowFormat=PLAIN_TEXT")
    assert status == 500
    reason = body["errors"][-1].split("Caused by: ")[-1].split("\tat ")[0].strip()
    assert reason.startswith("org.apache.flink.table.api.ValidationException: Object 'nowhere'")
    assert call(gateway, "DELETE", path + "/close") == (200, {"status": "CLOSED"})
    status, body = call(gateway, "GET", path + "/status")
    assert status == 500 and "Can not find the submitted operation" in body["errors"][-1]

    # Unknown sessions are 500s, unknown paths 404s; heartbeats and closes answer JSON.
    status, body = call(gateway, "POST", "/v2/sessions/00000000-0000-4000-8000-000000000000/heartbeat")
    assert status == 500 and "does not exist" in body["errors"][-1]
    assert call(gateway, "GET", "/v2/nothing-here")[0] == 404
    assert call(gateway, "POST", f"/v2/sessions/{c.session}/heartbeat") == (200, {})
    assert call(gateway, "GET", "/v1/info")[1]["productName"] == "Apache Flink"
    assert call(gateway, "DELETE", f"/v2/sessions/{c.session}") == (200, {"status": "CLOSED"})


def test_json_row_format_types(weir):
    url, gateway = weir
    c = Client(gateway)
    c.execute(bid_table(url))
    op = c.submit("DESCRIBE Bid;")
    page = first_page(gateway, f"/v2/sessions/{c.session}/operations/{op}/result/0?rowFormat=JSON")
    assert page["results"]["rowFormat"] == "JSON"
    assert page["results"]["columns"][0] == {
        "name": "name",
        "logicalType": {"type": "VARCHAR", "nullable": True, "length": 2147483647},
        "comment": None,
    }
    rows = {r["fields"][0]: r["fields"] for r in page["results"]["data"]}
    assert rows["bidtime"][1] == "TIMESTAMP(3)"
    assert rows["price"][1] == "DECIMAL(10, 2)"
    assert rows["bidtime"][5] == "bidtime - INTERVAL '1' SECOND"
    status, eos = call(gateway, "GET", page["nextResultUri"])
    assert status == 200 and eos["resultType"] == "EOS" and "nextResultUri" not in eos


def test_results_reach_parquet_files_and_firehose(weir, tmp_path):
    import pyarrow.parquet as pq

    url, gateway = weir
    k, s, fh = kinesis(url), s3_client(url), boto3.client(
        "firehose",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
    )
    k.create_stream(StreamName="clicks", ShardCount=1)
    s.create_bucket(Bucket="lake")
    fh.create_delivery_stream(
        DeliveryStreamName="big-clicks",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "firehose/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 300},
        },
    )
    deadline = time.monotonic() + 30
    while fh.describe_delivery_stream(DeliveryStreamName="big-clicks")[
        "DeliveryStreamDescription"
    ]["DeliveryStreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    c = Client(gateway)
    c.execute("SET 'execution.checkpointing.interval' = '200 ms';")
    c.execute(
        """CREATE TABLE clicks (user_id STRING, page STRING, ms INT, ts TIMESTAMP(3))
           WITH ('connector' = 'kinesis', 'stream' = 'clicks',
                 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
    )
    c.execute(
        """CREATE TABLE click_files (user_id STRING, ms INT, ts TIMESTAMP(3), page STRING)
           PARTITIONED BY (page)
           WITH ('connector' = 'filesystem', 'path' = 's3://lake/clicks', 'format' = 'parquet');"""
    )
    c.execute(
        """CREATE TABLE big_clicks (user_id STRING, ms INT)
           WITH ('connector' = 'firehose', 'delivery-stream' = 'big-clicks', 'format' = 'json');"""
    )
    c.execute("INSERT INTO click_files SELECT user_id, ms, ts, page FROM clicks;")
    c.execute("INSERT INTO big_clicks SELECT user_id, ms FROM clicks WHERE ms >= 500;")
    rows = [
        {"user_id": f"u{i}", "page": ["home", "cart", "a/b"][i % 3], "ms": i * 100,
         "ts": f"2026-01-01 00:00:{i:02d}.250"}
        for i in range(12)
    ]
    k.put_records(
        StreamName="clicks",
        Records=[{"PartitionKey": r["user_id"], "Data": json.dumps(r).encode()} for r in rows],
    )
    # Files appear when a checkpoint commits them.
    deadline = time.monotonic() + 30
    while True:
        keys = [o["Key"] for o in s.list_objects_v2(Bucket="lake", Prefix="clicks/").get("Contents", [])]
        if len(keys) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    folders = sorted({key.split("/")[1] for key in keys})
    assert folders == ["page=a%2Fb", "page=cart", "page=home"], keys
    got = []
    for key in keys:
        path = tmp_path / key.replace("/", "_")
        s.download_file("lake", key, str(path))
        t = pq.read_table(path)
        assert t.column_names == ["user_id", "ms", "ts"]
        page = key.split("/")[1].split("=")[1].replace("%2F", "/")
        got += [(r["user_id"], r["ms"], str(r["ts"]), page) for r in t.to_pylist()]
    assert sorted(got) == sorted(
        (r["user_id"], r["ms"], r["ts"].replace(".250", ".250000"), r["page"]) for r in rows
    )

    # Firehose: the rows reach the delivery stream (flushed here instead of waiting 300 s).
    deadline = time.monotonic() + 30
    while True:
        req = urllib.request.Request(
            f"{url}/_weir/firehose/us-east-1/big-clicks/flush", method="POST"
        )
        with urllib.request.urlopen(req) as r:
            json.loads(r.read())
        objs = s.list_objects_v2(Bucket="lake", Prefix="firehose/").get("Contents", [])
        body = b"".join(s.get_object(Bucket="lake", Key=o["Key"])["Body"].read() for o in objs)
        records = [json.loads(x) for x in body.replace(b"}{", b"}\n{").splitlines() if x]
        if len(records) >= 7 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sorted(r["user_id"] for r in records) == sorted(f"u{i}" for i in range(5, 12))


def test_a_filesystem_sink_registers_in_glue_and_athena_reads_it(weir):
    url, gateway = weir
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSMOKE",
              aws_secret_access_key="secret")
    k, s = kinesis(url), s3_client(url)
    glue, athena = boto3.client("glue", **kw), boto3.client("athena", **kw)
    k.create_stream(StreamName="glue_orders", ShardCount=1)
    s.create_bucket(Bucket="glue-lake")
    s.create_bucket(Bucket="glue-results")
    c = Client(gateway)
    c.execute("SET 'execution.checkpointing.interval' = '200 ms';")
    c.execute(
        """CREATE TABLE glue_orders (user_id STRING, amount INT, day STRING)
           WITH ('connector' = 'kinesis', 'stream' = 'glue_orders',
                 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
    )
    c.execute(
        """CREATE TABLE order_files (user_id STRING, amount INT, day STRING) PARTITIONED BY (day)
           WITH ('connector' = 'filesystem', 'path' = 's3://glue-lake/orders', 'format' = 'parquet',
                 'glue.database' = 'flink_lake', 'glue.table' = 'orders');"""
    )
    c.execute("INSERT INTO order_files SELECT user_id, amount, day FROM glue_orders;")
    rows = [{"user_id": f"u{i}", "amount": i, "day": ["2026-01-01", "2026-01-02"][i % 2]} for i in range(10)]
    k.put_records(
        StreamName="glue_orders",
        Records=[{"PartitionKey": r["user_id"], "Data": json.dumps(r).encode()} for r in rows],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            parts = glue.get_partitions(DatabaseName="flink_lake", TableName="orders")["Partitions"]
        except glue.exceptions.EntityNotFoundException:
            parts = []
        if len(parts) == 2:
            break
        assert time.monotonic() < deadline, parts
        time.sleep(0.05)
    table = glue.get_table(DatabaseName="flink_lake", Name="orders")["Table"]
    assert [col["Name"] for col in table["StorageDescriptor"]["Columns"]] == ["user_id", "amount"]
    assert [col["Name"] for col in table["PartitionKeys"]] == ["day"]
    assert table["StorageDescriptor"]["Location"] == "s3://glue-lake/orders/"
    qid = athena.start_query_execution(
        QueryString="SELECT day, SUM(amount) AS total, COUNT(*) AS n FROM orders GROUP BY day ORDER BY day",
        QueryExecutionContext={"Database": "flink_lake"},
        ResultConfiguration={"OutputLocation": "s3://glue-results/q/"},
    )["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert state["State"] == "SUCCEEDED", state
    result = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    got = [[d.get("VarCharValue") for d in r["Data"]] for r in result[1:]]
    assert got == [["2026-01-01", "20", "5"], ["2026-01-02", "25", "5"]], got


def test_a_select_returns_rows_as_they_arrive(weir):
    url, gateway = weir
    k = kinesis(url)
    k.create_stream(StreamName="ticks", ShardCount=1)
    c = Client(gateway)
    c.execute(
        """CREATE TABLE ticks (sym STRING, price DOUBLE, ts TIMESTAMP(3),
             WATERMARK FOR ts AS ts)
           WITH ('connector' = 'kinesis', 'stream' = 'ticks', 'format' = 'json');"""
    )
    op = c.submit(
        """SELECT window_start, sym, MAX(price) AS high
           FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(ts), INTERVAL '1' SECOND))
           GROUP BY window_start, window_end, sym;"""
    )
    page = first_page(
        gateway, f"/v2/sessions/{c.session}/operations/{op}/result/0?rowFormat=PLAIN_TEXT"
    )
    deadline = time.monotonic() + 30
    assert page["isQueryResult"] is True and page["jobID"]
    assert [col["name"] for col in page["results"]["columns"]] == ["window_start", "sym", "high"]
    assert page["results"]["columns"][0]["logicalType"] == {
        "type": "TIMESTAMP_WITHOUT_TIME_ZONE",
        "nullable": False,
        "precision": 3,
    }
    # The job reads from LATEST: rows put now are seen.
    for sym, price, ts in [("A", 1.5, "00:00:00.1"), ("A", 2.5, "00:00:00.9"), ("B", 7.0, "00:00:00.5"),
                           ("A", 0.5, "00:00:01.2")]:
        k.put_record(
            StreamName="ticks",
            PartitionKey=sym,
            Data=json.dumps({"sym": sym, "price": price, "ts": f"2026-01-01 {ts}"}).encode(),
        )
    rows, next_uri = [], page["nextResultUri"]
    rows += [r["fields"] for r in page["results"]["data"]]
    while len(rows) < 2:
        assert time.monotonic() < deadline, rows
        status, page = call(gateway, "GET", next_uri)
        assert status == 200 and page["resultType"] == "PAYLOAD", page
        rows += [r["fields"] for r in page["results"]["data"]]
        # Asking again for the same token returns the same page.
        assert call(gateway, "GET", next_uri)[1] == page
        next_uri = page["nextResultUri"]
        time.sleep(0.02)
    assert sorted(rows) == [
        ["2026-01-01 00:00:00.000", "A", "2.5"],
        ["2026-01-01 00:00:00.000", "B", "7.0"],
    ]
    job = page["jobID"]
    assert call(gateway, "DELETE", f"/v2/sessions/{c.session}/operations/{op}/close")[0] == 200
    deadline = time.monotonic() + 30
    while True:
        _, jobs = c.execute("SHOW JOBS;")
        if {r[0]: r[2] for r in jobs}.get(job) == "CANCELED":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_an_updating_select_sends_its_changelog_and_explain_plans(weir):
    url, gateway = weir
    k = kinesis(url)
    k.create_stream(StreamName="changelog_clicks", ShardCount=1)
    c = Client(gateway)
    c.execute(
        """CREATE TABLE clicks (user_id STRING, url STRING, ts TIMESTAMP(3))
           WITH ('connector' = 'kinesis', 'stream' = 'changelog_clicks', 'format' = 'json');"""
    )
    _, plan = c.execute("EXPLAIN SELECT user_id, COUNT(url) AS n FROM clicks GROUP BY user_id;")
    assert len(plan) == 1 and "== Optimized Execution Plan ==" in plan[0][0], plan
    assert "GroupAggregate(one partial state row per group; changelog" in plan[0][0], plan
    # Flink's SQL client shows these changes as +I, -U, +U rows.
    op = c.submit("SELECT user_id, COUNT(url) AS n FROM clicks GROUP BY user_id;")
    page = first_page(gateway, f"/v2/sessions/{c.session}/operations/{op}/result/0?rowFormat=JSON")
    assert page["isQueryResult"] is True
    rows, next_uri = [(r["kind"], r["fields"]) for r in page["results"]["data"]], page["nextResultUri"]

    def click(user, u):
        k.put_record(
            StreamName="changelog_clicks",
            PartitionKey=user,
            Data=json.dumps({"user_id": user, "url": u, "ts": "2026-01-01 12:00:00"}).encode(),
        )

    def until(n):
        nonlocal next_uri
        deadline = time.monotonic() + 30
        while len(rows) < n:
            assert time.monotonic() < deadline, rows
            status, page = call(gateway, "GET", next_uri)
            assert status == 200, page
            rows.extend((r["kind"], r["fields"]) for r in page["results"]["data"])
            next_uri = page["nextResultUri"]
            time.sleep(0.02)

    click("Mary", "./home")
    click("Bob", "./cart")
    until(2)
    click("Mary", "./prod?id=1")
    until(4)
    inserts = sorted(f for kind, f in rows if kind == "INSERT")
    assert inserts == [["Bob", 1], ["Mary", 1]], rows
    assert ("UPDATE_BEFORE", ["Mary", 1]) in rows and ("UPDATE_AFTER", ["Mary", 2]) in rows, rows
    assert call(gateway, "DELETE", f"/v2/sessions/{c.session}/operations/{op}/close")[0] == 200


def test_py_flink_sql_gateway_driver(weir):
    """py-flink-sql-gateway (a PEP 249 driver for Flink's gateway, from PyPI) against Weir:
    DDL, an INSERT job, and a streaming SELECT whose typed rows arrive as they are put."""
    from decimal import Decimal

    from flink_gateway import connect

    url, gateway = weir
    k = kinesis(url)
    k.create_stream(StreamName="orders", ShardCount=1)
    k.create_stream(StreamName="order_copies", ShardCount=1)
    with connect(gateway) as conn:
        with conn.cursor() as cur:
            cur.execute(
                """CREATE TABLE orders (id INT, item STRING, amount DECIMAL(10, 2), at TIMESTAMP(3))
                   WITH ('connector' = 'kinesis', 'stream' = 'orders', 'format' = 'json')"""
            )
            assert cur.description[0][0] == "result"
            cur.execute(
                """CREATE TABLE order_copies (id INT, item STRING)
                   WITH ('connector' = 'kinesis', 'stream' = 'order_copies', 'format' = 'json')"""
            )
            cur.execute("INSERT INTO order_copies SELECT id, UPPER(item) FROM orders")
            assert cur.description[0][0] == "job id"
            assert len(cur.fetchall()[0][0]) == 32
        with conn.cursor() as cur:
            cur.execute("SELECT id, item, amount, at FROM orders WHERE amount > 1")
            assert [d[0] for d in cur.description] == ["id", "item", "amount", "at"]
            for i in range(4):
                k.put_record(
                    StreamName="orders",
                    PartitionKey=str(i),
                    Data=json.dumps(
                        {"id": i, "item": f"thing {i}", "amount": i * 0.75,
                         "at": f"2026-03-01 12:00:0{i}.5"}
                    ).encode(),
                )
            rows = [cur.fetchone() for _ in range(2)]
    assert [r[:3] for r in rows] == [(2, "thing 2", Decimal("1.50")), (3, "thing 3", Decimal("2.25"))]
    assert str(rows[0][3]) == "2026-03-01 12:00:02.500000"
    copies = read_stream(k, "order_copies", 4)
    assert sorted(r["item"] for r in copies) == ["THING 0", "THING 1", "THING 2", "THING 3"]


def test_lookup_join_against_a_file_in_s3(weir):
    url, gateway = weir
    k, s = kinesis(url), s3_client(url)
    k.create_stream(StreamName="purchases", ShardCount=1)
    k.create_stream(StreamName="enriched", ShardCount=1)
    s.create_bucket(Bucket="dims")
    s.put_object(
        Bucket="dims",
        Key="customers/part-0.json",
        Body=b'{"id": 1, "name": "Ann", "tier": "gold"}\n{"id": 2, "name": "Bob", "tier": "basic"}\n',
    )
    s.put_object(Bucket="dims", Key="customers/_SUCCESS", Body=b"")
    c = Client(gateway)
    c.execute(
        """CREATE TABLE purchases (customer_id BIGINT, amount DOUBLE, proc AS PROCTIME())
           WITH ('connector' = 'kinesis', 'stream' = 'purchases',
                 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
    )
    c.execute(
        """CREATE TABLE customers (id BIGINT, name STRING, tier STRING)
           WITH ('connector' = 'filesystem', 'path' = 's3://dims/customers', 'format' = 'json',
                 'lookup.join.cache.ttl' = '10 min');"""
    )
    c.execute(
        """CREATE TABLE enriched (name STRING, tier STRING, amount DOUBLE)
           WITH ('connector' = 'kinesis', 'stream' = 'enriched', 'format' = 'json');"""
    )
    c.execute(
        """INSERT INTO enriched
           SELECT c.name, c.tier, p.amount
           FROM purchases AS p
           LEFT JOIN customers FOR SYSTEM_TIME AS OF p.proc AS c ON p.customer_id = c.id;"""
    )
    for cid, amount in [(1, 10.0), (2, 2.5), (3, 7.0)]:
        k.put_record(
            StreamName="purchases",
            PartitionKey=str(cid),
            Data=json.dumps({"customer_id": cid, "amount": amount}).encode(),
        )
    got = read_stream(k, "enriched", 3)
    assert sorted(got, key=lambda r: r["amount"]) == [
        {"name": "Bob", "tier": "basic", "amount": 2.5},
        {"name": None, "tier": None, "amount": 7.0},
        {"name": "Ann", "tier": "gold", "amount": 10.0},
    ]


def test_weir_sql_flink_mode(weir):
    """`weir sql --flink`: the shell over the gateway, a streaming SELECT printing rows as they
    come until --max-rows."""
    import os
    import subprocess
    import threading

    url, gateway = weir
    k = kinesis(url)
    k.create_stream(StreamName="temps", ShardCount=1)
    done = threading.Event()

    def feed():
        i = 0
        while not done.is_set():
            k.put_record(
                StreamName="temps",
                PartitionKey="p",
                Data=json.dumps({"sensor": f"s{i % 3}", "celsius": 20 + i}).encode(),
            )
            i += 1
            time.sleep(0.05)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        out = subprocess.run(
            [
                os.environ.get("WEIR_BIN", "target/debug/weir"),
                "sql",
                "--flink",
                "--flink-endpoint",
                gateway,
                "--format",
                "json",
                "--max-rows",
                "3",
                "-c",
                "CREATE TABLE temps (sensor STRING, celsius INT) WITH ('connector' = 'kinesis', "
                "'stream' = 'temps', 'format' = 'json'); SHOW TABLES; "
                "SELECT sensor, celsius * 1.8 + 32 AS fahrenheit FROM temps WHERE celsius > 0;",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        done.set()
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert lines[0] == {"table name": "temps"}
    rows = lines[1:]
    assert len(rows) == 3 and all(set(r) == {"sensor", "fahrenheit"} for r in rows)
    assert "stopped at --max-rows" in out.stderr
    failed = subprocess.run(
        [os.environ.get("WEIR_BIN", "target/debug/weir"), "sql", "--flink",
         "--flink-endpoint", gateway, "-c", "SELECT * FROM missing;"],
        capture_output=True, text=True, timeout=60,
    )
    assert failed.returncode == 1
    assert "ValidationException: Object 'missing' not found" in failed.stderr


def follow(gateway, next_uri, rows, done, what):
    """Follows a streaming SELECT's pages (rowFormat=JSON) into `rows` as (kind, fields) until
    `done(rows)`; returns the next page's URI."""
    deadline = time.monotonic() + 30
    while not done(rows):
        assert time.monotonic() < deadline, (what, rows)
        status, page = call(gateway, "GET", next_uri)
        assert status == 200, page
        rows.extend((r["kind"], r["fields"]) for r in page["results"]["data"])
        next_uri = page["nextResultUri"]
        time.sleep(0.02)
    return next_uri


def materialize(changes):
    """A changelog applied: the rows it ends with (as the SQL client's table view shows)."""
    out = []
    for kind, fields in changes:
        if kind in ("INSERT", "UPDATE_AFTER"):
            out.append(fields)
        else:
            assert fields in out, (kind, fields, out)
            out.remove(fields)
    return sorted(out, key=json.dumps)


def test_top_n_and_outer_joins_send_their_changelogs_through_the_gateway(weir):
    """The Flink docs' Top-N (ShopSales, three best per category) and a LEFT JOIN as
    streaming SELECTs: the changelog each sends, applied, ends as the answer computed here;
    an INSERT job of the Top-N into a blackhole sink shows its state split over two parts."""
    url, gateway = weir
    k = kinesis(url)
    for name, shards in [("topn_sales", 2), ("oj_orders", 1), ("oj_customers", 1)]:
        k.create_stream(StreamName=name, ShardCount=shards)
    c = Client(gateway)
    c.execute(
        """CREATE TABLE ShopSales (product_id STRING, category STRING, product_name STRING,
             sales BIGINT)
           WITH ('connector' = 'kinesis', 'stream' = 'topn_sales', 'aws.region' = 'us-east-1',
                 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json');"""
    )
    c.execute("CREATE TABLE nowhere (product_id STRING, sales BIGINT) WITH ('connector' = 'blackhole');")
    top3 = """SELECT * FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY sales DESC) AS row_num
                FROM ShopSales)
              WHERE row_num <= 3"""
    _, plan = c.execute(f"EXPLAIN {top3};")
    assert "Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=3]" in plan[0][0], plan
    op = c.submit(top3 + ";")
    page = first_page(gateway, f"/v2/sessions/{c.session}/operations/{op}/result/0?rowFormat=JSON")
    assert page["isQueryResult"] is True
    assert [col["name"] for col in page["results"]["columns"]][-1] == "row_num"
    ranked = [(r["kind"], r["fields"]) for r in page["results"]["data"]]
    c.execute("SET 'parallelism.default' = '2';")
    first, rows = c.execute(
        f"INSERT INTO nowhere SELECT product_id, sales FROM ({top3});"
    )
    job = first["jobID"]
    # Four categories of fifteen products, their sales put in a shuffled order.
    sales = [(f"p{c_}-{p}", f"c{c_}", (p * 37 + c_ * 11) % 101) for c_ in range(4) for p in range(15)]
    order = sorted(range(len(sales)), key=lambda i: (i * 7919) % len(sales))
    for start in range(0, len(order), 20):
        k.put_records(
            StreamName="topn_sales",
            Records=[
                {
                    "PartitionKey": sales[i][0],
                    "Data": json.dumps(
                        {"product_id": sales[i][0], "category": sales[i][1],
                         "product_name": f"n{sales[i][2]}", "sales": sales[i][2]}
                    ).encode(),
                }
                for i in order[start : start + 20]
            ],
        )
    want = []
    for cat in range(4):
        best = sorted((s for s in sales if s[1] == f"c{cat}"), key=lambda s: -s[2])[:3]
        want += [[pid, cat_, f"n{v}", v, r + 1] for r, (pid, cat_, v) in enumerate(best)]
    want = sorted(want, key=json.dumps)
    follow(gateway, page["nextResultUri"], ranked, lambda rows: materialize(rows) == want, "top-n")
    # The rank is shown, so a row moving down is an update of its rank's row (-U/+U).
    assert any(kind == "UPDATE_BEFORE" for kind, _ in ranked), ranked
    deadline = time.monotonic() + 30
    while True:
        detail = call(gateway, "GET", f"/jobs/{job}")[1]
        if detail["weir"]["records-in"] == len(sales):
            break
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)
    assert detail["state"] == "RUNNING" and detail["weir"]["state-parts"] == 2, detail
    c.execute(f"STOP JOB '{job}';")
    assert call(gateway, "DELETE", f"/v2/sessions/{c.session}/operations/{op}/close")[0] == 200

    # A LEFT JOIN: orders without their customer padded with nulls, retracted when it comes.
    c.execute(
        """CREATE TABLE Orders (order_id BIGINT, customer_id BIGINT, amount INT)
           WITH ('connector' = 'kinesis', 'stream' = 'oj_orders', 'format' = 'json');"""
    )
    c.execute(
        """CREATE TABLE Customers (id BIGINT, name STRING)
           WITH ('connector' = 'kinesis', 'stream' = 'oj_customers', 'format' = 'json');"""
    )
    op = c.submit(
        """SELECT o.order_id, o.amount, c.name
           FROM Orders AS o LEFT JOIN Customers AS c ON o.customer_id = c.id;"""
    )
    page = first_page(gateway, f"/v2/sessions/{c.session}/operations/{op}/result/0?rowFormat=JSON")
    joined = [(r["kind"], r["fields"]) for r in page["results"]["data"]]

    def put(stream, rows):
        k.put_records(
            StreamName=stream,
            Records=[{"PartitionKey": "k", "Data": json.dumps(r).encode()} for r in rows],
        )

    put("oj_orders", [{"order_id": i, "customer_id": i % 3, "amount": 10 * i} for i in range(1, 7)])
    next_uri = follow(gateway, page["nextResultUri"], joined, lambda rows: len(materialize(rows)) == 6, "padded")
    assert materialize(joined) == sorted(
        [[i, 10 * i, None] for i in range(1, 7)], key=json.dumps
    ), joined
    put("oj_customers", [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bo"}])
    want = sorted(
        [[i, 10 * i, {0: None, 1: "Ada", 2: "Bo"}[i % 3]] for i in range(1, 7)], key=json.dumps
    )
    follow(gateway, next_uri, joined, lambda rows: materialize(rows) == want, "joined")
    # Each padded row was taken back (-D) before its joined row came.
    assert sum(kind == "DELETE" for kind, _ in joined) == 4, joined
    assert call(gateway, "DELETE", f"/v2/sessions/{c.session}/operations/{op}/close")[0] == 200
