//! Window state: rows kept in panes (a tumbling window, or a hop's slide, or a cumulating
//! window's step), each window made of the panes it spans. A row whose every window has fired
//! is late: dropped and counted. When the watermark passes a window's end (end − 1 ms ≤
//! watermark, as Flink fires), its panes' rows, with `window_start`, `window_end` and
//! `window_time` added, are handed to the query, and panes no later window needs are dropped,
//! so state is bounded by the watermark. Session windows keep their rows per session instead
//! (`session.rs`). Past the jobs' state budget, panes move to spill files (`spill.rs`), the
//! panes needed last first.

mod session;
pub mod spill;

use std::collections::{BTreeMap, BTreeSet};

use session::Sessions;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, TimestampMillisecondArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::checkpoint::Batches;
use crate::error::Result;
use crate::plan::WindowSpec;
use crate::sql::WindowKind;
use spill::{SpillDir, Spilled};

pub struct WindowState {
    spec: WindowSpec,
    /// The table's columns (rows as pushed).
    schema: SchemaRef,
    /// With the window columns.
    out_schema: SchemaRef,
    /// What panes keep: the table's rows, or partial aggregate states.
    stored: SchemaRef,
    /// When panes keep states: the places of the window columns among their columns.
    state_windows: Option<[Option<usize>; 3]>,
    panes: BTreeMap<i64, Vec<RecordBatch>>,
    /// Panes' batches moved to spill files (older than the pane's batches in memory); a
    /// spilled pane keeps its (maybe empty) entry in `panes`.
    spilled: BTreeMap<i64, Vec<Arc<Spilled>>>,
    spill_dir: Option<Arc<SpillDir>>,
    /// Bytes of the batches in spill files (as they were in memory).
    pub spilled_bytes: usize,
    /// Windows with rows, not fired yet: (end, start).
    pending: BTreeSet<(i64, i64)>,
    watermark: i64,
    pub late_dropped: u64,
    pub bytes: usize,
    /// SESSION windows' state (panes are unused then).
    sessions: Option<Sessions>,
}

/// A fired window's rows, window columns included.
#[cfg(test)]
pub struct Fired {
    pub start: i64,
    pub end: i64,
    pub rows: RecordBatch,
}

impl WindowState {
    pub fn new(spec: WindowSpec, schema: SchemaRef) -> Result<WindowState> {
        let sessions = match spec.kind {
            WindowKind::Session => Some(Sessions::new(
                spec.size_ms,
                spec.partition.clone(),
                &schema,
                spec.fixed,
            )?),
            _ => None,
        };
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (n, t) in window_columns(&spec.time_type) {
            fields.push(Field::new(n, t, false));
        }
        Ok(WindowState {
            spec,
            stored: schema.clone(),
            state_windows: None,
            schema,
            out_schema: Arc::new(Schema::new(fields)),
            panes: BTreeMap::new(),
            spilled: BTreeMap::new(),
            spill_dir: None,
            spilled_bytes: 0,
            pending: BTreeSet::new(),
            watermark: i64::MIN,
            late_dropped: 0,
            bytes: 0,
            sessions,
        })
    }

