//! Runs of real Python processes (python3 from PATH) against a local object store: a Timeout
//! ends a run TIMEOUT (with minutes shortened for the test), a stop ends it STOPPED, and a
//! restart turns runs that were going into FAILED ones.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use weir_jobs::{Jobs, JobsConfig, Run, RunRequest, RunState};
use weir_objects::{ObjectStore, Objects, PutObject};

const SLEEPER: &str = "import time\nprint('started', flush=True)\ntime.sleep(30)\n";

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

async fn setup(dir: &std::path::Path) -> Jobs {
    let store = ok(ObjectStore::open(&dir.join("s3")));
    ok(store.create_bucket("scripts", "us-east-1"));
    let objects = ok(Objects::new(store, &[]));
    ok(objects
        .put(
            "scripts",
            "sleep.py",
            PutObject {
                data: SLEEPER.into(),
                content_type: None,
                metadata: Default::default(),
                headers: Default::default(),
            },
        )
        .await);
    let config = JobsConfig {
        data_dir: dir.join("jobs"),
        python: "python3".into(),
        minute: Duration::from_secs(1),
    };
    ok(Jobs::open(config, objects))
}

fn definition(timeout: i64) -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({
        "Role": "r",
        "Command": {"Name": "pythonshell", "ScriptLocation": "s3://scripts/sleep.py"},
        "Timeout": timeout,
        "ExecutionProperty": {"MaxConcurrentRuns": 3},
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

async fn wait(jobs: &Jobs, job: &str, id: &str, done: impl Fn(&Run) -> bool) -> Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = ok(jobs.run("us-east-1", job, id));
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "run stuck: {r:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn timeouts_stops_and_restarts() {
    let dir = ok(tempfile::tempdir());
    let jobs = setup(dir.path()).await;
    ok(jobs.create("us-east-1", "slow", definition(1), BTreeMap::new()));

    // A one-"minute" Timeout (1 s here) ends the run TIMEOUT.
    let id = ok(jobs.start("us-east-1", "slow", RunRequest::default()));
    let r = wait(&jobs, "slow", &id, |r| !r.state.is_active()).await;
    assert_eq!(r.state, RunState::Timeout, "{r:?}");
    assert!(r
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("timed out")));
    // What the script printed before it was killed (on a loaded machine it may not have got
    // as far as printing: the test does not depend on how fast Python starts).
    let output = ok(jobs.log("us-east-1", "slow", &id, "output"));
    assert!(b"started\n".starts_with(&output), "{output:?}");

    // A stop ends it STOPPED; a run that ended cannot be stopped.
    let id = ok(jobs.start(
        "us-east-1",
        "slow",
        RunRequest {
            timeout_min: Some(100),
            ..Default::default()
        },
    ));
    wait(&jobs, "slow", &id, |r| r.state == RunState::Running).await;
    let stopped = jobs.stop("us-east-1", "slow", std::slice::from_ref(&id));
    assert!(stopped[0].1.is_ok());
    let r = wait(&jobs, "slow", &id, |r| !r.state.is_active()).await;
    assert_eq!(r.state, RunState::Stopped);
    assert!(jobs.stop("us-east-1", "slow", &[id])[0].1.is_err());

    // A run going when the engine goes away is FAILED at the next open.
    let going = ok(jobs.start(
        "us-east-1",
        "slow",
        RunRequest {
            timeout_min: Some(100),
            ..Default::default()
        },
    ));
    wait(&jobs, "slow", &going, |r| r.state == RunState::Running).await;
    let store = ok(ObjectStore::open(&dir.path().join("s3")));
    let reopened = ok(Jobs::open(
        JobsConfig {
            data_dir: dir.path().join("jobs"),
            python: "python3".into(),
            minute: Duration::from_secs(60),
        },
        ok(Objects::new(store, &[])),
    ));
    let r = ok(reopened.run("us-east-1", "slow", &going));
    assert_eq!(r.state, RunState::Failed);
    assert_eq!(ok(reopened.runs("us-east-1", "slow")).len(), 3);
}
