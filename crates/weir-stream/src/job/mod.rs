//! A running job: one task reading every shard of its sources (resharding followed), decoding,
//! running each source's stage, keeping per-shard watermarks (the job's watermark is the least
//! over the shards not idle, a shard without rows yet counting as the lowest), feeding rows to
//! the query directly or through window state, writing what comes out to the sink, and
//! checkpointing source positions with window state.

pub mod budget;
mod dedup;
mod errors;
mod fired;
mod interval;
mod keyed;
mod lanes;
mod lookup;
mod outer;
mod over;
pub mod preprocess;
mod progress;
pub mod reshape;
pub use errors::PUMPS_OPTION;
pub use lanes::SQL_ERRORS_OPTION;
mod start;
mod topn;
mod update;

pub use start::prepare;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use parking_lot::Mutex;
use tokio::sync::watch;
use weir_delivery::source::Reader;

use crate::checkpoint::{batches, JobFiles, Saved};
use crate::error::Result;
use crate::plan::JobPlan;
use crate::sink::{Outputs, Sink};
use crate::window::spill::SpillDir;
use crate::window::WindowState;
use dedup::KeyedDedup;
use interval::KeyedJoin;
use over::KeyedOver;
use progress::{job_watermark, lag, save, take, update_status};
use topn::KeyedTopN;
use update::KeyedUpdate;

/// A job's state as Flink names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Running,
    /// Failed and waiting to restart from its last checkpoint.
    Restarting,
    Failed,
    Canceled,
    Finished,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "RUNNING",
            JobState::Restarting => "RESTARTING",
            JobState::Failed => "FAILED",
            JobState::Canceled => "CANCELED",
            JobState::Finished => "FINISHED",
        }
    }
}

/// What a job reports while it runs.
#[derive(Debug, Default)]
pub struct JobStatus {
    pub state: Mutex<Option<JobState>>,
    pub error: Mutex<Option<String>>,
    pub records_in: AtomicU64,
    pub records_out: AtomicU64,
    pub late_dropped: AtomicU64,
    pub skipped: AtomicU64,
    /// The job's watermark (epoch ms; `i64::MIN` before the first).
    pub watermark: AtomicI64,
    /// When the last checkpoint was saved (epoch ms; 0 for none).
    pub checkpoint_ms: AtomicI64,
    pub checkpoints: AtomicU64,
    /// Per source shard (`table/shard`): records not read yet.
    pub lag: Mutex<BTreeMap<String, u64>>,
    /// A statement set's other parts (each counts its own; the job shows their sums).
    pub parts: Mutex<Vec<Arc<JobStatus>>>,
    /// Bytes of operator state in memory: window panes, join rows, updating-aggregate
    /// states, OVER rows and deduplication keys.
    pub state_bytes: AtomicU64,
    /// Bytes of window panes moved to spill files (past the state budget).
    pub spilled_bytes: AtomicU64,
    /// How many parts the keyed state of a join, OVER aggregation, updating aggregate,
    /// deduplication or Top-N, or a window's query at its firing, is split into over the
    /// cores (1 for one).
    pub state_parts: AtomicU64,
}

/// How a job runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub checkpoint_interval: Duration,
    /// A shard without records this long stops holding the watermark back (0: never).
    pub idle_timeout: Duration,
    /// Where an interactive query's rows go.
    pub collector: Option<Arc<crate::sink::Collector>>,
    /// `table.exec.state.ttl`: how long a regular join keeps rows (none: forever).
    pub state_ttl: Option<Duration>,
    /// How many shards of a source are decoded and staged at once (`parallelism.default`;
    /// the machine's cores by default).
    pub parallelism: usize,
    /// What all jobs' operator state may hold in memory (`[flink] state_memory_mb`).
    pub state_budget: Option<Arc<budget::StateBudget>>,
    /// A KDA application's pump names by the stream each inserts into (`PUMPS_OPTION`).
    pub pumps: BTreeMap<String, String>,
}

/// Lanes per source when the job does not say: the machine's cores (at most 8).
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// The most lanes a source gets (each has its own copy of the source's stages).
pub const MAX_PARALLELISM: usize = 64;