    /// Window state whose panes keep partial aggregate states (`plan::PartialPlan`).
    pub fn with_states(
        mut self,
        state_schema: SchemaRef,
        window_columns: [Option<usize>; 3],
    ) -> WindowState {
        self.stored = state_schema;
        self.state_windows = Some(window_columns);
        self
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Where panes may be spilled (none: they stay in memory).
    pub fn spill_to(&mut self, dir: Arc<SpillDir>) {
        self.spill_dir = Some(dir);
    }

    /// Moves panes' batches to spill files, the panes whose windows fire last first, until
    /// `want` bytes are freed or nothing is left to move; panes holding less than `least`
    /// bytes in memory stay (so that a job over its budget does not write a file per pane at
    /// every batch). The bytes freed. Session windows' rows stay in memory.
    pub fn spill(&mut self, want: usize, least: usize) -> Result<usize> {
        let Some(dir) = self.spill_dir.clone().filter(|_| self.sessions.is_none()) else {
            return Ok(0);
        };
        let mut freed = 0;
        let latest: Vec<i64> = self.panes.keys().rev().copied().collect();
        for pane in latest {
            if freed >= want {
                break;
            }
            let held: usize = self.panes[&pane]
                .iter()
                .map(|b| b.get_array_memory_size())
                .sum();
            if held == 0 || held < least {
                continue;
            }
            let batches = self.take_pane(pane);
            let piece = match dir.write(&batches) {
                Ok(p) => p,
                Err(e) => {
                    // Kept in memory: the job fails with the error, its state whole.
                    for b in batches {
                        self.add(pane, b);
                    }
                    return Err(e);
                }
            };
            self.spilled_bytes += piece.bytes;
            freed += piece.bytes;
            self.spilled.entry(pane).or_default().push(Arc::new(piece));
        }
        Ok(freed)
    }

    /// An empty state over the same windows at the same watermark, to split rows into panes
    /// elsewhere (a lane); its late rows are counted there.
    pub fn splitter(&self) -> Result<WindowState> {
        let mut w = WindowState::new(self.spec.clone(), self.schema.clone())?;
        w.stored = self.stored.clone();
        w.state_windows = self.state_windows;
        w.watermark = self.watermark;
        Ok(w)
    }

    fn pane_len(&self) -> i64 {
        match self.spec.kind {
            WindowKind::Tumble | WindowKind::Session => self.spec.size_ms,
            WindowKind::Hop | WindowKind::Cumulate => self.spec.step_ms,
        }
    }

    fn pane_of(&self, t: i64) -> i64 {
        let g = self.pane_len();
        let o = self.spec.offset_ms;
        (t - o).div_euclid(g) * g + o
    }

    /// The windows (start, end) a pane belongs to.
    fn windows_of(&self, pane: i64) -> Vec<(i64, i64)> {
        let (size, g, o) = (self.spec.size_ms, self.pane_len(), self.spec.offset_ms);
        match self.spec.kind {
            WindowKind::Tumble | WindowKind::Session => vec![(pane, pane + size)],
            WindowKind::Hop => (1..=size / g)
                .map(|k| {
                    let end = pane + k * g;
                    (end - size, end)
                })
                .collect(),
            WindowKind::Cumulate => {
                let bucket = (pane - o).div_euclid(size) * size + o;
                let mut out = Vec::new();
                let mut end = pane + g;
                while end <= bucket + size {
                    out.push((bucket, end));
                    end += g;
                }
                out
            }
        }
    }

    /// The end of the last window a pane belongs to.
    fn last_end(&self, pane: i64) -> i64 {
        let (size, o) = (self.spec.size_ms, self.spec.offset_ms);
        match self.spec.kind {
            WindowKind::Tumble | WindowKind::Session | WindowKind::Hop => pane + size,
            WindowKind::Cumulate => (pane - o).div_euclid(size) * size + o + size,
        }
    }

    fn fired(&self, end: i64) -> bool {
        end - 1 <= self.watermark
    }

    /// Adds rows (the table's columns); rows whose windows have all fired are dropped.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        if let Some(sessions) = self.sessions.as_mut() {
            if batch.num_rows() == 0 {
                return Ok(());
            }
            let times = times_ms(batch.column(self.spec.time_index))?;
            let (late, bytes) = sessions.push(batch, &times, self.watermark)?;
            self.late_dropped += late;
            self.bytes += bytes;
            return Ok(());
        }
        for (pane, part) in self.split(batch)? {
            self.add(pane, part);
        }
        Ok(())
    }

    /// A batch's rows by pane (rows whose windows have all fired dropped and counted).
    pub fn split(&mut self, batch: &RecordBatch) -> Result<Vec<(i64, RecordBatch)>> {
        let mut out = Vec::new();
        if batch.num_rows() == 0 {
            return Ok(out);
        }
        let times = times_ms(batch.column(self.spec.time_index))?;
        let mut by_pane: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for (i, t) in times.iter().enumerate() {
            let Some(t) = t else {
                self.late_dropped += 1;
                continue;
            };
            let pane = self.pane_of(t);
            if self.fired(self.last_end(pane)) {
                self.late_dropped += 1;
                continue;
            }
            by_pane.entry(pane).or_default().push(i as u32);
        }
        for (pane, rows) in by_pane {
            let part = if rows.len() == batch.num_rows() {
                batch.clone()
            } else {
                let idx = UInt32Array::from(rows);
                let cols = batch
                    .columns()
                    .iter()
                    .map(|c| take(c, &idx, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                RecordBatch::try_new(self.schema.clone(), cols)?
            };
            out.push((pane, part));
        }
        Ok(out)
    }

    /// The length of a pane (its rows get `[pane, pane + len)` as window columns when
    /// aggregated partially).
    pub fn pane_end(&self, pane: i64) -> i64 {
        pane + self.pane_len()
    }

    /// Keeps a pane's rows (or states).
    pub fn add(&mut self, pane: i64, stored: RecordBatch) {
        self.bytes += stored.get_array_memory_size();
        self.add_pane(pane, stored);
    }

    /// Panes keeping more than `n` batches.
    pub fn crowded(&self, n: usize) -> Vec<i64> {
        self.panes
            .iter()
            .filter(|(_, b)| b.len() > n)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Takes out a pane's batches (to be merged and added back).
    pub fn take_pane(&mut self, pane: i64) -> Vec<RecordBatch> {
        let batches = self
            .panes
            .get_mut(&pane)
            .map(std::mem::take)
            .unwrap_or_default();
        let freed: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        self.bytes = self.bytes.saturating_sub(freed);
        batches
    }

    fn add_pane(&mut self, pane: i64, rows: RecordBatch) {
        if !self.panes.contains_key(&pane) {
            for (start, end) in self.windows_of(pane) {
                if !self.fired(end) {
                    self.pending.insert((end, start));
                }
            }
        }
        self.panes.entry(pane).or_default().push(rows);
    }

    /// Moves the watermark (never back) and returns the windows it closes, in end order.
    #[cfg(test)]
    pub fn advance(&mut self, watermark: i64) -> Result<Vec<Fired>> {
        let mut out = Vec::new();
        for (start, end, mut rows) in fire(&mut [self], watermark)? {
            if let Some(rows) = rows.pop().filter(|r| r.num_rows() > 0) {
                out.push(Fired { start, end, rows });
            }
        }
        Ok(out)
    }

    /// Moves the watermark (never back) and takes out the windows it closes: their rows with
    /// the window columns, by (end, start).
    fn take_fired(&mut self, watermark: i64) -> Result<session::Closed> {
        if watermark <= self.watermark {
            return Ok(BTreeMap::new());
        }
        self.watermark = watermark;
        if let Some(sessions) = self.sessions.as_mut() {
            let (closed, freed) = sessions.fire(watermark, &self.schema)?;
            self.bytes = self.bytes.saturating_sub(freed);
            let mut out = BTreeMap::new();
            for ((end, start), rows) in closed {
                out.insert((end, start), self.with_window_columns(rows, start, end)?);
            }
            return Ok(out);
        }
        let mut out = BTreeMap::new();
        for (end, start) in self.due() {
            out.insert((end, start), self.rows_of(start, end)?);
        }
        self.expire();
        Ok(out)
    }

    /// Takes out the windows the watermark closes (end, start).
    fn due(&mut self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        while let Some(&(end, start)) = self.pending.first() {
            if !self.fired(end) {
                break;
            }
            self.pending.pop_first();
            out.push((end, start));
        }
        out
    }

    /// A window's rows with the window columns, or its panes' states with the window's
    /// bounds as their window columns (none: an empty batch).
    fn rows_of(&self, start: i64, end: i64) -> Result<RecordBatch> {
        let mut parts: Vec<RecordBatch> = Vec::new();
        for (pane, batches) in self.panes.range(start..end) {
            for piece in self.spilled.get(pane).into_iter().flatten() {
                parts.extend(piece.read()?);
            }
            parts.extend(batches.iter().cloned());
        }
        let rows = concat_batches(&self.stored, &parts)?;
        let Some(places) = self.state_windows else {
            return self.with_window_columns(rows, start, end);
        };
        let mut cols = rows.columns().to_vec();
        for (v, place) in [start, end, end - 1].into_iter().zip(places) {
            if let Some(i) = place {
                let a: ArrayRef =
                    Arc::new(TimestampMillisecondArray::from(vec![v; rows.num_rows()]));
                cols[i] = cast(&a, self.stored.field(i).data_type())?;
            }
        }
        Ok(RecordBatch::try_new(self.stored.clone(), cols)?)
    }

    /// The schema of fired windows' batches.
    fn fired_schema(&self) -> SchemaRef {
        match self.state_windows {
            Some(_) => self.stored.clone(),
            None => self.out_schema.clone(),
        }
    }

    /// Drops the panes no window still open needs.
    fn expire(&mut self) {
        let expired: Vec<i64> = self
            .panes
            .keys()
            .copied()
            .filter(|&p| self.fired(self.last_end(p)))
            .collect();
        for p in expired {
            if let Some(batches) = self.panes.remove(&p) {
                let freed: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
                self.bytes = self.bytes.saturating_sub(freed);
            }
            for piece in self.spilled.remove(&p).into_iter().flatten() {
                self.spilled_bytes = self.spilled_bytes.saturating_sub(piece.bytes);
            }
        }
    }

    /// Rows of a window with its columns (for windows assigned without aggregation too).
    pub fn with_window_columns(
        &self,
        rows: RecordBatch,
        start: i64,
        end: i64,
    ) -> Result<RecordBatch> {
        let n = rows.num_rows();
        let mut cols: Vec<ArrayRef> = rows.columns().to_vec();
        for (v, (_, t)) in [start, end, end - 1]
            .into_iter()
            .zip(window_columns(&self.spec.time_type))
        {
            let a: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![v; n]));
            cols.push(cast(&a, &t)?);
        }
        Ok(RecordBatch::try_new(self.out_schema.clone(), cols)?)
    }

    /// Each row once per window it belongs to, with the window columns (a window TVF's rows
    /// when the query does not aggregate them); late rows are still dropped.
    pub fn assign(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>> {
        let mut scratch = WindowState::new(self.spec.clone(), self.schema.clone())?;
        scratch.watermark = self.watermark;
        scratch.push(batch)?;
        self.late_dropped += scratch.late_dropped;
        let mut out = Vec::new();
        for (end, start) in std::mem::take(&mut scratch.pending) {
            let parts: Vec<RecordBatch> = scratch
                .panes
                .range(start..end)
                .flat_map(|(_, b)| b.iter().cloned())
                .collect();
            let rows = concat_batches(&self.schema, &parts)?;
            if rows.num_rows() > 0 {
                out.push(self.with_window_columns(rows, start, end)?);
            }
        }
        Ok(out)
    }

    /// The state a checkpoint keeps: every pane's rows, with the pane's start as a column
    /// (spilled panes read back one batch at a time as the checkpoint is written).
    pub fn snapshot(&self) -> Result<Batches> {
        let mut fields: Vec<Field> = self
            .stored
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(PANE_COLUMN, DataType::Int64, false));
        let mut out = Vec::new();
        if let Some(sessions) = &self.sessions {
            fields.push(Field::new(SESSION_END_COLUMN, DataType::Int64, false));
            let schema = Arc::new(Schema::new(fields));
            for (start, end, b) in sessions.each() {
                let mut cols = b.columns().to_vec();
                cols.push(Arc::new(Int64Array::from(vec![start; b.num_rows()])));
                cols.push(Arc::new(Int64Array::from(vec![end; b.num_rows()])));
                out.push(RecordBatch::try_new(schema.clone(), cols)?);
            }
            return Ok(crate::checkpoint::batches(out));
        }
        let schema = Arc::new(Schema::new(fields));
        let with_pane = move |pane: i64, b: RecordBatch| -> Result<RecordBatch> {
            let mut cols = b.columns().to_vec();
            cols.push(Arc::new(Int64Array::from(vec![pane; b.num_rows()])));
            Ok(RecordBatch::try_new(schema.clone(), cols)?)
        };
        let mut pieces: Vec<Batches> = Vec::new();
        for (&pane, batches) in &self.panes {
            for piece in self.spilled.get(&pane).into_iter().flatten() {
                let with_pane = with_pane.clone();
                pieces.push(Box::new(
                    piece
                        .clone()
                        .lazy()
                        .map(move |b| b.and_then(|b| with_pane(pane, b))),
                ));
            }
            let mem: Vec<Result<RecordBatch>> =
                batches.iter().map(|b| with_pane(pane, b.clone())).collect();
            pieces.push(Box::new(mem.into_iter()));
        }
        Ok(Box::new(pieces.into_iter().flatten()))
    }

    /// State read back from a checkpoint, one batch at a time; panes are spilled whenever
    /// those in memory pass `cap` bytes.
    pub fn restore(&mut self, watermark: i64, batches: Batches, cap: usize) -> Result<()> {
        self.watermark = watermark;
        let extra = if self.sessions.is_some() { 2 } else { 1 };
        for b in batches {
            let b = b?;
            if self.bytes > cap {
                // Down to seven eighths of the cap: not a file per batch read.
                let over = self.bytes - cap + cap / 8;
                self.spill(over, 0)?;
            }
            let n = b.num_columns();
            if n < extra || b.num_rows() == 0 {
                continue;
            }
            let first = |c: usize| {
                b.column(c)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| a.value(0))
            };
            let Some(pane) = first(n - extra) else {
                continue;
            };
            let rows = RecordBatch::try_new(self.stored.clone(), b.columns()[..n - extra].to_vec())
                .map_err(|e| {
                    crate::error::StreamError::Unsupported(format!(
                        "The job's checkpoint holds window state of another shape (written by \
                         another version of Weir, or for another plan): {e}; stop the job and \
                         submit it again"
                    ))
                })?;
            self.bytes += rows.get_array_memory_size();
            match (self.sessions.as_mut(), first(n - 1)) {
                (Some(sessions), Some(end)) => sessions.restore(pane, end, rows)?,
                (Some(_), None) => {}
                (None, _) => self.add_pane(pane, rows),
            }
        }
        Ok(())
    }
}

