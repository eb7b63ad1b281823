"""Athena statements that write and define, with boto3 against a real Weir server: CTAS
(Parquet/JSON/text, partitioned, bucketed, WITH NO DATA), INSERT INTO, UNLOAD with their
manifests (files read back by pyarrow), views, ALTER TABLE, SHOW CREATE TABLE/TBLPROPERTIES,
and Trino's functions, one row per function."""

import gzip
import io

import pyarrow.parquet as pq
import pytest

from test_athena import clients, rows, run


@pytest.fixture(scope="module")
def wlake(endpoint):
    athena, glue, s3 = clients(endpoint)
    for b in ("wresults", "wlake"):
        s3.create_bucket(Bucket=b)
    lines = "".join(f"{i},n{i},{'a' if i % 2 else 'b'}\n" for i in range(20))
    s3.put_object(Bucket="wlake", Key="src/data.csv", Body=lines.encode())
    ok(athena, "CREATE DATABASE wdb")
    ok(athena, "CREATE EXTERNAL TABLE src (id int, name string, kind string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://wlake/src/'")
    return athena, glue, s3


def ok(athena, sql, db="wdb"):
    e = run(athena, sql, db=db, out="s3://wresults/r/")
    assert e["Status"]["State"] == "SUCCEEDED", (sql, e["Status"])
    return e


def failed(athena, sql, db="wdb"):
    e = run(athena, sql, db=db, out="s3://wresults/r/")
    assert e["Status"]["State"] == "FAILED", sql
    return e["Status"]["AthenaError"]["ErrorMessage"]


def values(athena, sql, db="wdb"):
    e = ok(athena, sql, db)
    return rows(athena, e["QueryExecutionId"])[1][1:]


def manifest(s3, e):
    loc = e["Statistics"]["DataManifestLocation"]
    assert loc == f"s3://wresults/r/{e['QueryExecutionId']}-manifest.csv"
    body = s3.get_object(Bucket="wresults", Key=loc.split("/", 3)[3])["Body"].read().decode()
    return [line for line in body.splitlines() if line]


def read_parquet(s3, url):
    bucket, key = url[5:].split("/", 1)
    return pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def test_ctas_parquet_partitioned_registers_table_partitions_and_manifest(wlake):
    athena, glue, s3 = wlake
    e = ok(athena, "CREATE TABLE byk WITH (format = 'PARQUET', write_compression = 'SNAPPY', external_location = 's3://wlake/byk/', partitioned_by = ARRAY['kind']) AS SELECT id, name, kind FROM src")
    assert e["StatementType"] == "DDL" and e["SubstatementType"] == "CREATE_TABLE_AS_SELECT"
    meta, data = rows(athena, e["QueryExecutionId"])
    assert [c["Name"] for c in meta] == ["rows"] and data == []
    files = manifest(s3, e)
    assert len(files) == 2 and all(f.startswith("s3://wlake/byk/kind=") for f in files)
    total = sum(read_parquet(s3, f).num_rows for f in files)
    assert total == 20
    t = glue.get_table(DatabaseName="wdb", Name="byk")["Table"]
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == ["id", "name"]
    assert [c["Name"] for c in t["PartitionKeys"]] == ["kind"]
    assert t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    parts = glue.get_partitions(DatabaseName="wdb", TableName="byk")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["a", "b"]
    assert values(athena, "SELECT count(*), sum(id) FROM byk WHERE kind = 'a'") == [["10", str(sum(range(1, 20, 2)))]]
    # The location is not empty any more: a second CTAS there fails; the table name is taken.
    assert "HIVE_PATH_ALREADY_EXISTS" in failed(athena, "CREATE TABLE byk2 WITH (external_location = 's3://wlake/byk/') AS SELECT 1 AS x")
    assert "already exists" in failed(athena, "CREATE TABLE byk AS SELECT 1 AS x")
    assert "Column name not specified" in failed(athena, "CREATE TABLE unnamed AS SELECT count(*) FROM src")


