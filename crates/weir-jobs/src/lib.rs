//! Weir's Glue jobs: Python shell job definitions and their runs.
//!
//! A run downloads the job's script from Weir's object store and runs it as a local Python
//! process with Glue's arguments (`--JOB_NAME`, `--JOB_RUN_ID`, the job's DefaultArguments
//! under the run's Arguments under NonOverridableArguments) and AWS_* variables that point
//! boto3 (and awswrangler) at Weir. Its states follow Glue's (STARTING → RUNNING → SUCCEEDED /
//! FAILED / TIMEOUT, or STOPPING → STOPPED); Timeout kills it, MaxRetries starts new attempts
//! after a failure, its standard output and error are kept per run. Jobs and runs are journaled
//! (`weir_catalog::store::Durable`); runs that were going when Weir stopped end FAILED.

pub mod model;
mod runner;
mod shim;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use weir_catalog::store::{Durable, Journaled};
use weir_objects::Objects;

pub use model::{JobRecord, Run, RunRequest, RunState};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    ConcurrentRunsExceeded(String),
    #[error("job storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, JobError>;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Root of the engine's files (`<data dir>/jobs`).
    pub data_dir: PathBuf,
    /// The Python interpreter jobs run with.
    pub python: String,
    /// How long a minute of a Timeout lasts (one minute; tests shorten it).
    pub minute: std::time::Duration,
}

/// How a job's AWS clients reach Weir.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    pub url: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// region → name → job.
    jobs: BTreeMap<String, BTreeMap<String, JobRecord>>,
    /// region → job name → its runs, oldest first.
    runs: BTreeMap<String, BTreeMap<String, Vec<Run>>>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Op {
    PutJob(String, Box<JobRecord>),
    /// Removes a job and its runs.
    RemoveJob(String, String),
    PutRun(String, Box<Run>),
}

impl Journaled for State {
    type Op = Op;

    fn apply(&mut self, op: Op) {
        match op {
            Op::PutJob(region, j) => {
                self.jobs
                    .entry(region)
                    .or_default()
                    .insert(j.name.clone(), *j);
            }
            Op::RemoveJob(region, name) => {
                if let Some(m) = self.jobs.get_mut(&region) {
                    m.remove(&name);
                }
                if let Some(m) = self.runs.get_mut(&region) {
                    m.remove(&name);
                }
            }
            Op::PutRun(region, r) => {
                let runs = self
                    .runs
                    .entry(region)
                    .or_default()
                    .entry(r.job.clone())
                    .or_default();
                match runs.iter_mut().find(|x| x.id == r.id) {
                    Some(slot) => *slot = *r,
                    None => runs.push(*r),
                }
            }
        }
    }
}

struct Inner {
    journal: Durable<State>,
    /// Stop signals of runs under way, by run id.
    running: HashMap<String, tokio::sync::watch::Sender<bool>>,
    endpoint: Endpoint,
}

/// The jobs engine (cheap to clone).
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Mutex<Inner>>,
    objects: Objects,
    config: Arc<JobsConfig>,
}

/// The wall clock, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    weir_log::Clock::now_ms(&weir_log::SystemClock)
}

fn job_not_found() -> JobError {
    JobError::NotFound("Job not found.".into())
}

/// Python shell is the one kind of job Weir runs.
fn check_command(j: &JobRecord) -> Result<()> {
    match j.command_name() {
        Some("pythonshell") => {}
        Some(kind @ ("glueetl" | "gluestreaming" | "glueray")) => {
            return Err(JobError::InvalidInput(format!(
                "Weir runs Python shell jobs (Command.Name pythonshell) only; {kind} jobs \
                 (Apache Spark{}) are not supported.",
                if kind == "glueray" { " or Ray" } else { "" }
            )))
        }
        Some(other) => {
            return Err(JobError::InvalidInput(format!(
                "Unknown Command.Name {other}: Weir runs pythonshell jobs."
            )))
        }
        None => {
            return Err(JobError::InvalidInput(
                "Command.Name is required (pythonshell).".into(),
            ))
        }
    }
    match j.script_location() {
        Some(s) if s.starts_with("s3://") => {}
        _ => {
            return Err(JobError::InvalidInput(
                "Command.ScriptLocation must be an s3:// path to the job's Python script.".into(),
            ))
        }
    }
    let cap = j.max_capacity();
    if cap != 0.0625 && cap != 1.0 {
        return Err(JobError::InvalidInput(
            "MaxCapacity of a Python shell job must be 0.0625 or 1.".into(),
        ));
    }
    Ok(())
}

