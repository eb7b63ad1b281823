//! One run of a Python shell job: its script fetched from the object store, a local Python
//! process with Glue's arguments and Weir's endpoint, watched until it exits, times out or is
//! stopped.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Instant;

use tokio::sync::watch;

use crate::model::{JobRecord, Run, RunState};
use crate::{now_ms, split_s3, Endpoint, Jobs};

/// `jr_` and 64 hex digits, as Glue names runs.
pub fn run_id() -> String {
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("jr_{hex}")
}

/// The process's arguments after the script: `--JOB_NAME`, `--JOB_RUN_ID`, then the merged
/// arguments (DefaultArguments, under the run's Arguments, under NonOverridableArguments) as
/// `--key value` (a key given without its dashes gets them; an empty value is a bare flag).
pub fn argv(job: &JobRecord, run: &Run) -> Vec<String> {
    let flag = |k: &str| {
        if k.starts_with("--") {
            k.to_string()
        } else {
            format!("--{k}")
        }
    };
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    for source in [
        job.default_arguments(),
        run.arguments.clone().unwrap_or_default(),
        job.non_overridable_arguments(),
    ] {
        merged.extend(source.into_iter().map(|(k, v)| (flag(&k), v)));
    }
    let mut out = Vec::new();
    for (k, v) in [("--JOB_NAME", &job.name), ("--JOB_RUN_ID", &run.id)] {
        if !merged.contains_key(k) {
            out.push(k.to_string());
            out.push(v.clone());
        }
    }
    for (k, v) in merged {
        out.push(k);
        if !v.is_empty() {
            out.push(v);
        }
    }
    out
}

/// The last non-empty line of a script's standard error (a traceback's exception line).
fn last_line(stderr: &[u8]) -> Option<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(1000).collect())
}

pub struct Task {
    pub jobs: Jobs,
    pub region: String,
    pub job: JobRecord,
    pub run: Run,
    pub stop: watch::Receiver<bool>,
    pub endpoint: Endpoint,
}

/// How the process ended.
enum Ended {
    Exited(Option<i32>),
    TimedOut,
    Stopped,
}

impl Task {
    pub async fn execute(mut self) {
        let outcome = self.run_script().await;
        let now = now_ms();
        let stop_asked = *self.stop.borrow();
        let run = &mut self.run;
        run.pid = None;
        match outcome {
            // A run asked to stop that ended otherwise than well is STOPPED (not retried).
            Ok((Ended::Exited(code), _)) if stop_asked && code != Some(0) => {
                run.state = RunState::Stopped
            }
            Ok((Ended::Exited(Some(0)), _)) => run.state = RunState::Succeeded,
            Ok((Ended::Exited(code), stderr)) => {
                run.state = RunState::Failed;
                let detail = last_line(&stderr)
                    .unwrap_or_else(|| format!("exit code {}", code.unwrap_or(-1)));
                run.error_message = Some(format!(
                    "JobName:{} and JobRunId:{} failed to execute with exception {detail}",
                    self.job.name, run.id
                ));
            }
            Ok((Ended::TimedOut, _)) => {
                run.state = RunState::Timeout;
                run.error_message = Some(format!(
                    "Job run timed out after {} minutes.",
                    run.timeout_min
                ));
            }
            Ok((Ended::Stopped, _)) => run.state = RunState::Stopped,
            Err(message) => {
                run.state = RunState::Failed;
                run.error_message = Some(message);
            }
        }
        run.completed_ms = Some(now);
        run.modified_ms = now;
        self.jobs
            .save_run(&self.region, self.job.created_ms, &self.run);
        self.jobs.finished(&self.region, &self.job, &self.run);
    }

