//! The engine: jobs submitted, run, stopped and listed; their definitions kept in
//! `<data>/stream/jobs.json` (replaced atomically) so jobs that were running are planned again
//! from their statements and resumed from their checkpoints when Weir starts.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use weir_delivery::Delivery;
use weir_log::Log;

use crate::checkpoint::JobFiles;
use crate::error::{Result, StreamError};
use crate::functions::now_ms;
use crate::job::{self, JobState, JobStatus, RunOptions};
use crate::plan::{parse_job, plan_job};
use crate::sink::Collector;
use crate::sql::parse_create_table;
use crate::table::{table_def, TableDef};

mod resources;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `<data>/stream`.
    pub dir: PathBuf,
    pub default_region: String,
    /// Used when a job's `execution.checkpointing.interval` is not set.
    pub checkpoint_interval: Duration,
    /// What all jobs' operator state may hold in memory before window panes spill to files
    /// (0: no limit).
    pub state_memory_bytes: usize,
}

/// What a job was made from, kept so it can be planned again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSpec {
    pub id: String,
    pub name: String,
    /// The `CREATE TABLE` statements of the tables it uses.
    pub tables: Vec<String>,
    pub insert: String,
    /// The session's settings when it was submitted.
    pub config: BTreeMap<String, String>,
    pub start_ms: i64,
    pub state: JobState,
    #[serde(default)]
    pub end_ms: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    /// An interactive query's job: not kept across restarts (its client is gone).
    #[serde(default)]
    pub transient: bool,
    /// The session's views (name → query) when it was submitted.
    #[serde(default)]
    pub views: BTreeMap<String, String>,
    /// A statement set's other `INSERT INTO` statements (run in this job with `insert`).
    #[serde(default)]
    pub also: Vec<String>,
}

/// A job as listed.
#[derive(Debug, Clone)]
pub struct JobInfo {
    pub spec: JobSpec,
    pub records_in: u64,
    pub records_out: u64,
    pub late_dropped: u64,
    pub skipped: u64,
    /// Bytes of operator state in memory (windows, joins, aggregates, OVER rows, dedup keys).
    pub state_bytes: u64,
    /// Bytes of window panes moved to spill files past the state budget.
    pub spilled_bytes: u64,
    /// How many parts keyed state is split into over the cores (the most of any part of the
    /// job).
    pub state_parts: u64,
    pub watermark: Option<i64>,
    pub checkpoints: u64,
    pub checkpoint_ms: Option<i64>,
    /// Per source shard (`table/shard`): records not read yet.
    pub lag: BTreeMap<String, u64>,
}

struct Entry {
    spec: JobSpec,
    status: Arc<JobStatus>,
    /// Stops the job (it saves a checkpoint first); `drain` fires every window before.
    stop: Option<watch::Sender<bool>>,
    drain: Option<watch::Sender<bool>>,
    /// The state it is to end in once stopped (none: stopped for a shutdown, stays RUNNING).
    stopping: Option<JobState>,
    task: Option<JoinHandle<()>>,
    /// An interactive query's rows (closed when the job is stopped).
    collector: Option<Arc<Collector>>,
}

struct Inner {
    config: EngineConfig,
    log: Log,
    delivery: Option<Delivery>,
    objects: Option<weir_objects::Objects>,
    /// The Glue Data Catalog (set by the server; filesystem sinks register there).
    catalog: Mutex<Option<weir_catalog::Catalog>>,
    jobs: Mutex<BTreeMap<String, Entry>>,
    state_budget: Arc<job::budget::StateBudget>,
    /// Serializes writes of `jobs.json`.
    file: Mutex<()>,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Opens the engine's directory and reads the jobs it holds (nothing runs until `start`).
    pub fn open(
        config: EngineConfig,
        log: Log,
        delivery: Option<Delivery>,
        objects: Option<weir_objects::Objects>,
    ) -> Result<Engine> {
        fs::create_dir_all(config.dir.join("jobs"))?;
        let specs: Vec<JobSpec> = match fs::read(config.dir.join("jobs.json")) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| StreamError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let jobs = specs
            .into_iter()
            .map(|spec| {
                let status = Arc::new(JobStatus::default());
                *status.state.lock() = Some(spec.state);
                (
                    spec.id.clone(),
                    Entry {
                        spec,
                        status,
                        stop: None,
                        drain: None,
                        stopping: None,
                        task: None,
                        collector: None,
                    },
                )
            })
            .collect();
        Ok(Engine {
            inner: Arc::new(Inner {
                state_budget: job::budget::StateBudget::new(config.state_memory_bytes),
                config,
                log,
                delivery,
                objects,
                catalog: Mutex::new(None),
                jobs: Mutex::new(jobs),
                file: Mutex::new(()),
            }),
        })
    }

