"""Firehose with boto3 against a real Weir server; what was delivered is read back through
Weir's S3 by an independent reader (pyarrow's S3FileSystem and its JSON reader)."""

import gzip
import json
import re
import time
import urllib.parse
import urllib.request

import boto3
import pyarrow.json as pj
from pyarrow import fs


def clients(endpoint):
    kw = dict(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
    )
    return boto3.client("firehose", **kw), boto3.client("s3", **kw)


def flush(endpoint, name):
    """Weir's hook: delivers the buffers now; answers the stream's counts."""
    req = urllib.request.Request(f"{endpoint}/_weir/firehose/us-east-1/{name}/flush", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def test_boto3_put_record_batch_to_gzip_json_lines_read_by_pyarrow(endpoint, tmp_path):
    fh, s3 = clients(endpoint)
    s3.create_bucket(Bucket="fh-lake")
    fh.create_delivery_stream(
        DeliveryStreamName="orders",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::fh-lake",
            "Prefix": "orders/dt=!{timestamp:yyyy-MM-dd}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
            },
        },
    )
    deadline = time.monotonic() + 30
    while fh.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"][
        "DeliveryStreamStatus"
    ] != "ACTIVE":
        assert time.monotonic() < deadline, "delivery stream never became ACTIVE"
        time.sleep(0.02)
    rows = [{"order": i, "amount": i * 1.5, "sku": f"sku-{i % 7}"} for i in range(1200)]
    for start in range(0, len(rows), 400):
        out = fh.put_record_batch(
            DeliveryStreamName="orders",
            Records=[{"Data": json.dumps(r).encode()} for r in rows[start : start + 400]],
        )
        assert out["FailedPutCount"] == 0
    fh.put_record(DeliveryStreamName="orders", Record={"Data": json.dumps({"order": 1200, "amount": 0.0, "sku": "last"}).encode()})
    rows.append({"order": 1200, "amount": 0.0, "sku": "last"})
    counts = flush(endpoint, "orders")
    assert counts["recordsIn"] == counts["recordsDelivered"] == len(rows), counts
    assert counts["recordsFailed"] == 0 and counts["objects"] == 1, counts

    listed = s3.list_objects_v2(Bucket="fh-lake", Prefix="orders/")["Contents"]
    assert len(listed) == 1
    key = listed[0]["Key"]
    assert re.fullmatch(
        r"orders/dt=\d{4}-\d{2}-\d{2}/orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz", key
    ), key
    raw = s3.get_object(Bucket="fh-lake", Key=key)["Body"].read()
    assert [json.loads(l) for l in gzip.decompress(raw).splitlines()] == rows

    # pyarrow reads the gzip JSON lines through Weir's S3 endpoint.
    host = urllib.parse.urlparse(endpoint)
    s3fs = fs.S3FileSystem(
        access_key="AKIDSMOKE",
        secret_key="secret",
        endpoint_override=f"{host.hostname}:{host.port}",
        scheme="http",
        region="us-east-1",
    )
    with s3fs.open_input_stream(f"fh-lake/{key}", compression="gzip") as f:
        table = pj.read_json(f)
    assert table.num_rows == len(rows)
    assert table.column("order").to_pylist() == [r["order"] for r in rows]
    assert table.column("sku").to_pylist()[-1] == "last"


def test_boto3_errors(endpoint):
    fh, _ = clients(endpoint)
    try:
        fh.put_record(DeliveryStreamName="nope", Record={"Data": b"x"})
        raise AssertionError("expected an error")
    except fh.exceptions.ResourceNotFoundException:
        pass
    try:
        fh.create_delivery_stream(
            DeliveryStreamName="bad",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::fh-lake",
                "Prefix": "p/!{timestamp:yyyy}/",
            },
        )
        raise AssertionError("expected an error")
    except fh.exceptions.InvalidArgumentException as e:
        assert "ErrorOutputPrefix" in str(e)


def test_athena_queries_what_firehose_delivered(endpoint):
    """Gzip JSON lines under `dt=` prefixes, as Firehose delivers them, queried with Athena
    through a table over the prefix (partitions found by MSCK REPAIR TABLE)."""
    from test_athena import clients as athena_clients, rows as result_rows, run

    fh, s3 = clients(endpoint)
    athena, glue, _ = athena_clients(endpoint)
    for b in ("fh-clicks", "fh-results"):
        s3.create_bucket(Bucket=b)
    fh.create_delivery_stream(
        DeliveryStreamName="clicks",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::fh-clicks",
            "Prefix": "clicks/dt=!{timestamp:yyyy-MM-dd}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "CompressionFormat": "GZIP",
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}],
            },
        },
    )
    deadline = time.monotonic() + 30
    while fh.describe_delivery_stream(DeliveryStreamName="clicks")["DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "delivery stream never became ACTIVE"
        time.sleep(0.02)
    records = [{"user": f"u{i % 5}", "n": i} for i in range(100)]
    assert fh.put_record_batch(DeliveryStreamName="clicks", Records=[{"Data": json.dumps(r).encode()} for r in records])["FailedPutCount"] == 0
    assert flush(endpoint, "clicks")["recordsDelivered"] == 100

    def ok(sql):
        e = run(athena, sql, out="s3://fh-results/q/")
        assert e["Status"]["State"] == "SUCCEEDED", (sql, e["Status"])
        return result_rows(athena, e["QueryExecutionId"])[1]

    ok("CREATE EXTERNAL TABLE clicks (user string, n int) PARTITIONED BY (dt string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://fh-clicks/clicks/'")
    ok("MSCK REPAIR TABLE clicks")
    [part] = glue.get_partitions(DatabaseName="default", TableName="clicks")["Partitions"]
    day = part["Values"][0]
    assert ok(f"SELECT count(*), sum(n), count(DISTINCT user) FROM clicks WHERE dt = '{day}'") == [["_col0", "_col1", "_col2"], ["100", "4950", "5"]]
