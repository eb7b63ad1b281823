"""The Glue Data Catalog with boto3 against a real Weir server: databases, tables with versions,
partitions with Glue's filter expressions, batch errors, validation, and a restart."""

import signal

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import start_weir


def glue(endpoint):
    return boto3.client(
        "glue",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDSMOKE",
        aws_secret_access_key="secret",
    )


def table_input(name, location="s3://lake/events/"):
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json"},
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "msg", "Type": "string"}],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        },
        "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "int"}],
    }


def code(err):
    return err.value.response["Error"]["Code"]


def test_databases_tables_versions(endpoint):
    g = glue(endpoint)
    g.create_database(DatabaseInput={"Name": "Analytics", "Description": "d"})
    with pytest.raises(ClientError) as e:
        g.create_database(DatabaseInput={"Name": "analytics"})
    assert code(e) == "AlreadyExistsException"
    assert g.get_database(Name="ANALYTICS")["Database"]["Name"] == "analytics"
    names = [d["Name"] for d in g.get_databases()["DatabaseList"]]
    assert "analytics" in names

    g.create_table(DatabaseName="analytics", TableInput=table_input("Events"))
    t = g.get_table(DatabaseName="analytics", Name="events")["Table"]
    assert t["Name"] == "events" and t["DatabaseName"] == "analytics"
    assert t["StorageDescriptor"]["Location"] == "s3://lake/events/"
    assert t["PartitionKeys"][1] == {"Name": "hour", "Type": "int"}
    assert t["CreateTime"].year >= 2024 and t["VersionId"] == "0"

    updated = table_input("events", "s3://lake/events-v2/")
    g.update_table(DatabaseName="analytics", TableInput=updated)
    versions = g.get_table_versions(DatabaseName="analytics", TableName="events")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["1", "0"]
    assert versions[1]["Table"]["StorageDescriptor"]["Location"] == "s3://lake/events/"
    g.update_table(DatabaseName="analytics", TableInput=updated, SkipArchive=True)
    assert len(g.get_table_versions(DatabaseName="analytics", TableName="events")["TableVersions"]) == 2

    with pytest.raises(ClientError) as e:
        g.get_table(DatabaseName="analytics", Name="missing")
    assert code(e) == "EntityNotFoundException"
    with pytest.raises(ClientError) as e:
        g.create_table(DatabaseName="nodb", TableInput=table_input("x"))
    assert code(e) == "EntityNotFoundException"
    # The model's constraints, with AWS's texts.
    with pytest.raises(ClientError) as e:
        g.create_table(DatabaseName="analytics", TableInput=table_input("x" * 256))
    assert code(e) == "ValidationException"
    assert "at 'tableInput.name' failed to satisfy constraint" in str(e.value)

    g.create_table(DatabaseName="analytics", TableInput=table_input("other_table"))
    listed = [t["Name"] for t in g.get_tables(DatabaseName="analytics", Expression="other*")["TableList"]]
    assert listed == ["other_table"]
    found = g.search_tables(SearchText="events")["TableList"]
    # (Other tests' tables share the server: look at this database's.)
    assert [t["Name"] for t in found if t["DatabaseName"] == "analytics"] == ["events"]
    errors = g.batch_delete_table(DatabaseName="analytics", TablesToDelete=["other_table", "ghost"])["Errors"]
    assert [(x["TableName"], x["ErrorDetail"]["ErrorCode"]) for x in errors] == [("ghost", "EntityNotFoundException")]


def test_partitions_expressions_pages_and_batches(endpoint):
    g = glue(endpoint)
    g.create_database(DatabaseInput={"Name": "parts"})
    g.create_table(DatabaseName="parts", TableInput=table_input("p"))
    inputs = [
        {"Values": [f"2024-01-{d:02}", str(h)], "StorageDescriptor": {"Location": f"s3://lake/events/dt=2024-01-{d:02}/hour={h}/"}}
        for d in range(1, 11)
        for h in range(0, 24)
    ]
    for i in range(0, len(inputs), 100):
        assert g.batch_create_partition(DatabaseName="parts", TableName="p", PartitionInputList=inputs[i : i + 100])["Errors"] == []
    again = g.batch_create_partition(DatabaseName="parts", TableName="p", PartitionInputList=inputs[:2])["Errors"]
    assert [e["ErrorDetail"]["ErrorCode"] for e in again] == ["AlreadyExistsException"] * 2

    paginator = g.get_paginator("get_partitions")
    everything = [p for page in paginator.paginate(DatabaseName="parts", TableName="p", PaginationConfig={"PageSize": 50}) for p in page["Partitions"]]
    assert len(everything) == 240
    day = g.get_partitions(DatabaseName="parts", TableName="p", Expression="dt = '2024-01-05' AND hour BETWEEN 10 AND 12")["Partitions"]
    assert sorted(int(p["Values"][1]) for p in day) == [10, 11, 12]
    # Numeric keys compare as numbers: hour > 9 is not text order.
    assert len(g.get_partitions(DatabaseName="parts", TableName="p", Expression="dt = '2024-01-01' and hour > 9")["Partitions"]) == 14
    seg = sum(
        len(g.get_partitions(DatabaseName="parts", TableName="p", Segment={"SegmentNumber": s, "TotalSegments": 4})["Partitions"])
        for s in range(4)
    )
    assert seg == 240
    with pytest.raises(ClientError) as e:
        g.get_partitions(DatabaseName="parts", TableName="p", Expression="nope = 1")
    assert code(e) == "InvalidInputException"

    got = g.batch_get_partition(DatabaseName="parts", TableName="p", PartitionsToGet=[{"Values": ["2024-01-01", "0"]}, {"Values": ["1999-01-01", "0"]}])
    assert [p["Values"] for p in got["Partitions"]] == [["2024-01-01", "0"]]
    g.update_partition(DatabaseName="parts", TableName="p", PartitionValueList=["2024-01-01", "0"],
                       PartitionInput={"Values": ["2024-01-01", "0"], "Parameters": {"k": "v"}})
    assert g.get_partition(DatabaseName="parts", TableName="p", PartitionValues=["2024-01-01", "0"])["Partition"]["Parameters"] == {"k": "v"}
    errors = g.batch_delete_partition(DatabaseName="parts", TableName="p", PartitionsToDelete=[{"Values": ["2024-01-01", "0"]}, {"Values": ["x", "1"]}])["Errors"]
    assert [e["PartitionValues"] for e in errors] == [["x", "1"]]
    with pytest.raises(ClientError) as e:
        g.get_partition(DatabaseName="parts", TableName="p", PartitionValues=["2024-01-01", "0"])
    assert code(e) == "EntityNotFoundException"


def test_catalog_survives_kill_9(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        g = glue(url)
        g.create_database(DatabaseInput={"Name": "durable"})
        g.create_table(DatabaseName="durable", TableInput=table_input("t"))
        g.create_partition(DatabaseName="durable", TableName="t", PartitionInput={"Values": ["2024-01-01", "1"]})
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        g = glue(url)
        assert g.get_table(DatabaseName="durable", Name="t")["Table"]["Name"] == "t"
        parts = g.get_partitions(DatabaseName="durable", TableName="t")["Partitions"]
        assert [x["Values"] for x in parts] == [["2024-01-01", "1"]]
    finally:
        proc.terminate()
        proc.wait(30)