    /// Starts again every job that was running (from its checkpoint).
    pub async fn start(&self) {
        // Stage streams of jobs the list does not hold (a crash during a submission).
        let known: Vec<String> = self.inner.jobs.lock().keys().cloned().collect();
        let region = self.inner.config.default_region.clone();
        for s in self.inner.log.list_streams(&region) {
            let Some(rest) = s.name.strip_prefix(crate::plan::stages::STREAM_PREFIX) else {
                continue;
            };
            if !known.iter().any(|id| rest.starts_with(&format!("{id}-"))) {
                let key = weir_log::StreamKey::new(&region, &s.name);
                let _ = self.inner.log.delete_stream(&key, true);
            }
        }
        let running: Vec<JobSpec> = self
            .inner
            .jobs
            .lock()
            .values()
            .filter(|e| e.spec.state == JobState::Running)
            .map(|e| e.spec.clone())
            .collect();
        for spec in running {
            let id = spec.id.clone();
            if let Err(e) = self.launch(spec).await {
                tracing::error!(job = %id, error = %e, "a job could not be restarted");
                self.finish(&id, JobState::Failed, Some(e.to_string()));
            }
        }
    }

    /// Reads a `CREATE TABLE` into a table the engine can use.
    pub fn table(&self, ddl: &str) -> Result<TableDef> {
        table_def(
            parse_create_table(ddl)?,
            ddl,
            &self.inner.config.default_region,
        )
    }

    /// The region of tables that name none (and of internal streams).
    pub fn default_region(&self) -> &str {
        &self.inner.config.default_region
    }

    /// The Glue Data Catalog filesystem sinks with `'glue.database'` register their files in.
    pub fn set_catalog(&self, catalog: weir_catalog::Catalog) {
        *self.inner.catalog.lock() = Some(catalog);
    }

    /// Plans and starts `INSERT INTO ... SELECT ...` (or a query, whose rows are collected for
    /// the caller) over `tables`; returns the job id and, for a query, its rows' collector.
    pub async fn submit(
        &self,
        insert: &str,
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
        config: &BTreeMap<String, String>,
    ) -> Result<(String, Option<Arc<Collector>>)> {
        self.submit_set(&[insert.to_string()], tables, views, config)
            .await
    }

    /// Plans and starts the `INSERT INTO` statements of a statement set as one job (or one
    /// statement, as `submit`).
    pub async fn submit_set(
        &self,
        statements: &[String],
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
        config: &BTreeMap<String, String>,
    ) -> Result<(String, Option<Arc<Collector>>)> {
        let id = format!("{:032x}", rand::random::<u128>());
        self.submit_set_as(&id, statements, tables, views, config)
            .await
    }

    /// `submit_set` under a job id the caller chose: a job that ran under it before (and is
    /// not running) is replaced, and its sources resume from its last checkpoint.
    pub async fn submit_set_as(
        &self,
        id: &str,
        statements: &[String],
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
        config: &BTreeMap<String, String>,
    ) -> Result<(String, Option<Arc<Collector>>)> {
        let id = id.to_string();
        let lifted = self.lift_stages(&id, statements, tables, views, true).await;
        let out = match lifted {
            Ok((statements, tables)) => {
                self.submit_lifted(id.clone(), &statements, &tables, views, config)
                    .await
            }
            Err(e) => Err(e),
        };
        // A submission refused after its stage streams were made takes them away again.
        if out.is_err() {
            self.drop_stage_streams(&id);
        }
        out
    }