def test_ctas_text_json_default_location_and_no_data(wlake):
    athena, glue, s3 = wlake
    e = ok(athena, "CREATE TABLE txt WITH (format = 'TEXTFILE', field_delimiter = '|') AS SELECT id, CAST(NULL AS varchar) AS nothing FROM src WHERE id < 3")
    files = manifest(s3, e)
    assert files and files[0].startswith(f"s3://wresults/r/tables/{e['QueryExecutionId']}/")
    body = gzip.decompress(s3.get_object(Bucket="wresults", Key=files[0].split("/", 3)[3])["Body"].read()).decode()
    assert sorted(body.splitlines()) == ["0|\\N", "1|\\N", "2|\\N"]
    assert values(athena, "SELECT id, nothing FROM txt ORDER BY id") == [["0", None], ["1", None], ["2", None]]
    ok(athena, "CREATE TABLE js WITH (format = 'JSON') AS SELECT id, name FROM src WHERE id >= 18")
    assert values(athena, "SELECT name FROM js ORDER BY id") == [["n18"], ["n19"]]
    e = ok(athena, "CREATE TABLE empty WITH (format = 'PARQUET') AS SELECT * FROM src WITH NO DATA")
    assert manifest(s3, e) == []
    assert values(athena, "SELECT count(*) FROM empty") == [["0"]]
    e = ok(athena, "CREATE TABLE bucketed WITH (bucketed_by = ARRAY['id'], bucket_count = 4) AS SELECT id FROM src")
    assert len(manifest(s3, e)) == 4
    assert glue.get_table(DatabaseName="wdb", Name="bucketed")["Table"]["StorageDescriptor"]["NumberOfBuckets"] == 4


def test_insert_into_appends_and_adds_partitions(wlake):
    athena, glue, s3 = wlake
    ok(athena, "CREATE TABLE ins WITH (partitioned_by = ARRAY['kind']) AS SELECT id, kind FROM src WHERE kind = 'a'")
    e = ok(athena, "INSERT INTO ins SELECT id + 100, 'c' FROM src WHERE id < 5")
    assert e["StatementType"] == "DML" and e["SubstatementType"] == "INSERT"
    assert len(manifest(s3, e)) == 1
    assert athena.get_query_results(QueryExecutionId=e["QueryExecutionId"])["UpdateCount"] == 5
    assert sorted(p["Values"][0] for p in glue.get_partitions(DatabaseName="wdb", TableName="ins")["Partitions"]) == ["a", "c"]
    ok(athena, "INSERT INTO ins (kind, id) VALUES ('a', 1000)")
    assert values(athena, "SELECT kind, count(*), max(id) FROM ins GROUP BY kind ORDER BY kind") == [["a", "11", "1000"], ["c", "5", "104"]]
    assert "mismatched" in failed(athena, "INSERT INTO ins SELECT 1")
    assert "does not exist" in failed(athena, "INSERT INTO nope SELECT 1")


def test_unload_writes_files_and_a_manifest(wlake):
    athena, glue, s3 = wlake
    e = ok(athena, "UNLOAD (SELECT id, name, kind FROM src WHERE id < 6) TO 's3://wlake/unload/' WITH (format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY['kind'])")
    assert e["SubstatementType"] == "UNLOAD"
    files = manifest(s3, e)
    assert sorted(f.split("/")[4] for f in files) == ["kind=a", "kind=b"]
    assert sum(read_parquet(s3, f).num_rows for f in files) == 6
    e = ok(athena, "UNLOAD (SELECT id FROM src WHERE id = 7) TO 's3://wlake/unload-json/' WITH (format = 'JSON')")
    [f] = manifest(s3, e)
    assert gzip.decompress(s3.get_object(Bucket="wlake", Key=f.split("/", 3)[3])["Body"].read()) == b'{"id":7}\n'
    assert "HIVE_PATH_ALREADY_EXISTS" in failed(athena, "UNLOAD (SELECT 1 AS x) TO 's3://wlake/unload/' WITH (format = 'JSON')")
    assert "format" in failed(athena, "UNLOAD (SELECT 1 AS x) TO 's3://wlake/unload-x/' WITH (compression = 'GZIP')")
    # UNLOAD made no table.
    locations = [t.get("StorageDescriptor", {}).get("Location") or "" for t in glue.get_tables(DatabaseName="wdb")["TableList"]]
    assert not [loc for loc in locations if loc.startswith("s3://wlake/unload")]