impl Jobs {
    /// Opens the engine's records in `config.data_dir`. Runs that were going when Weir stopped
    /// end FAILED.
    pub fn open(config: JobsConfig, objects: Objects) -> Result<Jobs> {
        std::fs::create_dir_all(&config.data_dir)?;
        shim::install(&config.data_dir.join("python"))?;
        let mut journal: Durable<State> = Durable::open(&config.data_dir.join("records"), "jobs")?;
        let interrupted: Vec<(String, Run)> = journal
            .state()
            .runs
            .iter()
            .flat_map(|(region, m)| {
                m.values()
                    .flatten()
                    .map(move |r| (region.clone(), r.clone()))
            })
            .filter(|(_, r)| r.state.is_active())
            .collect();
        let now = now_ms();
        for (region, mut r) in interrupted {
            // Its process may have outlived Weir: end it (only if it is still that run's).
            if let Some(pid) = r.pid.take() {
                runner::kill_leftover(pid, &r.id);
            }
            r.state = RunState::Failed;
            r.error_message =
                Some("The job run was interrupted: Weir stopped while it ran.".into());
            r.completed_ms = Some(now);
            r.modified_ms = now;
            journal.commit(Op::PutRun(region, Box::new(r)))?;
        }
        Ok(Jobs {
            inner: Arc::new(Mutex::new(Inner {
                journal,
                running: HashMap::new(),
                endpoint: Endpoint::default(),
            })),
            objects,
            config: Arc::new(config),
        })
    }

    /// Where jobs' AWS clients send their requests (set once Weir listens).
    pub fn set_endpoint(&self, endpoint: Endpoint) {
        self.inner.lock().endpoint = endpoint;
    }

    fn commit(inner: &mut Inner, op: Op) -> Result<()> {
        Ok(inner.journal.commit(op)?)
    }

