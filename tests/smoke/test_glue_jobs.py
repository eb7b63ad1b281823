"""Glue Python shell jobs with boto3 against a real Weir server: the script (in Weir's S3) runs
as a local Python process that reads its arguments with awsglue's getResolvedOptions and uses
boto3 against Weir; run states, retries, stops, concurrency, errors, and kill -9."""

import json
import signal
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from test_athena import clients

ROLE = "arn:aws:iam::000000000000:role/glue"

WRITER = b'''
import json
import sys
import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "out_key", "greeting"])
s3 = boto3.client("s3")
body = {"job": args["JOB_NAME"], "run": args["JOB_RUN_ID"], "greeting": args["greeting"],
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("jobs-"))}
s3.put_object(Bucket="jobs-out", Key=args["out_key"], Body=json.dumps(body).encode())
print("wrote", args["out_key"])
'''

FAILER = b'''
import sys
print("about to fail")
raise ValueError("boom " + sys.argv[sys.argv.index("--JOB_NAME") + 1])
'''

# Sleeps until stopped, or until Weir (its parent) is gone.
SLEEPER = b'''
import os
import time
parent = os.getppid()
print("sleeping", flush=True)
deadline = time.time() + 120
while os.getppid() == parent and time.time() < deadline:
    time.sleep(0.05)
'''


WRANGLER = b'''
import awswrangler as wr
import pandas as pd

wr.s3.to_parquet(pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]}), "s3://jobs-out/wr/", dataset=True)
back = wr.s3.read_parquet("s3://jobs-out/wr/", dataset=True)
print("rows", len(back), "sum", int(back["id"].sum()))
'''


def code(err):
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def wait_run(glue, job, run_id, states=("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")):
    deadline = time.time() + 60
    while True:
        r = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if r["JobRunState"] in states:
            return r
        assert time.time() < deadline, f"run stuck in {r['JobRunState']}"
        time.sleep(0.02)


def log(endpoint, job, run_id, stream):
    url = f"{endpoint}/_weir/glue/us-east-1/jobs/{job}/runs/{run_id}/{stream}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read().decode()


def put_script(s3, key, body):
    try:
        s3.create_bucket(Bucket="jobs-scripts")
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket="jobs-scripts", Key=key, Body=body)
    return f"s3://jobs-scripts/{key}"


