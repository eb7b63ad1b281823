"""Glue crawlers with boto3 against a real Weir server: a crawler over gzip JSON lines under
`dt=` folders (as Firehose delivers them) and a Parquet folder makes tables and partitions that
Athena then queries; the crawler's states, metrics, listing and Glue's errors."""

import gzip
import io
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from test_athena import clients, rows, run


def code(err):
    return err.value.response["Error"]["Code"]


def wait_ready(glue, name):
    deadline = time.time() + 60
    while True:
        c = glue.get_crawler(Name=name)["Crawler"]
        if c["State"] == "READY" and "LastCrawl" in c:
            return c
        assert time.time() < deadline, "crawl did not finish"
        time.sleep(0.01)


def test_a_crawl_makes_tables_athena_can_query(endpoint):
    athena, glue, s3 = clients(endpoint)
    for b in ("crawled", "crawl-results"):
        s3.create_bucket(Bucket=b)
    for day in ("2024-05-01", "2024-05-02"):
        body = "".join(f'{{"user": "u{i}", "n": {i}, "day": "{day}"}}\n' for i in range(10))
        s3.put_object(Bucket="crawled", Key=f"feed/clicks/dt={day}/part-0.gz", Body=gzip.compress(body.encode()))
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "label": ["a", "b", "c"]}), buf)
    s3.put_object(Bucket="crawled", Key="feed/labels/part-0.parquet", Body=buf.getvalue())
    glue.create_database(DatabaseInput={"Name": "crawldb"})

    glue.create_crawler(
        Name="feed", Role="arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-x",
        DatabaseName="crawldb", Targets={"S3Targets": [{"Path": "s3://crawled/feed/"}]},
        Tags={"team": "data"},
    )
    c = glue.get_crawler(Name="feed")["Crawler"]
    assert c["State"] == "READY" and c["Role"] == "service-role/AWSGlueServiceRole-x"
    assert c["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}
    assert c["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert c["Targets"]["S3Targets"] == [{"Path": "s3://crawled/feed/", "Exclusions": []}]
    assert c["Targets"]["JdbcTargets"] == [] and c["Version"] == 1 and "LastCrawl" not in c
    with pytest.raises(ClientError) as e:
        glue.stop_crawler(Name="feed")
    assert code(e) == "CrawlerNotRunningException"

    glue.start_crawler(Name="feed")
    c = wait_ready(glue, "feed")
    assert c["LastCrawl"]["Status"] == "SUCCEEDED", c["LastCrawl"]
    assert c["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers"

    clicks = glue.get_table(DatabaseName="crawldb", Name="clicks")["Table"]
    assert clicks["Parameters"]["classification"] == "json"
    assert clicks["Parameters"]["compressionType"] == "gzip"
    assert [(k["Name"], k["Type"]) for k in clicks["PartitionKeys"]] == [("dt", "string")]
    assert [c["Name"] for c in clicks["StorageDescriptor"]["Columns"]] == ["day", "n", "user"]
    parts = glue.get_partitions(DatabaseName="crawldb", TableName="clicks")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["2024-05-01", "2024-05-02"]
    labels = glue.get_table(DatabaseName="crawldb", Name="labels")["Table"]
    assert labels["Parameters"]["classification"] == "parquet"

    # The lake fills itself: Athena reads what the crawler registered.
    e = run(athena, "SELECT dt, count(*), sum(n) FROM clicks GROUP BY dt ORDER BY dt", db="crawldb", out="s3://crawl-results/q/")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert rows(athena, e["QueryExecutionId"])[1][1:] == [["2024-05-01", "10", "45"], ["2024-05-02", "10", "45"]]
    e = run(athena, "SELECT label FROM labels WHERE id = 2", db="crawldb", out="s3://crawl-results/q/")
    assert rows(athena, e["QueryExecutionId"])[1][1:] == [["b"]]

    m = glue.get_crawler_metrics(CrawlerNameList=["feed"])["CrawlerMetricsList"][0]
    assert m["CrawlerName"] == "feed" and m["TablesCreated"] == 2 and m["StillEstimating"] is False
    assert glue.list_crawlers(Tags={"team": "data"})["CrawlerNames"] == ["feed"]
    assert glue.list_crawlers(Tags={"team": "other"})["CrawlerNames"] == []
    got = glue.batch_get_crawlers(CrawlerNames=["feed", "nope"])
    assert [c["Name"] for c in got["Crawlers"]] == ["feed"] and got["CrawlersNotFound"] == ["nope"]
    # Other tests' crawlers share the server: GetCrawlers lists this one among them, by name.
    names = [c["Name"] for c in glue.get_crawlers()["Crawlers"]]
    assert "feed" in names and names == sorted(names)

    # A second run with a new day adds its partition.
    s3.put_object(Bucket="crawled", Key="feed/clicks/dt=2024-05-03/part-0.gz", Body=gzip.compress(b'{"user": "z", "n": 1, "day": "x"}\n'))
    glue.start_crawler(Name="feed")
    assert wait_ready(glue, "feed")["LastCrawl"]["Status"] == "SUCCEEDED"
    assert len(glue.get_partitions(DatabaseName="crawldb", TableName="clicks")["Partitions"]) == 3


def test_crawler_definitions_and_errors(endpoint):
    glue = clients(endpoint)[1]
    targets = {"S3Targets": [{"Path": "s3://nowhere/x/", "Exclusions": ["**.tmp"], "SampleSize": 10}]}
    glue.create_crawler(Name="defs", Role="r", Targets=targets, Schedule="cron(15 12 * * ? *)", TablePrefix="p_",
                        Configuration='{"Version":1.0,"Grouping":{"TableGroupingPolicy":"CombineCompatibleSchemas"}}')
    c = glue.get_crawler(Name="defs")["Crawler"]
    assert c["Schedule"] == {"ScheduleExpression": "cron(15 12 * * ? *)", "State": "SCHEDULED"}
    assert c["TablePrefix"] == "p_" and c["Targets"]["S3Targets"][0]["SampleSize"] == 10
    with pytest.raises(ClientError) as e:
        glue.create_crawler(Name="defs", Role="r", Targets=targets)
    assert code(e) == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        glue.update_crawler(Name="defs", Schedule="cron(0 0 * * * *)")
    assert code(e) == "InvalidInputException"
    with pytest.raises(ClientError) as e:
        glue.create_crawler(Name="nothing", Role="r", Targets={})
    assert code(e) == "InvalidInputException"
    with pytest.raises(ClientError) as e:
        glue.create_crawler(Name="incremental", Role="r", Targets=targets, RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"})
    assert code(e) == "InvalidInputException"
    with pytest.raises(ClientError) as e:
        glue.start_crawler_schedule(CrawlerName="defs")
    assert code(e) == "SchedulerRunningException"
    glue.stop_crawler_schedule(CrawlerName="defs")
    assert glue.get_crawler(Name="defs")["Crawler"]["Schedule"]["State"] == "NOT_SCHEDULED"
    with pytest.raises(ClientError) as e:
        glue.stop_crawler_schedule(CrawlerName="defs")
    assert code(e) == "SchedulerNotRunningException"
    glue.update_crawler_schedule(CrawlerName="defs", Schedule="cron(0 6 * * ? *)")
    assert glue.get_crawler(Name="defs")["Crawler"]["Schedule"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    # Terraform clears a schedule with an empty string; each update is a new version.
    glue.update_crawler(Name="defs", Schedule="", Description="d")
    c = glue.get_crawler(Name="defs")["Crawler"]
    assert "Schedule" not in c and c["Description"] == "d" and c["Version"] == 3
    with pytest.raises(ClientError) as e:
        glue.start_crawler_schedule(CrawlerName="defs")
    assert code(e) == "NoScheduleException"
    with pytest.raises(ClientError) as e:
        glue.get_crawler(Name="missing")
    assert code(e) == "EntityNotFoundException"
    assert "Crawler entry with name missing does not exist" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        glue.start_crawler(Name="missing")
    assert code(e) == "EntityNotFoundException"
    # More tables than the TableThreshold: the crawl fails and writes nothing.
    glue.create_crawler(Name="capped", Role="r", DatabaseName="crawldb", Targets={"S3Targets": [{"Path": "s3://crawled/feed/"}]},
                        Configuration='{"Version":1.0,"CrawlerOutput":{"Tables":{"TableThreshold":1}}}')
    glue.start_crawler(Name="capped")
    c = wait_ready(glue, "capped")
    assert c["LastCrawl"]["Status"] == "FAILED" and "Table Threshold value = 1, Tables detected - 2" in c["LastCrawl"]["ErrorMessage"]
    # A crawl of a bucket that does not exist fails, and says why.
    glue.start_crawler(Name="defs")
    c = wait_ready(glue, "defs")
    assert c["LastCrawl"]["Status"] == "FAILED" and "nowhere" in c["LastCrawl"]["ErrorMessage"]
    glue.delete_crawler(Name="defs")
    with pytest.raises(ClientError) as e:
        glue.delete_crawler(Name="defs")
    assert code(e) == "EntityNotFoundException"


def test_crawlers_survive_kill_9(tmp_path):
    import signal

    from conftest import start_weir

    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        glue = clients(url)[1]
        glue.create_crawler(Name="kept", Role="r", Targets={"S3Targets": [{"Path": "s3://b/p/"}]}, Schedule="cron(0 1 * * ? *)")
        glue.update_crawler(Name="kept", Description="after")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        c = clients(url)[1].get_crawler(Name="kept")["Crawler"]
        assert (c["Description"], c["Version"], c["State"]) == ("after", 2, "READY")
        assert c["Schedule"]["ScheduleExpression"] == "cron(0 1 * * ? *)"
    finally:
        proc.terminate()
        proc.wait(30)


def test_csv_folders_and_schema_changes_per_policy(endpoint):
    """A CSV folder beside JSON ones becomes its own table (header, delimiter, types); a new
    column is only logged under UpdateBehavior LOG, and written under UPDATE_IN_DATABASE."""
    athena, glue, s3 = clients(endpoint)
    s3.create_bucket(Bucket="policy")
    s3.put_object(Bucket="policy", Key="mixed/prices/part-0.csv", Body=b"sku,price\na,1.5\nb,2.25\n")
    s3.put_object(Bucket="policy", Key="mixed/events/part-0.json", Body=b'{"id": 1, "kind": "x"}\n')
    glue.create_database(DatabaseInput={"Name": "policydb"})
    glue.create_crawler(Name="logonly", Role="r", DatabaseName="policydb",
                        Targets={"S3Targets": [{"Path": "s3://policy/mixed/"}]},
                        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
    glue.start_crawler(Name="logonly")
    assert wait_ready(glue, "logonly")["LastCrawl"]["Status"] == "SUCCEEDED"
    prices = glue.get_table(DatabaseName="policydb", Name="prices")["Table"]
    assert prices["Parameters"]["classification"] == "csv"
    assert [(c["Name"], c["Type"]) for c in prices["StorageDescriptor"]["Columns"]] == [("sku", "string"), ("price", "double")]
    events = glue.get_table(DatabaseName="policydb", Name="events")["Table"]
    assert [c["Name"] for c in events["StorageDescriptor"]["Columns"]] == ["id", "kind"]

    # A new column: LOG leaves the table as it was.
    s3.put_object(Bucket="policy", Key="mixed/events/part-1.json", Body=b'{"id": 2, "kind": "y", "extra": true}\n')
    glue.start_crawler(Name="logonly")
    assert wait_ready(glue, "logonly")["LastCrawl"]["Status"] == "SUCCEEDED"
    events = glue.get_table(DatabaseName="policydb", Name="events")["Table"]
    assert [c["Name"] for c in events["StorageDescriptor"]["Columns"]] == ["id", "kind"]

    # UPDATE_IN_DATABASE writes it, and Athena reads it.
    glue.update_crawler(Name="logonly", SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"})
    glue.start_crawler(Name="logonly")
    assert wait_ready(glue, "logonly")["LastCrawl"]["Status"] == "SUCCEEDED"
    events = glue.get_table(DatabaseName="policydb", Name="events")["Table"]
    assert [c["Name"] for c in events["StorageDescriptor"]["Columns"]] == ["id", "kind", "extra"]
    e = run(athena, "SELECT id, extra FROM events ORDER BY id", db="policydb", out="s3://policy/results/")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert rows(athena, e["QueryExecutionId"])[1][1:] == [["1", None], ["2", "true"]]