def test_views_alter_and_show(wlake):
    athena, glue, s3 = wlake
    ok(athena, "CREATE VIEW odd AS SELECT id, upper(name) AS name FROM src WHERE id % 2 = 1")
    t = glue.get_table(DatabaseName="wdb", Name="odd")["Table"]
    assert t["TableType"] == "VIRTUAL_VIEW" and t["ViewOriginalText"].startswith("/* Presto View: ")
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == ["id", "name"]
    assert values(athena, "SELECT count(*), min(name) FROM odd") == [["10", "N1"]]
    assert "already exists" in failed(athena, "CREATE VIEW odd AS SELECT 1 AS x")
    ok(athena, "CREATE OR REPLACE VIEW odd AS SELECT id FROM src WHERE id = 1")
    assert values(athena, "SELECT * FROM odd") == [["1"]]
    e = ok(athena, "SHOW VIEWS")
    assert ["odd"] in rows(athena, e["QueryExecutionId"])[1]
    e = ok(athena, "SHOW CREATE VIEW odd")
    assert "CREATE VIEW awsdatacatalog.wdb.odd AS" in rows(athena, e["QueryExecutionId"])[1][0][0]
    ok(athena, "DROP VIEW odd")
    assert "does not exist" in failed(athena, "DROP VIEW odd")

    ok(athena, "ALTER TABLE src SET TBLPROPERTIES ('owner_team' = 'data')")
    e = ok(athena, "SHOW TBLPROPERTIES src ('owner_team')")
    assert rows(athena, e["QueryExecutionId"])[1] == [["owner_team", "data"]]
    ok(athena, "ALTER TABLE src ADD COLUMNS (extra string COMMENT 'new')")
    assert glue.get_table(DatabaseName="wdb", Name="src")["Table"]["StorageDescriptor"]["Columns"][-1]["Name"] == "extra"
    assert values(athena, "SELECT count(extra) FROM src") == [["0"]]
    e = ok(athena, "SHOW CREATE TABLE src")
    text = "\n".join(r[0] for r in rows(athena, e["QueryExecutionId"])[1])
    assert text.startswith("CREATE EXTERNAL TABLE `wdb`.`src`(") and "LOCATION\n  's3://wlake/src/'" in text


# One row per Trino function Weir provides (docs/sql.md lists the same).
FUNCTIONS = [
    ("date_parse('2024-03-05 07:08:09', '%Y-%m-%d %H:%i:%s')", "2024-03-05 07:08:09.000"),
    ("date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y/%m/%d %H:%i')", "2024/03/05 07:08"),
    ("format_datetime(TIMESTAMP '2024-03-05 07:08:09', 'yyyy-MM-dd''T''HH:mm')", "2024-03-05T07:08"),
    ("parse_datetime('05/03/2024', 'dd/MM/yyyy')", "2024-03-05 00:00:00.000"),
    ("to_iso8601(from_iso8601_timestamp('2024-03-05T07:08:09+02:00'))", "2024-03-05T05:08:09.000Z"),
    ("from_iso8601_date('2024-03-05')", "2024-03-05"),
    ("date_add('day', 30, DATE '2024-02-01')", "2024-03-02"),
    ("date_add('month', 1, TIMESTAMP '2024-01-31 10:00:00')", "2024-02-29 10:00:00.000"),
    ("date_diff('hour', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-02 06:00:00')", "30"),
    ("date_diff('month', DATE '2024-01-15', DATE '2024-03-14')", "1"),
    ("date_trunc('month', TIMESTAMP '2024-03-05 07:08:09')", "2024-03-01 00:00:00.000"),
    ("to_unixtime(TIMESTAMP '2024-01-01 00:00:00')", None),
    ("from_unixtime(0)", "1970-01-01 00:00:00.000"),
    ("json_extract_scalar('{\"a\":{\"b\":[1,\"x\"]}}', '$.a.b[1]')", "x"),
    ("json_extract('{\"a\":{\"b\":[1,\"x\"]}}', '$.a.b')", '[1,"x"]'),
    ("json_array_length('[1,2,3]')", "3"),
    ("json_size('{\"a\":{\"b\":1,\"c\":2}}', '$.a')", "2"),
    ("json_format(json_parse('{\"a\": 1}'))", '{"a":1}'),
    ("regexp_like('abc123', '[0-9]+')", "true"),
    ("regexp_extract('abc123def', '([a-z]+)([0-9]+)', 2)", "123"),
    ("regexp_replace('a1b2', '[0-9]', '')", "ab"),
    ("regexp_replace('a1b2', '([a-z])([0-9])', '$2$1')", "1a2b"),
    ("regexp_extract_all('a1b22', '[0-9]+')", "[1, 22]"),
    ("cardinality(split('a,b,c', ','))", "3"),
    ("element_at(split('a,b,c', ','), 2)", "b"),
    ("contains(split('a,b,c', ','), 'b')", "true"),
    ("array_join(split('a,b,c', ','), '-')", "a-b-c"),
    ("try_cast('x' AS integer)", None),
    ("try(CAST('x' AS integer))", None),
    ("try(1 / 0)", None),
    ("if(1 < 2, 'yes', 'no')", "yes"),
    ("if(1 > 2, 'yes')", None),
    ("if(false, 1 / 0, 7)", "7"),
    ("try(date_parse('not a date', '%Y-%m-%d'))", None),
    ("sequence(1, 5)", "[1, 2, 3, 4, 5]"),
    ("sequence(3, 1)", "[3, 2, 1]"),
    ("sequence(1, 10, 4)", "[1, 5, 9]"),
    ("sequence(DATE '2024-01-30', DATE '2024-02-02', INTERVAL '1' DAY)", "[2024-01-30, 2024-01-31, 2024-02-01, 2024-02-02]"),
    ("transform(ARRAY[1, 2, 3], x -> x * 10)", "[10, 20, 30]"),
    ("filter(ARRAY[1, 2, 3, 4], x -> x % 2 = 0)", "[2, 4]"),
    ("any_match(ARRAY[1, 2], x -> x > 1)", "true"),
    ("CAST(json_parse('{\"a\": 1, \"b\": \"x\"}') AS map(varchar, varchar))", "{a=1, b=x}"),
    ("CAST(json_parse('[1, 2, 3]') AS array(integer))", "[1, 2, 3]"),
    ("CAST(json_parse('{\"b\": \"x\", \"a\": 1}') AS row(a bigint, b varchar))", "{a=1, b=x}"),
    ("element_at(CAST(json_parse('{\"k\": [5, 6]}') AS map(varchar, array(integer))), 'k')", "[5, 6]"),
    ("try_cast(json_parse('[1]') AS map(varchar, integer))", None),
    ("CAST(1.5 AS real)", "1.5"),
    ("CAST('7' AS bigint) + 1", "8"),
]


