"""Firehose record format conversion with boto3 against a real Weir server: JSON records become
Parquet (or ORC) objects of a Glue table's columns, read back by pyarrow and DuckDB; a crawler
over them makes a table Athena queries; records that do not fit land in the error output as
`format-conversion-failed` documents; AWS's create/update rules; kill -9 loses nothing."""

import base64
import datetime
import decimal
import io
import json
import re
import signal
import time

import duckdb
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from test_athena import clients as athena_clients
from test_athena import rows, run
from test_firehose import clients as firehose_clients
from test_firehose import flush
from test_glue_crawlers import wait_ready

ROLE = "arn:aws:iam::000000000000:role/firehose"


def make_bucket(s3, name):
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def glue_table(glue, db, name, columns, fmt="parquet"):
    try:
        glue.create_database(DatabaseInput={"Name": db})
    except glue.exceptions.AlreadyExistsException:
        pass
    serde = {
        "parquet": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "orc": "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    }[fmt]
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": name,
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "Location": f"s3://conv-schemas/{name}/",
                "SerdeInfo": {"SerializationLibrary": serde},
            },
        },
    )


def conversion(db, table, serializer=None, deserializer=None, **extra):
    c = {
        "SchemaConfiguration": {"RoleARN": ROLE, "DatabaseName": db, "TableName": table},
        "InputFormatConfiguration": {
            "Deserializer": {"OpenXJsonSerDe": {}} if deserializer is None else deserializer},
        "OutputFormatConfiguration": {
            "Serializer": {"ParquetSerDe": {}} if serializer is None else serializer},
    }
    c.update(extra)
    return c


def create_stream(fh, name, bucket, prefix, conv, **dest):
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": prefix,
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "DataFormatConversionConfiguration": conv,
            **dest,
        },
    )
    wait_active(fh, name)


def wait_active(fh, name):
    deadline = time.monotonic() + 30
    while fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
        "DeliveryStreamStatus"
    ] != "ACTIVE":
        assert time.monotonic() < deadline, "delivery stream never became ACTIVE"
        time.sleep(0.02)


EVENT_COLUMNS = [
    ("id", "int"),
    ("name", "string"),
    ("ts", "timestamp"),
    ("price", "decimal(10,2)"),
    ("tags", "array<string>"),
    ("loc", "struct<lat:double,lon:double>"),
    ("attrs", "map<string,bigint>"),
]