def test_a_python_shell_job_uses_boto3_against_weir(endpoint):
    _, glue, s3 = clients(endpoint)
    s3.create_bucket(Bucket="jobs-out")
    script = put_script(s3, "scripts/writer.py", WRITER)
    glue.create_job(
        Name="writer", Role=ROLE,
        Command={"Name": "pythonshell", "ScriptLocation": script, "PythonVersion": "3.9"},
        DefaultArguments={"--greeting": "hello", "--out_key": "default.json"},
        Tags={"team": "data"},
    )
    j = glue.get_job(JobName="writer")["Job"]
    assert j["Command"] == {"Name": "pythonshell", "ScriptLocation": script, "PythonVersion": "3.9"}
    assert (j["MaxRetries"], j["Timeout"], j["MaxCapacity"], j["GlueVersion"]) == (0, 2880, 0.0625, "3.0")
    assert j["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert j["DefaultArguments"] == {"--greeting": "hello", "--out_key": "default.json"}
    assert j["CreatedOn"] <= j["LastModifiedOn"]

    run_id = glue.start_job_run(JobName="writer", Arguments={"--out_key": "run1.json"})["JobRunId"]
    assert run_id.startswith("jr_") and len(run_id) == 67
    r = wait_run(glue, "writer", run_id)
    assert r["JobRunState"] == "SUCCEEDED", (r, log(endpoint, "writer", run_id, "error"))
    assert r["Arguments"] == {"--out_key": "run1.json"} and r["Attempt"] == 0
    assert r["LogGroupName"] == "/aws-glue/python-jobs" and "ErrorMessage" not in r
    assert r["StartedOn"] <= r["CompletedOn"]
    body = json.loads(s3.get_object(Bucket="jobs-out", Key="run1.json")["Body"].read())
    assert body == {"job": "writer", "run": run_id, "greeting": "hello", "buckets": ["jobs-out", "jobs-scripts"]}
    assert log(endpoint, "writer", run_id, "output") == "wrote run1.json\n"

    second = glue.start_job_run(JobName="writer")["JobRunId"]
    assert "Arguments" not in wait_run(glue, "writer", second)
    assert json.loads(s3.get_object(Bucket="jobs-out", Key="default.json")["Body"].read())["run"] == second
    runs = glue.get_job_runs(JobName="writer")["JobRuns"]
    assert [x["Id"] for x in runs] == [second, run_id]  # newest first
    page = glue.get_job_runs(JobName="writer", MaxResults=1)
    assert [x["Id"] for x in page["JobRuns"]] == [second] and page["NextToken"]
    # A run started meanwhile does not shift the next page.
    third = glue.start_job_run(JobName="writer", Arguments={"--out_key": "run3.json"})["JobRunId"]
    assert [x["Id"] for x in glue.get_job_runs(JobName="writer", NextToken=page["NextToken"])["JobRuns"]] == [run_id]
    assert wait_run(glue, "writer", third)["JobRunState"] == "SUCCEEDED"

    assert glue.list_jobs(Tags={"team": "data"})["JobNames"] == ["writer"]
    # Tags by ARN, as Terraform reads and changes them.
    arn = "arn:aws:glue:us-east-1:000000000000:job/writer"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"team": "data"}
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"env": "dev"})
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["team", "absent"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"env": "dev"}
    assert glue.list_jobs(Tags={"env": "dev"})["JobNames"] == ["writer"]
    glue.create_crawler(Name="tagged", Role=ROLE, Targets={"S3Targets": [{"Path": "s3://jobs-out/x/"}]}, Tags={"a": "1"})
    crawler_arn = "arn:aws:glue:us-east-1:000000000000:crawler/tagged"
    glue.tag_resource(ResourceArn=crawler_arn, TagsToAdd={"b": "2"})
    assert glue.get_tags(ResourceArn=crawler_arn)["Tags"] == {"a": "1", "b": "2"}
    with pytest.raises(ClientError) as e:
        glue.get_tags(ResourceArn="arn:aws:glue:us-east-1:000000000000:job/nope")
    assert code(e)[0] == "EntityNotFoundException"
    got = glue.batch_get_jobs(JobNames=["writer", "nope"])
    assert [x["Name"] for x in got["Jobs"]] == ["writer"] and got["JobsNotFound"] == ["nope"]
    # UpdateJob replaces the definition as a whole.
    glue.update_job(JobName="writer", JobUpdate={"Role": ROLE, "Command": {"Name": "pythonshell", "ScriptLocation": script}, "MaxRetries": 2})
    j = glue.get_job(JobName="writer")["Job"]
    assert j["MaxRetries"] == 2 and "DefaultArguments" not in j and j["GlueVersion"] == "1.0"