@pytest.mark.parametrize("expr,expected", FUNCTIONS, ids=[f[0].split("(")[0] for f in FUNCTIONS])
def test_trino_functions(wlake, expr, expected):
    athena = wlake[0]
    got = values(athena, f"SELECT {expr}")
    if expr.startswith("to_unixtime"):
        assert float(got[0][0]) == 1704067200
    else:
        assert got == [[expected]], expr


def test_trino_aggregates(wlake):
    athena = wlake[0]
    got = values(athena, "SELECT count_if(id > 15), min_by(name, id), max_by(name, id), arbitrary(kind) IS NOT NULL, approx_distinct(kind) FROM src")
    assert got == [["4", "n0", "n19", "true", "2"]]


def test_lambdas_try_and_unnest_with_ordinality(wlake):
    athena = wlake[0]
    # Lambdas see the row's columns; try() turns one row's failure into NULL, not the query's.
    got = values(athena, "SELECT id, transform(ARRAY[1, 2], x -> x + id), try(CAST(substr(name, 2) AS integer) / (id - 3)) FROM src WHERE id BETWEEN 2 AND 4 ORDER BY id")
    assert got == [["2", "[3, 4]", "-2"], ["3", "[4, 5]", None], ["4", "[5, 6]", "4"]]
    assert "zero" in failed(athena, "SELECT CAST(substr(name, 2) AS integer) / (id - 3) FROM src").lower()
    got = values(athena, "SELECT x, n FROM (VALUES (ARRAY['a', 'b', 'c'])) AS t (arr) CROSS JOIN UNNEST(arr) WITH ORDINALITY AS u (x, n) ORDER BY n")
    assert got == [["a", "1"], ["b", "2"], ["c", "3"]]
    # Lateral UNNEST over a table's rows: CROSS JOIN, the comma form, LEFT JOIN ... ON true.
    got = values(athena, "SELECT src.id, u.part FROM src CROSS JOIN UNNEST(split(src.kind || ',x', ',')) AS u (part) WHERE src.id < 2 AND u.part <> '' ORDER BY src.id, u.part")
    assert got == [["0", "b"], ["0", "x"], ["1", "a"], ["1", "x"]]
    got = values(athena, "SELECT s.id, part, n FROM src AS s, UNNEST(split(s.kind || ',x', ',')) WITH ORDINALITY AS u (part, n) WHERE s.id = 3 ORDER BY n")
    assert got == [["3", "a", "1"], ["3", "x", "2"]]
    got = values(athena, "SELECT id, x FROM (VALUES (1, ARRAY[7]), (2, CAST(ARRAY[] AS array(integer)))) AS t (id, arr) LEFT JOIN UNNEST(arr) AS u (x) ON true ORDER BY id")
    assert got == [["1", "7"], ["2", None]]
    # Trino's rows without parentheses.
    assert values(athena, "VALUES 1, 2, 3") == [["1"], ["2"], ["3"]]
    assert values(athena, "SELECT x * 2 FROM (VALUES 1, 2) AS t (x) ORDER BY 1") == [["2"], ["4"]]