/// A source as the job reads it.
struct SourceRun {
    name: String,
    reader: Reader,
    /// KDA's JSONPath reshaping of each record, before decoding.
    reshape: Option<reshape::Reshape>,
    /// Decoding and stateless stages, one lane per core.
    lanes: Vec<lanes::Lane>,
    /// A stage's stream: rows come only when its writer's windows fire, so its shard is
    /// never idle (its watermark is the writer's).
    never_idle: bool,
    /// Per shard being read: its watermark (`i64::MIN` before its first row) and when it last
    /// had rows.
    marks: BTreeMap<String, (i64, Instant)>,
    window: Option<WindowState>,
}

impl SourceRun {
    /// Every shard being read has a mark (new ones at the lowest); finished ones have none.
    fn track_shards(&mut self) {
        let active: Vec<String> = self.reader.shards().cloned().collect();
        self.marks.retain(|s, _| active.contains(s));
        for s in active {
            self.marks.entry(s).or_insert((i64::MIN, Instant::now()));
        }
    }
}

/// Runs a job's plans (several for a statement set, each with its own checkpoints) until
/// `stop` turns true or one fails.
#[allow(clippy::too_many_arguments)]
pub async fn run_set(
    plans: Vec<JobPlan>,
    id: &str,
    outputs: Outputs,
    files: JobFiles,
    status: Arc<JobStatus>,
    options: RunOptions,
    stop: watch::Receiver<bool>,
    drain: watch::Receiver<bool>,
) -> Result<()> {
    let mut plans = plans;
    errors::one_reporter(&mut plans);
    let mut runs = Vec::new();
    let mut feeders = Vec::new();
    status.parts.lock().clear();
    // Parts that read stages stop after the parts that write them: on a drain, once those
    // have fired their last windows into the stages (and the readers read them).
    let (later_stop, later_stopped) = watch::channel(false);
    for (k, plan) in plans.into_iter().enumerate() {
        // Parts name their files apart (`part-<id>-<n>-` never prefixes another part's).
        let part_id = match k {
            0 => id.to_string(),
            k => format!("{id}_p{k}"),
        };
        let files = files.part(k)?;
        let status = match k {
            0 => status.clone(),
            _ => {
                let part = Arc::new(JobStatus::default());
                status.parts.lock().push(part.clone());
                part
            }
        };
        let (outputs, options) = (outputs.clone(), options.clone());
        let reads_stage = plan.sources.iter().any(|s| is_stage(&s.table));
        let writes_stage = is_stage(&plan.sink);
        let stop = match reads_stage {
            true => later_stopped.clone(),
            false => stop.clone(),
        };
        let drain = drain.clone();
        let part =
            async move { run(plan, &part_id, outputs, files, status, options, stop, drain).await };
        match writes_stage {
            true => feeders.push(Box::pin(part) as futures::future::BoxFuture<'_, Result<()>>),
            false => runs.push(Box::pin(part) as futures::future::BoxFuture<'_, Result<()>>),
        }
    }
    if feeders.is_empty() {
        return futures::future::try_join_all(runs).await.map(|_| ());
    }
    let (done, mut writers_done) = watch::channel(false);
    let writers = async move {
        let out = futures::future::try_join_all(feeders).await;
        let _ = done.send(true);
        out
    };
    let coordinator = async move {
        let mut stop = stop;
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        if *drain.borrow() {
            while !*writers_done.borrow() {
                if writers_done.changed().await.is_err() {
                    break;
                }
            }
        }
        let _ = later_stop.send(true);
        Ok::<(), crate::error::StreamError>(())
    };
    futures::future::try_join3(writers, futures::future::try_join_all(runs), coordinator)
        .await
        .map(|_| ())
}

/// A table over one of a job's internal stage streams.
fn is_stage(table: &crate::table::TableDef) -> bool {
    matches!(&table.connector, crate::table::Connector::Kinesis { stream, .. }
        if stream.starts_with(crate::plan::stages::STREAM_PREFIX))
}

/// Runs a job until `stop` turns true or it fails. Saves a checkpoint at every interval and
/// when stopped (after firing every window when `drain` is set).
#[allow(clippy::too_many_arguments)]
pub async fn run(
    plan: JobPlan,
    id: &str,
    outputs: Outputs,
    files: JobFiles,
    status: Arc<JobStatus>,
    options: RunOptions,
    mut stop: watch::Receiver<bool>,
    drain: watch::Receiver<bool>,
) -> Result<()> {
    let saved = {
        let f = files.clone();
        tokio::task::spawn_blocking(move || f.load())
            .await
            .map_err(|e| crate::error::StreamError::Unsupported(format!("checkpoint: {e}")))??
    };
    let log = outputs.log.clone();
    let objects = outputs.objects.clone();
    let delivery = outputs.delivery.clone();
    let mut sink = Sink::new(
        plan.sink.clone(),
        plan.sink_schema.clone(),
        outputs,
        id,
        options.collector.clone(),
        stop.clone(),
    )?;
    sink.check().await?;
    let Saved {
        meta,
        mut state,
        sink: committing,
    } = saved.ok_or_else(|| {
        crate::error::StreamError::Unsupported("The job has no checkpoint 0".into())
    })?;
    // The files of the last checkpoint may not all have been written.
    sink.commit(meta.number, &committing).await?;
    status.watermark.store(meta.watermark, Ordering::Relaxed);
    status.records_in.store(meta.records_in, Ordering::Relaxed);
    status
        .records_out
        .store(meta.records_out, Ordering::Relaxed);
    status.checkpoints.store(meta.number, Ordering::Relaxed);
    status.checkpoint_ms.store(meta.saved_ms, Ordering::Relaxed);
    sink.records_out = meta.records_out;
    let mut account = budget::Account::new(options.state_budget.clone());
    let spill_dir = Arc::new(SpillDir::open(files.dir().join("spill"))?);
    let mut sources = Vec::with_capacity(plan.sources.len());
    for sp in &plan.sources {
        let name = sp.table.name().to_string();
        let (key, start) = start::source_key(&sp.table)?;
        let from = meta.positions.get(&name).cloned().unwrap_or_default();
        let mut reader = Reader::new(log.clone(), key, false, from)
            .starting_at(start)
            .threads(options.parallelism);
        if let crate::table::Connector::Kinesis {
            part: Some((k, n)), ..
        } = sp.table.connector
        {
            reader = reader.part(k, n);
        }
        // Sequence numbers are formatted only for a table that shows them.
        if !preprocess::enabled(&sp.table)
            && !sp
                .table
                .metadata
                .iter()
                .any(|(_, m)| *m == crate::table::Meta::SequenceNumber)
        {
            reader = reader.lean();
        }
        reader.refresh()?;
        let mut window = sp
            .window
            .clone()
            .map(|spec| WindowState::new(spec, sp.table_schema.clone()))
            .transpose()?;
        if let Some(p) = plan.partial.as_ref() {
            window = window.map(|w| w.with_states(p.state_schema.clone(), p.window_columns));
        }
        if let Some(w) = window.as_mut() {
            w.spill_to(spill_dir.clone());
            let saved = state.remove(&name).unwrap_or_else(|| batches(Vec::new()));
            w.restore(meta.watermark, saved, account.restore_cap())?;
        }
        let marks = meta
            .shard_watermarks
            .get(&name)
            .map(|m| {
                m.iter()
                    .map(|(s, wm)| (s.clone(), (*wm, Instant::now())))
                    .collect()
            })
            .unwrap_or_default();
        let mut run = SourceRun {
            name,
            reader,
            reshape: reshape::of(&sp.table),
            lanes: Vec::new(),
            never_idle: is_stage(&sp.table),
            marks,
            window,
        };
        run.track_shards();
        sources.push(run);
    }
    let schemas: Vec<_> = plan
        .sources
        .iter()
        .map(|s| s.table_schema.clone())
        .collect();
    let mut join = plan
        .interval
        .clone()
        .map(|j| KeyedJoin::new(j, &plan.query, options.parallelism, &schemas))
        .transpose()?;
    if let Some(j) = join.as_mut() {
        for (i, s) in sources.iter().enumerate() {
            j.restore(i, take(&mut state, &s.name)?)?;
        }
        j.settle();
    }
    let mut over = plan
        .over
        .clone()
        .map(|o| {
            let marked = crate::plan::marked_schema(&plan.sources[0].table_schema);
            KeyedOver::new(o, marked, &plan.query, options.parallelism)
        })
        .transpose()?;
    if let (Some(o), Some(s)) = (over.as_mut(), sources.first()) {
        o.restore(meta.watermark, take(&mut state, &s.name)?)?;
    }
    let mut update = match (plan.changelog, plan.partial.as_ref()) {
        (true, Some(p)) => Some(KeyedUpdate::new(p, options.parallelism)?),
        _ => None,
    };
    if let (Some(u), Some(s)) = (update.as_mut(), sources.first()) {
        u.restore(take(&mut state, &s.name)?)?;
    }
    let mut dedup = match (plan.dedup.as_ref(), plan.sources.first()) {
        (Some(d), Some(sp)) => Some(KeyedDedup::new(
            d.keys.clone(),
            &sp.table_schema,
            options.parallelism,
        )?),
        _ => None,
    };
    if let (Some(d), Some(s)) = (dedup.as_mut(), sources.first()) {
        d.restore(take(&mut state, &s.name)?)?;
    }
    let mut top = match (plan.top.as_ref(), plan.sources.first()) {
        (Some(t), Some(sp)) => Some(KeyedTopN::new(
            t.clone(),
            sp.table_schema.clone(),
            &plan.query,
            options.parallelism,
        )?),
        _ => None,
    };
    if let (Some(t), Some(s)) = (top.as_mut(), sources.first()) {
        t.restore(take(&mut state, &s.name)?).await?;
    }
    // What no operator took is closed now (its file is not kept open for the job's run).
    drop(state);
    // A window's query at its firing, in parts by its keys.
    let mut fire = match plan.window.as_ref().filter(|w| w.aggregate) {
        Some(_) => Some(fired::KeyedFire::new(
            plan.partial.as_ref().map_or(&plan.query, |p| &p.finish),
            options.parallelism,
        )?),
        None => None,
    };
    let parts = [
        fire.as_ref().map(fired::KeyedFire::parts),
        join.as_ref().map(KeyedJoin::parts),
        over.as_ref().map(KeyedOver::parts),
        update.as_ref().map(KeyedUpdate::parts),
        dedup.as_ref().map(KeyedDedup::parts),
        top.as_ref().map(KeyedTopN::parts),
    ];
    let parts = parts.into_iter().flatten().max().unwrap_or(1);
    status.state_parts.store(parts as u64, Ordering::Relaxed);
    // A job without state runs its query in the lanes too.
    let stateless = plan.window.is_none()
        && join.is_none()
        && over.is_none()
        && update.is_none()
        && dedup.is_none()
        && top.is_none();
    // A window aggregate kept as partial states computes them in the lanes.
    let local = join.is_none()
        && over.is_none()
        && update.is_none()
        && dedup.is_none()
        && top.is_none()
        && plan.window.as_ref().is_some_and(|w| w.aggregate);
    for (i, (src, sp)) in sources.iter_mut().zip(&plan.sources).enumerate() {
        let query = stateless.then_some(&plan.query);
        // Partial aggregation in the lanes: per pane of a window aggregate, or the states an
        // updating aggregate merges by key.
        let partial = match (&plan.partial, &src.window) {
            (Some(p), Some(_)) if local => Some(&p.partial),
            (Some(p), None) if update.is_some() && plan.sources.len() == 1 => Some(&p.partial),
            _ => None,
        };
        src.lanes = lanes::Lane::for_source(sp, i, query, partial, options.parallelism)?;
    }
    // Lookup tables, read whole (and again after their TTL).
    let mut looked_up = Instant::now();
    let lookup_ttl = plan.lookups.iter().map(|l| lookup::ttl(&l.table)).min();
    for l in &plan.lookups {
        l.slot.put(lookup::load(&l.table, objects.as_ref()).await?);
    }
    if plan.sources.is_empty() {
        return run_bounded(&plan, &files, &status, &mut sink, meta.number).await;
    }
    let aggregate = plan
        .window
        .as_ref()
        .filter(|w| w.aggregate)
        .map(|w| w.time_kind);
    let mut number = meta.number;
    let mut lag_at = Instant::now() - Duration::from_secs(1);
    // State past table.exec.state.ttl is looked for now and then (an eighth of the TTL, at
    // most every second), not at every read: expiry is lazy, as Flink's cleanup.
    let ttl_every = options
        .state_ttl
        .map(|t| (t / 8).min(Duration::from_secs(1)));
    let mut ttl_at = Instant::now();
    let mut last_checkpoint = Instant::now();
    let mut dirty = false;
    let tick = Duration::from_millis(100);
    // Drained, a part that reads stages first reads what their writers left in them.
    let reads_stage = plan.sources.iter().any(|s| is_stage(&s.table));
    let mut emptied = false;
    loop {
        if *stop.borrow() && (emptied || !(reads_stage && *drain.borrow())) {
            break;
        }
        if lookup_ttl.is_some_and(|t| looked_up.elapsed() >= t) {
            for l in &plan.lookups {
                l.slot.put(lookup::load(&l.table, objects.as_ref()).await?);
            }
            looked_up = Instant::now();
        }
        let mut read = 0usize;
        for (i, src) in sources.iter_mut().enumerate() {
            let records = src.reader.read().await?;
            src.track_shards();
            if records.is_empty() {
                continue;
            }
            read += records.len();
            let table = &plan.sources[i].table;
            let records = if preprocess::enabled(table) {
                let (kept, failed) =
                    preprocess::apply(table, delivery.as_ref(), records, &stop).await?;
                errors::write_rejected(&log, table, failed).await?;
                kept
            } else {
                records
            };
            let records = match &src.reshape {
                Some(spec) => reshape::apply(spec, records),
                None => records,
            };
            let mut prepared = lanes::prepare(&mut src.lanes, records, src.window.as_ref()).await?;
            errors::write(&log, &plan.sources[i].table, &mut prepared).await?;
            let pump = options.pumps.get(plan.sink.name()).map(String::as_str);
            errors::write_failed(&log, &plan.sources[i].table, &mut prepared, pump).await?;
            let mut ops = Operators {
                join: &mut join,
                over: &mut over,
                update: &mut update,
                dedup: &mut dedup,
                top: &mut top,
            };
            process(&plan, i, src, prepared, &mut ops, &mut sink).await?;
        }
        if let Some(kind) = aggregate {
            let wm = job_watermark(kind, &sources, &options);
            dirty |= advance(fire.as_mut(), &plan, &mut sources, wm, &mut sink).await?;
        }
        if let (Some(j), Some(ij)) = (join.as_mut(), plan.interval.as_ref()) {
            if let Some(wm) = job_watermark(ij.time_kind, &sources, &options) {
                j.expire(wm)?;
                if !ij.regular {
                    status.watermark.store(wm, Ordering::Relaxed);
                }
            }
        }
        if let (Some(ttl), Some(every)) = (options.state_ttl, ttl_every) {
            if ttl_at.elapsed() >= every {
                ttl_at = Instant::now();
                if let (Some(j), true) = (
                    join.as_mut(),
                    plan.interval.as_ref().is_some_and(|i| i.regular),
                ) {
                    j.expire_ttl(ttl)?;
                }
                if let Some(d) = dedup.as_mut() {
                    d.expire_ttl(ttl);
                }
                if let Some(t) = top.as_mut() {
                    t.expire_ttl(ttl);
                }
            }
        }
        if let (Some(o), Some(op)) = (over.as_mut(), plan.over.as_ref()) {
            if let Some(wm) = job_watermark(op.time_kind, &sources, &options) {
                let out = o.fire(wm).await?;
                dirty |= !out.is_empty();
                sink.write(&out).await?;
                status.watermark.store(o.watermark(), Ordering::Relaxed);
                status
                    .late_dropped
                    .store(o.late_dropped(), Ordering::Relaxed);
            }
        }
        if read > 0 {
            dirty = true;
            // Counted once processed (their results written or held in window state).
            status.records_in.fetch_add(read as u64, Ordering::Relaxed);
        }
        update_status(&status, &sink, &sources);
        let held = sources
            .iter()
            .filter_map(|s| s.window.as_ref())
            .map(|w| w.bytes)
            .sum::<usize>()
            + join.as_ref().map_or(0, KeyedJoin::bytes)
            + update.as_ref().map_or(0, KeyedUpdate::bytes)
            + over.as_ref().map_or(0, KeyedOver::bytes)
            + dedup.as_ref().map_or(0, KeyedDedup::bytes)
            + top.as_ref().map_or(0, KeyedTopN::bytes);
        let mut windows: Vec<&mut WindowState> = sources
            .iter_mut()
            .filter_map(|s| s.window.as_mut())
            .collect();
        let held = account.settle(held, &mut windows)?;
        let spilled: usize = windows.iter().map(|w| w.spilled_bytes).sum();
        status.state_bytes.store(held as u64, Ordering::Relaxed);
        status
            .spilled_bytes
            .store(spilled as u64, Ordering::Relaxed);
        if lag_at.elapsed() >= Duration::from_secs(1) {
            *status.lag.lock() = lag(&log, &sources);
            lag_at = Instant::now();
        }
        if dirty && last_checkpoint.elapsed() >= options.checkpoint_interval {
            number += 1;
            let ops = Operators {
                join: &mut join,
                over: &mut over,
                update: &mut update,
                dedup: &mut dedup,
                top: &mut top,
            };
            save(&files, number, &sources, &ops, &status, &mut sink).await?;
            last_checkpoint = Instant::now();
            dirty = false;
        }
        if read == 0 && *stop.borrow() {
            emptied = true;
            continue;
        }
        if read == 0 {
            let changed =
                futures::future::select_all(sources.iter().map(|s| Box::pin(s.reader.changed())));
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => {}
            }
        }
    }
    if *drain.borrow() && aggregate.is_some() {
        // STOP JOB ... WITH DRAIN: every window fires, as at the end of the input.
        advance(
            fire.as_mut(),
            &plan,
            &mut sources,
            Some(i64::MAX - 1),
            &mut sink,
        )
        .await?;
    }
    let draining = *drain.borrow();
    if let (true, Some(o)) = (draining, over.as_mut()) {
        let out = o.fire(i64::MAX - 1).await?;
        sink.write(&out).await?;
    }
    update_status(&status, &sink, &sources);
    let ops = Operators {
        join: &mut join,
        over: &mut over,
        update: &mut update,
        dedup: &mut dedup,
        top: &mut top,
    };
    save(&files, number + 1, &sources, &ops, &status, &mut sink).await?;
    Ok(())
}

/// A query without tables (`INSERT INTO t VALUES ...`): its rows written once, committed with
/// a checkpoint; the job then finishes. A job that already ran (a checkpoint after the first)
/// writes nothing again.
async fn run_bounded(
    plan: &JobPlan,
    files: &JobFiles,
    status: &JobStatus,
    sink: &mut Sink,
    number: u64,
) -> Result<()> {
    if number == 0 {
        let out = plan.query.run_all(Vec::new()).await?;
        sink.write(&out).await?;
        status
            .records_out
            .store(sink.records_out, Ordering::Relaxed);
    }
    let ops = Operators {
        join: &mut None,
        over: &mut None,
        update: &mut None,
        dedup: &mut None,
        top: &mut None,
    };
    save(files, number + 1, &[], &ops, status, sink).await
}

/// How many batches of partial states a pane keeps before they are merged into one.
const MERGE_AFTER: usize = 8;

/// The state of the operators other than windows (at most one is set).
struct Operators<'a> {
    join: &'a mut Option<KeyedJoin>,
    over: &'a mut Option<KeyedOver>,
    update: &'a mut Option<KeyedUpdate>,
    dedup: &'a mut Option<KeyedDedup>,
    top: &'a mut Option<KeyedTopN>,
}

