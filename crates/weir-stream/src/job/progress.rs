//! What a running job reports and saves: its watermark over the sources' shards, the lag per
//! shard, the status counters, and checkpoints (operator state, positions, the sink's staged
//! files committed with them).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::checkpoint::{batches, Batches, JobFiles, Meta};
use crate::error::Result;
use crate::functions::now_ms;
use crate::plan::TimeKind;
use crate::sink::Sink;
use crate::window::WindowState;

use super::{JobStatus, Operators, RunOptions, SourceRun};

/// The job's watermark: the least over the shards of every source that are not idle (a shard
/// without rows yet counts as the lowest, as an unread split does in Flink), or the clock.
/// When every shard is idle, the greatest of their watermarks (as Flink's watermark valve
/// does when all its inputs are idle).
pub(super) fn job_watermark(
    kind: TimeKind,
    sources: &[SourceRun],
    options: &RunOptions,
) -> Option<i64> {
    match kind {
        TimeKind::Processing => Some(now_ms() - 1),
        TimeKind::Event => {
            let idle = |at: &Instant| {
                !options.idle_timeout.is_zero() && at.elapsed() >= options.idle_timeout
            };
            let marks = || {
                sources
                    .iter()
                    .flat_map(|s| s.marks.values().map(move |m| (m, s.never_idle)))
            };
            marks()
                .filter(|((_, at), never)| *never || !idle(at))
                .map(|((wm, _), _)| *wm)
                .min()
                .or_else(|| marks().map(|((wm, _), _)| *wm).max())
                .filter(|wm| *wm > i64::MIN)
        }
    }
}

/// Records behind each shard's end (`table/shard`).
pub(super) fn lag(log: &weir_log::Log, sources: &[SourceRun]) -> BTreeMap<String, u64> {
    use weir_delivery::Resume;
    let mut out = BTreeMap::new();
    for s in sources {
        let ends: BTreeMap<String, u64> = log
            .latest_positions(s.reader.key())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(shard, seq)| Some((shard, weir_log::seqno::parse(&seq)?.position)))
            .collect();
        for (shard, at) in s.reader.checkpoint().shards {
            let Some(end) = ends.get(&shard) else {
                continue;
            };
            let next = match &at {
                Resume::At(seq) => weir_log::seqno::parse(seq).map(|p| p.position),
                Resume::After(seq) => weir_log::seqno::parse(seq).map(|p| p.position + 1),
                Resume::TrimHorizon | Resume::AtTimestamp(_) => Some(0),
            };
            if let Some(next) = next {
                out.insert(format!("{}/{shard}", s.name), end.saturating_sub(next));
            }
        }
    }
    out
}

pub(super) fn update_status(status: &JobStatus, sink: &Sink, sources: &[SourceRun]) {
    status
        .records_out
        .store(sink.records_out, Ordering::Relaxed);
    status.skipped.store(
        sources
            .iter()
            .flat_map(|s| &s.lanes)
            .map(|l| l.decoder.skipped)
            .sum(),
        Ordering::Relaxed,
    );
    let windows: Vec<&WindowState> = sources.iter().filter_map(|s| s.window.as_ref()).collect();
    if let Some(w) = windows.first() {
        status.watermark.store(w.watermark(), Ordering::Relaxed);
        status.late_dropped.store(
            windows.iter().map(|w| w.late_dropped).sum(),
            Ordering::Relaxed,
        );
    }
}

/// Saves checkpoint `number` (off the async threads), then writes the files it commits.
pub(super) async fn save(
    files: &JobFiles,
    number: u64,
    sources: &[SourceRun],
    ops: &Operators<'_>,
    status: &JobStatus,
    sink: &mut Sink,
) -> Result<()> {
    let committing = sink.take_staged();
    let mut state = BTreeMap::new();
    let mut positions = BTreeMap::new();
    let mut shard_watermarks = BTreeMap::new();
    let mut watermark = i64::MIN;
    for (i, s) in sources.iter().enumerate() {
        if let Some(w) = &s.window {
            state.insert(s.name.clone(), w.snapshot()?);
            watermark = watermark.max(w.watermark());
        }
        if let Some(j) = ops.join.as_ref() {
            state.insert(s.name.clone(), batches(j.snapshot(i)));
        }
        if let Some(o) = ops.over.as_ref() {
            state.insert(s.name.clone(), batches(o.snapshot()?));
            watermark = watermark.max(o.watermark());
        }
        if let Some(u) = ops.update.as_ref() {
            state.insert(s.name.clone(), batches(u.snapshot()?));
        }
        if let Some(d) = ops.dedup.as_ref() {
            state.insert(s.name.clone(), batches(d.snapshot()?));
        }
        if let Some(t) = ops.top.as_ref() {
            state.insert(s.name.clone(), batches(t.snapshot()?));
        }
        positions.insert(s.name.clone(), s.reader.checkpoint());
        shard_watermarks.insert(
            s.name.clone(),
            s.marks.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        );
    }
    let meta = Meta {
        number,
        saved_ms: now_ms(),
        positions,
        watermark,
        shard_watermarks,
        records_in: status.records_in.load(Ordering::Relaxed),
        records_out: status.records_out.load(Ordering::Relaxed),
    };
    let (f, rows) = (files.clone(), committing.clone());
    tokio::task::spawn_blocking(move || f.save(meta, state, &rows))
        .await
        .map_err(|e| crate::error::StreamError::Unsupported(format!("checkpoint: {e}")))??;
    sink.commit(number, &committing).await?;
    status.checkpoints.store(number, Ordering::Relaxed);
    status.checkpoint_ms.store(now_ms(), Ordering::Relaxed);
    Ok(())
}

/// A source's saved operator state, read whole (none: empty).
pub(super) fn take(
    state: &mut BTreeMap<String, Batches>,
    name: &str,
) -> Result<Vec<datafusion::arrow::array::RecordBatch>> {
    state.remove(name).map_or(Ok(Vec::new()), Iterator::collect)
}