def test_explain_answers_in_athenas_shape(wlake):
    """Trino's EXPLAIN forms: the plan drawn with Trino's operator names (DISTRIBUTED by default,
    one fragment), VALIDATE's boolean, IO's JSON, and ANALYZE's executed plan; a `.txt` result
    with a row per line."""
    import json

    athena = wlake[0]

    def plan(sql, column=("Query Plan", "varchar")):
        e = ok(athena, sql)
        assert e["StatementType"] == "UTILITY" and e["ResultConfiguration"]["OutputLocation"].endswith(".txt")
        assert e["Statistics"]["DataScannedInBytes"] == 0 or "ANALYZE" in sql
        r = athena.get_query_results(QueryExecutionId=e["QueryExecutionId"])["ResultSet"]
        cols = r["ResultSetMetadata"]["ColumnInfo"]
        assert [(c["Name"], c["Type"]) for c in cols] == [column]
        return [row["Data"][0].get("VarCharValue", "") for row in r["Rows"]]

    sql = "SELECT kind, count(*) AS n FROM src WHERE id > 3 GROUP BY kind ORDER BY kind LIMIT 5"
    lines = plan("EXPLAIN " + sql)
    assert lines[:3] == ["Fragment 0 [SINGLE]", "    Output layout: [kind, n]", "    Output partitioning: SINGLE []"], lines
    assert lines[3] == "    Output[columnNames = [kind, n]]" and lines[4] == "    │   Layout: [kind:varchar, n:bigint]", lines
    text = "\n".join(lines)
    assert "TopN[count = 5, orderBy = [kind ASC NULLS LAST]]" in text, text
    assert "Aggregate[keys = [kind]]" in text and "count(*)" in text, text
    assert "ScanFilter" in text and "table = awsdatacatalog:wdb:src" in text and "(\"id\" > 3)" in text, text
    assert lines[-2:] == ["", ""], lines
    logical = plan("EXPLAIN (TYPE LOGICAL, FORMAT TEXT) " + sql)
    assert logical[0] == "Output[columnNames = [kind, n]]" and "└─ " in logical[2], logical
    assert plan("EXPLAIN (TYPE VALIDATE) " + sql, ("Valid", "boolean")) == ["true"]
    io = json.loads("\n".join(plan("EXPLAIN (TYPE IO, FORMAT JSON) " + sql)))
    [table] = io["inputTableColumnInfos"]
    assert table["table"] == {"catalog": "awsdatacatalog", "schemaTable": {"schema": "wdb", "table": "src"}}
    [c] = table["constraint"]["columnConstraints"]
    assert c["columnName"] == "id" and c["type"] == "integer", c
    assert c["domain"]["ranges"] == [{"low": {"value": "3", "bound": "ABOVE"}, "high": {"bound": "BELOW"}}], c
    assert table["estimate"]["outputRowCount"] == "NaN"
    tree = json.loads("\n".join(plan("EXPLAIN (TYPE DISTRIBUTED, FORMAT JSON) " + sql)))
    assert tree["0"]["name"] == "Output" and tree["0"]["outputs"][0] == {"symbol": "kind", "type": "varchar"}, tree
    assert any("output_rows" in line for line in plan("EXPLAIN ANALYZE " + sql))
    assert "GRAPHVIZ" in failed(athena, "EXPLAIN (FORMAT GRAPHVIZ) SELECT 1")
    assert "TYPE DISTRIBUTED" in failed(athena, "EXPLAIN ANALYZE (TYPE LOGICAL) SELECT 1")
    assert "nope" in failed(athena, "EXPLAIN (TYPE VALIDATE) SELECT nope FROM src").lower()