    async fn submit_lifted(
        &self,
        id: String,
        statements: &[String],
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
        config: &BTreeMap<String, String>,
    ) -> Result<(String, Option<Arc<Collector>>)> {
        let (insert, also) = statements
            .split_first()
            .ok_or_else(|| StreamError::Validation("No statement to run".into()))?;
        let mut sinks = Vec::new();
        for s in statements {
            sinks.push(parse_job(s, views)?.sink);
        }
        if also.iter().zip(&sinks[1..]).any(|(_, s)| s.is_none())
            || (sinks.len() > 1 && sinks[0].is_none())
        {
            return Err(StreamError::Validation(
                "A statement set holds INSERT INTO statements only".into(),
            ));
        }
        let sink = sinks[0].clone();
        let name = config
            .get("pipeline.name")
            .cloned()
            .unwrap_or_else(|| match &sink {
                Some(_) => format!(
                    "insert-into_{}",
                    sinks
                        .iter()
                        .flatten()
                        .filter(|s| !s.starts_with(crate::plan::stages::PREFIX))
                        .map(|s| format!("default_catalog.default_database.{s}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                None => "collect".into(),
            });
        let spec = JobSpec {
            also: also.to_vec(),
            id: id.clone(),
            name,
            tables: tables.values().map(|t| t.ddl.clone()).collect(),
            insert: insert.to_string(),
            config: config.clone(),
            start_ms: now_ms(),
            state: JobState::Running,
            end_ms: None,
            error: None,
            transient: sink.is_none(),
            views: views.clone(),
        };
        let collector = self.launch(spec).await?;
        self.persist()?;
        Ok((id, collector))
    }

    /// Statements that read a stream beside a window aggregate of a stream (which one plan
    /// cannot run) get each such aggregate as a part of their own, writing into an internal
    /// stream (`weir-stage-<job>-<k>`, one shard) that the statement reads as a table with
    /// the window's time as rowtime (`plan::stages`; the streams are made when `create`).
    /// Other statements are kept as they are; the stages' statements follow them.
    async fn lift_stages(
        &self,
        id: &str,
        statements: &[String],
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
        create: bool,
    ) -> Result<(Vec<String>, BTreeMap<String, TableDef>)> {
        let mut tables = tables.clone();
        let mut out = Vec::new();
        let mut parts = Vec::new();
        for statement in statements {
            // Read first (no planning): most statements have no window aggregate to lift.
            let first = parts.len();
            let split = crate::plan::stages::split(statement, |k| {
                format!("{}{}", crate::plan::stages::PREFIX, first + k)
            });
            let Some((rewritten, stages)) = split else {
                out.push(statement.clone());
                continue;
            };
            let Err(refused) = plan_statement(statement, &tables, views).await else {
                out.push(statement.clone());
                continue;
            };
            let region = &self.inner.config.default_region;
            let mut lifted = Vec::new();
            for stage in stages {
                let Ok(plan) = plan_statement(&stage.query, &tables, views).await else {
                    return Err(refused);
                };
                let columns: Vec<String> = plan
                    .sink_schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let t = crate::types::flink_type_name(f.data_type());
                        format!("`{}` {t}", f.name())
                    })
                    .collect();
                let stream = crate::plan::stages::stream_name(id, first + lifted.len());
                let ddl = format!(
                    "CREATE TABLE `{table}` ({cols}, WATERMARK FOR `{rt}` AS `{rt}`) WITH \
                     ('connector' = 'kinesis', 'stream' = '{stream}', 'aws.region' = \
                     '{region}', 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
                    table = stage.table,
                    cols = columns.join(", "),
                    rt = stage.rowtime,
                );
                tables.insert(stage.table.clone(), self.table(&ddl)?);
                lifted.push((
                    format!("INSERT INTO `{}` {}", stage.table, stage.query),
                    stream,
                ));
            }
            // The statement must plan over the stages' tables, or it is refused as it was.
            if plan_statement(&rewritten, &tables, views).await.is_err() {
                return Err(refused);
            }
            for (insert, stream) in lifted {
                if create {
                    self.internal_stream(&stream).await?;
                }
                parts.push(insert);
            }
            out.push(rewritten);
        }
        out.extend(parts);
        Ok((out, tables))
    }

    /// Plans a job from its statements (one plan per statement of a statement set).
    async fn plan_of(&self, spec: &JobSpec) -> Result<Vec<crate::plan::JobPlan>> {
        let mut tables = BTreeMap::new();
        for ddl in &spec.tables {
            let t = self.table(ddl)?;
            tables.insert(t.name().to_string(), t);
        }
        let mut plans = Vec::new();
        for s in std::iter::once(&spec.insert).chain(&spec.also) {
            plans.push(plan_statement(s, &tables, &spec.views).await?);
        }
        Ok(plans)
    }

    /// `EXPLAIN`: the statement planned (and checked) as a job would be, not started.
    pub async fn explain(
        &self,
        statement: &str,
        tables: &BTreeMap<String, TableDef>,
        views: &BTreeMap<String, String>,
    ) -> Result<String> {
        let refused = match plan_statement(statement, tables, views).await {
            Ok(plan) => return Ok(plan.explain),
            Err(e) => e,
        };
        // A statement with stages: each part's plan.
        let (parts, tables) = self
            .lift_stages("explain", &[statement.to_string()], tables, views, false)
            .await?;
        if parts.len() < 2 {
            return Err(refused);
        }
        let mut out = Vec::new();
        for part in &parts {
            out.push(plan_statement(part, &tables, views).await?.explain);
        }
        Ok(out.join("\n\n"))
    }

    async fn launch(&self, spec: JobSpec) -> Result<Option<Arc<Collector>>> {
        let plans = self.plan_of(&spec).await?;
        // A sink's function must be registered: refused now rather than failing at run.
        for plan in &plans {
            for source in &plan.sources {
                let options = &source.table.flink.options;
                if let Some(function) = options.get(crate::job::preprocess::FUNCTION_OPTION) {
                    self.check_function(function)?;
                }
            }
            if let crate::table::Connector::Lambda { function } = &plan.sink.connector {
                let delivery =
                    self.inner.delivery.as_ref().ok_or_else(|| {
                        StreamError::Validation("No functions are registered".into())
                    })?;
                delivery
                    .function(function)
                    .map_err(StreamError::Validation)?;
            }
        }
        let collector = match plans.as_slice() {
            [plan] if matches!(plan.sink.connector, crate::table::Connector::Collect) => {
                Some(Arc::new(Collector::new(plan.sink_schema.clone())))
            }
            _ => None,
        };
        let options = RunOptions {
            checkpoint_interval: spec
                .config
                .get("execution.checkpointing.interval")
                .and_then(|v| parse_duration(v))
                .unwrap_or(self.inner.config.checkpoint_interval),
            idle_timeout: spec
                .config
                .get("table.exec.source.idle-timeout")
                .and_then(|v| parse_duration(v))
                .unwrap_or(Duration::ZERO),
            collector: collector.clone(),
            state_ttl: spec
                .config
                .get("table.exec.state.ttl")
                .and_then(|v| parse_duration(v))
                .filter(|d| !d.is_zero()),
            parallelism: spec
                .config
                .get("parallelism.default")
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
                .map(|n| n.min(job::MAX_PARALLELISM))
                .unwrap_or_else(job::default_parallelism),
            state_budget: Some(self.inner.state_budget.clone()),
            pumps: spec
                .config
                .get(job::PUMPS_OPTION)
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default(),
        };
        let files = JobFiles::new(self.inner.config.dir.join("jobs").join(&spec.id))?;
        for (k, plan) in plans.iter().enumerate() {
            job::prepare(plan, &self.inner.log, &files.part(k)?).await?;
        }
        let status = Arc::new(JobStatus::default());
        *status.state.lock() = Some(JobState::Running);
        let (stop, stopped) = watch::channel(false);
        let (drain, draining) = watch::channel(false);
        let id = spec.id.clone();
        let restart = Restart::from_config(&spec.config);
        let respec = spec.clone();
        let key = spec.id.clone();
        // Listed before it runs, so a job that fails at once is found by `finish`.
        self.inner.jobs.lock().insert(
            spec.id.clone(),
            Entry {
                spec,
                status: status.clone(),
                stop: Some(stop),
                drain: Some(drain),
                stopping: None,
                task: None,
                collector: collector.clone(),
            },
        );
        let engine = self.clone();
        let outputs = crate::sink::Outputs {
            log: self.inner.log.clone(),
            delivery: self.inner.delivery.clone(),
            objects: self.inner.objects.clone(),
            catalog: self.inner.catalog.lock().clone(),
            region: self.inner.config.default_region.clone(),
        };
        let st = status;
        let task = tokio::spawn(async move {
            let mut plan = Some(plans);
            let mut attempt = 0u32;
            loop {
                let p = match plan.take() {
                    Some(p) => p,
                    None => match engine.plan_of(&respec).await {
                        Ok(p) => p,
                        Err(e) => {
                            engine.finish(&id, JobState::Failed, Some(e.to_string()));
                            return;
                        }
                    },
                };
                let began = std::time::Instant::now();
                let out = job::run_set(
                    p,
                    &id,
                    outputs.clone(),
                    files.clone(),
                    st.clone(),
                    options.clone(),
                    stopped.clone(),
                    draining.clone(),
                )
                .await;
                let stopping = *stopped.borrow();
                match out {
                    // A bounded job (no tables) ends on its own.
                    Ok(()) if !stopping => {
                        engine.finish(&id, JobState::Finished, None);
                        return;
                    }
                    Ok(()) => {
                        engine.stopped(&id, None);
                        return;
                    }
                    // A write cut short by the stop: the job ends as asked (or stays to resume
                    // from its last checkpoint at the next start).
                    Err(StreamError::Interrupted(e)) if stopping => {
                        tracing::warn!(job = %id, error = %e, "job stopped before its last writes");
                        engine.stopped(&id, None);
                        return;
                    }
                    Err(e) if stopping => {
                        tracing::error!(job = %id, error = %e, "job failed while stopping");
                        engine.stopped(&id, Some(e.to_string()));
                        return;
                    }
                    Err(e) => {
                        // A job that ran long enough before failing starts its backoff anew.
                        if restart.resets_after(began.elapsed()) {
                            attempt = 0;
                        }
                        let Some(delay) = restart.delay(attempt) else {
                            tracing::error!(job = %id, error = %e, "job failed");
                            engine.finish(&id, JobState::Failed, Some(e.to_string()));
                            return;
                        };
                        attempt += 1;
                        tracing::warn!(job = %id, error = %e, attempt,
                            delay_ms = delay.as_millis() as u64,
                            "job failed; restarting from its last checkpoint");
                        *st.state.lock() = Some(JobState::Restarting);
                        *st.error.lock() = Some(e.to_string());
                        let mut stop = stopped.clone();
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = stop.changed() => {
                                engine.stopped(&id, None);
                                return;
                            }
                        }
                        *st.state.lock() = Some(JobState::Running);
                    }
                }
            }
        });
        if let Some(e) = self.inner.jobs.lock().get_mut(&key) {
            e.task = Some(task);
        }
        Ok(collector)
    }

