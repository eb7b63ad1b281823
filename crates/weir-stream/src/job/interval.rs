//! An interval join's state: the rows each side keeps while rows of the other side still to
//! come can meet them (`plan::IntervalJoin`). New rows of a side run the query against the
//! rows the other side keeps, then are kept in turn: each pair is joined exactly once. The
//! state is split over the cores by the join's equality columns (`KeyedJoin`).

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;

use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;

use super::keyed::{by_part, in_parts, parts_of, work, KeySplit};
use super::outer::{KeptKeys, OuterKeys};
use crate::error::Result;
use crate::plan::IntervalJoin;
use crate::stage::Stage;
use crate::window::times_ms;

/// A kept batch with its least and greatest time, and when it was kept.
pub(super) struct Kept {
    pub rows: RecordBatch,
    /// In an outer join: the rows' keys and standing padded rows.
    pub outer: Option<KeptKeys>,
    min: i64,
    max: i64,
    at: Instant,
}

pub struct JoinState {
    pub(super) join: IntervalJoin,
    /// Per source of the job.
    pub(super) kept: Vec<Vec<Kept>>,
    /// An outer join's kept rows counted by key.
    pub(super) outer: Option<OuterKeys>,
    pub bytes: usize,
}

impl JoinState {
    /// A join's state over sources of these table columns.
    pub fn new(join: IntervalJoin, schemas: &[SchemaRef]) -> Result<JoinState> {
        let outer = match join.outer.any() {
            true => Some(OuterKeys::new(&join, schemas)?),
            false => None,
        };
        Ok(JoinState {
            join,
            kept: schemas.iter().map(|_| Vec::new()).collect(),
            outer,
            bytes: 0,
        })
    }

    /// Runs the query over source `i`'s new rows and the rows the other side keeps.
    pub async fn run(
        &mut self,
        query: &Stage,
        i: usize,
        rows: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        if self.outer.is_some() {
            return self.run_outer(query, i, rows).await;
        }
        let other = self.join.other(i);
        let mut inputs: Vec<Vec<RecordBatch>> = self.kept.iter().map(|_| Vec::new()).collect();
        inputs[other] = self.kept[other].iter().map(|k| k.rows.clone()).collect();
        inputs[i] = rows.clone();
        let out = query.run_all(inputs).await?;
        for b in rows {
            self.keep(i, b)?;
        }
        Ok(out)
    }

    pub(super) fn keep(&mut self, i: usize, rows: RecordBatch) -> Result<()> {
        if self.join.regular {
            if rows.num_rows() > 0 {
                let outer = self.outer.as_mut().map(|o| o.kept(i, &rows)).transpose()?;
                self.bytes += rows.get_array_memory_size();
                let at = Instant::now();
                self.kept[i].push(Kept {
                    rows,
                    outer,
                    min: i64::MAX,
                    max: i64::MAX,
                    at,
                });
            }
            return Ok(());
        }
        let times = times_ms(rows.column(self.join.time_of(i)))?;
        let (Some(min), Some(max)) = (times.iter().flatten().min(), times.iter().flatten().max())
        else {
            return Ok(());
        };
        self.bytes += rows.get_array_memory_size();
        let at = Instant::now();
        self.kept[i].push(Kept {
            rows,
            outer: None,
            min,
            max,
            at,
        });
        Ok(())
    }

    /// Drops the rows kept longer than `ttl` (`table.exec.state.ttl`).
    pub fn expire_ttl(&mut self, ttl: Duration) -> Result<()> {
        for (i, kept) in self.kept.iter_mut().enumerate() {
            if kept.iter().all(|k| k.at.elapsed() < ttl) {
                continue;
            }
            let (gone, stay): (Vec<Kept>, Vec<Kept>) = std::mem::take(kept)
                .into_iter()
                .partition(|k| k.at.elapsed() >= ttl);
            *kept = stay;
            for k in gone {
                self.bytes = self.bytes.saturating_sub(k.rows.get_array_memory_size());
                if let (Some(o), Some(kk)) = (self.outer.as_mut(), k.outer.as_ref()) {
                    o.dropped(i, kk);
                }
            }
        }
        Ok(())
    }