def test_awswrangler_inside_a_job(endpoint):
    _, glue, s3 = clients(endpoint)
    script = put_script(s3, "scripts/wrangler.py", WRANGLER)
    glue.create_job(Name="wrangler", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": script, "PythonVersion": "3.9"})
    run_id = glue.start_job_run(JobName="wrangler")["JobRunId"]
    r = wait_run(glue, "wrangler", run_id)
    assert r["JobRunState"] == "SUCCEEDED", (r, log(endpoint, "wrangler", run_id, "error"))
    assert log(endpoint, "wrangler", run_id, "output") == "rows 3 sum 6\n"
    assert any(o["Key"].endswith(".parquet") for o in s3.list_objects_v2(Bucket="jobs-out", Prefix="wr/")["Contents"])


def test_failures_retries_stops_and_errors(endpoint):
    _, glue, s3 = clients(endpoint)
    failer = put_script(s3, "scripts/failer.py", FAILER)
    glue.create_job(Name="failer", Role=ROLE, MaxRetries=1,
                    Command={"Name": "pythonshell", "ScriptLocation": failer})
    first = glue.start_job_run(JobName="failer")["JobRunId"]
    r = wait_run(glue, "failer", first)
    assert r["JobRunState"] == "FAILED" and "ValueError: boom failer" in r["ErrorMessage"], r
    # One retry: a new run, attempt 1, naming the one before.
    deadline = time.time() + 60
    while len(glue.get_job_runs(JobName="failer")["JobRuns"]) < 2:
        assert time.time() < deadline
        time.sleep(0.02)
    retry = glue.get_job_runs(JobName="failer")["JobRuns"][0]
    assert retry["Attempt"] == 1 and retry["PreviousRunId"] == first
    assert wait_run(glue, "failer", retry["Id"])["JobRunState"] == "FAILED"
    assert "about to fail" in log(endpoint, "failer", first, "output")
    assert "Traceback" in log(endpoint, "failer", first, "error")
    # No third attempt: MaxRetries is 1 (the retry has finished, so none can be pending).
    assert len(glue.get_job_runs(JobName="failer")["JobRuns"]) == 2

    sleeper = put_script(s3, "scripts/sleeper.py", SLEEPER)
    glue.create_job(Name="sleeper", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": sleeper})
    running = glue.start_job_run(JobName="sleeper")["JobRunId"]
    wait_run(glue, "sleeper", running, states=("RUNNING",))
    with pytest.raises(ClientError) as e:
        glue.start_job_run(JobName="sleeper")
    assert code(e) == ("ConcurrentRunsExceededException", "Concurrent runs exceeded for sleeper")
    out = glue.batch_stop_job_run(JobName="sleeper", JobRunIds=[running, "jr_nope"])
    assert out["SuccessfulSubmissions"] == [{"JobName": "sleeper", "JobRunId": running}]
    assert [x["JobRunId"] for x in out["Errors"]] == ["jr_nope"]
    assert wait_run(glue, "sleeper", running)["JobRunState"] == "STOPPED"

    with pytest.raises(ClientError) as e:
        glue.create_job(Name="spark", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": sleeper})
    assert code(e)[0] == "InvalidInputException" and "glueetl" in code(e)[1]
    with pytest.raises(ClientError) as e:
        glue.create_job(Name="sleeper", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": sleeper})
    assert code(e)[0] == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        glue.get_job(JobName="nope")
    assert code(e) == ("EntityNotFoundException", "Job not found.")
    with pytest.raises(ClientError) as e:
        glue.get_job_run(JobName="sleeper", RunId="jr_nope")
    assert code(e)[0] == "EntityNotFoundException"
    # A script that is not there fails the run, with why.
    glue.create_job(Name="lost", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": "s3://jobs-scripts/none.py"})
    r = wait_run(glue, "lost", glue.start_job_run(JobName="lost")["JobRunId"])
    assert r["JobRunState"] == "FAILED" and "s3://jobs-scripts/none.py" in r["ErrorMessage"]
    assert glue.delete_job(JobName="lost")["JobName"] == "lost"
    assert glue.delete_job(JobName="lost")["JobName"] == "lost"


def test_a_run_going_at_kill_9_ends_failed(tmp_path):
    from conftest import start_weir

    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        _, glue, s3 = clients(url)
        sleeper = put_script(s3, "scripts/sleeper.py", SLEEPER)
        glue.create_job(Name="k9", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": sleeper})
        run_id = glue.start_job_run(JobName="k9")["JobRunId"]
        wait_run(glue, "k9", run_id, states=("RUNNING",))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    proc, url = start_weir(data_dir=str(tmp_path))
    try:
        glue = clients(url)[1]
        r = glue.get_job_run(JobName="k9", RunId=run_id)["JobRun"]
        assert r["JobRunState"] == "FAILED" and "interrupted" in r["ErrorMessage"]
        assert glue.get_job(JobName="k9")["Job"]["Command"]["ScriptLocation"] == sleeper
    finally:
        proc.terminate()
        proc.wait(30)
