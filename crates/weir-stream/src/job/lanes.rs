//! A source's work that needs no state shared between shards, run for several shards at once
//! (one lane per core): decoding records, the source stage (computed columns, the
//! watermark), a windowed view's query and, in a job without state, the job's query itself
//! (in a window aggregate kept as partial states, the partial aggregation per pane: what the
//! job task keeps is then merged states).
//! Each lane has its own copies of the stages; what a lane returns is put together again in
//! the order of the shards, so the stateful operators after it see what one task would.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use weir_delivery::source::SourceRecord;

use crate::decode::Decoder;
use crate::error::{Result, StreamError};
use crate::plan::{SourcePlan, SourceWatermark};
use crate::stage::Stage;
use crate::window::WindowState;

/// One lane of a source.
pub(super) struct Lane {
    pub decoder: Decoder,
    stage: Stage,
    view: Option<Stage>,
    /// In a job without state: the job's query (this source is its input `input`).
    query: Option<Stage>,
    /// In a window aggregate kept as partial states or an updating aggregate: the partial
    /// aggregation, and (windows) the window's panes at the job's watermark (set before
    /// each turn).
    partial: Option<Stage>,
    split: Option<WindowState>,
    input: usize,
    watermark: Option<SourceWatermark>,
    rows_schema: SchemaRef,
    /// A KDA table: a row the query fails on (division by zero) is set apart, not the job's
    /// failure.
    row_errors: bool,
}

/// One shard's records made ready for the operators.
pub(super) struct Prepared {
    pub shard: Arc<str>,
    /// The greatest watermark of the rows (when the table has one and a row had a time).
    pub mark: Option<i64>,
    /// The table's (or its windowed view's) rows.
    pub rows: Vec<RecordBatch>,
    /// In a job without state, the query's output for the rows (then `rows` is empty).
    pub out: Option<Vec<RecordBatch>>,
    /// In a partial window aggregate, the rows' states by pane (then `rows` is empty), and
    /// how many rows came too late for any window.
    pub panes: Option<Vec<(i64, RecordBatch)>>,
    pub late: u64,
    /// In an updating aggregate, the rows' partial states (then `rows` is empty).
    pub states: Option<Vec<RecordBatch>>,
    /// Records that did not decode, when the table keeps them.
    pub rejected: Vec<crate::decode::Rejected>,
    /// Rows the query failed on (KDA tables).
    pub failed: Vec<crate::decode::Rejected>,
}

impl Lane {
    /// The lanes of source `input`: `n` (at least one), each with its own stages. `query` is
    /// the job's query when the job keeps no state; `partial`, the partial aggregation of a
    /// window aggregate kept as states or of an updating aggregate.
    pub fn for_source(
        sp: &SourcePlan,
        input: usize,
        query: Option<&Stage>,
        partial: Option<&Stage>,
        n: usize,
    ) -> Result<Vec<Lane>> {
        (0..n.max(1))
            .map(|_| {
                Ok(Lane {
                    decoder: Decoder::new(&sp.table, sp.decode.as_deref())?,
                    stage: sp.stage.fork()?,
                    view: sp.view.as_ref().map(Stage::fork).transpose()?,
                    query: query.map(Stage::fork).transpose()?,
                    partial: partial.map(Stage::fork).transpose()?,
                    split: None,
                    input,
                    watermark: sp.watermark,
                    rows_schema: sp.rows_schema.clone(),
                    row_errors: sp.table.flink.options.contains_key(SQL_ERRORS_OPTION),
                })
            })
            .collect()
    }