    /// Drops the rows no row still to come can meet.
    pub fn expire(&mut self, watermark: i64) -> Result<()> {
        if self.join.regular {
            return Ok(());
        }
        for i in [self.join.left, self.join.right] {
            let from = self.join.keep_from(i, watermark);
            if self.kept[i].iter().all(|k| k.min >= from) {
                continue;
            }
            let time = self.join.time_of(i);
            let mut kept = Vec::new();
            for k in std::mem::take(&mut self.kept[i]) {
                self.bytes = self.bytes.saturating_sub(k.rows.get_array_memory_size());
                if k.max < from {
                    continue;
                }
                let rows = if k.min >= from {
                    k.rows
                } else {
                    let times = times_ms(k.rows.column(time))?;
                    let keep: BooleanArray = times.iter().map(|t| Some(t >= Some(from))).collect();
                    filter_record_batch(&k.rows, &keep)?
                };
                kept.push(rows);
            }
            for rows in kept {
                self.keep(i, rows)?;
            }
        }
        Ok(())
    }

    /// The rows source `i` keeps (a checkpoint's state).
    pub fn snapshot(&self, i: usize) -> Vec<RecordBatch> {
        self.kept[i].iter().map(|k| k.rows.clone()).collect()
    }

    pub fn restore(&mut self, i: usize, batches: Vec<RecordBatch>) -> Result<()> {
        for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
            self.keep(i, b)?;
        }
        Ok(())
    }
}

/// A join's state split by its equality columns into parts (one per lane, each with its own
/// copy of the query): a new row meets only the kept rows of its part, where every row of its
/// key is. A join without equality columns is one part.
pub struct KeyedJoin {
    parts: Vec<(JoinState, Stage)>,
    split: Option<KeySplit>,
}

impl KeyedJoin {
    pub fn new(
        join: IntervalJoin,
        query: &Stage,
        parallelism: usize,
        schemas: &[SchemaRef],
    ) -> Result<KeyedJoin> {
        let (columns, types) = join.key_columns(schemas);
        let split = KeySplit::new(parallelism, columns, &types)?;
        let parts = (0..parts_of(split.as_ref()))
            .map(|_| Ok((JoinState::new(join.clone(), schemas)?, query.fork()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyedJoin { parts, split })
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|(j, _)| j.bytes).sum()
    }

    /// Runs source `i`'s new rows against the rows the other side keeps, part by part.
    pub async fn run(&mut self, i: usize, rows: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let inputs = work(self.split.as_ref(), i, rows)?;
        let out = in_parts(
            &mut self.parts,
            inputs,
            move |(mut j, q), rows| async move {
                let out = j.run(&q, i, rows).await;
                ((j, q), out)
            },
        )
        .await?;
        Ok(out.into_iter().flatten().collect())
    }

    pub fn expire(&mut self, watermark: i64) -> Result<()> {
        self.parts
            .iter_mut()
            .try_for_each(|(j, _)| j.expire(watermark))
    }

    pub fn expire_ttl(&mut self, ttl: Duration) -> Result<()> {
        self.parts
            .iter_mut()
            .try_for_each(|(j, _)| j.expire_ttl(ttl))
    }

    /// The rows source `i` keeps, over every part (a checkpoint's state).
    pub fn snapshot(&self, i: usize) -> Vec<RecordBatch> {
        self.parts.iter().flat_map(|(j, _)| j.snapshot(i)).collect()
    }

    /// After every source's rows are restored: an outer join's standing padded rows.
    pub fn settle(&mut self) {
        self.parts.iter_mut().for_each(|(j, _)| j.settle_outer());
    }

    /// Restores source `i`'s kept rows, each into the part its key falls in now.
    pub fn restore(&mut self, i: usize, batches: Vec<RecordBatch>) -> Result<()> {
        let parts = by_part(self.split.as_ref(), i, batches)?;
        for ((j, _), rows) in self.parts.iter_mut().zip(parts) {
            j.restore(i, rows)?;
        }
        Ok(())
    }
}
