//! Weir's Athena control plane: query executions move QUEUED → RUNNING → SUCCEEDED / FAILED /
//! CANCELLED, a bounded number at a time; their records (and work groups) are journaled so the
//! history survives restarts; result pages are read back from the result file. The SQL runs in
//! an [`Engine`] (weir-query's DataFusion engine in the binary). No wire formats here.

pub mod classify;
pub mod model;
pub mod results;
pub mod saved;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use weir_catalog::store::Store;

pub use model::{ColumnInfo, Engine, Execution, Failure, Job, Outcome, QueryState, Run, WorkGroup};

/// What can go wrong in a control-plane call.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("query history storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, AthenaError>;

/// How many executions are kept (the oldest finished ones are forgotten beyond it).
pub const MAX_HISTORY: usize = 50_000;

#[derive(Default, Serialize, Deserialize)]
struct State {
    executions: BTreeMap<String, Execution>,
    /// (region, name) → work group.
    work_groups: BTreeMap<String, WorkGroup>,
    #[serde(default)]
    named_queries: BTreeMap<String, saved::NamedQuery>,
    /// (region, work group, name) → prepared statement.
    #[serde(default)]
    prepared: BTreeMap<String, saved::PreparedStatement>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op")]
enum Op {
    Execution { e: Box<Execution> },
    WorkGroup { region: String, wg: Box<WorkGroup> },
    DeleteWorkGroup { region: String, name: String },
    NamedQuery { q: Box<saved::NamedQuery> },
    DeleteNamedQuery { id: String },
    Prepared { p: Box<saved::PreparedStatement> },
    DeletePrepared { key: String },
}

fn wg_key(region: &str, name: &str) -> String {
    format!("{region}/{name}")
}

impl State {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Execution { e } => {
                self.executions.insert(e.id.clone(), *e);
                if self.executions.len() > MAX_HISTORY {
                    let oldest = self
                        .executions
                        .values()
                        .filter(|e| e.state.is_done())
                        .min_by_key(|e| e.submitted_ms)
                        .map(|e| e.id.clone());
                    if let Some(id) = oldest {
                        self.executions.remove(&id);
                    }
                }
            }
            Op::WorkGroup { region, wg } => {
                self.work_groups.insert(wg_key(&region, &wg.name), *wg);
            }
            Op::DeleteWorkGroup { region, name } => {
                self.work_groups.remove(&wg_key(&region, &name));
            }
            Op::NamedQuery { q } => {
                self.named_queries.insert(q.id.clone(), *q);
            }
            Op::DeleteNamedQuery { id } => {
                self.named_queries.remove(&id);
            }
            Op::Prepared { p } => {
                let key = saved::prepared_key(&p.region, &p.work_group, &p.name);
                self.prepared.insert(key, *p);
            }
            Op::DeletePrepared { key } => {
                self.prepared.remove(&key);
            }
        }
    }
}

struct Journal {
    store: Store,
    seq: u64,
}

/// What StartQueryExecution asks for.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub query: String,
    pub region: String,
    pub database: Option<String>,
    pub catalog: Option<String>,
    pub work_group: Option<String>,
    pub output_location: Option<String>,
    pub client_token: Option<String>,
    pub params: Vec<String>,
}

/// A page of results.
pub struct ResultPage {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<Option<String>>>,
    pub next: Option<usize>,
    pub update_count: Option<i64>,
}

/// A result file's rows; `None` is NULL.
type Rows = Vec<Vec<Option<String>>>;

