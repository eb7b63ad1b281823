//! An OVER aggregation's state: rows waiting for the watermark to pass their time, and rows
//! already emitted that a later row's frame still reaches (`plan::OverPlan`). When the
//! watermark moves, the rows it passes run through the query with those before them in range
//! (marked apart), and only theirs come out — each row emitted once, in time order of firing.

use std::sync::Arc;

use std::collections::HashMap;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};

use super::keyed::{by_part, in_parts, parts_of, KeySplit};
use crate::error::Result;
use crate::plan::OverPlan;
use crate::stage::Stage;
use crate::window::times_ms;

pub struct OverState {
    plan: OverPlan,
    /// The source's table columns and the marker.
    marked: SchemaRef,
    /// Rows not emitted yet.
    waiting: Vec<RecordBatch>,
    /// Rows emitted whose time a later frame may still reach.
    emitted: Vec<RecordBatch>,
    watermark: i64,
    pub late_dropped: u64,
}

impl OverState {
    /// Bytes of the rows kept (waiting and emitted).
    pub fn bytes(&self) -> usize {
        self.waiting
            .iter()
            .chain(&self.emitted)
            .map(RecordBatch::get_array_memory_size)
            .sum()
    }

    pub fn new(plan: OverPlan, marked: SchemaRef) -> OverState {
        OverState {
            plan,
            marked,
            waiting: Vec::new(),
            emitted: Vec::new(),
            watermark: i64::MIN,
            late_dropped: 0,
        }
    }

    /// Adds rows (the table's columns); rows at or before the watermark are late.
    pub fn push(&mut self, rows: &RecordBatch) -> Result<()> {
        let (late, waiting) = self.split(rows, self.watermark)?;
        self.late_dropped += late.num_rows() as u64;
        if waiting.num_rows() > 0 {
            self.waiting.push(waiting);
        }
        Ok(())
    }

    /// Rows at or before `t`, and the others.
    fn split(&self, rows: &RecordBatch, t: i64) -> Result<(RecordBatch, RecordBatch)> {
        let times = times_ms(rows.column(self.plan.time_index))?;
        let before: BooleanArray = times
            .iter()
            .map(|v| Some(v.is_none_or(|v| v <= t)))
            .collect();
        let after = datafusion::arrow::compute::not(&before)?;
        Ok((
            filter_record_batch(rows, &before)?,
            filter_record_batch(rows, &after)?,
        ))
    }

    /// Moves the watermark and returns the query's rows for the rows it passes.
    pub async fn fire(&mut self, query: &Stage, watermark: i64) -> Result<Vec<RecordBatch>> {
        if watermark <= self.watermark {
            return Ok(Vec::new());
        }
        self.watermark = watermark;
        let mut due = Vec::new();
        let mut waiting = Vec::new();
        for b in std::mem::take(&mut self.waiting) {
            let (d, w) = self.split(&b, watermark)?;
            if d.num_rows() > 0 {
                due.push(d);
            }
            if w.num_rows() > 0 {
                waiting.push(w);
            }
        }
        self.waiting = waiting;
        let mut out = Vec::new();
        if !due.is_empty() {
            let mut input = Vec::new();
            for b in &self.emitted {
                input.push(self.marked(b, false)?);
            }
            for b in &due {
                input.push(self.marked(b, true)?);
            }
            out = query.run(input).await?;
            self.emitted.extend(due);
        }
        self.trim(watermark)?;
        Ok(out)
    }

    /// Keeps the emitted rows a row still to come may reach: a row to come is after the
    /// watermark, so its RANGE frame starts after `watermark − range`; its ROWS frame reaches
    /// the last n rows of its partition.
    fn trim(&mut self, watermark: i64) -> Result<()> {
        let from = watermark.saturating_sub(self.plan.range_ms);
        let Some((n, partition)) = &self.plan.rows else {
            let mut emitted = Vec::new();
            for b in std::mem::take(&mut self.emitted) {
                let (_, keep) = self.split(&b, from.saturating_sub(1))?;
                if keep.num_rows() > 0 {
                    emitted.push(keep);
                }
            }
            self.emitted = emitted;
            return Ok(());
        };
        if self.emitted.is_empty() {
            return Ok(());
        }
        let all = concat_batches(&self.emitted[0].schema(), &self.emitted)?;
        let times = times_ms(all.column(self.plan.time_index))?;
        let fields = partition
            .iter()
            .map(|&i| SortField::new(all.column(i).data_type().clone()))
            .collect();
        let cols: Vec<_> = partition.iter().map(|&i| all.column(i).clone()).collect();
        let keys: Vec<Vec<u8>> = if cols.is_empty() {
            vec![Vec::new(); all.num_rows()]
        } else {
            let rows = RowConverter::new(fields)?.convert_columns(&cols)?;
            rows.iter().map(|r| r.as_ref().to_vec()).collect()
        };
        // Latest first (later arrivals first among equal times).
        let mut order: Vec<usize> = (0..all.num_rows()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse((times.value(i), i)));
        let mut seen: HashMap<&[u8], u64> = HashMap::new();
        let mut keep = vec![false; all.num_rows()];
        for i in order {
            let c = seen.entry(keys[i].as_slice()).or_insert(0);
            *c += 1;
            keep[i] = *c <= *n || (times.is_valid(i) && times.value(i) >= from);
        }
        let kept = filter_record_batch(&all, &BooleanArray::from(keep))?;
        self.emitted = if kept.num_rows() > 0 {
            vec![kept]
        } else {
            Vec::new()
        };
        Ok(())
    }