/// One source's records, prepared per shard by its lanes: watermarks kept, rows handed to
/// the operators (a job without state has its output already).
async fn process(
    plan: &JobPlan,
    i: usize,
    src: &mut SourceRun,
    prepared: Vec<lanes::Prepared>,
    ops: &mut Operators<'_>,
    sink: &mut Sink,
) -> Result<()> {
    for p in prepared {
        let shard: &str = &p.shard;
        if let Some(m) = p.mark {
            let e = src
                .marks
                .entry(shard.to_string())
                .or_insert((i64::MIN, Instant::now()));
            e.0 = e.0.max(m);
        }
        if let Some(e) = src.marks.get_mut(shard) {
            e.1 = Instant::now();
        }
        if let Some(out) = p.out {
            sink.write(&out).await?;
            continue;
        }
        if let (Some(panes), Some(w)) = (p.panes, src.window.as_mut()) {
            w.late_dropped += p.late;
            for (pane, states) in panes {
                w.add(pane, states);
            }
            merge_crowded(plan, w).await?;
            continue;
        }
        let rows = p.rows;
        if let Some(j) = ops.join.as_mut() {
            let out = j.run(i, rows).await?;
            sink.write(&out).await?;
            continue;
        }
        if let Some(o) = ops.over.as_mut() {
            for b in &rows {
                o.push(b)?;
            }
            continue;
        }
        if let Some(t) = ops.top.as_mut() {
            let out = t.push(rows).await?;
            sink.write(&out).await?;
            continue;
        }
        if let Some(d) = ops.dedup.as_mut() {
            let first = d.first_rows(rows).await?;
            let out = plan.query.run_at(i, first).await?;
            sink.write(&out).await?;
            continue;
        }
        if let (Some(u), Some(partial)) = (ops.update.as_mut(), plan.partial.as_ref()) {
            // Partial states from the lanes (or made here), merged by key over the parts.
            let states = match p.states {
                Some(states) => states,
                None => partial.partial.run(rows).await?,
            };
            let out = u.apply_states(states).await?;
            sink.write(&out).await?;
            continue;
        }
        match (&plan.window, src.window.as_mut()) {
            (Some(spec), Some(w)) if spec.aggregate => {
                // Partial states are computed in the lanes (above); here windows keep rows.
                if plan.partial.is_some() {
                    return Err(crate::error::StreamError::Unsupported(
                        "a partial window aggregate outside its lanes".into(),
                    ));
                }
                for b in &rows {
                    w.push(b)?;
                }
            }
            (Some(_), Some(w)) => {
                let mut assigned = Vec::new();
                for b in &rows {
                    assigned.extend(w.assign(b)?);
                }
                let out = plan.query.run_at(i, assigned).await?;
                sink.write(&out).await?;
            }
            _ => {
                let out = plan.query.run_at(i, rows).await?;
                sink.write(&out).await?;
            }
        }
    }
    Ok(())
}