/// Moves the watermark of the window states of a job's sources (the same window over each) and
/// returns each window it closes, in end order, with every source's rows of it (empty batches
/// for sources without rows in it).
#[allow(clippy::type_complexity)]
pub fn fire(
    states: &mut [&mut WindowState],
    watermark: i64,
) -> Result<Vec<(i64, i64, Vec<RecordBatch>)>> {
    let mut windows: BTreeMap<(i64, i64), Vec<Option<RecordBatch>>> = BTreeMap::new();
    let n = states.len();
    for (i, s) in states.iter_mut().enumerate() {
        for (bounds, rows) in s.take_fired(watermark)? {
            windows.entry(bounds).or_insert_with(|| vec![None; n])[i] = Some(rows);
        }
    }
    let mut out = Vec::with_capacity(windows.len());
    for ((end, start), rows) in windows {
        let rows = rows
            .into_iter()
            .zip(states.iter())
            .map(|(r, s)| r.unwrap_or_else(|| RecordBatch::new_empty(s.fired_schema())))
            .collect();
        out.push((start, end, rows));
    }
    Ok(out)
}

/// The window columns and their types: `window_start` and `window_end` are `TIMESTAMP(3)`,
/// `window_time` the time attribute's type (`TIMESTAMP_LTZ(3)` over an instant), as Flink types
/// them.
pub fn window_columns(time_type: &DataType) -> [(&'static str, DataType); 3] {
    let plain = DataType::Timestamp(TimeUnit::Millisecond, None);
    [
        ("window_start", plain.clone()),
        ("window_end", plain),
        ("window_time", time_type.clone()),
    ]
}

/// The column a snapshot keeps each row's pane (or session's start) in.
pub const PANE_COLUMN: &str = "__weir_pane";
/// The column a snapshot keeps each row's session's end in.
const SESSION_END_COLUMN: &str = "__weir_session_end";

/// A time column in epoch milliseconds (nulls where it has none).
pub(crate) fn times_ms(col: &ArrayRef) -> Result<Int64Array> {
    let ms = cast(col, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let ms = cast(&ms, &DataType::Int64)?;
    Ok(ms
        .as_any()
        .downcast_ref::<Int64Array>()
        .cloned()
        .unwrap_or_else(|| Int64Array::new_null(col.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TimeKind;

    fn spec(kind: WindowKind, size: i64, step: i64) -> WindowSpec {
        WindowSpec {
            kind,
            size_ms: size,
            step_ms: step,
            offset_ms: 0,
            time_index: 0,
            time_kind: TimeKind::Event,
            time_type: DataType::Timestamp(TimeUnit::Millisecond, None),
            aggregate: true,
            partition: Vec::new(),
            fixed: false,
        }
    }

    fn rows(ts: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        )]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(TimestampMillisecondArray::from(ts.to_vec()))],
        )
        .unwrap()
    }

    fn fired(w: &mut WindowState, wm: i64) -> Vec<(i64, i64, usize)> {
        w.advance(wm)
            .unwrap()
            .into_iter()
            .map(|f| (f.start, f.end, f.rows.num_rows()))
            .collect()
    }

    #[test]
    fn tumbling_windows_fire_at_their_end_and_drop_late_rows() {
        let b = rows(&[1_000, 4_999, 5_000, 12_000]);
        let mut w = WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(fired(&mut w, 4_998), vec![]);
        assert_eq!(fired(&mut w, 4_999), vec![(0, 5_000, 2)]);
        // A row of the fired window is late; one of an open window is kept.
        w.push(&rows(&[3_000, 9_999])).unwrap();
        assert_eq!(w.late_dropped, 1);
        assert_eq!(
            fired(&mut w, 20_000),
            vec![(5_000, 10_000, 2), (10_000, 15_000, 1)]
        );
        assert_eq!(w.bytes, 0);
        assert!(w.panes.is_empty());
    }

    #[test]
    fn hopping_windows_share_panes() {
        // HOP(slide 2 s, size 6 s): a row at 5 s is in [0,6), [2,8), [4,10).
        let b = rows(&[5_000, 1_000]);
        let mut w = WindowState::new(spec(WindowKind::Hop, 6_000, 2_000), b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(
            fired(&mut w, 100_000),
            vec![
                (-4_000, 2_000, 1),
                (-2_000, 4_000, 1),
                (0, 6_000, 2),
                (2_000, 8_000, 1),
                (4_000, 10_000, 1)
            ]
        );
    }

    #[test]
    fn cumulating_windows_grow_within_their_bucket() {
        // CUMULATE(step 1 s, size 3 s): [0,1), [0,2), [0,3), then [3,4) ...
        let b = rows(&[500, 1_500, 2_500, 3_500]);
        let mut w = WindowState::new(spec(WindowKind::Cumulate, 3_000, 1_000), b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(
            fired(&mut w, 3_999),
            vec![
                (0, 1_000, 1),
                (0, 2_000, 2),
                (0, 3_000, 3),
                (3_000, 4_000, 1)
            ]
        );
    }

    fn keyed(rows: &[(&str, i64)]) -> RecordBatch {
        use datafusion::arrow::array::StringArray;
        let schema = Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("k", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(TimestampMillisecondArray::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()
    }

    #[test]
    fn session_windows_merge_per_key_and_fire_after_the_gap() {
        let b = keyed(&[("A", 1_000), ("A", 3_000), ("B", 2_000), ("A", 9_000)]);
        let mut s = spec(WindowKind::Session, 5_000, 5_000);
        s.partition = vec![1];
        let mut w = WindowState::new(s.clone(), b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(fired(&mut w, 6_998), vec![]);
        assert_eq!(fired(&mut w, 6_999), vec![(2_000, 7_000, 1)]);
        assert_eq!(fired(&mut w, 7_999), vec![(1_000, 8_000, 2)]);
        // Late on its own; but a row that touches the open session [9 s, 14 s) extends it.
        w.push(&keyed(&[("A", 2_000), ("A", 4_000)])).unwrap();
        assert_eq!(w.late_dropped, 1);
        // Through a checkpoint.
        let snap = w.snapshot().unwrap();
        let mut again = WindowState::new(s, b.schema()).unwrap();
        again.restore(w.watermark(), snap, usize::MAX).unwrap();
        assert_eq!(fired(&mut again, 20_000), vec![(4_000, 14_000, 2)]);
        assert_eq!(again.bytes, 0);
    }

    #[test]
    fn fixed_sessions_last_their_gap_from_the_first_row() {
        // Stagger windows: A's window opens at 1 s and holds what comes before 6 s; the row at
        // 6 s opens the next one (a session would have held all three).
        let b = keyed(&[("A", 1_000), ("A", 4_000), ("A", 6_000), ("B", 5_500)]);
        let mut s = spec(WindowKind::Session, 5_000, 5_000);
        s.partition = vec![1];
        s.fixed = true;
        let mut w = WindowState::new(s, b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(fired(&mut w, 5_999), vec![(1_000, 6_000, 2)]);
        assert_eq!(fired(&mut w, 10_499), vec![(5_500, 10_500, 1)]);
        assert_eq!(fired(&mut w, 10_999), vec![(6_000, 11_000, 1)]);
    }

    #[test]
    fn snapshot_and_restore_keep_open_windows() {
        let b = rows(&[1_000, 6_000]);
        let mut w = WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema()).unwrap();
        w.push(&b).unwrap();
        assert_eq!(fired(&mut w, 4_999).len(), 1);
        let snap = w.snapshot().unwrap();
        let mut again =
            WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema()).unwrap();
        again.restore(w.watermark(), snap, usize::MAX).unwrap();
        assert_eq!(fired(&mut again, 9_999), vec![(5_000, 10_000, 1)]);
    }

    #[test]
    fn spilled_panes_fire_as_if_kept_in_memory_and_survive_a_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Arc::new(SpillDir::open(tmp.path().join("spill")).unwrap());
        let hop = || spec(WindowKind::Hop, 6_000, 2_000);
        let first = rows(&[500, 1_500, 2_500, 4_100, 7_000, 11_000]);
        let then = rows(&[1_000, 3_000, 9_000]);
        let mut kept = WindowState::new(hop(), first.schema()).unwrap();
        let mut spilled = WindowState::new(hop(), first.schema()).unwrap();
        spilled.spill_to(dir.clone());
        for w in [&mut kept, &mut spilled] {
            w.push(&first).unwrap();
        }
        // The latest pane goes first; then everything.
        assert_eq!(spilled.spill(1, usize::MAX).unwrap(), 0);
        let one = spilled.spill(1, 0).unwrap();
        assert!(one > 0 && spilled.bytes > 0);
        spilled.spill(usize::MAX, 0).unwrap();
        assert_eq!(spilled.bytes, 0);
        assert!(spilled.spilled_bytes > 0);
        for w in [&mut kept, &mut spilled] {
            w.push(&then).unwrap();
        }
        let rows_of = |f: Vec<Fired>| -> Vec<(i64, i64, Vec<Option<i64>>)> {
            f.into_iter()
                .map(|f| {
                    let t = times_ms(f.rows.column(0)).unwrap();
                    (f.start, f.end, t.iter().collect())
                })
                .collect()
        };
        let expect = rows_of(kept.advance(3_999).unwrap());
        assert_eq!(rows_of(spilled.advance(3_999).unwrap()), expect);
        assert_eq!(expect.len(), 2);
        // Through a checkpoint restored under a cap of nothing: it spills as it reads.
        let snap = spilled.snapshot().unwrap();
        let mut again = WindowState::new(hop(), first.schema()).unwrap();
        again.spill_to(dir.clone());
        again.restore(spilled.watermark(), snap, 0).unwrap();
        assert!(again.spilled_bytes > 0);
        let expect = rows_of(kept.advance(20_000).unwrap());
        assert_eq!(rows_of(again.advance(20_000).unwrap()), expect);
        assert_eq!(rows_of(spilled.advance(20_000).unwrap()), expect);
        // Expired panes take their files with them.
        drop(spilled);
        assert_eq!(again.spilled_bytes, 0);
        assert_eq!(
            std::fs::read_dir(tmp.path().join("spill")).unwrap().count(),
            0
        );
    }
}