def test_json_to_parquet_then_a_crawler_then_athena(endpoint):
    fh, s3 = firehose_clients(endpoint)
    athena, glue, _ = athena_clients(endpoint)
    for b in ("conv-lake", "conv-schemas", "conv-results"):
        make_bucket(s3, b)
    glue_table(glue, "meta", "events", EVENT_COLUMNS)
    create_stream(fh, "events", "conv-lake", "events/", conversion("meta", "events"))
    d = fh.describe_delivery_stream(DeliveryStreamName="events")["DeliveryStreamDescription"]
    dest = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    # Conversion's buffer default is 128 MB; the configuration is described as given.
    assert dest["BufferingHints"] == {"SizeInMBs": 128, "IntervalInSeconds": 300}
    assert dest["DataFormatConversionConfiguration"] == {
        "SchemaConfiguration": {"RoleARN": ROLE, "DatabaseName": "meta", "TableName": "events"},
        "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
        "Enabled": True,
    }

    good = [
        {"ID": i, "Name": f"n{i}", "ts": f"2024-05-0{1 + i % 3}T10:00:0{i % 10}Z", "price": f"{i}.25",
         "tags": ["a", f"t{i}"], "loc": {"lat": 1.5 * i, "lon": -2.0}, "attrs": {"k": i}, "ignored": True}
        for i in range(500)
    ]
    bad = [b'{"id": "oops"}', b"not json at all", b"   "]
    records = [json.dumps(r).encode() for r in good]
    out = fh.put_record_batch(DeliveryStreamName="events", Records=[{"Data": r} for r in records[:250]] + [{"Data": bad[0]}])
    assert out["FailedPutCount"] == 0
    out = fh.put_record_batch(DeliveryStreamName="events", Records=[{"Data": r} for r in records[250:]] + [{"Data": b} for b in bad[1:]])
    assert out["FailedPutCount"] == 0
    counts = flush(endpoint, "events")
    assert counts["recordsIn"] == 503 and counts["recordsDelivered"] == 500, counts
    assert counts["recordsFailed"] == 3 and counts["conversionFailures"] == 3, counts
    assert counts["convertedRecords"] == 500, counts

    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="conv-lake", Prefix="events/")["Contents"]]
    assert len(listed) == 1 and re.fullmatch(
        r"events/\d{4}/\d\d/\d\d/\d\d/events-1-[\d-]+-[0-9a-f-]{36}\.parquet", listed[0]), listed
    body = s3.get_object(Bucket="conv-lake", Key=listed[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == [c for c, _ in EVENT_COLUMNS]
    assert pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression == "SNAPPY"
    got = table.to_pylist()
    assert [r["id"] for r in got] == list(range(500))
    assert got[7]["name"] == "n7" and got[7]["price"] == decimal.Decimal("7.25")
    assert got[7]["ts"] == datetime.datetime(2024, 5, 2, 10, 0, 7)
    assert got[7]["tags"] == ["a", "t7"] and got[7]["loc"] == {"lat": 10.5, "lon": -2.0}
    assert got[7]["attrs"] == [("k", 7)]
    # An independent reader of the same bytes.
    path = f"/tmp/weir-conv-{time.time_ns()}.parquet"
    with open(path, "wb") as f:
        f.write(body)
    assert duckdb.sql(f"SELECT count(*), sum(id), max(price) FROM '{path}'").fetchone() == (500, 124750, decimal.Decimal("499.25"))

    # Records that did not fit: one document each, in AWS's shape, nothing lost.
    errs = s3.list_objects_v2(Bucket="conv-lake", Prefix="errors/format-conversion-failed/")["Contents"]
    docs = []
    for o in errs:
        docs += [json.loads(l) for l in s3.get_object(Bucket="conv-lake", Key=o["Key"])["Body"].read().splitlines()]
    assert sorted(base64.b64decode(d["rawData"]) for d in docs) == sorted(bad)
    by_raw = {base64.b64decode(d["rawData"]): d for d in docs}
    assert by_raw[bad[0]]["lastErrorCode"] == "DataFormatConversion.MalformedData"
    assert by_raw[bad[0]]["lastErrorMessage"] == 'Data does not match the schema. For input string: "oops"'
    assert by_raw[bad[1]]["lastErrorCode"] == "DataFormatConversion.ParseError"
    assert by_raw[bad[2]]["lastErrorMessage"] == "The record was empty or contained only whitespace."
    d0 = by_raw[bad[0]]
    assert d0["attemptsMade"] == 1 and d0["dataCatalogTable"]["tableName"] == "events"
    assert d0["sequenceNumber"].isdigit() and d0["subSequenceNumber"] == 0
    assert by_raw[bad[1]]["sequenceNumber"] != d0["sequenceNumber"]
    assert d0["dataCatalogTable"]["versionId"] == "LATEST" and d0["dataCatalogTable"]["region"] == "us-east-1"

    # The lake fills itself: a crawler over the delivered objects, then Athena.
    glue.create_database(DatabaseInput={"Name": "convlakedb"})
    glue.create_crawler(Name="events-crawler", Role="r", DatabaseName="convlakedb",
                        Targets={"S3Targets": [{"Path": "s3://conv-lake/events/"}]})
    glue.start_crawler(Name="events-crawler")
    assert wait_ready(glue, "events-crawler")["LastCrawl"]["Status"] == "SUCCEEDED"
    t = glue.get_table(DatabaseName="convlakedb", Name="events")["Table"]
    assert t["Parameters"]["classification"] == "parquet"
    # Firehose's default YYYY/MM/dd/HH/ folders are the crawled table's partitions.
    assert [k["Name"] for k in t["PartitionKeys"]] == ["partition_0", "partition_1", "partition_2", "partition_3"]
    e = run(athena, "SELECT count(*), sum(id), max(name), min(ts), sum(price), max(loc.lat) FROM events",
            db="convlakedb", out="s3://conv-results/q/")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert rows(athena, e["QueryExecutionId"])[1][1:] == [
        ["500", "124750", "n99", "2024-05-01 10:00:00.000", "124875.00", "748.5"]
    ]


def test_orc_and_the_hive_json_serde(endpoint):
    fh, s3 = firehose_clients(endpoint)
    glue = athena_clients(endpoint)[1]
    for b in ("conv-orc-lake", "conv-schemas"):
        make_bucket(s3, b)
    glue_table(glue, "meta", "readings", [("sensor", "string"), ("value", "double"), ("at", "timestamp")], fmt="orc")
    create_stream(
        fh, "readings", "conv-orc-lake", "r/",
        conversion("meta", "readings", serializer={"OrcSerDe": {"Compression": "ZLIB"}},
                   deserializer={"HiveJsonSerDe": {"TimestampFormats": ["millis", "dd/MM/yyyy HH:mm"]}}),
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
        FileExtension=".orc.zlib",
    )
    recs = [
        {"sensor": "a", "value": 1.5, "at": "1518033528123"},
        {"sensor": "b", "value": 2, "at": "07/02/2017 15:13"},
        {"sensor": "c", "value": "3"},  # the Hive SerDe wants numbers for numbers
    ]
    fh.put_record_batch(DeliveryStreamName="readings", Records=[{"Data": json.dumps(r).encode()} for r in recs])
    counts = flush(endpoint, "readings")
    assert counts["recordsDelivered"] == 2 and counts["recordsFailed"] == 1, counts
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="conv-orc-lake", Prefix="r/")["Contents"]]
    assert len(keys) == 1 and keys[0].endswith(".orc.zlib"), keys
    # The error output is JSON lines, without the FileExtension meant for the ORC objects.
    errs = [o["Key"] for o in s3.list_objects_v2(Bucket="conv-orc-lake", Prefix="errors/")["Contents"]]
    assert len(errs) == 1 and not errs[0].endswith(".orc.zlib"), errs
    t = orc.ORCFile(io.BytesIO(s3.get_object(Bucket="conv-orc-lake", Key=keys[0])["Body"].read())).read()
    assert t.column("sensor").to_pylist() == ["a", "b"]
    assert t.column("at").to_pylist() == [
        datetime.datetime(2018, 2, 7, 19, 58, 48, 123000),
        datetime.datetime(2017, 2, 7, 15, 13),
    ]


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_create_and_update_follow_firehose_rules(endpoint):
    fh, s3 = firehose_clients(endpoint)
    glue = athena_clients(endpoint)[1]
    glue_table(glue, "rules", "t", [("a", "int")])

    def create(name, conv, **dest):
        return fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::conv-lake",
                "DataFormatConversionConfiguration": conv, **dest,
            },
        )

    inv = "InvalidArgumentException"
    assert error(lambda: create("r1", conversion("rules", "t"), CompressionFormat="GZIP")) == (
        inv,
        "The S3 destination's compression format must be set to UNCOMPRESSED when data format conversion "
        "is enabled. To enable compression within the converted output format, set the appropriate "
        "serialization option in the output format configuration.",
    )
    assert error(lambda: create("r1", conversion("rules", "t"), BufferingHints={"SizeInMBs": 5})) == (
        inv, "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.")
    c = conversion("rules", "t")
    del c["OutputFormatConfiguration"]
    assert error(lambda: create("r1", c)) == (inv, "OutputFormatConfiguration must not be null")
    assert error(lambda: create("r1", conversion("rules", "t", serializer={}))) == (inv, "Serializer must not be null")
    assert error(lambda: create("r1", conversion("rules", "t", deserializer={"OpenXJsonSerDe": {}, "HiveJsonSerDe": {}}))) == (
        inv, "More than one deserializer specified. Only one may be chosen.")
    c = conversion("rules", "t")
    del c["SchemaConfiguration"]["RoleARN"]
    assert error(lambda: create("r1", c)) == (inv, "SchemaConfiguration.RoleArn must not be null or empty")
    code, msg = error(lambda: create("r1", conversion("rules", "missing")))
    assert code == inv and "could not be found" in msg
    code, msg = error(lambda: create("r1", conversion("rules", "t", serializer={"ParquetSerDe": {"Compression": "LZO"}})))
    assert code == "ValidationException" and "enum value set: [UNCOMPRESSED, GZIP, SNAPPY]" in msg
    # Disabled conversion is kept as given, without its rules.
    create("r2", {"Enabled": False}, CompressionFormat="GZIP")
    dest = fh.describe_delivery_stream(DeliveryStreamName="r2")["DeliveryStreamDescription"]["Destinations"][0]
    assert dest["ExtendedS3DestinationDescription"]["DataFormatConversionConfiguration"] == {"Enabled": False}
    # Enabling it later: merged with what is stored, then checked (5 MB stored counts).
    create("r3", conversion("rules", "t", Enabled=False))
    wait_active(fh, "r3")
    d = fh.describe_delivery_stream(DeliveryStreamName="r3")["DeliveryStreamDescription"]
    assert error(lambda: fh.update_destination(
        DeliveryStreamName="r3", CurrentDeliveryStreamVersionId=d["VersionId"],
        DestinationId=d["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"DataFormatConversionConfiguration": {"Enabled": True}},
    )) == (inv, "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.")
    fh.update_destination(
        DeliveryStreamName="r3", CurrentDeliveryStreamVersionId=d["VersionId"],
        DestinationId=d["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": 64},
                                     "DataFormatConversionConfiguration": {"Enabled": True}},
    )
    dest = fh.describe_delivery_stream(DeliveryStreamName="r3")["DeliveryStreamDescription"]["Destinations"][0]
    conv = dest["ExtendedS3DestinationDescription"]["DataFormatConversionConfiguration"]
    assert conv["Enabled"] is True and conv["SchemaConfiguration"]["TableName"] == "t"