/// Merges the partial states of each pane that keeps more than `MERGE_AFTER` batches.
async fn merge_crowded(plan: &JobPlan, w: &mut WindowState) -> Result<()> {
    let Some(p) = plan.partial.as_ref() else {
        return Ok(());
    };
    for pane in w.crowded(MERGE_AFTER) {
        let states = w.take_pane(pane);
        let merged = p.reduce.run(states).await?;
        let merged = datafusion::arrow::compute::concat_batches(&p.state_schema, &merged)?;
        w.add(pane, merged);
    }
    Ok(())
}

/// Fires the windows the watermark closes and writes their results.
async fn advance(
    fire: Option<&mut fired::KeyedFire>,
    plan: &JobPlan,
    sources: &mut [SourceRun],
    watermark: Option<i64>,
    sink: &mut Sink,
) -> Result<bool> {
    let Some(wm) = watermark else {
        return Ok(false);
    };
    let mut states: Vec<&mut WindowState> = sources
        .iter_mut()
        .filter_map(|s| s.window.as_mut())
        .collect();
    let fired = crate::window::fire(&mut states, wm)?;
    let any = !fired.is_empty();
    let mut windows = Vec::with_capacity(fired.len());
    for (start, end, rows) in fired {
        if rows.iter().all(|r| r.num_rows() == 0) {
            continue;
        }
        tracing::debug!(start, end, "window fired");
        windows.push(rows);
    }
    match fire {
        Some(f) if !windows.is_empty() => sink.write(&f.run(windows).await?).await?,
        Some(_) => {}
        None => {
            let query = plan.partial.as_ref().map_or(&plan.query, |p| &p.finish);
            for rows in windows {
                let out = query
                    .run_all(rows.into_iter().map(|r| vec![r]).collect())
                    .await?;
                sink.write(&out).await?;
            }
        }
    }
    Ok(any)
}

/// The greatest timestamp of a column, in epoch milliseconds.
fn max_ms(col: &dyn Array) -> Result<Option<i64>> {
    let ms = cast(col, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let ms = cast(&ms, &DataType::Int64)?;
    Ok(ms
        .as_any()
        .downcast_ref::<Int64Array>()
        .and_then(|a| a.iter().flatten().max()))
}
