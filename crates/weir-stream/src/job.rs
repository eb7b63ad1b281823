//! A running job: one task reading every shard of its source (resharding followed), decoding,
//! running the source stage, keeping per-shard watermarks (the job's watermark is the least of
//! the shards not idle), feeding rows to the query directly or through window state, writing
//! what comes out to the sink, and checkpointing source positions with window state.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use parking_lot::Mutex;
use tokio::sync::watch;
use weir_delivery::source::{Reader, SourceRecord};
use weir_delivery::{Checkpoint, Delivery, Resume};
use weir_log::{IteratorStart, Log, StreamKey};

use crate::checkpoint::{JobFiles, Saved};
use crate::decode::Decoder;
use crate::error::{Result, StreamError};
use crate::functions::now_ms;
use crate::plan::{JobPlan, TimeKind};
use crate::sink::Sink;
use crate::table::{Connector, StartPosition};
use crate::window::WindowState;

/// A job's state as Flink names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Created,
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
            JobState::Created => "CREATED",
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
    /// Per source shard: records behind the shard's end.
    pub lag: Mutex<BTreeMap<String, u64>>,
}

/// How a job runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub checkpoint_interval: Duration,
    /// A shard without records this long stops holding the watermark back (0: never).
    pub idle_timeout: Duration,
    /// Where an interactive query's rows go.
    pub collector: Option<Arc<crate::sink::Collector>>,
}

