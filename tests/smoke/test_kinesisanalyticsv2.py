"""Kinesis Data Analytics v2 (`kinesisanalyticsv2`) SQL applications with boto3: the
getting-started application created through v2's ApplicationConfiguration, run, changed by
ConditionalToken, and seen by v1; Flink runtimes and Flink-only actions are refused."""

import pytest
from botocore.exceptions import ClientError

from test_kda_sql import FILTER, TICKS, Reader, clients, put, schema, stream_arn, tech, wait_status

import boto3

ROLE = "arn:aws:iam::123456789012:role/kda-v2"


def v2(url):
    return boto3.client("kinesisanalyticsv2", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="AKIDSMOKE", aws_secret_access_key="secret")


def err(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_a_sql_application_through_v2(endpoint):
    kda, kinesis = clients(endpoint)
    api = v2(endpoint)
    source = stream_arn(kinesis, "v2-source")
    dest = stream_arn(kinesis, "v2-dest")
    d = api.create_application(
        ApplicationName="v2-filter",
        RuntimeEnvironment="SQL-1_0",
        ServiceExecutionRole=ROLE,
        ApplicationConfiguration={
            "SqlApplicationConfiguration": {
                "Inputs": [{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": source},
                            "InputSchema": schema()}],
                "Outputs": [{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": dest},
                             "DestinationSchema": {"RecordFormatType": "JSON"}}],
            },
            "ApplicationCodeConfiguration": {"CodeContent": {"TextContent": FILTER}, "CodeContentType": "PLAINTEXT"},
        },
    )["ApplicationDetail"]
    assert d["ApplicationStatus"] == "READY" and d["ApplicationVersionId"] == 1
    assert d["RuntimeEnvironment"] == "SQL-1_0" and d["ServiceExecutionRole"] == ROLE
    sql = d["ApplicationConfigurationDescription"]["SqlApplicationConfigurationDescription"]
    (i,) = sql["InputDescriptions"]
    assert i["InputId"] == "1.1" and i["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001"]
    # Parts given without a role show the service execution role.
    assert i["KinesisStreamsInputDescription"] == {"ResourceARN": source, "RoleARN": ROLE}
    assert sql["OutputDescriptions"][0]["KinesisStreamsOutputDescription"] == {"ResourceARN": dest, "RoleARN": ROLE}
    code = d["ApplicationConfigurationDescription"]["ApplicationCodeConfigurationDescription"]
    assert code["CodeContentType"] == "PLAINTEXT" and code["CodeContentDescription"]["TextContent"] == FILTER

    # v1 sees the same application.
    v1 = kda.describe_application(ApplicationName="v2-filter")["ApplicationDetail"]
    assert v1["ApplicationCode"] == FILTER and v1["ApplicationVersionId"] == 1

    put(kinesis, "v2-source", TICKS)
    api.start_application(ApplicationName="v2-filter", RunConfiguration={"SqlRunConfigurations": [
        {"InputId": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"}}]})
    wait_status(kda, "v2-filter", "RUNNING")
    assert Reader(kinesis, "v2-dest").read(3) == tech(TICKS)
    with pytest.raises(ClientError) as e:
        api.stop_application(ApplicationName="v2-filter", Force=True)
    assert err(e)[0] == "InvalidArgumentException"
    api.stop_application(ApplicationName="v2-filter")
    wait_status(kda, "v2-filter", "READY")

    # Changes name the version by number or by ConditionalToken; a stale token is refused.
    token = api.describe_application(ApplicationName="v2-filter")["ApplicationDetail"]["ConditionalToken"]
    r = api.add_application_output(ApplicationName="v2-filter", CurrentApplicationVersionId=1, Output={
        "Name": "DESTINATION_SQL_STREAM", "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        "DestinationSchema": {"RecordFormatType": "CSV"}})
    assert r["ApplicationVersionId"] == 2 and [o["OutputId"] for o in r["OutputDescriptions"]] == ["1.1", "2.1"]
    with pytest.raises(ClientError) as e:
        api.update_application(ApplicationName="v2-filter", ConditionalToken=token, ApplicationConfigurationUpdate={
            "ApplicationCodeConfigurationUpdate": {"CodeContentUpdate": {"TextContentUpdate": FILTER + "\n-- 3"}}})
    assert err(e)[0] == "ConcurrentModificationException"
    token = api.describe_application(ApplicationName="v2-filter")["ApplicationDetail"]["ConditionalToken"]
    d = api.update_application(ApplicationName="v2-filter", ConditionalToken=token, ServiceExecutionRoleUpdate=ROLE + "-2", ApplicationConfigurationUpdate={
        "ApplicationCodeConfigurationUpdate": {"CodeContentUpdate": {"TextContentUpdate": FILTER + "\n-- 3"}},
        "SqlApplicationConfigurationUpdate": {"OutputUpdates": [{"OutputId": "2.1", "DestinationSchemaUpdate": {"RecordFormatType": "JSON"}}]},
    })["ApplicationDetail"]
    assert d["ApplicationVersionId"] == 3 and d["ServiceExecutionRole"] == ROLE + "-2"
    assert d["ApplicationConfigurationDescription"]["ApplicationCodeConfigurationDescription"]["CodeContentDescription"]["TextContent"].endswith("-- 3")
    r = api.delete_application_output(ApplicationName="v2-filter", CurrentApplicationVersionId=3, OutputId="2.1")
    assert r == {"ApplicationARN": d["ApplicationARN"], "ApplicationVersionId": 4, "ResponseMetadata": r["ResponseMetadata"]}

    apps = api.list_applications()["ApplicationSummaries"]
    mine = [a for a in apps if a["ApplicationName"] == "v2-filter"]
    assert mine == [{"ApplicationName": "v2-filter", "ApplicationARN": d["ApplicationARN"], "ApplicationStatus": "READY",
                     "ApplicationVersionId": 4, "RuntimeEnvironment": "SQL-1_0"}]

    # Snapshots and versions are for Flink applications.
    with pytest.raises(ClientError) as e:
        api.list_application_snapshots(ApplicationName="v2-filter")
    assert err(e)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        api.list_application_snapshots(ApplicationName="nope")
    assert err(e)[0] == "ResourceNotFoundException"
    api.delete_application(ApplicationName="v2-filter", CreateTimestamp=d["CreateTimestamp"])


def test_flink_runtimes_and_errors(endpoint):
    api = v2(endpoint)
    with pytest.raises(ClientError) as e:
        api.create_application(ApplicationName="flinky", RuntimeEnvironment="FLINK-1_20", ServiceExecutionRole=ROLE)
    code, message = err(e)
    assert code == "UnsupportedOperationException" and "Flink SQL Gateway" in message
    with pytest.raises(ClientError) as e:
        api.describe_application(ApplicationName="missing")
    assert err(e)[0] == "ResourceNotFoundException"
    # v2 puts the message in `Message`.
    assert e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        api.create_application(ApplicationName="bad code", RuntimeEnvironment="SQL-1_0", ServiceExecutionRole=ROLE)
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        api.create_application(ApplicationName="bad-sql", RuntimeEnvironment="SQL-1_0", ServiceExecutionRole=ROLE,
                               ApplicationConfiguration={"ApplicationCodeConfiguration": {
                                   "CodeContent": {"TextContent": "SELEC"}, "CodeContentType": "PLAINTEXT"}})
    assert err(e)[0] == "CodeValidationException"