    /// Fetches the script and runs it; how it ended and its standard error.
    async fn run_script(&mut self) -> Result<(Ended, Vec<u8>), String> {
        let location = self.job.script_location().unwrap_or_default().to_string();
        let (bucket, key) = split_s3(&location)
            .ok_or_else(|| format!("ScriptLocation {location} is not an s3:// path."))?;
        let script = self
            .jobs
            .objects()
            .get(bucket, key)
            .await
            .map_err(|e| format!("Cannot read the script at {location}: {e}"))?;
        let dir = self.jobs.run_dir(&self.run.id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("Cannot prepare the run: {e}"))?;
        let name = key.rsplit('/').next().unwrap_or("script.py");
        let path = dir.join(name);
        tokio::fs::write(&path, &script)
            .await
            .map_err(|e| format!("Cannot prepare the run: {e}"))?;
        let open = |f: &str| {
            std::fs::File::create(dir.join(f)).map_err(|e| format!("Cannot prepare the run: {e}"))
        };
        let (stdout, stderr) = (open("stdout")?, open("stderr")?);
        let shim = self.jobs.shim_dir();
        let python_path = match std::env::var_os("PYTHONPATH") {
            Some(p) if !p.is_empty() => {
                let mut all = shim.into_os_string();
                all.push(":");
                all.push(p);
                all
            }
            _ => shim.into_os_string(),
        };
        if *self.stop.borrow() {
            return Ok((Ended::Stopped, Vec::new()));
        }
        let mut cmd = tokio::process::Command::new(self.jobs.python());
        // Only Weir's settings reach the script's AWS clients (a service-specific endpoint or
        // profile from Weir's environment would send them elsewhere).
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg(&path)
            .args(argv(&self.job, &self.run))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .env("AWS_ENDPOINT_URL", &self.endpoint.url)
            .env("AWS_ACCESS_KEY_ID", &self.endpoint.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.endpoint.secret_access_key)
            .env("AWS_DEFAULT_REGION", &self.region)
            .env("AWS_REGION", &self.region)
            .env("PYTHONPATH", python_path)
            .env("PYTHONUNBUFFERED", "1")
            // Its own process group, so a kill reaches what the script started too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("Cannot start {}: {e}", self.jobs.python()))?;
        let started = Instant::now();
        self.run.state = RunState::Running;
        self.run.modified_ms = now_ms();
        self.run.pid = child.id();
        self.jobs
            .save_run(&self.region, self.job.created_ms, &self.run);
        let minutes = u32::try_from(self.run.timeout_min.max(1)).unwrap_or(u32::MAX);
        let limit = self.jobs.minute().saturating_mul(minutes);
        let ended = tokio::select! {
            status = child.wait() => Ended::Exited(status.ok().and_then(|s| s.code())),
            _ = tokio::time::sleep(limit) => Ended::TimedOut,
            _ = stopped(&mut self.stop) => Ended::Stopped,
        };
        if let Some(pid) = self.run.pid {
            kill_group(pid);
        }
        if !matches!(ended, Ended::Exited(_)) {
            let _ = child.kill().await;
        }
        self.run.execution_s = started.elapsed().as_secs() as i64;
        let stderr = tokio::fs::read(dir.join("stderr"))
            .await
            .unwrap_or_default();
        Ok((ended, stderr))
    }
}

/// Kills a run's process group (the script and whatever it started).
fn kill_group(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills the process group of a run left over from before a restart, if `pid` still is that
/// run's script (its command line names the run's directory).
pub fn kill_leftover(pid: u32, run_id: &str) {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if String::from_utf8_lossy(&cmdline).contains(run_id) {
        kill_group(pid);
    }
}

/// Resolves once a stop is asked for.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_merge_in_glue_order() {
        let job = JobRecord {
            name: "etl".into(),
            definition: serde_json::json!({
                "DefaultArguments": {"--day": "mon", "--mode": "full", "--verbose": ""},
                "NonOverridableArguments": {"--mode": "safe"},
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
            tags: BTreeMap::new(),
            created_ms: 0,
            modified_ms: 0,
        };
        let run = Run {
            id: "jr_1".into(),
            job: "etl".into(),
            attempt: 0,
            previous_run_id: None,
            state: RunState::Starting,
            started_ms: 0,
            modified_ms: 0,
            completed_ms: None,
            arguments: Some(
                [
                    ("--day".to_string(), "tue".to_string()),
                    ("mode".into(), "x".into()),
                ]
                .into(),
            ),
            error_message: None,
            timeout_min: 1,
            max_capacity: 0.0625,
            glue_version: "3.0".into(),
            execution_s: 0,
            pid: None,
        };
        assert_eq!(
            argv(&job, &run),
            [
                "--JOB_NAME",
                "etl",
                "--JOB_RUN_ID",
                "jr_1",
                "--day",
                "tue",
                "--mode",
                "safe",
                "--verbose"
            ]
        );
        assert!(run_id().len() == 67 && run_id().starts_with("jr_"));
        assert_eq!(
            last_line(b"Traceback\n  x\nValueError: boom\n\n").as_deref(),
            Some("ValueError: boom")
        );
    }
}