/// Runs a job until `stop` turns true or it fails. Saves a checkpoint at every interval and
/// when stopped.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    plan: JobPlan,
    id: &str,
    log: Log,
    delivery: Option<Delivery>,
    objects: Option<weir_objects::Objects>,
    files: JobFiles,
    status: Arc<JobStatus>,
    options: RunOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let Connector::Kinesis {
        stream,
        region,
        start,
    } = &plan.source.connector
    else {
        return Err(StreamError::Validation(
            "The source is not a Kinesis table".into(),
        ));
    };
    let key = StreamKey::new(region.clone(), stream.clone());
    let saved = files.load()?;
    let mut sink = Sink::new(
        plan.sink.clone(),
        plan.sink_schema.clone(),
        log.clone(),
        delivery,
        objects,
        id,
        options.collector.clone(),
    )?;
    sink.check().await?;
    let mut window = plan
        .window
        .clone()
        .map(|spec| WindowState::new(spec, plan.table_schema.clone()));
    let mut shard_marks: BTreeMap<String, (i64, Instant)> = BTreeMap::new();
    let from = match saved {
        Some(Saved {
            meta,
            state,
            sink: committing,
        }) => {
            // The files of the last checkpoint may not all have been written.
            sink.commit(meta.number, &committing).await?;
            if let Some(w) = window.as_mut() {
                w.restore(meta.watermark, state)?;
            }
            status.watermark.store(meta.watermark, Ordering::Relaxed);
            status.records_in.store(meta.records_in, Ordering::Relaxed);
            status
                .records_out
                .store(meta.records_out, Ordering::Relaxed);
            status.checkpoints.store(meta.number, Ordering::Relaxed);
            status.checkpoint_ms.store(meta.saved_ms, Ordering::Relaxed);
            for (shard, wm) in meta.shard_watermarks {
                shard_marks.insert(shard, (wm, Instant::now()));
            }
            meta.positions
        }
        None => initial_positions(&log, &key, *start).await?,
    };
    let mut reader = Reader::new(log.clone(), key.clone(), false, from);
    reader.refresh()?;
    let mut decoder = Decoder::new(&plan.source)?;
    sink.records_out = status.records_out.load(Ordering::Relaxed);
    let mut last_checkpoint = Instant::now();
    let mut dirty = false;
    let tick = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            break;
        }
        let records = reader.read().await?;
        if records.is_empty() {
            let fired = match &plan.window {
                Some(w) if w.aggregate => {
                    let wm = job_watermark(w.time_kind, &shard_marks, &options);
                    advance(&plan, window.as_mut(), wm, &mut sink).await?
                }
                _ => false,
            };
            dirty |= fired;
            update_status(&status, &sink, window.as_ref(), &decoder);
            if dirty && last_checkpoint.elapsed() >= options.checkpoint_interval {
                save(
                    &files,
                    &reader,
                    window.as_ref(),
                    &shard_marks,
                    &status,
                    &mut sink,
                )
                .await?;
                last_checkpoint = Instant::now();
                dirty = false;
            }
            tokio::select! {
                _ = reader.changed() => {}
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        dirty = true;
        for group in by_shard(&records) {
            let shard = group[0].shard.to_string();
            let decoded = decoder.decode(group)?;
            let staged = plan.source_stage.run(vec![decoded]).await?;
            let mut rows = Vec::with_capacity(staged.len());
            for b in staged {
                if let Some(i) = plan.watermark_index {
                    if let Some(m) = max_ms(b.column(i))? {
                        let e = shard_marks
                            .entry(shard.clone())
                            .or_insert((i64::MIN, Instant::now()));
                        e.0 = e.0.max(m);
                        e.1 = Instant::now();
                    }
                    let mut cols = b.columns().to_vec();
                    cols.remove(i);
                    rows.push(RecordBatch::try_new(plan.table_schema.clone(), cols)?);
                } else {
                    rows.push(b);
                }
            }
            match (&plan.window, window.as_mut()) {
                (Some(spec), Some(w)) if spec.aggregate => {
                    for b in &rows {
                        w.push(b)?;
                    }
                }
                (Some(_), Some(w)) => {
                    let mut assigned = Vec::new();
                    for b in &rows {
                        assigned.extend(w.assign(b)?);
                    }
                    let out = plan.query.run(assigned).await?;
                    sink.write(&out).await?;
                }
                _ => {
                    let out = plan.query.run(rows).await?;
                    sink.write(&out).await?;
                }
            }
        }
        let finished = reader.checkpoint().finished;
        shard_marks.retain(|s, _| !finished.contains(s));
        if let Some(spec) = plan.window.as_ref().filter(|w| w.aggregate) {
            let wm = job_watermark(spec.time_kind, &shard_marks, &options);
            advance(&plan, window.as_mut(), wm, &mut sink).await?;
        }
        // Counted once processed (their results written or held in window state).
        status
            .records_in
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        update_status(&status, &sink, window.as_ref(), &decoder);
        if last_checkpoint.elapsed() >= options.checkpoint_interval {
            save(
                &files,
                &reader,
                window.as_ref(),
                &shard_marks,
                &status,
                &mut sink,
            )
            .await?;
            last_checkpoint = Instant::now();
            dirty = false;
        }
    }
    update_status(&status, &sink, window.as_ref(), &decoder);
    save(
        &files,
        &reader,
        window.as_ref(),
        &shard_marks,
        &status,
        &mut sink,
    )
    .await?;
    Ok(())
}

/// Fires the windows the watermark closes and writes their results.
async fn advance(
    plan: &JobPlan,
    window: Option<&mut WindowState>,
    watermark: Option<i64>,
    sink: &mut Sink,
) -> Result<bool> {
    let (Some(w), Some(wm)) = (window, watermark) else {
        return Ok(false);
    };
    let fired = w.advance(wm)?;
    let any = !fired.is_empty();
    for f in fired {
        tracing::debug!(
            start = f.start,
            end = f.end,
            rows = f.rows.num_rows(),
            "window fired"
        );
        let out = plan.query.run(vec![f.rows]).await?;
        sink.write(&out).await?;
    }
    Ok(any)
}

/// The job's watermark: the least over shards that are not idle (event time), or the clock.
fn job_watermark(
    kind: TimeKind,
    marks: &BTreeMap<String, (i64, Instant)>,
    options: &RunOptions,
) -> Option<i64> {
    match kind {
        TimeKind::Processing => Some(now_ms() - 1),
        TimeKind::Event => {
            let live = marks
                .values()
                .filter(|(_, at)| {
                    options.idle_timeout.is_zero() || at.elapsed() < options.idle_timeout
                })
                .map(|(wm, _)| *wm)
                .min();
            // Every shard idle: the watermark may move to the greatest seen.
            live.or_else(|| marks.values().map(|(wm, _)| *wm).max())
        }
    }
}