/// The control plane's handle (cheap to clone).
#[derive(Clone)]
pub struct Athena {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<dyn Engine>,
    objects: weir_objects::Objects,
    state: Mutex<State>,
    journal: Mutex<Journal>,
    slots: Arc<Semaphore>,
    tasks: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    /// The rows of the result file read last (execution id, rows): a client paging through
    /// one result reads the file once, not once per page.
    last_result: Mutex<Option<(String, Arc<Rows>)>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

use weir_log::ids::uuid;

/// `s3://bucket/key` → (bucket, key).
pub fn split_s3(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

impl Athena {
    /// Opens the history kept in `dir`; executions that were not finished when Weir stopped
    /// are FAILED (their work is lost with the process).
    pub fn open(
        dir: &Path,
        engine: Arc<dyn Engine>,
        objects: weir_objects::Objects,
        concurrency: usize,
    ) -> Result<Athena> {
        let (store, mut state, seq, ops): weir_catalog::store::Opened<State, Op> =
            Store::open(dir)?;
        for (_, op) in ops {
            state.apply(op);
        }
        let mut journal = Journal { store, seq };
        let interrupted: Vec<Execution> = state
            .executions
            .values()
            .filter(|e| !e.state.is_done())
            .cloned()
            .collect();
        for mut e in interrupted {
            e.state = QueryState::Failed;
            e.completed_ms = Some(now_ms());
            let msg = "Weir stopped while the query was running";
            e.reason = Some(msg.into());
            e.error = Some(Failure::system(msg));
            journal.seq += 1;
            let op = Op::Execution { e: Box::new(e) };
            journal.store.append(journal.seq, &op)?;
            state.apply(op);
        }
        Ok(Athena {
            inner: Arc::new(Inner {
                engine,
                objects,
                state: Mutex::new(state),
                journal: Mutex::new(journal),
                slots: Arc::new(Semaphore::new(concurrency.max(1))),
                tasks: Mutex::new(HashMap::new()),
                last_result: Mutex::new(None),
            }),
        })
    }

    fn persist(&self, op: Op) -> Result<()> {
        let mut j = self.inner.journal.lock();
        let seq = j.seq + 1;
        j.store.append(seq, &op)?;
        j.seq = seq;
        let mut state = self.inner.state.lock();
        state.apply(op);
        if j.store.needs_compaction() {
            let Journal { store, seq } = &mut *j;
            if let Err(e) = store.compact(*seq, &*state) {
                tracing::warn!(error = %e, "query history snapshot failed");
            }
        }
        Ok(())
    }

    /// Records an execution's new state durably.
    fn save(&self, e: Execution) -> Result<()> {
        self.persist(Op::Execution { e: Box::new(e) })
    }

    /// The work group (`primary` always exists).
    pub fn work_group(&self, region: &str, name: &str) -> Option<WorkGroup> {
        let state = self.inner.state.lock();
        state
            .work_groups
            .get(&wg_key(region, name))
            .cloned()
            .or_else(|| (name == "primary").then(primary))
    }

    pub fn work_groups(&self, region: &str) -> Vec<WorkGroup> {
        let state = self.inner.state.lock();
        let prefix = format!("{region}/");
        let mut out: Vec<WorkGroup> = state
            .work_groups
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, w)| w.clone())
            .collect();
        if !out.iter().any(|w| w.name == "primary") {
            out.push(primary());
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn put_work_group(&self, region: &str, wg: WorkGroup, create: bool) -> Result<()> {
        let exists = self.work_group(region, &wg.name).is_some();
        if create && exists {
            return Err(AthenaError::InvalidRequest(
                "WorkGroup is already created".into(),
            ));
        }
        if !create && !exists {
            return Err(AthenaError::InvalidRequest(format!(
                "WorkGroup {} is not found.",
                wg.name
            )));
        }
        self.persist(Op::WorkGroup {
            region: region.into(),
            wg: Box::new(wg),
        })
    }

    pub fn delete_work_group(&self, region: &str, name: &str) -> Result<()> {
        if name == "primary" {
            return Err(AthenaError::InvalidRequest(
                "Cannot delete primary workgroup".into(),
            ));
        }
        if self.work_group(region, name).is_none() {
            return Err(AthenaError::InvalidRequest(format!(
                "WorkGroup {name} is not found."
            )));
        }
        self.persist(Op::DeleteWorkGroup {
            region: region.into(),
            name: name.into(),
        })
    }

    /// Submits a query; it runs when a slot is free.
    pub async fn start(&self, req: StartRequest) -> Result<String> {
        let wg_name = req.work_group.clone().unwrap_or_else(|| "primary".into());
        let wg = self.work_group(&req.region, &wg_name).ok_or_else(|| {
            AthenaError::InvalidRequest(format!("WorkGroup {wg_name} is not found."))
        })?;
        if wg.state == "DISABLED" {
            return Err(AthenaError::InvalidRequest(format!(
                "WorkGroup {wg_name} is disabled."
            )));
        }
        if let Some(token) = &req.client_token {
            let state = self.inner.state.lock();
            if let Some(e) = state
                .executions
                .values()
                .find(|e| e.client_token.as_deref() == Some(token) && e.region == req.region)
            {
                return Ok(e.id.clone());
            }
        }
        let output = if wg.enforce && wg.output_location.is_some() {
            wg.output_location.clone()
        } else {
            req.output_location.clone().or(wg.output_location.clone())
        };
        let Some(output) = output else {
            return Err(AthenaError::InvalidRequest(
                "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.".into(),
            ));
        };
        let Some((bucket, _)) = split_s3(&output) else {
            return Err(AthenaError::InvalidRequest(format!(
                "outputLocation is not a valid S3 path. Provided {output}"
            )));
        };
        if !self.inner.objects.bucket_exists(bucket).await {
            return Err(AthenaError::InvalidRequest(format!(
                "Unable to verify/create output bucket {bucket}"
            )));
        }
        let dir = if output.ends_with('/') {
            output
        } else {
            format!("{output}/")
        };
        let id = uuid();
        let (kind, sub) = classify::classify(&req.query);
        let ext = if kind == "DML" || sub == "CREATE_TABLE_AS_SELECT" {
            "csv"
        } else {
            "txt"
        };
        let e = Execution {
            id: id.clone(),
            query: req.query.clone(),
            region: req.region.clone(),
            statement_type: kind.into(),
            substatement_type: Some(sub.into()),
            database: req.database.clone(),
            catalog: req.catalog.clone(),
            work_group: wg_name,
            output_location: format!("{dir}{id}.{ext}"),
            state: QueryState::Queued,
            reason: None,
            error: None,
            submitted_ms: now_ms(),
            completed_ms: None,
            started_ms: None,
            outcome: Outcome::default(),
            client_token: req.client_token.clone(),
            params: req.params.clone(),
        };
        let prepared = self
            .prepared_statements(&req.region, &e.work_group)
            .into_iter()
            .map(|p| (p.name, p.query))
            .collect();
        let job = Job {
            id: id.clone(),
            prepared,
            sql: req.query,
            region: req.region,
            database: req.database,
            catalog: req.catalog,
            output_dir: dir,
            result_file: e.output_location.clone(),
            params: req.params,
        };
        {
            let this = self.clone();
            let e = e.clone();
            tokio::task::spawn_blocking(move || this.save(e))
                .await
                .map_err(|e| AthenaError::Storage(std::io::Error::other(e.to_string())))??;
        }
        let this = self.clone();
        let mut tasks = self.inner.tasks.lock();
        let handle = tokio::spawn(async move { this.execute(job).await });
        tasks.insert(id.clone(), handle.abort_handle());
        Ok(id)
    }

    async fn execute(&self, job: Job) {
        let Ok(_permit) = self.inner.slots.clone().acquire_owned().await else {
            return;
        };
        let id = job.id.clone();
        let running = {
            let mut state = self.inner.state.lock();
            match state.executions.get_mut(&id) {
                Some(e) if e.state == QueryState::Queued => {
                    e.state = QueryState::Running;
                    e.started_ms = Some(now_ms());
                    true
                }
                _ => false,
            }
        };
        if !running {
            return;
        }
        // A panic in the engine fails this query, not the process or its record.
        let result = {
            use futures::FutureExt;
            match std::panic::AssertUnwindSafe(self.inner.engine.run(job))
                .catch_unwind()
                .await
            {
                Ok(r) => r,
                Err(_) => Err(Failure::system(
                    "GENERIC_INTERNAL_ERROR: the query engine failed unexpectedly",
                )),
            }
        };
        let done = {
            let state = self.inner.state.lock();
            state.executions.get(&id).cloned()
        };
        let Some(mut e) = done else { return };
        if e.state.is_done() {
            return;
        }
        e.completed_ms = Some(now_ms());
        match result {
            Ok(outcome) => {
                e.state = QueryState::Succeeded;
                // PREPARE / DEALLOCATE PREPARE change the work group's statements.
                if let Some((name, text)) = outcome.prepared.clone() {
                    let this = self.clone();
                    let (region, wg) = (e.region.clone(), e.work_group.clone());
                    let changed = tokio::task::spawn_blocking(move || match text {
                        Some(q) => {
                            let create = this.prepared(&region, &wg, &name).is_err();
                            this.put_prepared(&region, &wg, &name, &q, None, create)
                        }
                        None => this.delete_prepared(&region, &wg, &name),
                    })
                    .await
                    .unwrap_or_else(|j| {
                        Err(AthenaError::Storage(std::io::Error::other(j.to_string())))
                    });
                    if let Err(err) = changed {
                        e.state = QueryState::Failed;
                        e.reason = Some(err.to_string());
                        e.error = Some(Failure::user(1300, err.to_string()));
                    }
                }
                if let Some(t) = &outcome.statement_type {
                    e.statement_type = t.clone();
                }
                if let Some(t) = &outcome.substatement_type {
                    e.substatement_type = Some(t.clone());
                }
                e.outcome = outcome;
            }
            Err(f) => {
                e.state = QueryState::Failed;
                e.reason = Some(f.message.clone());
                e.error = Some(f);
            }
        }
        let this = self.clone();
        let saved = tokio::task::spawn_blocking(move || this.save(e)).await;
        if !matches!(saved, Ok(Ok(()))) {
            tracing::error!(id, "could not record a finished query");
        }
        self.inner.tasks.lock().remove(&id);
    }

    pub fn get(&self, region: &str, id: &str) -> Result<Execution> {
        let state = self.inner.state.lock();
        state
            .executions
            .get(id)
            .filter(|e| e.region == region)
            .cloned()
            .ok_or_else(|| {
                AthenaError::InvalidRequest(format!("QueryExecution {id} was not found"))
            })
    }

    /// Executions of a work group, newest first.
    pub fn list(&self, region: &str, work_group: &str) -> Vec<String> {
        let state = self.inner.state.lock();
        let mut v: Vec<&Execution> = state
            .executions
            .values()
            .filter(|e| e.region == region && e.work_group == work_group)
            .collect();
        v.sort_by(|a, b| b.submitted_ms.cmp(&a.submitted_ms).then(b.id.cmp(&a.id)));
        v.into_iter().map(|e| e.id.clone()).collect()
    }

    /// Cancels a query that has not finished (a finished one is left as it is).
    pub async fn stop(&self, region: &str, id: &str) -> Result<()> {
        let mut e = self.get(region, id)?;
        if e.state.is_done() {
            return Ok(());
        }
        if let Some(h) = self.inner.tasks.lock().remove(id) {
            h.abort();
        }
        e.state = QueryState::Cancelled;
        e.completed_ms = Some(now_ms());
        e.reason = Some("Query cancelled by user".into());
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.save(e))
            .await
            .map_err(|e| AthenaError::Storage(std::io::Error::other(e.to_string())))?
    }

    /// A page of a finished query's rows (the header row of a SELECT's CSV included, as
    /// Athena returns it on the first page).
    pub async fn results(
        &self,
        region: &str,
        id: &str,
        from: usize,
        max: usize,
    ) -> Result<ResultPage> {
        let e = self.get(region, id)?;
        match e.state {
            QueryState::Succeeded => {}
            QueryState::Failed | QueryState::Cancelled => {
                return Err(AthenaError::InvalidRequest(format!(
                    "Query has not yet finished. Current state: {}",
                    e.state.as_str()
                )))
            }
            _ => {
                return Err(AthenaError::InvalidRequest(format!(
                    "Query has not yet finished. Current state: {}",
                    e.state.as_str()
                )))
            }
        }
        let cached = self
            .inner
            .last_result
            .lock()
            .as_ref()
            .filter(|(cached_id, _)| *cached_id == e.id)
            .map(|(_, rows)| rows.clone());
        let rows = match (cached, e.outcome.result_file.as_deref().and_then(split_s3)) {
            (Some(rows), _) => rows,
            (None, Some((bucket, key))) => {
                let bytes = self.inner.objects.get(bucket, key).await.map_err(|err| {
                    AthenaError::InvalidRequest(format!(
                        "Unable to read the result file {}: {err}",
                        e.output_location
                    ))
                })?;
                let rows = Arc::new(results::parse(&bytes, key.ends_with(".csv")));
                *self.inner.last_result.lock() = Some((e.id.clone(), rows.clone()));
                rows
            }
            (None, None) => Arc::new(Vec::new()),
        };
        let total = rows.len();
        let page: Vec<_> = rows.iter().skip(from).take(max).cloned().collect();
        let next = (from + max < total).then_some(from + max);
        Ok(ResultPage {
            columns: e.outcome.columns.clone(),
            rows: page,
            next,
            update_count: e.outcome.update_count,
        })
    }
}

fn primary() -> WorkGroup {
    WorkGroup {
        name: "primary".into(),
        state: "ENABLED".into(),
        description: None,
        output_location: None,
        enforce: false,
        created_ms: 0,
        configuration: serde_json::Value::Null,
    }
}