    /// Marks a job ended and saves the job list.
    fn finish(&self, id: &str, state: JobState, error: Option<String>) {
        {
            let mut jobs = self.inner.jobs.lock();
            if let Some(e) = jobs.get_mut(id) {
                e.spec.state = state;
                e.spec.end_ms = Some(now_ms());
                e.spec.error = error;
                *e.status.state.lock() = Some(state);
                e.stop = None;
                e.drain = None;
                // A finished query's rows stay for its client.
                if let (Some(c), false) = (&e.collector, state == JobState::Finished) {
                    c.close();
                }
            }
        }
        if let Err(e) = self.persist() {
            tracing::error!(error = %e, "could not save the job list");
        }
        // The streams between its parts are the job's own: they go with it.
        self.drop_stage_streams(id);
    }

    /// Deletes a job's stage streams.
    fn drop_stage_streams(&self, id: &str) {
        self.drop_internal_streams(&format!("{}{id}-", crate::plan::stages::STREAM_PREFIX));
    }

    /// STOP JOB: the job saves a checkpoint and ends CANCELED (FINISHED when drained: every
    /// window fires first). Returns once it has ended.
    pub async fn stop_job(&self, id: &str, drain: bool) -> Result<()> {
        let task = {
            let mut jobs = self.inner.jobs.lock();
            let e = jobs
                .get_mut(id)
                .ok_or_else(|| StreamError::NotFound(format!("Could not find job '{id}'")))?;
            if e.spec.state != JobState::Running || e.stopping.is_some() {
                return Err(StreamError::Validation(format!(
                    "Job {id} is not running (state {})",
                    e.spec.state.as_str()
                )));
            }
            e.stopping = Some(if drain {
                JobState::Finished
            } else {
                JobState::Canceled
            });
            if let Some(c) = &e.collector {
                c.close();
            }
            if let (true, Some(d)) = (drain, &e.drain) {
                let _ = d.send(true);
            }
            if let Some(s) = &e.stop {
                let _ = s.send(true);
            }
            e.task.take()
        };
        // The job's own task records how it ended, even if this wait is abandoned.
        if let Some(t) = task {
            let _ = t.await;
        }
        Ok(())
    }

