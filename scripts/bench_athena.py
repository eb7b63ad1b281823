"""Athena benchmarks against a running Weir (see scripts/bench-athena):

- latency: StartQueryExecution → SUCCEEDED as boto3 sees it (polling GetQueryExecution every
  millisecond) for `SELECT count(*)` on a 1,000-row Parquet table;
- pruning: DataScannedInBytes of a one-day query on a 365-day partitioned table against the full
  scan;
- crawler: a Glue crawler over 10,000 gzip JSON objects in 1,000 `dt=` partitions,
  StartCrawler → READY as boto3 sees it;
- tpch: the 22 TPC-H queries (scripts/tpch/qNN.sql) over the Parquet files tpchgen-cli wrote,
  through the Athena API, and with DuckDB on the same files in the same run.

Usage: bench_athena.py ENDPOINT [--tpch DIR] [--runs N]
"""

import argparse
import io
import os
import statistics
import sys
import time

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

KW = dict(region_name="us-east-1", aws_access_key_id="AKIDBENCH", aws_secret_access_key="secret")
OUT = "s3://bench-results/q/"


def wait(athena, qid, poll=0.001):
    while True:
        e = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        state = e["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return e
        time.sleep(poll)


def run(athena, sql, db="bench"):
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": db}, ResultConfiguration={"OutputLocation": OUT}
    )["QueryExecutionId"]
    e = wait(athena, qid)
    if e["Status"]["State"] != "SUCCEEDED":
        raise RuntimeError(f"{sql[:60]}...: {e['Status'].get('StateChangeReason')}")
    return e


def results(athena, qid):
    """Every row of a query's answer (the header row first), as text."""
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
    return [[c.get("VarCharValue") for c in r["Data"]] for p in pages for r in p["ResultSet"]["Rows"]]


def same(row):
    """A row's values in a form both engines' answers agree on: numbers rounded to the cent."""
    out = []
    for v in row:
        try:
            out.append(None if v is None else round(float(v), 2))
        except (TypeError, ValueError):
            out.append(str(v))
    return str(out)


def put_parquet(s3, bucket, key, table):
    buf = io.BytesIO()
    pq.write_table(table, buf)
    s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())


def latency(athena, s3, runs):
    put_parquet(s3, "bench-lake", "small/part-0.parquet", pa.table({"id": list(range(1000)), "v": [i * 0.5 for i in range(1000)]}))
    run(athena, "CREATE EXTERNAL TABLE small (id bigint, v double) STORED AS PARQUET LOCATION 's3://bench-lake/small/'")
    for _ in range(5):
        run(athena, "SELECT count(*) FROM small")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run(athena, "SELECT count(*) FROM small")
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"latency SELECT count(*) on 1,000 rows, {runs} runs: median {statistics.median(times):.1f} ms, "
          f"p90 {times[int(len(times) * 0.9)]:.1f} ms, min {times[0]:.1f} ms")


def pruning(athena, s3):
    import datetime

    day0 = datetime.date(2024, 1, 1)
    for d in range(365):
        day = day0 + datetime.timedelta(days=d)
        t = pa.table({"id": list(range(d * 1000, d * 1000 + 1000)), "payload": [f"event-{d}-{i}" * 4 for i in range(1000)]})
        put_parquet(s3, "bench-lake", f"daily/dt={day.isoformat()}/part-0.parquet", t)
    run(athena, "CREATE EXTERNAL TABLE daily (id bigint, payload string) PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://bench-lake/daily/'")
    run(athena, "MSCK REPAIR TABLE daily")
    full = run(athena, "SELECT count(*), max(length(payload)) FROM daily")["Statistics"]["DataScannedInBytes"]
    one = run(athena, "SELECT count(*), max(length(payload)) FROM daily WHERE dt = '2024-07-01'")["Statistics"]["DataScannedInBytes"]
    print(f"pruning 365 days: full scan {full} bytes, one day {one} bytes: 1/{full / max(one, 1):.0f} of the full scan")


def get_partitions(glue, runs):
    glue.create_table(DatabaseName="bench", TableInput={
        "Name": "many", "PartitionKeys": [{"Name": "k", "Type": "int"}],
        "StorageDescriptor": {"Columns": [{"Name": "v", "Type": "string"}], "Location": "s3://bench-lake/many/"}})
    t = time.perf_counter()
    for start in range(0, 100_000, 100):
        glue.batch_create_partition(DatabaseName="bench", TableName="many", PartitionInputList=[
            {"Values": [str(k)], "StorageDescriptor": {"Location": f"s3://bench-lake/many/k={k}/"}} for k in range(start, start + 100)])
    print(f"get-partitions: 100,000 partitions made with BatchCreatePartition in {time.perf_counter() - t:.1f} s")
    for expr, want in (("k = 54321", 1), ("k BETWEEN 1000 AND 1099", 100)):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            got = glue.get_partitions(DatabaseName="bench", TableName="many", Expression=expr)["Partitions"]
            times.append((time.perf_counter() - t) * 1000)
            assert len(got) == want, (expr, len(got))
        times.sort()
        print(f"get-partitions Expression '{expr}' on 100,000 partitions: median {statistics.median(times):.1f} ms, max {times[-1]:.1f} ms")


TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def crawler(glue, s3):
    import gzip
    from concurrent.futures import ThreadPoolExecutor

    s3.create_bucket(Bucket="bench-crawl")
    body = gzip.compress(b"".join(b'{"user": "u%d", "n": %d, "ok": true}\n' % (i, i) for i in range(20)))
    keys = [f"events/dt={p:04d}/part-{f}.json.gz" for p in range(1000) for f in range(10)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket="bench-crawl", Key=k, Body=body), keys))
    glue.create_crawler(Name="bench", Role="r", DatabaseName="bench", Targets={"S3Targets": [{"Path": "s3://bench-crawl/events/"}]})
    t = time.perf_counter()
    glue.start_crawler(Name="bench")
    while True:
        c = glue.get_crawler(Name="bench")["Crawler"]
        if c["State"] == "READY" and "LastCrawl" in c:
            break
        time.sleep(0.01)
    took = time.perf_counter() - t
    parts = sum(len(p["Partitions"]) for p in glue.get_paginator("get_partitions").paginate(DatabaseName="bench", TableName="events"))
    print(f"crawler: 10,000 objects in 1,000 partitions crawled in {took:.2f} s ({c['LastCrawl']['Status']}, {parts} partitions registered)")


def tpch(athena, s3, data_dir, runs):
    import duckdb

    # The schemas as Athena DDL, from the Parquet files themselves.
    hive = {pa.int32(): "int", pa.int64(): "bigint", pa.float64(): "double", pa.date32(): "date", pa.string(): "string", pa.string_view(): "string"}
    for t in TABLES:
        files = sorted(f for f in os.listdir(data_dir) if f.startswith(t + ".") or f == f"{t}.parquet")
        if not files and os.path.isdir(os.path.join(data_dir, t)):
            files = [os.path.join(t, f) for f in sorted(os.listdir(os.path.join(data_dir, t)))]
        schema = pq.read_schema(os.path.join(data_dir, files[0]))
        for f in files:
            with open(os.path.join(data_dir, f), "rb") as fh:
                s3.put_object(Bucket="bench-tpch", Key=f"{t}/{os.path.basename(f)}", Body=fh.read())
        cols = []
        for field in schema:
            ty = field.type
            name = hive.get(ty) or (f"decimal({ty.precision},{ty.scale})" if pa.types.is_decimal(ty) else "string")
            cols.append(f"{field.name} {name}")
        run(athena, f"CREATE EXTERNAL TABLE {t} ({', '.join(cols)}) STORED AS PARQUET LOCATION 's3://bench-tpch/{t}/'", db="tpch")
    con = duckdb.connect()
    for t in TABLES:
        path = os.path.join(data_dir, t)
        glob = f"{path}/*.parquet" if os.path.isdir(path) else os.path.join(data_dir, f"{t}.parquet")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{glob}')")
    qdir = os.path.join(os.path.dirname(__file__), "tpch")
    weir_total = duck_total = 0.0
    worst = 0.0
    wrong = []
    print("| query | Weir (ms) | DuckDB (ms) | ratio |")
    print("|---|---|---|---|")
    for n in range(1, 23):
        sql = open(os.path.join(qdir, f"q{n:02}.sql")).read()
        best_w = best_d = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            try:
                e = run(athena, sql, db="tpch")
            except RuntimeError as e:
                print(f"| q{n:02} | failed: {e} | | |")
                best_w = None
                break
            best_w = min(best_w, (time.perf_counter() - t) * 1000)
        for _ in range(runs):
            t = time.perf_counter()
            duck_rows = con.execute(sql).fetchall()
            best_d = min(best_d, (time.perf_counter() - t) * 1000)
        if best_w is None:
            continue
        # The answers must agree (as text, numbers to the cent) for the times to mean anything.
        weir_rows = results(athena, e["QueryExecutionId"])[1:]
        if sorted(map(same, weir_rows)) != sorted(map(same, duck_rows)):
            print(f"| q{n:02} | wrong answer: {len(weir_rows)} rows, DuckDB {len(duck_rows)} | | |")
            wrong.append(f"q{n:02}")
            continue
        weir_total += best_w
        duck_total += best_d
        worst = max(worst, best_w / best_d)
        print(f"| q{n:02} | {best_w:.0f} | {best_d:.0f} | {best_w / best_d:.2f} |")
    print(f"| total | {weir_total:.0f} | {duck_total:.0f} | {weir_total / duck_total:.2f} (worst query {worst:.2f}) |")
    if wrong:
        print(f"WRONG ANSWERS (left out of the total): {', '.join(wrong)}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("--tpch")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--only-tpch", action="store_true", help="skip the latency, pruning, partition and crawler figures")
    a = p.parse_args()
    athena = boto3.client("athena", endpoint_url=a.endpoint, **KW)
    s3 = boto3.client("s3", endpoint_url=a.endpoint, **KW)
    glue = boto3.client("glue", endpoint_url=a.endpoint, **KW)
    for b in ("bench-results", "bench-lake", "bench-tpch"):
        s3.create_bucket(Bucket=b)
    for db in ("bench", "tpch"):
        glue.create_database(DatabaseInput={"Name": db})
    if not a.only_tpch:
        latency(athena, s3, a.runs)
        pruning(athena, s3)
        get_partitions(glue, 20)
        crawler(glue, s3)
    if a.tpch:
        tpch(athena, s3, a.tpch, 3)


if __name__ == "__main__":
    sys.exit(main())