def test_orc_tables_read_and_written(wlake):
    import io
    import pyarrow as pa
    import pyarrow.orc as orc
    athena, glue, s3 = wlake
    # An ORC file from another writer (pyarrow), read by position (Athena's default for ORC)
    # and by name with orc.column.index.access=false.
    t = pa.table({"col_a": pa.array([1, 2, 3], pa.int64()), "col_b": ["x", "y", None]})
    buf = io.BytesIO()
    orc.write_table(t, buf, compression="zstd")
    s3.put_object(Bucket="wlake", Key="orcext/part-0.orc", Body=buf.getvalue())
    ok(athena, "CREATE EXTERNAL TABLE orc_pos (id bigint, label string) STORED AS ORC LOCATION 's3://wlake/orcext/'")
    assert values(athena, "SELECT id, label FROM orc_pos ORDER BY id") == [["1", "x"], ["2", "y"], ["3", None]]
    ok(athena, "CREATE EXTERNAL TABLE orc_named (col_b string, col_a int, missing int) "
               "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.orc.OrcSerde' WITH SERDEPROPERTIES ('orc.column.index.access'='false') "
               "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.orc.OrcInputFormat' OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat' "
               "LOCATION 's3://wlake/orcext/'")
    assert values(athena, "SELECT col_a, col_b, missing FROM orc_named WHERE col_a > 1 ORDER BY col_a") == [["2", "y", None], ["3", None, None]]

    # CTAS and INSERT write ORC that pyarrow reads back; the table reads as ORC.
    e = ok(athena, "CREATE TABLE orc_ctas WITH (format = 'ORC', write_compression = 'SNAPPY', external_location = 's3://wlake/orc_ctas/') AS SELECT id, name, kind FROM src")
    assert e["Statistics"].get("DataManifestLocation")
    table = glue.get_table(DatabaseName="wdb", Name="orc_ctas")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
    assert table["Parameters"]["orc.compress"] == "SNAPPY"
    ok(athena, "INSERT INTO orc_ctas VALUES (100, 'extra', 'c')")
    assert values(athena, "SELECT count(*), sum(id), max(name) FROM orc_ctas") == [["21", "290", "n9"]]
    got = 0
    for o in s3.list_objects_v2(Bucket="wlake", Prefix="orc_ctas/")["Contents"]:
        body = s3.get_object(Bucket="wlake", Key=o["Key"])["Body"].read()
        read = orc.read_table(io.BytesIO(body))
        assert read.column_names == ["id", "name", "kind"]
        got += read.num_rows
    assert got == 21

    # UNLOAD to ORC.
    ok(athena, "UNLOAD (SELECT id, name FROM src WHERE id < 5) TO 's3://wlake/orc_unload/' WITH (format = 'ORC')")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="wlake", Prefix="orc_unload/")["Contents"]]
    rows = sum(orc.read_table(io.BytesIO(s3.get_object(Bucket="wlake", Key=k)["Body"].read())).num_rows for k in keys)
    assert rows == 5


def test_avro_tables_read_and_written(wlake):
    import datetime
    import fastavro
    athena, glue, s3 = wlake
    # An Avro file from another writer (fastavro, deflate): fields matched by name, unions with
    # null, a nested record, an array, timestamp-millis.
    schema = fastavro.parse_schema({"type": "record", "name": "ev", "fields": [
        {"name": "Label", "type": ["null", "string"]},
        {"name": "id", "type": "long"},
        {"name": "seen", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "geo", "type": {"type": "record", "name": "g", "fields": [{"name": "lat", "type": "double"}]}},
    ]})
    recs = [{"Label": None if i == 2 else f"l{i}", "id": i,
             "seen": datetime.datetime(2024, 1, 1, 0, 0, i, tzinfo=datetime.timezone.utc),
             "tags": ["a"] * i, "geo": {"lat": i / 2}} for i in range(4)]
    buf = io.BytesIO()
    fastavro.writer(buf, schema, recs, codec="deflate")
    s3.put_object(Bucket="wlake", Key="avroext/part-0.avro", Body=buf.getvalue())
    ok(athena, "CREATE EXTERNAL TABLE avro_ext (id bigint, label string, seen timestamp, tags array<string>, geo struct<lat:double>, missing int) "
               "STORED AS AVRO LOCATION 's3://wlake/avroext/'")
    t = glue.get_table(DatabaseName="wdb", Name="avro_ext")["Table"]
    assert t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
    assert values(athena, "SELECT id, label, seen, cardinality(tags), geo.lat, missing FROM avro_ext WHERE id > 0 ORDER BY id") == [
        ["1", "l1", "2024-01-01 00:00:01.000", "1", "0.5", None],
        ["2", None, "2024-01-01 00:00:02.000", "2", "1.0", None],
        ["3", "l3", "2024-01-01 00:00:03.000", "3", "1.5", None]]
    assert values(athena, "SELECT count(*) FROM avro_ext") == [["4"]]

    # CTAS, INSERT and UNLOAD write Avro that fastavro reads back; the table reads as Avro.
    ok(athena, "CREATE TABLE avro_ctas WITH (format = 'AVRO', write_compression = 'SNAPPY', external_location = 's3://wlake/avro_ctas/') AS SELECT id, name, kind, CAST(id AS smallint) AS small FROM src")
    t = glue.get_table(DatabaseName="wdb", Name="avro_ctas")["Table"]
    assert t["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
    ok(athena, "INSERT INTO avro_ctas VALUES (100, 'extra', 'c', 7)")
    assert values(athena, "SELECT count(*), sum(id), max(name), sum(small) FROM avro_ctas") == [["21", "290", "n9", "197"]]
    got = []
    for o in s3.list_objects_v2(Bucket="wlake", Prefix="avro_ctas/")["Contents"]:
        reader = fastavro.reader(io.BytesIO(s3.get_object(Bucket="wlake", Key=o["Key"])["Body"].read()))
        assert reader.codec in ("snappy", "deflate")
        got += list(reader)
    assert len(got) == 21 and sorted(r["id"] for r in got)[-1] == 100
    assert set(got[0]) == {"id", "name", "kind", "small"}
    ok(athena, "UNLOAD (SELECT id, name, TIMESTAMP '2024-05-06 07:08:09.123' AS ts FROM src WHERE id < 5) TO 's3://wlake/avro_unload/' WITH (format = 'AVRO')")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="wlake", Prefix="avro_unload/")["Contents"]]
    read = [r for k in keys for r in fastavro.reader(io.BytesIO(s3.get_object(Bucket="wlake", Key=k)["Body"].read()))]
    assert len(read) == 5
    assert read[0]["ts"] == datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.timezone.utc)
    assert "Unsupported compression 'LZ4' for format AVRO" in failed(athena, "UNLOAD (SELECT 1 AS x) TO 's3://wlake/avro_bad/' WITH (format = 'AVRO', compression = 'LZ4')")