    /// A job's task ended after a stop: the state STOP JOB asked for (or FAILED when its last
    /// checkpoint failed); a job stopped for a shutdown stays RUNNING, to be resumed.
    fn stopped(&self, id: &str, error: Option<String>) {
        let target = self.inner.jobs.lock().get(id).and_then(|e| e.stopping);
        match (target, error) {
            (_, Some(e)) => self.finish(id, JobState::Failed, Some(e)),
            (Some(state), None) => self.finish(id, state, None),
            (None, None) => {}
        }
    }
    pub fn jobs(&self) -> Vec<JobInfo> {
        self.inner
            .jobs
            .lock()
            .values()
            .map(|e| {
                let s = &e.status;
                let mut spec = e.spec.clone();
                if let Some(live) = *s.state.lock() {
                    spec.state = live;
                }
                // A statement set's parts count apart: their sums, the least watermark and
                // checkpoint, every part's lag.
                let mut all = vec![s.clone()];
                all.extend(s.parts.lock().iter().cloned());
                let sum = |f: &dyn Fn(&JobStatus) -> u64| all.iter().map(|p| f(p)).sum::<u64>();
                let wm = all
                    .iter()
                    .map(|p| p.watermark.load(Ordering::Relaxed))
                    .filter(|&w| w != i64::MIN && w != 0)
                    .min();
                let ck = all
                    .iter()
                    .map(|p| p.checkpoint_ms.load(Ordering::Relaxed))
                    .filter(|&c| c != 0)
                    .min();
                JobInfo {
                    spec,
                    records_in: sum(&|p| p.records_in.load(Ordering::Relaxed)),
                    records_out: sum(&|p| p.records_out.load(Ordering::Relaxed)),
                    late_dropped: sum(&|p| p.late_dropped.load(Ordering::Relaxed)),
                    skipped: sum(&|p| p.skipped.load(Ordering::Relaxed)),
                    state_bytes: sum(&|p| p.state_bytes.load(Ordering::Relaxed)),
                    spilled_bytes: sum(&|p| p.spilled_bytes.load(Ordering::Relaxed)),
                    state_parts: all
                        .iter()
                        .map(|p| p.state_parts.load(Ordering::Relaxed))
                        .max()
                        .unwrap_or(0),
                    watermark: wm,
                    checkpoints: all
                        .iter()
                        .map(|p| p.checkpoints.load(Ordering::Relaxed))
                        .min()
                        .unwrap_or(0),
                    checkpoint_ms: ck,
                    lag: all.iter().flat_map(|p| p.lag.lock().clone()).collect(),
                }
            })
            .collect()
    }