fn update_status(status: &JobStatus, sink: &Sink, window: Option<&WindowState>, decoder: &Decoder) {
    status
        .records_out
        .store(sink.records_out, Ordering::Relaxed);
    status.skipped.store(decoder.skipped, Ordering::Relaxed);
    if let Some(w) = window {
        status.watermark.store(w.watermark(), Ordering::Relaxed);
        status.late_dropped.store(w.late_dropped, Ordering::Relaxed);
    }
}

/// Saves a checkpoint, then writes the files it commits.
async fn save(
    files: &JobFiles,
    reader: &Reader,
    window: Option<&WindowState>,
    marks: &BTreeMap<String, (i64, Instant)>,
    status: &JobStatus,
    sink: &mut Sink,
) -> Result<()> {
    let committing = sink.take_staged();
    let state = match window {
        Some(w) => w.snapshot()?,
        None => Vec::new(),
    };
    let number = status.checkpoints.load(Ordering::Relaxed) + 1;
    files.save(
        crate::checkpoint::Meta {
            number,
            saved_ms: now_ms(),
            positions: reader.checkpoint(),
            watermark: window.map_or(i64::MIN, WindowState::watermark),
            shard_watermarks: marks.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
            records_in: status.records_in.load(Ordering::Relaxed),
            records_out: status.records_out.load(Ordering::Relaxed),
        },
        &state,
        &committing,
    )?;
    sink.commit(number, &committing).await?;
    status.checkpoints.store(number, Ordering::Relaxed);
    status.checkpoint_ms.store(now_ms(), Ordering::Relaxed);
    Ok(())
}

/// Fixes where a new job starts reading (LATEST means the streams' ends now, when the job is
/// submitted) by saving checkpoint 0, so the start does not move if the job restarts before
/// its first checkpoint.
pub async fn prepare(plan: &JobPlan, log: &Log, files: &JobFiles) -> Result<()> {
    if files.load()?.is_some() {
        return Ok(());
    }
    let Connector::Kinesis {
        stream,
        region,
        start,
    } = &plan.source.connector
    else {
        return Err(StreamError::Validation(
            "The source is not a Kinesis table".into(),
        ));
    };
    let key = StreamKey::new(region.clone(), stream.clone());
    let positions = initial_positions(log, &key, *start).await?;
    files.save(
        crate::checkpoint::Meta {
            number: 0,
            saved_ms: now_ms(),
            positions,
            watermark: i64::MIN,
            shard_watermarks: BTreeMap::new(),
            records_in: 0,
            records_out: 0,
        },
        &[],
        &[],
    )
}

/// Where a job without a checkpoint starts reading.
async fn initial_positions(log: &Log, key: &StreamKey, start: StartPosition) -> Result<Checkpoint> {
    let mut c = Checkpoint::default();
    match start {
        StartPosition::TrimHorizon => {}
        StartPosition::Latest => {
            for (shard, seq) in log.latest_positions(key)? {
                c.shards.insert(shard, Resume::At(seq));
            }
        }
        StartPosition::AtTimestamp(ms) => {
            for sh in log.list_shards(key, None)? {
                if sh.closed_ms.is_some() {
                    continue;
                }
                let it = log.shard_iterator(key, &sh.shard_id, &IteratorStart::AtTimestamp(ms))?;
                let out = log.get_records(&it, Some(1))?;
                match out.records.first() {
                    Some(r) => {
                        c.shards
                            .insert(sh.shard_id.clone(), Resume::At(r.sequence_number.clone()));
                    }
                    None => {
                        if let Some((_, seq)) = log
                            .latest_positions(key)?
                            .into_iter()
                            .find(|(s, _)| s == &sh.shard_id)
                        {
                            c.shards.insert(sh.shard_id.clone(), Resume::At(seq));
                        }
                    }
                }
            }
        }
    }
    Ok(c)
}

/// Records in runs of one shard (a read returns each shard's records together).
fn by_shard(records: &[SourceRecord]) -> Vec<&[SourceRecord]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=records.len() {
        if i == records.len() || records[i].shard != records[start].shard {
            out.push(&records[start..i]);
            start = i;
        }
    }
    out
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