def test_named_queries_prepared_statements_and_runtime_statistics(wlake):
    athena = wlake[0]
    qid = athena.create_named_query(Name="odd ids", Database="wdb", QueryString="SELECT id FROM src WHERE id % 2 = 1", ClientRequestToken="t" * 32)["NamedQueryId"]
    assert athena.create_named_query(Name="odd ids", Database="wdb", QueryString="x", ClientRequestToken="t" * 32)["NamedQueryId"] == qid
    q = athena.get_named_query(NamedQueryId=qid)["NamedQuery"]
    assert q["Name"] == "odd ids" and q["WorkGroup"] == "primary" and q["Database"] == "wdb"
    assert qid in athena.list_named_queries()["NamedQueryIds"]
    athena.update_named_query(NamedQueryId=qid, Name="odd", QueryString="SELECT 1")
    got = athena.batch_get_named_query(NamedQueryIds=[qid, "nope"])
    assert got["NamedQueries"][0]["Name"] == "odd" and got["UnprocessedNamedQueryIds"][0]["NamedQueryId"] == "nope"
    athena.delete_named_query(NamedQueryId=qid)
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.get_named_query(NamedQueryId=qid)

    athena.create_prepared_statement(StatementName="by_kind", WorkGroup="primary", QueryStatement="SELECT count(*) FROM src WHERE kind = ? AND id < ?")
    with pytest.raises(athena.exceptions.InvalidRequestException):
        athena.create_prepared_statement(StatementName="by_kind", WorkGroup="primary", QueryStatement="SELECT 1")
    assert athena.get_prepared_statement(StatementName="by_kind", WorkGroup="primary")["PreparedStatement"]["QueryStatement"].startswith("SELECT count(*)")
    assert values(athena, "EXECUTE by_kind USING 'a', 10") == [["5"]]
    e = athena.start_query_execution(QueryString="EXECUTE by_kind", QueryExecutionContext={"Database": "wdb"}, ResultConfiguration={"OutputLocation": "s3://wresults/r/"}, ExecutionParameters=["'b'", "4"])
    assert rows(athena, wait_done(athena, e["QueryExecutionId"]))[1][1:] == [["2"]]
    ok(athena, "PREPARE from_sql FROM SELECT ? + 1 AS x")
    assert [p["StatementName"] for p in athena.list_prepared_statements(WorkGroup="primary")["PreparedStatements"]] == ["by_kind", "from_sql"]
    assert values(athena, "EXECUTE from_sql USING 41") == [["42"]]
    ok(athena, "DEALLOCATE PREPARE from_sql")
    with pytest.raises(athena.exceptions.ResourceNotFoundException):
        athena.get_prepared_statement(StatementName="from_sql", WorkGroup="primary")
    assert "not found" in failed(athena, "EXECUTE from_sql USING 1")
    athena.delete_prepared_statement(StatementName="by_kind", WorkGroup="primary")

    e = ok(athena, "SELECT id FROM src WHERE id < 3")
    stats = athena.get_query_runtime_statistics(QueryExecutionId=e["QueryExecutionId"])["QueryRuntimeStatistics"]
    assert stats["Rows"]["OutputRows"] == 3 and stats["Rows"]["InputRows"] >= 3
    assert stats["Timeline"]["TotalExecutionTimeInMillis"] >= stats["Timeline"]["EngineExecutionTimeInMillis"] >= 0


def wait_done(athena, qid):
    import time
    deadline = time.time() + 60
    while athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        assert time.time() < deadline
        time.sleep(0.01)
    return qid