    pub fn job(&self, id: &str) -> Option<JobInfo> {
        self.jobs().into_iter().find(|j| j.spec.id == id)
    }

    /// Stops every job for a shutdown: each saves a checkpoint and stays RUNNING in the list,
    /// so the next start resumes it. All are told at once, then awaited.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = self
            .inner
            .jobs
            .lock()
            .values_mut()
            .filter_map(|e| {
                if let Some(s) = &e.stop {
                    let _ = s.send(true);
                }
                e.task.take()
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    }

    fn persist(&self) -> Result<()> {
        let _guard = self.inner.file.lock();
        let specs: Vec<JobSpec> = self
            .inner
            .jobs
            .lock()
            .values()
            .filter(|e| !e.spec.transient)
            .map(|e| e.spec.clone())
            .collect();
        let body =
            serde_json::to_vec_pretty(&specs).map_err(|e| StreamError::Io(io::Error::other(e)))?;
        weir_log::meta::write_atomic(&self.inner.config.dir, "jobs.json", &body)?;
        Ok(())
    }
}

/// Flink's restart strategies (`restart-strategy.type`): with checkpointing on, a failed job
/// restarts from its last checkpoint after an exponentially growing delay (1 s up to 1 min,
/// Flink's defaults); `fixed-delay` restarts `attempts` times (default 1) after `delay`
/// (default 1 s); `none` fails the job. The exponential delay starts again from its initial
/// backoff after a run of `reset-backoff-threshold` (1 h by default, as Flink's).
#[derive(Debug, Clone)]
enum Restart {
    None,
    Fixed {
        attempts: u32,
        delay: Duration,
    },
    Exponential {
        initial: Duration,
        max: Duration,
        reset: Duration,
    },
}

impl Restart {
    fn from_config(c: &BTreeMap<String, String>) -> Restart {
        let get = |k: &str| c.get(k).map(String::as_str);
        let dur = |k: &str, d: Duration| get(k).and_then(parse_duration).unwrap_or(d);
        match get("restart-strategy.type").or(get("restart-strategy")) {
            Some("none" | "off" | "disable") => Restart::None,
            Some("fixed-delay" | "fixeddelay") => Restart::Fixed {
                attempts: get("restart-strategy.fixed-delay.attempts")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1),
                delay: dur("restart-strategy.fixed-delay.delay", Duration::from_secs(1)),
            },
            _ => Restart::Exponential {
                initial: dur(
                    "restart-strategy.exponential-delay.initial-backoff",
                    Duration::from_secs(1),
                ),
                max: dur(
                    "restart-strategy.exponential-delay.max-backoff",
                    Duration::from_secs(60),
                ),
                reset: dur(
                    "restart-strategy.exponential-delay.reset-backoff-threshold",
                    Duration::from_secs(3600),
                ),
            },
        }
    }