def test_kill_9_during_conversion_loses_nothing(tmp_path):
    from conftest import start_weir

    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        fh, s3 = firehose_clients(url)
        glue = athena_clients(url)[1]
        s3.create_bucket(Bucket="kill9-lake")
        glue_table(glue, "k9db", "t", [("n", "bigint"), ("s", "string")])
        create_stream(fh, "k9", "kill9-lake", "data/", conversion("k9db", "t"))
        for start in range(0, 2000, 500):
            out = fh.put_record_batch(
                DeliveryStreamName="k9",
                Records=[{"Data": json.dumps({"n": i, "s": "x" * 50}).encode()} for i in range(start, start + 500)],
            )
            assert out["FailedPutCount"] == 0
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        fh, s3 = firehose_clients(url)
        flush(url, "k9")
        seen = []
        for o in s3.list_objects_v2(Bucket="kill9-lake", Prefix="data/")["Contents"]:
            body = s3.get_object(Bucket="kill9-lake", Key=o["Key"])["Body"].read()
            seen += pq.read_table(io.BytesIO(body)).column("n").to_pylist()
        # Acknowledged records are all there (a buffer in flight at the kill may repeat).
        assert sorted(set(seen)) == list(range(2000))
    finally:
        proc.terminate()
        proc.wait(30)
