"""Firehose under a small memory budget (WEIR_FIREHOSE__BUFFER_MEMORY_MB=1): 40 partitions
of buffered records spill to files instead of growing memory, and every record is delivered
once, in its partition, in order — also when the buffers are converted to Parquet."""

import gzip
import io
import json
import time

import pyarrow.parquet as pq

from conftest import start_weir
from test_firehose import clients, flush
from test_firehose_conversion import conversion, glue_table, wait_active
from test_athena import clients as athena_clients

ROLE = "arn:aws:iam::000000000000:role/firehose"


def test_buffers_spill_past_the_budget_and_nothing_is_lost(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path), extra_env={"WEIR_FIREHOSE__BUFFER_MEMORY_MB": "1"})
    try:
        fh, s3 = clients(url)
        glue = athena_clients(url)[1]
        s3.create_bucket(Bucket="budget")
        glue_table(glue, "budgetdb", "rows", [("n", "bigint"), ("p", "string"), ("pad", "string")])
        partitioned = {
            "RoleARN": ROLE,
            "BucketARN": "arn:aws:s3:::budget",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "MetadataExtraction", "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{p: .p}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                {"Type": "AppendDelimiterToRecord"}]},
        }
        fh.create_delivery_stream(DeliveryStreamName="gz", ExtendedS3DestinationConfiguration={
            **partitioned, "Prefix": "gz/p=!{partitionKeyFromQuery:p}/", "CompressionFormat": "GZIP"})
        fh.create_delivery_stream(DeliveryStreamName="raw", ExtendedS3DestinationConfiguration={
            **partitioned, "Prefix": "raw/p=!{partitionKeyFromQuery:p}/"})
        fh.create_delivery_stream(DeliveryStreamName="pq", ExtendedS3DestinationConfiguration={
            **partitioned, "Prefix": "pq/p=!{partitionKeyFromQuery:p}/",
            "DataFormatConversionConfiguration": conversion("budgetdb", "rows")})
        for name in ("gz", "raw", "pq"):
            wait_active(fh, name)
        pad = "x" * 900
        rows = [{"n": i, "p": f"part{i % 40:02d}", "pad": pad} for i in range(8000)]
        for name in ("gz", "raw", "pq"):
            for start in range(0, len(rows), 500):
                out = fh.put_record_batch(DeliveryStreamName=name, Records=[
                    {"Data": json.dumps(r).encode()} for r in rows[start:start + 500]])
                assert out["FailedPutCount"] == 0
            counts = flush(url, name)
            assert counts["recordsDelivered"] == len(rows) and counts["recordsFailed"] == 0, counts
            # About 7.5 MB buffered against a 1 MB budget: most of it went through spill files.
            assert counts["spilledBytes"] > 4_000_000, counts

        by_part = {}
        for o in s3.list_objects_v2(Bucket="budget", Prefix="gz/")["Contents"]:
            body = gzip.decompress(s3.get_object(Bucket="budget", Key=o["Key"])["Body"].read())
            part = o["Key"].split("/")[1]
            by_part.setdefault(part, []).extend(json.loads(l)["n"] for l in body.splitlines())
        assert sorted(by_part) == [f"p=part{i:02d}" for i in range(40)]
        for part, ns in by_part.items():
            assert ns == [n for n in range(8000) if f"p=part{n % 40:02d}" == part]

        # Uncompressed objects copied from their spill files hold the same records.
        raw = {}
        for o in s3.list_objects_v2(Bucket="budget", Prefix="raw/")["Contents"]:
            body = s3.get_object(Bucket="budget", Key=o["Key"])["Body"].read()
            raw.setdefault(o["Key"].split("/")[1], []).extend(json.loads(l)["n"] for l in body.splitlines())
        assert raw == by_part

        seen = []
        for o in s3.list_objects_v2(Bucket="budget", Prefix="pq/")["Contents"]:
            t = pq.read_table(io.BytesIO(s3.get_object(Bucket="budget", Key=o["Key"])["Body"].read()))
            seen += t.column("n").to_pylist()
        assert sorted(seen) == list(range(8000))
        # Nothing is left behind in the spill directory.
        assert list((tmp_path / "delivery" / "spill").iterdir()) == []
    finally:
        proc.terminate()
        proc.wait(30)