    fn marked(&self, rows: &RecordBatch, new: bool) -> Result<RecordBatch> {
        let mut cols = rows.columns().to_vec();
        cols.push(Arc::new(BooleanArray::from(vec![new; rows.num_rows()])));
        Ok(RecordBatch::try_new(self.marked.clone(), cols)?)
    }

    /// The state a checkpoint keeps: rows with the marker (true: waiting).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for b in &self.emitted {
            out.push(self.marked(b, false)?);
        }
        for b in &self.waiting {
            out.push(self.marked(b, true)?);
        }
        Ok(out)
    }

    pub fn restore(&mut self, watermark: i64, batches: Vec<RecordBatch>) -> Result<()> {
        self.watermark = watermark;
        for b in batches {
            let n = b.num_columns();
            if n == 0 || b.num_rows() == 0 {
                continue;
            }
            let new = b
                .column(n - 1)
                .as_any()
                .downcast_ref::<BooleanArray>()
                .is_some_and(|a| a.value(0));
            let rows = b.project(&(0..n - 1).collect::<Vec<_>>())?;
            if new {
                self.waiting.push(rows);
            } else {
                self.emitted.push(rows);
            }
        }
        Ok(())
    }
}

/// An OVER aggregation's state split by the columns every function is partitioned by into
/// parts (one per lane, each with its own copy of the query): a row's frame holds rows of its
/// key only, all in its part. Without such columns, one part.
pub struct KeyedOver {
    parts: Vec<(OverState, Stage)>,
    split: Option<KeySplit>,
}

impl KeyedOver {
    pub fn new(
        plan: OverPlan,
        marked: SchemaRef,
        query: &Stage,
        parallelism: usize,
    ) -> Result<KeyedOver> {
        let split = KeySplit::on(parallelism, &plan.keys, &marked)?;
        let parts = (0..parts_of(split.as_ref()))
            .map(|_| Ok((OverState::new(plan.clone(), marked.clone()), query.fork()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyedOver { parts, split })
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|(o, _)| o.bytes()).sum()
    }

    pub fn watermark(&self) -> i64 {
        self.parts
            .iter()
            .map(|(o, _)| o.watermark)
            .max()
            .unwrap_or(i64::MIN)
    }

    pub fn late_dropped(&self) -> u64 {
        self.parts.iter().map(|(o, _)| o.late_dropped).sum()
    }

    /// Adds rows (the table's columns), each to its key's part.
    pub fn push(&mut self, rows: &RecordBatch) -> Result<()> {
        let parts = match self.split.as_ref() {
            None => vec![Some(rows.clone())],
            Some(s) => s.split(0, rows)?,
        };
        for ((o, _), rows) in self.parts.iter_mut().zip(parts) {
            if let Some(rows) = rows {
                o.push(&rows)?;
            }
        }
        Ok(())
    }

    /// Moves the watermark of every part (at once) and returns the rows it passes.
    pub async fn fire(&mut self, watermark: i64) -> Result<Vec<RecordBatch>> {
        let inputs = self
            .parts
            .iter()
            .map(|(o, _)| (watermark > o.watermark && !o.waiting.is_empty()).then_some(()))
            .collect();
        let out = in_parts(&mut self.parts, inputs, move |(mut o, q), ()| async move {
            let out = o.fire(&q, watermark).await;
            ((o, q), out)
        })
        .await?;
        // Parts with nothing due move their watermark too (and drop rows out of range).
        for (o, q) in &mut self.parts {
            if watermark > o.watermark {
                o.fire(q, watermark).await?;
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Every part's rows with the marker (true: waiting).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for (o, _) in &self.parts {
            out.extend(o.snapshot()?);
        }
        Ok(out)
    }

    /// Restores saved rows, each into the part its key falls in now.
    pub fn restore(&mut self, watermark: i64, batches: Vec<RecordBatch>) -> Result<()> {
        let parts = by_part(self.split.as_ref(), 0, batches)?;
        for ((o, _), rows) in self.parts.iter_mut().zip(parts) {
            o.restore(watermark, rows)?;
        }
        Ok(())
    }
}