    /// One shard's records: decoded, staged, the watermark found.
    async fn prepare(&mut self, records: &[SourceRecord]) -> Result<Prepared> {
        let shard = records
            .first()
            .map_or_else(|| Arc::from(""), |r| r.shard.clone());
        let decoded = self.decoder.decode(records)?;
        let staged = self.stage.run(vec![decoded]).await?;
        let mut rows = Vec::with_capacity(staged.len());
        let mut mark: Option<i64> = None;
        for b in staged {
            let (m, b) = match self.watermark {
                Some(SourceWatermark::Delayed { column, delay_ms }) => {
                    (super::max_ms(b.column(column))?.map(|m| m - delay_ms), b)
                }
                Some(SourceWatermark::Computed(w)) => {
                    let m = super::max_ms(b.column(w))?;
                    let mut cols = b.columns().to_vec();
                    cols.remove(w);
                    (m, RecordBatch::try_new(self.rows_schema.clone(), cols)?)
                }
                None => (None, b),
            };
            mark = mark.max(m);
            rows.push(b);
        }
        if let Some(view) = &self.view {
            rows = view.run(rows).await?;
        }
        let mut failed = Vec::new();
        let failed_to = self.row_errors.then_some(&mut failed);
        let (out, failed_to) = match &self.query {
            Some(q) => {
                let rows = std::mem::take(&mut rows);
                let to = failed_to.map(|f| (f, usize::MAX));
                (Some(run_apart(q, self.input, rows, to).await?), None)
            }
            None => (None, failed_to),
        };
        let (mut panes, mut late, mut states) = (None, 0, None);
        if let (Some(partial), None) = (&self.partial, self.split.as_ref()) {
            let rows = std::mem::take(&mut rows);
            let to = failed_to.map(|f| (f, usize::MAX));
            states = Some(run_apart(partial, 0, rows, to).await?);
        } else if let (Some(partial), Some(split)) = (&self.partial, self.split.as_mut()) {
            let mut states = Vec::new();
            let mut failed_to = failed_to;
            for b in std::mem::take(&mut rows) {
                for (pane, part) in split.split(&b)? {
                    // A failing row is reported without the window columns added here.
                    let columns = part.num_columns();
                    let input = split.with_window_columns(part, pane, split.pane_end(pane))?;
                    let to = failed_to.as_deref_mut().map(|f| (f, columns));
                    for s in run_apart(partial, 0, vec![input], to).await? {
                        states.push((pane, s));
                    }
                }
            }
            late = std::mem::take(&mut split.late_dropped);
            panes = Some(states);
        }
        Ok(Prepared {
            shard,
            mark,
            rows,
            out,
            panes,
            late,
            states,
            rejected: self
                .decoder
                .rejected
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default(),
            failed,
        })
    }
}

/// A KDA table's option: rows its query fails on go to this stream (`region:name`, or `-`:
/// nowhere) instead of failing the job.
pub const SQL_ERRORS_OPTION: &str = "weir.sql.errors.stream";

/// Whether an error comes from a row's values (division by zero, overflow, a cast), not from
/// the plan or the machine.
fn row_error(e: &datafusion::error::DataFusionError) -> bool {
    use datafusion::arrow::error::ArrowError;
    use datafusion::error::DataFusionError;
    match e.find_root() {
        DataFusionError::ArrowError(a, _) => matches!(
            a.as_ref(),
            ArrowError::DivideByZero
                | ArrowError::ArithmeticOverflow(_)
                | ArrowError::CastError(_)
                | ArrowError::ParseError(_)
                | ArrowError::ComputeError(_)
                | ArrowError::InvalidArgumentError(_)
        ),
        DataFusionError::Execution(_) => true,
        _ => false,
    }
}

