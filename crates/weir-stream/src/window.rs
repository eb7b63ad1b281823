//! Window state: rows kept in panes (a tumbling window, or a hop's slide, or a cumulating
//! window's step), each window made of the panes it spans. A row whose every window has fired
//! is late: dropped and counted. When the watermark passes a window's end (end − 1 ms ≤
//! watermark, as Flink fires), its panes' rows, with `window_start`, `window_end` and
//! `window_time` added, are handed to the query, and panes no later window needs are dropped,
//! so state is bounded by the watermark.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, RecordBatch, TimestampMillisecondArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::Result;
use crate::plan::WindowSpec;
use crate::sql::WindowKind;

pub struct WindowState {
    spec: WindowSpec,
    /// The table's columns (rows as kept).
    schema: SchemaRef,
    /// With the window columns.
    out_schema: SchemaRef,
    panes: BTreeMap<i64, Vec<RecordBatch>>,
    /// Windows with rows, not fired yet: (end, start).
    pending: BTreeSet<(i64, i64)>,
    watermark: i64,
    pub late_dropped: u64,
    pub bytes: usize,
}

/// A fired window's rows, window columns included.
#[cfg(test)]
pub struct Fired {
    pub start: i64,
    pub end: i64,
    pub rows: RecordBatch,
}

impl WindowState {
    pub fn new(spec: WindowSpec, schema: SchemaRef) -> WindowState {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (n, t) in window_columns(&spec.time_type) {
            fields.push(Field::new(n, t, false));
        }
        WindowState {
            spec,
            schema,
            out_schema: Arc::new(Schema::new(fields)),
            panes: BTreeMap::new(),
            pending: BTreeSet::new(),
            watermark: i64::MIN,
            late_dropped: 0,
            bytes: 0,
        }
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
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
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let times = cast(
            batch.column(self.spec.time_index),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )?;
        let times = cast(&times, &DataType::Int64)?;
        let times = times
            .as_any()
            .downcast_ref::<Int64Array>()
            .cloned()
            .unwrap_or_else(|| Int64Array::new_null(batch.num_rows()));
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
            self.bytes += part.get_array_memory_size();
            self.add_pane(pane, part);
        }
        Ok(())
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

    /// Moves the watermark and takes out the windows it closes (end, start).
    fn due(&mut self, watermark: i64) -> Vec<(i64, i64)> {
        if watermark <= self.watermark {
            return Vec::new();
        }
        self.watermark = watermark;
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

    /// A window's rows with the window columns (none: an empty batch).
    fn rows_of(&self, start: i64, end: i64) -> Result<RecordBatch> {
        let parts: Vec<RecordBatch> = self
            .panes
            .range(start..end)
            .flat_map(|(_, b)| b.iter().cloned())
            .collect();
        let rows = concat_batches(&self.schema, &parts)?;
        self.with_window_columns(rows, start, end)
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
        let mut scratch = WindowState::new(self.spec.clone(), self.schema.clone());
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

    /// The state a checkpoint keeps: every pane's rows, with the pane's start as a column.
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(PANE_COLUMN, DataType::Int64, false));
        let schema = Arc::new(Schema::new(fields));
        let mut out = Vec::new();
        for (pane, batches) in &self.panes {
            for b in batches {
                let mut cols = b.columns().to_vec();
                cols.push(Arc::new(Int64Array::from(vec![*pane; b.num_rows()])));
                out.push(RecordBatch::try_new(schema.clone(), cols)?);
            }
        }
        Ok(out)
    }

    /// State read back from a checkpoint.
    pub fn restore(&mut self, watermark: i64, batches: Vec<RecordBatch>) -> Result<()> {
        self.watermark = watermark;
        for b in batches {
            let n = b.num_columns();
            if n == 0 || b.num_rows() == 0 {
                continue;
            }
            let pane = b
                .column(n - 1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .map(|a| a.value(0));
            let Some(pane) = pane else { continue };
            let rows = RecordBatch::try_new(self.schema.clone(), b.columns()[..n - 1].to_vec())?;
            self.bytes += rows.get_array_memory_size();
            self.add_pane(pane, rows);
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
    let mut windows = BTreeSet::new();
    for s in states.iter_mut() {
        windows.extend(s.due(watermark));
    }
    let mut out = Vec::with_capacity(windows.len());
    for (end, start) in windows {
        let rows = states
            .iter()
            .map(|s| s.rows_of(start, end))
            .collect::<Result<Vec<_>>>()?;
        out.push((start, end, rows));
    }
    for s in states.iter_mut() {
        s.expire();
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

/// The column a snapshot keeps each row's pane in.
pub const PANE_COLUMN: &str = "__weir_pane";

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
        let mut w = WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema());
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
        let mut w = WindowState::new(spec(WindowKind::Hop, 6_000, 2_000), b.schema());
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
        let mut w = WindowState::new(spec(WindowKind::Cumulate, 3_000, 1_000), b.schema());
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

    #[test]
    fn snapshot_and_restore_keep_open_windows() {
        let b = rows(&[1_000, 6_000]);
        let mut w = WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema());
        w.push(&b).unwrap();
        assert_eq!(fired(&mut w, 4_999).len(), 1);
        let snap = w.snapshot().unwrap();
        let mut again = WindowState::new(spec(WindowKind::Tumble, 5_000, 5_000), b.schema());
        again.restore(w.watermark(), snap).unwrap();
        assert_eq!(fired(&mut again, 9_999), vec![(5_000, 10_000, 1)]);
    }
}