    fn job_in<'a>(inner: &'a Inner, region: &str, name: &str) -> Result<&'a JobRecord> {
        inner
            .journal
            .state()
            .jobs
            .get(region)
            .and_then(|m| m.get(name))
            .ok_or_else(job_not_found)
    }

    /// CreateJob.
    pub fn create(
        &self,
        region: &str,
        name: &str,
        definition: serde_json::Map<String, serde_json::Value>,
        tags: BTreeMap<String, String>,
    ) -> Result<()> {
        let now = now_ms();
        let j = JobRecord {
            name: name.to_string(),
            definition,
            tags,
            created_ms: now,
            modified_ms: now,
        };
        check_command(&j)?;
        let mut inner = self.inner.lock();
        if Self::job_in(&inner, region, name).is_ok() {
            return Err(JobError::AlreadyExists(format!("{name} already exists.")));
        }
        Self::commit(&mut inner, Op::PutJob(region.into(), Box::new(j)))
    }

    pub fn get(&self, region: &str, name: &str) -> Result<JobRecord> {
        Self::job_in(&self.inner.lock(), region, name).cloned()
    }

    /// Every job of the region, by name.
    pub fn list(&self, region: &str) -> Vec<JobRecord> {
        self.inner
            .lock()
            .journal
            .state()
            .jobs
            .get(region)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// UpdateJob: the definition is replaced as a whole (tags and creation time stay).
    pub fn update(
        &self,
        region: &str,
        name: &str,
        definition: serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let mut inner = self.inner.lock();
        let mut j = Self::job_in(&inner, region, name)?.clone();
        j.definition = definition;
        j.modified_ms = now_ms();
        check_command(&j)?;
        Self::commit(&mut inner, Op::PutJob(region.into(), Box::new(j)))
    }

    /// Changes a job's tags.
    pub fn set_tags(
        &self,
        region: &str,
        name: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<()> {
        let mut inner = self.inner.lock();
        let mut j = Self::job_in(&inner, region, name)?.clone();
        change(&mut j.tags);
        Self::commit(&mut inner, Op::PutJob(region.into(), Box::new(j)))
    }

    /// DeleteJob: no error for a job that is not there; its runs under way are stopped.
    pub fn delete(&self, region: &str, name: &str) -> Result<()> {
        let mut inner = self.inner.lock();
        if Self::job_in(&inner, region, name).is_err() {
            return Ok(());
        }
        let active: Vec<String> = Self::runs_in(&inner, region, name)
            .iter()
            .filter(|r| r.state.is_active())
            .map(|r| r.id.clone())
            .collect();
        for id in active {
            if let Some(stop) = inner.running.get(&id) {
                let _ = stop.send(true);
            }
        }
        let dirs: Vec<PathBuf> = Self::runs_in(&inner, region, name)
            .iter()
            .map(|r| self.run_dir(&r.id))
            .collect();
        Self::commit(&mut inner, Op::RemoveJob(region.into(), name.into()))?;
        // The runs' scripts and output go with them (a run still stopping has its files open
        // until its process is gone; removing them then is harmless on Unix).
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    fn runs_in<'a>(inner: &'a Inner, region: &str, job: &str) -> &'a [Run] {
        inner
            .journal
            .state()
            .runs
            .get(region)
            .and_then(|m| m.get(job))
            .map_or(&[], |v| v.as_slice())
    }

    /// A job's runs, newest first.
    pub fn runs(&self, region: &str, job: &str) -> Result<Vec<Run>> {
        let inner = self.inner.lock();
        Self::job_in(&inner, region, job)?;
        let mut runs = Self::runs_in(&inner, region, job).to_vec();
        runs.reverse();
        Ok(runs)
    }

    pub fn run(&self, region: &str, job: &str, id: &str) -> Result<Run> {
        let inner = self.inner.lock();
        Self::job_in(&inner, region, job)?;
        Self::runs_in(&inner, region, job)
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(|| JobError::NotFound(format!("Job Run with id: {id} not found.")))
    }

    /// StartJobRun: the run starts in the background; its id is returned at once.
    pub fn start(&self, region: &str, job: &str, req: RunRequest) -> Result<String> {
        let mut inner = self.inner.lock();
        let j = Self::job_in(&inner, region, job)?.clone();
        let runs = Self::runs_in(&inner, region, job);
        let active = runs.iter().filter(|r| r.state.is_active()).count() as i64;
        if active >= j.max_concurrent_runs() {
            return Err(JobError::ConcurrentRunsExceeded(format!(
                "Concurrent runs exceeded for {job}"
            )));
        }
        if let Some(cap) = req.max_capacity {
            if cap != 0.0625 && cap != 1.0 {
                return Err(JobError::InvalidInput(
                    "MaxCapacity of a Python shell job must be 0.0625 or 1.".into(),
                ));
            }
        }
        if let Some(prev) = &req.retry_of {
            if !runs.iter().any(|r| &r.id == prev) {
                return Err(JobError::NotFound(format!(
                    "Job Run with id: {prev} not found."
                )));
            }
        }
        let now = now_ms();
        let run = Run {
            id: runner::run_id(),
            job: job.to_string(),
            attempt: 0,
            previous_run_id: req.retry_of.clone(),
            state: RunState::Starting,
            started_ms: now,
            modified_ms: now,
            completed_ms: None,
            arguments: req.arguments,
            error_message: None,
            timeout_min: req.timeout_min.unwrap_or_else(|| j.timeout_min()),
            max_capacity: req.max_capacity.unwrap_or_else(|| j.max_capacity()),
            glue_version: j.glue_version(),
            execution_s: 0,
            pid: None,
        };
        let id = run.id.clone();
        self.launch(&mut inner, region, j, run)?;
        Ok(id)
    }

    /// Records a new run and starts its task.
    fn launch(&self, inner: &mut Inner, region: &str, job: JobRecord, run: Run) -> Result<()> {
        Self::commit(inner, Op::PutRun(region.into(), Box::new(run.clone())))?;
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        inner.running.insert(run.id.clone(), stop);
        let task = runner::Task {
            jobs: self.clone(),
            region: region.to_string(),
            job,
            run,
            stop: stop_rx,
            endpoint: inner.endpoint.clone(),
        };
        tokio::spawn(task.execute());
        Ok(())
    }

    /// Saves a run's new state (from its task of the job created at `job_created_ms`). A run
    /// asked to stop stays STOPPING until it ends.
    fn save_run(&self, region: &str, job_created_ms: i64, run: &Run) {
        let mut inner = self.inner.lock();
        // A deleted job's runs are not brought back, not even under a new job of its name.
        if Self::job_in(&inner, region, &run.job)
            .ok()
            .map(|j| j.created_ms)
            != Some(job_created_ms)
        {
            return;
        }
        let mut run = run.clone();
        let stored = Self::runs_in(&inner, region, &run.job)
            .iter()
            .find(|r| r.id == run.id)
            .map(|r| r.state);
        if stored == Some(RunState::Stopping) && run.state.is_active() {
            run.state = RunState::Stopping;
        }
        if let Err(e) = Self::commit(&mut inner, Op::PutRun(region.into(), Box::new(run.clone()))) {
            tracing::error!(run = %run.id, error = %e, "saving a job run failed");
        }
    }

    /// A run's task ended: its stop signal goes; a failed run with retries left starts its next
    /// attempt.
    fn finished(&self, region: &str, job: &JobRecord, run: &Run) {
        let mut inner = self.inner.lock();
        inner.running.remove(&run.id);
        if run.state != RunState::Failed || i64::from(run.attempt) >= job.max_retries() {
            return;
        }
        let Ok(current) = Self::job_in(&inner, region, &job.name).cloned() else {
            return;
        };
        if current.created_ms != job.created_ms {
            return;
        }
        let now = now_ms();
        let first = run.id.split("_attempt_").next().unwrap_or(&run.id);
        let attempt = run.attempt + 1;
        let next = Run {
            id: format!("{first}_attempt_{attempt}"),
            attempt,
            previous_run_id: Some(run.id.clone()),
            state: RunState::Starting,
            started_ms: now,
            modified_ms: now,
            completed_ms: None,
            error_message: None,
            execution_s: 0,
            pid: None,
            ..run.clone()
        };
        if let Err(e) = self.launch(&mut inner, region, current, next) {
            tracing::error!(run = %run.id, error = %e, "starting a retry failed");
        }
    }

    /// BatchStopJobRun: per run id, `Ok` when a stop was submitted, else why not.
    pub fn stop(&self, region: &str, job: &str, ids: &[String]) -> Vec<(String, Result<()>)> {
        let mut inner = self.inner.lock();
        let mut out = Vec::new();
        for id in ids {
            let run = Self::runs_in(&inner, region, job)
                .iter()
                .find(|r| &r.id == id)
                .cloned();
            let result = match run {
                None => Err(JobError::NotFound(format!(
                    "Job Run with id: {id} not found."
                ))),
                Some(r) if !r.state.is_active() => Err(JobError::InvalidInput(format!(
                    "Job Run {id} is already in a terminal state: {}.",
                    r.state.as_str()
                ))),
                Some(mut r) => {
                    if let Some(stop) = inner.running.get(id) {
                        let _ = stop.send(true);
                    }
                    if r.state != RunState::Stopping {
                        r.state = RunState::Stopping;
                        r.modified_ms = now_ms();
                        Self::commit(&mut inner, Op::PutRun(region.into(), Box::new(r)))
                    } else {
                        Ok(())
                    }
                }
            };
            out.push((id.clone(), result));
        }
        out
    }

    /// A run's standard output (`output`) or error (`error`), as kept.
    pub fn log(&self, region: &str, job: &str, id: &str, stream: &str) -> Result<Vec<u8>> {
        self.run(region, job, id)?;
        let file = match stream {
            "output" => "stdout",
            "error" => "stderr",
            other => {
                return Err(JobError::InvalidInput(format!(
                    "Unknown log stream {other}: output or error."
                )))
            }
        };
        match std::fs::read(self.run_dir(id).join(file)) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn run_dir(&self, id: &str) -> PathBuf {
        self.config.data_dir.join("runs").join(id)
    }

    pub(crate) fn shim_dir(&self) -> PathBuf {
        self.config.data_dir.join("python")
    }

    pub(crate) fn minute(&self) -> std::time::Duration {
        self.config.minute
    }

    pub(crate) fn python(&self) -> &str {
        &self.config.python
    }

    pub(crate) fn objects(&self) -> &Objects {
        &self.objects
    }
}

/// `s3://bucket/key` as (bucket, key).
pub(crate) fn split_s3(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}