/// Runs `q` with `rows` in slot `input`. With `failed` (a KDA table), a batch the query fails
/// on for a row's values is halved until the rows it fails on are found; they are set apart
/// with the error (their first `columns` columns as DATA_ROW), the others' output kept in
/// order (a batch with one bad row costs about 2·log2(rows) more runs).
async fn run_apart(
    q: &Stage,
    input: usize,
    rows: Vec<RecordBatch>,
    failed: Option<(&mut Vec<crate::decode::Rejected>, usize)>,
) -> Result<Vec<RecordBatch>> {
    let Some((failed, columns)) = failed else {
        return Ok(q.run_at(input, rows).await?);
    };
    let mut out = Vec::new();
    // Batches still to run, the next on top.
    let mut todo: Vec<RecordBatch> = rows.into_iter().rev().collect();
    if todo.len() > 1 {
        // All at once first: the common case has no bad row.
        match q.run_at(input, todo.iter().rev().cloned().collect()).await {
            Ok(o) => return Ok(o),
            Err(e) if row_error(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    while let Some(b) = todo.pop() {
        match q.run_at(input, vec![b.clone()]).await {
            Ok(o) => out.extend(o),
            Err(e) if !row_error(&e) || b.num_rows() == 0 => return Err(e.into()),
            Err(_) if b.num_rows() > 1 => {
                let half = b.num_rows() / 2;
                todo.push(b.slice(half, b.num_rows() - half));
                todo.push(b.slice(0, half));
            }
            Err(e) => {
                let shown = b.project(&(0..columns.min(b.num_columns())).collect::<Vec<_>>())?;
                let data = crate::sink::encode_json(&shown)?.pop().unwrap_or_default();
                failed.push(crate::decode::Rejected {
                    arrival_ms: crate::functions::now_ms(),
                    data: data.into(),
                    message: e.to_string(),
                    name: "Error_Evaluating_Row",
                    pump: None,
                });
            }
        }
    }
    Ok(out)
}

/// Prepares a read's records shard by shard, several shards at once when there are lanes
/// for them; the results come back in the order of the shards in `records`.
pub(super) async fn prepare(
    lanes: &mut Vec<Lane>,
    records: Vec<SourceRecord>,
    window: Option<&WindowState>,
) -> Result<Vec<Prepared>> {
    for lane in lanes.iter_mut().filter(|l| l.partial.is_some()) {
        lane.split = window.map(WindowState::splitter).transpose()?;
    }
    let groups = by_shard(records);
    let n = lanes.len().min(groups.len());
    if n <= 1 {
        let Some(lane) = lanes.first_mut() else {
            return Err(StreamError::Unsupported("a source without lanes".into()));
        };
        let mut out = Vec::with_capacity(groups.len());
        for g in &groups {
            out.push(lane.prepare(g).await?);
        }
        return Ok(out);
    }
    let mut work: Vec<Vec<(usize, Vec<SourceRecord>)>> = (0..n).map(|_| Vec::new()).collect();
    for (k, g) in groups.into_iter().enumerate() {
        work[k % n].push((k, g));
    }
    let handles: Vec<_> = lanes
        .drain(..n)
        .zip(work)
        .map(|(mut lane, groups)| {
            tokio::spawn(async move {
                let mut done = Vec::with_capacity(groups.len());
                for (k, g) in groups {
                    match lane.prepare(&g).await {
                        Ok(p) => done.push((k, p)),
                        Err(e) => return (lane, Err(e)),
                    }
                }
                (lane, Ok(done))
            })
        })
        .collect();
    let mut back = Vec::with_capacity(n);
    let mut all = Vec::new();
    let mut failed = None;
    for h in futures::future::join_all(handles).await {
        let (lane, result) =
            h.map_err(|e| StreamError::Unsupported(format!("a source lane failed: {e}")))?;
        back.push(lane);
        match result {
            Ok(done) => all.extend(done),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    lanes.splice(0..0, back);
    if let Some(e) = failed {
        return Err(e);
    }
    all.sort_by_key(|(k, _)| *k);
    Ok(all.into_iter().map(|(_, p)| p).collect())
}

/// Records in runs of one shard (a read returns each shard's records together).
fn by_shard(records: Vec<SourceRecord>) -> Vec<Vec<SourceRecord>> {
    if records.iter().all(|r| r.shard == records[0].shard) {
        return vec![records];
    }
    let mut out: Vec<Vec<SourceRecord>> = Vec::new();
    for r in records {
        match out.last_mut() {
            Some(run) if run[0].shard == r.shard => run.push(r),
            _ => out.push(vec![r]),
        }
    }
    out
}
