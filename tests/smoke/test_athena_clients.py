"""What Athena's users run, against a real Weir server: PyAthena (the plain cursor, and the
pandas and arrow cursors that read the result file from S3) and awswrangler (a dataset written
with `wr.s3.to_parquet(dataset=True, database=..., table=...)`, then read back with
`wr.athena.read_sql_query` both with `ctas_approach=True` and `False`, and with `unload`)."""

import os

import pandas as pd
import pytest

from test_athena import clients

KEYS = dict(aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret", region_name="us-east-1")


@pytest.fixture(scope="module")
def prepared(endpoint):
    athena, glue, s3 = clients(endpoint)
    for b in ("client-results", "client-lake"):
        s3.create_bucket(Bucket=b)
    glue.create_database(DatabaseInput={"Name": "clientdb"})
    return endpoint


def test_pyathena_cursors(prepared):
    from pyathena import connect
    from pyathena.pandas.cursor import PandasCursor

    conn = connect(s3_staging_dir="s3://client-results/pyathena/", schema_name="clientdb", endpoint_url=prepared, **KEYS)
    cur = conn.cursor()
    cur.execute("SELECT 1 AS one, 'a' AS s, CAST(NULL AS varchar) AS n, DATE '2024-01-02' AS d")
    assert cur.fetchall() == [(1, "a", None, __import__("datetime").date(2024, 1, 2))]
    assert [d[0] for d in cur.description] == ["one", "s", "n", "d"]
    cur.execute("SELECT x FROM (VALUES (1), (2), (3)) AS t(x) WHERE x > %(low)d ORDER BY x", {"low": 1})
    assert cur.fetchall() == [(2,), (3,)]
    assert cur.output_location.endswith(f"{cur.query_id}.csv")

    df = conn.cursor(PandasCursor).execute("SELECT x, x * 2.5 AS y FROM (VALUES (1), (2)) AS t(x) ORDER BY x").as_pandas()
    assert df["x"].tolist() == [1, 2] and df["y"].tolist() == [2.5, 5.0]


def test_pyathena_arrow_cursor(prepared, monkeypatch):
    """PyAthena's ArrowCursor reads the result file (CSV, or the Parquet of UNLOAD) with pyarrow's
    own S3FileSystem. PyAthena builds that file system without an endpoint, and pyarrow's
    constructor reads none from the environment, so a user points it at Weir by wrapping the
    constructor (as docs/sql.md shows); everything after that is PyAthena and pyarrow."""
    import datetime
    import decimal

    from pyarrow import fs
    from pyathena import connect
    from pyathena.arrow.cursor import ArrowCursor

    real = fs.S3FileSystem
    monkeypatch.setattr(fs, "S3FileSystem", lambda **kw: real(endpoint_override=prepared, **kw))
    conn = connect(s3_staging_dir="s3://client-results/arrow/", schema_name="clientdb", endpoint_url=prepared, **KEYS)
    sql = (
        "SELECT x, CAST(x AS double) / 4 AS q, CAST(x AS decimal(10,2)) AS d, 'v' || CAST(x AS varchar) AS s, "
        "date_add('day', x, DATE '2024-01-01') AS day, IF(x = 2, NULL, x) AS maybe "
        "FROM (VALUES 1, 2, 3) AS t(x) ORDER BY x"
    )
    table = conn.cursor(ArrowCursor).execute(sql).as_arrow()
    assert table.column_names == ["x", "q", "d", "s", "day", "maybe"]
    assert table.column("x").to_pylist() == [1, 2, 3]
    assert table.column("q").to_pylist() == [0.25, 0.5, 0.75]
    assert table.column("s").to_pylist() == ["v1", "v2", "v3"]
    assert table.column("maybe").to_pylist() == [1, None, 3]
    cur = conn.cursor(ArrowCursor)
    cur.execute(sql)
    rows = cur.fetchall()
    assert rows[0][2] == decimal.Decimal("1.00") and rows[1][4] == datetime.date(2024, 1, 3), rows
    # UNLOAD: the cursor reads the Parquet files the query wrote.
    unloaded = conn.cursor(ArrowCursor, unload=True).execute("SELECT x, 'v' || CAST(x AS varchar) AS s FROM (VALUES 1, 2) AS t(x)").as_arrow()
    assert sorted(unloaded.column("x").to_pylist()) == [1, 2]


@pytest.fixture()
def wr_env(prepared, monkeypatch):
    import awswrangler as wr

    for k, v in {"AWS_ACCESS_KEY_ID": "AKIDSMOKE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    for service in ("s3", "athena", "glue", "sts"):
        setattr(wr.config, f"{service}_endpoint_url", prepared)
    yield wr
    for service in ("s3", "athena", "glue", "sts"):
        setattr(wr.config, f"{service}_endpoint_url", None)


def test_awswrangler_dataset_then_athena(wr_env):
    wr = wr_env
    df = pd.DataFrame({"id": [1, 2, 3, 4], "name": ["a", "b", "c", "d"], "dt": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"]})
    wr.s3.to_parquet(df=df, path="s3://client-lake/people/", dataset=True, database="clientdb", table="people", partition_cols=["dt"])
    out = "s3://client-results/wr/"
    for ctas in (False, True):
        got = wr.athena.read_sql_query("SELECT id, name, dt FROM people WHERE dt = '2024-01-02' ORDER BY id", database="clientdb", ctas_approach=ctas, s3_output=out)
        assert got["id"].tolist() == [3, 4], ctas
        assert got["name"].tolist() == ["c", "d"], ctas
    got = wr.athena.read_sql_query("SELECT count(*) AS n FROM people", database="clientdb", ctas_approach=False, unload_approach=True, s3_output="s3://client-results/wr-unload/")
    assert got["n"].tolist() == [4]
    # The temporary CTAS table is gone again.
    assert [t for t in wr.catalog.get_tables(database="clientdb") if t["Name"].startswith("temp_table")] == []


def test_weir_sql_shell(prepared):
    """`weir sql -c` runs statements through the Athena API; `--format csv|json`; the shell reads
    multi-line statements and backslash commands from stdin."""
    import json
    import subprocess

    binary = os.environ.get("WEIR_BIN", "target/debug/weir")
    base = [binary, "sql", "--endpoint", prepared, "--database", "clientdb"]
    done = subprocess.run(base + ["-c", "CREATE TABLE shell_t AS SELECT * FROM (VALUES (1, 'a'), (2, NULL)) AS v(id, name); SELECT * FROM shell_t ORDER BY id"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [" id | name", "----+------", " 1  | a", " 2  | NULL"]
    assert "(2 rows written" in done.stderr and "(2 rows," in done.stderr and "scanned)" in done.stderr
    csv_out = subprocess.run(base + ["--format", "csv", "-c", "SELECT * FROM shell_t ORDER BY id"], capture_output=True, text=True, timeout=60)
    assert csv_out.stdout == '"id","name"\n"1","a"\n"2",\n'
    json_out = subprocess.run(base + ["--format", "json", "-c", "SELECT * FROM shell_t ORDER BY id"], capture_output=True, text=True, timeout=60)
    assert [json.loads(line) for line in json_out.stdout.splitlines()] == [{"id": "1", "name": "a"}, {"id": "2", "name": None}]
    bad = subprocess.run(base + ["-c", "SELECT nope FROM shell_t"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "error:" in bad.stderr
    shell = subprocess.run(base, input="SELECT 1\n+ 1 AS two;\n\\d\n\\q\n", capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert " two\n-----\n 2\n" in shell.stdout and "shell_t" in shell.stdout


def test_aws_cli_athena_and_glue(prepared, aws_env):
    """The `aws` CLI: start a query, wait for it, read its results; see the database in Glue."""
    import json
    import subprocess
    import time

    def aws(*args):
        done = subprocess.run(["aws", "--endpoint-url", prepared, "--output", "json", *args], env=aws_env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    qid = aws("athena", "start-query-execution", "--query-string", "SELECT 40 + 2 AS answer",
              "--query-execution-context", "Database=clientdb", "--result-configuration", "OutputLocation=s3://client-results/cli/")["QueryExecutionId"]
    deadline = time.time() + 60
    while (state := aws("athena", "get-query-execution", "--query-execution-id", qid)["QueryExecution"]["Status"]["State"]) not in ("SUCCEEDED", "FAILED"):
        assert time.time() < deadline
        time.sleep(0.05)
    assert state == "SUCCEEDED"
    rows = aws("athena", "get-query-results", "--query-execution-id", qid)["ResultSet"]["Rows"]
    assert [[d.get("VarCharValue") for d in r["Data"]] for r in rows] == [["answer"], ["42"]]
    assert "clientdb" in [d["Name"] for d in aws("glue", "get-databases")["DatabaseList"]]
