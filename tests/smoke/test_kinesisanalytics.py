"""Kinesis Data Analytics (v1) SQL applications with boto3 against a real Weir server: the
getting-started application created as the docs' CLI steps create it, versions and part ids,
Add/Delete/Update, tags, schema discovery from a stream, errors, and a restart."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import start_weir
from test_kda_sql import clients, schema, stream_arn

ROLE = "arn:aws:iam::123456789012:role/kda"
CODE = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), change REAL, price REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM ticker_symbol, change, price FROM "SOURCE_SQL_STREAM_001";"""


def code(err):
    return err.value.response["Error"]["Code"]


def test_the_getting_started_application_through_its_lifecycle(endpoint):
    kda, kinesis = clients(endpoint)
    source = stream_arn(kinesis, "kda-source")
    dest = stream_arn(kinesis, "kda-dest")
    summary = kda.create_application(
        ApplicationName="ExampleApp",
        ApplicationDescription="stock ticker demo",
        Inputs=[{
            "NamePrefix": "SOURCE_SQL_STREAM",
            "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE},
            "InputSchema": schema(),
        }],
        Outputs=[{
            "Name": "DESTINATION_SQL_STREAM",
            "KinesisStreamsOutput": {"ResourceARN": dest, "RoleARN": ROLE},
            "DestinationSchema": {"RecordFormatType": "JSON"},
        }],
        ApplicationCode=CODE,
        Tags=[{"Key": "team", "Value": "data"}],
    )["ApplicationSummary"]
    assert summary["ApplicationStatus"] == "READY"
    assert summary["ApplicationARN"].startswith("arn:aws:kinesisanalytics:us-east-1:")
    assert summary["ApplicationARN"].endswith(":application/ExampleApp")

    d = kda.describe_application(ApplicationName="ExampleApp")["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 1 and d["ApplicationCode"] == CODE
    (i,) = d["InputDescriptions"]
    assert i["InputId"] == "1.1" and i["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001"]
    assert i["KinesisStreamsInputDescription"] == {"ResourceARN": source, "RoleARN": ROLE}
    assert i["InputSchema"] == schema() and i["InputParallelism"] == {"Count": 1}
    assert d["OutputDescriptions"][0]["OutputId"] == "1.1"

    # A change names the version it changes; a stale one is refused.
    with pytest.raises(ClientError) as e:
        kda.add_application_output(ApplicationName="ExampleApp", CurrentApplicationVersionId=7, Output={
            "Name": "DESTINATION_SQL_STREAM", "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleARN": ROLE},
            "DestinationSchema": {"RecordFormatType": "CSV"}})
    assert code(e) == "ConcurrentModificationException"
    kda.add_application_output(ApplicationName="ExampleApp", CurrentApplicationVersionId=1, Output={
        "Name": "DESTINATION_SQL_STREAM", "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "CSV"}})
    d = kda.describe_application(ApplicationName="ExampleApp")["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 2
    assert [o["OutputId"] for o in d["OutputDescriptions"]] == ["1.1", "2.1"]
    assert d["OutputDescriptions"][1]["LambdaOutputDescription"]["RoleARN"] == ROLE

    # A second streaming source, or a fourth destination, is past AWS's limits.
    with pytest.raises(ClientError) as e:
        kda.add_application_input(ApplicationName="ExampleApp", CurrentApplicationVersionId=2, Input={
            "NamePrefix": "OTHER", "KinesisStreamsInput": {"ResourceARN": source, "RoleARN": ROLE}, "InputSchema": schema()})
    assert code(e) == "InvalidArgumentException"

    kda.add_application_reference_data_source(ApplicationName="ExampleApp", CurrentApplicationVersionId=2, ReferenceDataSource={
        "TableName": "CompanyName",
        "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::ref", "FileKey": "companies.csv", "ReferenceRoleARN": ROLE},
        "ReferenceSchema": {"RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
                            "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(4)"}, {"Name": "Company", "SqlType": "VARCHAR(64)"}]}})
    kda.add_application_cloud_watch_logging_option(ApplicationName="ExampleApp", CurrentApplicationVersionId=3, CloudWatchLoggingOption={
        "LogStreamARN": "arn:aws:logs:us-east-1:123456789012:log-group:kda:log-stream:app", "RoleARN": ROLE})
    d = kda.describe_application(ApplicationName="ExampleApp")["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 4
    assert d["ReferenceDataSourceDescriptions"][0]["ReferenceId"] == "3.1"
    assert d["CloudWatchLoggingOptionDescriptions"][0]["CloudWatchLoggingOptionId"] == "4.1"

    kda.update_application(ApplicationName="ExampleApp", CurrentApplicationVersionId=4, ApplicationUpdate={
        "ApplicationCodeUpdate": CODE + "\n-- v5",
        "InputUpdates": [{"InputId": "1.1", "NamePrefixUpdate": "IN", "InputParallelismUpdate": {"CountUpdate": 2}}],
        "OutputUpdates": [{"OutputId": "2.1", "DestinationSchemaUpdate": {"RecordFormatType": "JSON"}}],
    })
    d = kda.describe_application(ApplicationName="ExampleApp")["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 5 and d["ApplicationCode"].endswith("-- v5")
    assert d["InputDescriptions"][0]["InAppStreamNames"] == ["IN_001", "IN_002"]
    assert d["OutputDescriptions"][1]["DestinationSchema"] == {"RecordFormatType": "JSON"}
    with pytest.raises(ClientError) as e:
        kda.update_application(ApplicationName="ExampleApp", CurrentApplicationVersionId=5,
                               ApplicationUpdate={"OutputUpdates": [{"OutputId": "9.9", "NameUpdate": "X"}]})
    assert code(e) == "ResourceNotFoundException"

    kda.delete_application_output(ApplicationName="ExampleApp", CurrentApplicationVersionId=5, OutputId="2.1")
    kda.delete_application_reference_data_source(ApplicationName="ExampleApp", CurrentApplicationVersionId=6, ReferenceId="3.1")
    kda.delete_application_cloud_watch_logging_option(ApplicationName="ExampleApp", CurrentApplicationVersionId=7, CloudWatchLoggingOptionId="4.1")
    d = kda.describe_application(ApplicationName="ExampleApp")["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 8 and len(d["OutputDescriptions"]) == 1
    assert d["ReferenceDataSourceDescriptions"] == [] and d["CloudWatchLoggingOptionDescriptions"] == []

    arn = summary["ApplicationARN"]
    kda.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    kda.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert kda.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        kda.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    assert code(e) == "TooManyTagsException"

    kda.delete_application(ApplicationName="ExampleApp", CreateTimestamp=d["CreateTimestamp"])
    with pytest.raises(ClientError) as e:
        kda.describe_application(ApplicationName="ExampleApp")
    assert code(e) == "ResourceNotFoundException"


def test_model_validation_and_control_plane_errors(endpoint):
    kda, _ = clients(endpoint)
    with pytest.raises(ClientError) as e:
        kda.create_application(ApplicationName="bad name!")
    assert code(e) == "ValidationException"
    assert "applicationName" in str(e.value)
    with pytest.raises(ClientError) as e:
        kda.create_application(ApplicationName="x", ApplicationCode="a" * 102401)
    assert code(e) == "ValidationException"
    kda.create_application(ApplicationName="dup")
    with pytest.raises(ClientError) as e:
        kda.create_application(ApplicationName="dup")
    assert code(e) == "ResourceInUseException"
    # Stopping an application that is not running; starting one without a source.
    with pytest.raises(ClientError) as e:
        kda.stop_application(ApplicationName="dup")
    assert code(e) == "ResourceInUseException"
    with pytest.raises(ClientError) as e:
        kda.describe_application(ApplicationName="nope")
    assert code(e) == "ResourceNotFoundException"


def test_list_pages_by_name(endpoint):
    kda, _ = clients(endpoint)
    for n in range(5):
        kda.create_application(ApplicationName=f"page-{n}")
    got, start = [], None
    while True:
        kw = {"Limit": 2}
        if start:
            kw["ExclusiveStartApplicationName"] = start
        page = kda.list_applications(**kw)
        names = [a["ApplicationName"] for a in page["ApplicationSummaries"]]
        got += names
        if not page["HasMoreApplications"]:
            break
        start = names[-1]
    assert [n for n in got if n.startswith("page-")] == [f"page-{n}" for n in range(5)]


def test_discover_input_schema_from_a_stream(endpoint):
    kda, kinesis = clients(endpoint)
    arn = stream_arn(kinesis, "kda-discover")
    for rec in [
        {"TICKER_SYMBOL": "QXZ", "SECTOR": "HEALTHCARE", "CHANGE": -0.05, "PRICE": 84.51},
        {"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": 1.5, "PRICE": 5.2},
    ]:
        kinesis.put_record(StreamName="kda-discover", Data=json.dumps(rec).encode(), PartitionKey="k")
    out = kda.discover_input_schema(ResourceARN=arn, RoleARN=ROLE,
                                    InputStartingPositionConfiguration={"InputStartingPosition": "TRIM_HORIZON"})
    cols = {c["Name"]: (c["SqlType"], c["Mapping"]) for c in out["InputSchema"]["RecordColumns"]}
    assert cols["TICKER_SYMBOL"] == ("VARCHAR(4)", "$.TICKER_SYMBOL")
    assert cols["SECTOR"] == ("VARCHAR(16)", "$.SECTOR")
    assert cols["PRICE"] == ("REAL", "$.PRICE")
    assert out["InputSchema"]["RecordFormat"]["RecordFormatType"] == "JSON"
    assert len(out["RawInputRecords"]) == 2 and len(out["ParsedInputRecords"]) == 2
    empty = stream_arn(kinesis, "kda-empty")
    with pytest.raises(ClientError) as e:
        kda.discover_input_schema(ResourceARN=empty, RoleARN=ROLE,
                                  InputStartingPositionConfiguration={"InputStartingPosition": "TRIM_HORIZON"})
    assert code(e) == "UnableToDetectSchemaException"
    # The exception's records members come with it (empty here: nothing was read).
    assert e.value.response["RawInputRecords"] == [] and e.value.response["ProcessedInputRecords"] == [], e.value.response


def test_applications_survive_a_restart(tmp_path):
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        kda, _ = clients(url)
        kda.create_application(ApplicationName="kept", ApplicationCode=CODE)
        kda.update_application(ApplicationName="kept", CurrentApplicationVersionId=1,
                               ApplicationUpdate={"ApplicationCodeUpdate": CODE + "\n-- 2"})
    finally:
        proc.kill()
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        kda, _ = clients(url)
        d = kda.describe_application(ApplicationName="kept")["ApplicationDetail"]
        assert d["ApplicationVersionId"] == 2 and d["ApplicationStatus"] == "READY"
    finally:
        proc.terminate()
        proc.wait(30)