    /// The wait before restart number `attempt + 1`, or none to fail.
    fn delay(&self, attempt: u32) -> Option<Duration> {
        match self {
            Restart::None => None,
            Restart::Fixed { attempts, delay } => (attempt < *attempts).then_some(*delay),
            Restart::Exponential { initial, max, .. } => {
                Some((*initial * 2u32.saturating_pow(attempt.min(16))).min(*max))
            }
        }
    }

    /// Whether a run this long before its failure resets the exponential backoff.
    fn resets_after(&self, ran: Duration) -> bool {
        matches!(self, Restart::Exponential { reset, .. } if ran >= *reset)
    }
}

/// Flink's durations: `10 s`, `10s`, `500 ms`, `1 min`, `1h`, or plain milliseconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let unit_ms: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "min" | "m" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(n.checked_mul(unit_ms)?))
}

/// Plans `INSERT INTO ...` or a query over `tables`.
async fn plan_statement(
    statement: &str,
    tables: &BTreeMap<String, TableDef>,
    views: &BTreeMap<String, String>,
) -> Result<crate::plan::JobPlan> {
    let parsed = parse_job(statement, views)?;
    let sink = match parsed.sink.clone() {
        Some(name) => Some(tables.get(&name).cloned().ok_or_else(|| {
            StreamError::Validation(format!(
                "Object '{name}' not found within 'default_catalog.default_database'"
            ))
        })?),
        None => None,
    };
    plan_job(sink, parsed, &|n| tables.get(n).cloned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_restarts_double_up_to_the_max_and_reset_after_a_long_run() {
        let config: BTreeMap<String, String> = [
            (
                "restart-strategy.exponential-delay.initial-backoff",
                "100 ms",
            ),
            ("restart-strategy.exponential-delay.max-backoff", "1 s"),
            (
                "restart-strategy.exponential-delay.reset-backoff-threshold",
                "10 min",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = Restart::from_config(&config);
        let ms = |a| r.delay(a).map(|d| d.as_millis());
        assert_eq!(
            (ms(0), ms(1), ms(3), ms(10)),
            (Some(100), Some(200), Some(800), Some(1000))
        );
        assert!(!r.resets_after(Duration::from_secs(599)));
        assert!(r.resets_after(Duration::from_secs(600)));
        // Flink's default threshold is an hour; fixed delays never reset.
        let default = Restart::from_config(&BTreeMap::new());
        assert!(!default.resets_after(Duration::from_secs(3599)));
        let fixed: BTreeMap<String, String> = [(
            "restart-strategy.type".to_string(),
            "fixed-delay".to_string(),
        )]
        .into();
        let fixed = Restart::from_config(&fixed);
        assert!(!fixed.resets_after(Duration::from_secs(7200)));
        assert_eq!(fixed.delay(1), None);
    }
}