def test_partition_projection(wlake):
    athena, glue, s3 = wlake
    import pyarrow as pa

    for region in ("eu", "us"):
        for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
            buf = io.BytesIO()
            pq.write_table(pa.table({"n": list(range(10))}), buf)
            s3.put_object(Bucket="wlake", Key=f"proj/{region}/{day}/part.parquet", Body=buf.getvalue())
    ok(athena, """CREATE EXTERNAL TABLE proj (n int) PARTITIONED BY (region string, dt string) STORED AS PARQUET
        LOCATION 's3://wlake/proj/' TBLPROPERTIES ('projection.enabled' = 'true',
        'projection.region.type' = 'enum', 'projection.region.values' = 'eu,us',
        'projection.dt.type' = 'date', 'projection.dt.range' = '2024-01-01,NOW', 'projection.dt.format' = 'yyyy-MM-dd',
        'storage.location.template' = 's3://wlake/proj/${region}/${dt}/')""")
    full = ok(athena, "SELECT count(*), sum(n) FROM proj")
    assert rows(athena, full["QueryExecutionId"])[1][1:] == [["60", "270"]]
    one = ok(athena, "SELECT count(*), sum(n), min(region), min(dt) FROM proj WHERE region = 'us' AND dt = '2024-01-02'")
    assert rows(athena, one["QueryExecutionId"])[1][1:] == [["10", "45", "us", "2024-01-02"]]
    assert one["Statistics"]["DataScannedInBytes"] * 5 < full["Statistics"]["DataScannedInBytes"]
    # The catalog holds no partitions: they are projected.
    assert glue.get_partitions(DatabaseName="wdb", TableName="proj")["Partitions"] == []
    ok(athena, """CREATE EXTERNAL TABLE inj (n int) PARTITIONED BY (region string) STORED AS PARQUET
        LOCATION 's3://wlake/proj/' TBLPROPERTIES ('projection.enabled' = 'true', 'projection.region.type' = 'injected',
        'storage.location.template' = 's3://wlake/proj/${region}/2024-01-01/')""")
    assert values(athena, "SELECT count(*) FROM inj WHERE region = 'eu'") == [["10"]]
    assert "CONSTRAINT_VIOLATION" in failed(athena, "SELECT count(*) FROM inj")


def test_openx_serde_properties(wlake):
    athena, glue, s3 = wlake
    lines = '{"User": "A", "@ts": "1"}\nnot json\n{"user": "b", "@ts": "2", "Nested": {"K": 5}}\n'
    s3.put_object(Bucket="wlake", Key="openx/part.json.gz", Body=gzip.compress(lines.encode()))
    ok(athena, """CREATE EXTERNAL TABLE ox (user string, ts int, nested struct<k:int>)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true', 'mapping.ts' = '@ts')
        LOCATION 's3://wlake/openx/'""")
    assert values(athena, "SELECT user, ts, nested.k FROM ox ORDER BY ts NULLS LAST") == [["A", "1", None], ["b", "2", "5"], [None, None, None]]
    ok(athena, """CREATE EXTERNAL TABLE ox_strict (user string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://wlake/openx/'""")
    assert "HIVE_CURSOR_ERROR" in failed(athena, "SELECT count(user) FROM ox_strict")


def test_edge_cases_fail_cleanly_or_work(wlake):
    athena = wlake[0]
    # A view over itself fails the query (and Weir keeps running).
    ok(athena, "CREATE VIEW loop1 AS SELECT 1 AS x")
    ok(athena, "CREATE OR REPLACE VIEW loop1 AS SELECT * FROM loop1")
    assert "recursive" in failed(athena, "SELECT * FROM loop1")
    assert values(athena, "SELECT 1 + 1") == [["2"]]
    # Mixed-case quoted aliases become lower-case columns whose data reads back.
    ok(athena, 'CREATE TABLE cased WITH (partitioned_by = ARRAY[\'Part\']) AS SELECT 7 AS "UserId", \'p\' AS "Part"')
    assert values(athena, "SELECT userid, part FROM cased") == [["7", "p"]]
    # A column list whose first name starts like a keyword is a column list.
    ok(athena, "CREATE TABLE sel AS SELECT 1 AS selected_at, 2 AS x")
    ok(athena, "INSERT INTO sel (selected_at, x) VALUES (3, 4)")
    assert values(athena, "SELECT selected_at, x FROM sel ORDER BY x") == [["1", "2"], ["3", "4"]]
    # Out-of-range date arithmetic is an error, not a crash.
    assert failed(athena, "SELECT date_add('day', 1000000000000000, TIMESTAMP '2024-01-01 00:00:00')")
    assert "Cannot access group" in failed(athena, "SELECT regexp_extract_all('a1', '[0-9]', 3)")
