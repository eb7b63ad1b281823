"""Athena with boto3 against a real Weir server: DDL that changes the Glue catalog, queries over
Parquet (written by pyarrow), gzip JSON lines and CSV in Weir's S3, partitions (MSCK REPAIR,
ALTER TABLE ADD PARTITION) with pruning, result files as Athena writes them, errors, history."""

import csv
import gzip
import io
import json
import time

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from conftest import start_weir


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")
    return boto3.client("athena", **kw), boto3.client("glue", **kw), boto3.client("s3", **kw)


def run(athena, sql, db="default", out="s3://athena-results/q/", wait=True):
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": db}, ResultConfiguration={"OutputLocation": out}
    )["QueryExecutionId"]
    deadline = time.time() + 60
    while wait:
        e = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if e["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return e
        assert time.time() < deadline, "query did not finish"
        time.sleep(0.01)
    return qid


def rows(athena, qid):
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
    out, meta = [], None
    for page in pages:
        meta = meta or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
    return meta, out


@pytest.fixture(scope="module")
def lake(endpoint):
    athena, glue, s3 = clients(endpoint)
    s3.create_bucket(Bucket="athena-results")
    s3.create_bucket(Bucket="lake")
    table = pa.table({"id": pa.array(range(1000), pa.int64()), "name": [f"n{i}" for i in range(1000)], "score": [i / 4 for i in range(1000)]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    s3.put_object(Bucket="lake", Key="people/part-0.parquet", Body=buf.getvalue())
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        lines = "".join(json.dumps({"user": f"u{i}", "amount": i}) + "\n" for i in range(10))
        s3.put_object(Bucket="lake", Key=f"events/dt={day}/part.json.gz", Body=gzip.compress(lines.encode()))
    s3.put_object(Bucket="lake", Key="cities/cities.csv", Body=b"city,pop\nOslo,700000\n\"Zurich, CH\",400000\n")
    return athena, glue, s3


def test_ddl_changes_the_catalog_and_queries_read_parquet(lake):
    athena, glue, s3 = lake
    assert run(athena, "CREATE DATABASE IF NOT EXISTS lakedb")["Status"]["State"] == "SUCCEEDED"
    e = run(athena, "CREATE EXTERNAL TABLE people (id bigint, name string, score double) STORED AS PARQUET LOCATION 's3://lake/people/'", db="lakedb")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert e["StatementType"] == "DDL"
    t = glue.get_table(DatabaseName="lakedb", Name="people")["Table"]
    assert t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert t["Parameters"]["EXTERNAL"] == "TRUE"

    e = run(athena, "SELECT count(*), sum(id), max(name) FROM people WHERE score >= 100", db="lakedb")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert e["StatementType"] == "DML" and e["SubstatementType"] == "SELECT"
    assert e["Statistics"]["DataScannedInBytes"] > 0
    out = e["ResultConfiguration"]["OutputLocation"]
    assert out == f"s3://athena-results/q/{e['QueryExecutionId']}.csv"
    meta, data = rows(athena, e["QueryExecutionId"])
    assert [c["Name"] for c in meta] == ["_col0", "_col1", "_col2"]
    assert [c["Type"] for c in meta] == ["bigint", "bigint", "varchar"]
    assert data[0] == ["_col0", "_col1", "_col2"], "the header row comes first"
    assert data[1] == ["600", str(sum(range(400, 1000))), "n999"]
    # The result file is Athena's CSV, readable by any CSV reader.
    body = s3.get_object(Bucket="athena-results", Key=out.split("/", 3)[3])["Body"].read().decode()
    assert list(csv.reader(io.StringIO(body)))[1] == ["600", str(sum(range(400, 1000))), "n999"]
    assert body.startswith('"_col0","_col1","_col2"\n')

    # Pages of at most MaxResults rows, NULL as a Datum without VarCharValue.
    e = run(athena, "SELECT id, CASE WHEN id % 2 = 0 THEN NULL ELSE name END AS n FROM people ORDER BY id LIMIT 25", db="lakedb")
    first = athena.get_query_results(QueryExecutionId=e["QueryExecutionId"], MaxResults=10)
    assert len(first["ResultSet"]["Rows"]) == 10 and "NextToken" in first
    _, data = rows(athena, e["QueryExecutionId"])
    assert len(data) == 26 and data[1] == ["0", None] and data[2] == ["1", "n1"]


def test_glue_made_tables_partitions_and_pruning(lake):
    athena, glue, s3 = lake
    glue.create_database(DatabaseInput={"Name": "fh"})
    glue.create_table(
        DatabaseName="fh",
        TableInput={
            "Name": "events",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "user", "Type": "string"}, {"Name": "amount", "Type": "int"}],
                "Location": "s3://lake/events/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        },
    )
    e = run(athena, "MSCK REPAIR TABLE events", db="fh")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    parts = glue.get_partitions(DatabaseName="fh", TableName="events")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["2024-01-01", "2024-01-02", "2024-01-03"]

    full = run(athena, "SELECT count(*), sum(amount) FROM events", db="fh")
    _, data = rows(athena, full["QueryExecutionId"])
    assert data[1] == ["30", "135"]
    one = run(athena, "SELECT count(*) FROM events WHERE dt = '2024-01-02'", db="fh")
    _, data = rows(athena, one["QueryExecutionId"])
    assert data[1] == ["10"]
    # Pruning: one partition of three is read.
    assert one["Statistics"]["DataScannedInBytes"] * 3 == full["Statistics"]["DataScannedInBytes"]

    e = run(athena, "SHOW PARTITIONS events", db="fh")
    assert e["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    _, data = rows(athena, e["QueryExecutionId"])
    assert data == [["dt=2024-01-01"], ["dt=2024-01-02"], ["dt=2024-01-03"]]
    e = run(athena, "ALTER TABLE events DROP PARTITION (dt='2024-01-03')", db="fh")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    _, data = rows(athena, run(athena, "SELECT count(*) FROM fh.events", db="default")["QueryExecutionId"])
    assert data[1] == ["20"]


def test_csv_tables_and_show(lake):
    athena, glue, s3 = lake
    run(athena, "CREATE DATABASE csvdb")
    e = run(
        athena,
        "CREATE EXTERNAL TABLE cities (city string, pop int) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "LOCATION 's3://lake/cities/' TBLPROPERTIES ('skip.header.line.count'='1')",
        db="csvdb",
    )
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    _, data = rows(athena, run(athena, "SELECT city, pop FROM cities ORDER BY pop", db="csvdb")["QueryExecutionId"])
    assert data[1:] == [["Zurich, CH", "400000"], ["Oslo", "700000"]]
    _, data = rows(athena, run(athena, "SHOW TABLES", db="csvdb")["QueryExecutionId"])
    assert data == [["cities"]]
    assert "csvdb" in [d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]]
    meta = athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="csvdb", TableName="cities")["TableMetadata"]
    assert [c["Name"] for c in meta["Columns"]] == ["city", "pop"]
    assert meta["Parameters"]["location"] == "s3://lake/cities/"


def test_errors_and_work_groups(lake):
    athena, glue, s3 = lake
    e = run(athena, "SELECT * FROM no_such_table")
    assert e["Status"]["State"] == "FAILED"
    assert e["Status"]["AthenaError"]["ErrorCategory"] == 2
    assert "no_such_table" in e["Status"]["StateChangeReason"]
    e = run(athena, "SELEC 1")
    assert e["Status"]["State"] == "FAILED"
    with pytest.raises(ClientError) as err:
        athena.get_query_results(QueryExecutionId=e["QueryExecutionId"])
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as err:
        athena.start_query_execution(QueryString="SELECT 1")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "No output location provided" in err.value.response["Error"]["Message"]
    wg = athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert wg["State"] == "ENABLED" and wg["Configuration"]["EnforceWorkGroupConfiguration"] is False
    athena.create_work_group(Name="team", Configuration={"ResultConfiguration": {"OutputLocation": "s3://athena-results/team/"}})
    qid = athena.start_query_execution(QueryString="SELECT 1", WorkGroup="team")["QueryExecutionId"]
    assert qid in athena.list_query_executions(WorkGroup="team")["QueryExecutionIds"]
    # Idempotency: the same ClientRequestToken names the same execution.
    a = athena.start_query_execution(QueryString="SELECT 2", WorkGroup="team", ClientRequestToken="t" * 32)["QueryExecutionId"]
    b = athena.start_query_execution(QueryString="SELECT 2", WorkGroup="team", ClientRequestToken="t" * 32)["QueryExecutionId"]
    assert a == b


def test_history_survives_a_restart(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        athena, _, s3 = clients(url)
        s3.create_bucket(Bucket="res")
        e = run(athena, "SELECT 1 AS one", out="s3://res/")
        assert e["Status"]["State"] == "SUCCEEDED"
    finally:
        proc.terminate()
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        athena, _, _ = clients(url)
        assert e["QueryExecutionId"] in athena.list_query_executions()["QueryExecutionIds"]
        _, data = rows(athena, e["QueryExecutionId"])
        assert data == [["one"], ["1"]]
    finally:
        proc.terminate()
        proc.wait(30)
