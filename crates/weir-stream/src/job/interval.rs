//! An interval join's state: the rows each side keeps while rows of the other side still to
//! come can meet them (`plan::IntervalJoin`). New rows of a side run the query against the
//! rows the other side keeps, then are kept in turn: each pair is joined exactly once.

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::plan::IntervalJoin;
use crate::stage::Stage;
use crate::window::times_ms;

/// A kept batch with its least and greatest time, and when it was kept.
struct Kept {
    rows: RecordBatch,
    min: i64,
    max: i64,
    at: Instant,
}

pub struct JoinState {
    join: IntervalJoin,
    /// Per source of the job.
    kept: Vec<Vec<Kept>>,
    pub bytes: usize,
}

impl JoinState {
    pub fn new(join: IntervalJoin, sources: usize) -> JoinState {
        JoinState {
            join,
            kept: (0..sources).map(|_| Vec::new()).collect(),
            bytes: 0,
        }
    }

    /// Runs the query over source `i`'s new rows and the rows the other side keeps.
    pub async fn run(
        &mut self,
        query: &Stage,
        i: usize,
        rows: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
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

    fn keep(&mut self, i: usize, rows: RecordBatch) -> Result<()> {
        if self.join.regular {
            if rows.num_rows() > 0 {
                self.bytes += rows.get_array_memory_size();
                let at = Instant::now();
                self.kept[i].push(Kept {
                    rows,
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
        self.kept[i].push(Kept { rows, min, max, at });
        Ok(())
    }

    /// Drops the rows kept longer than `ttl` (`table.exec.state.ttl`).
    pub fn expire_ttl(&mut self, ttl: Duration) {
        for kept in &mut self.kept {
            let before: usize = kept.iter().map(|k| k.rows.get_array_memory_size()).sum();
            kept.retain(|k| k.at.elapsed() < ttl);
            let after: usize = kept.iter().map(|k| k.rows.get_array_memory_size()).sum();
            self.bytes = self.bytes.saturating_sub(before - after);
        }
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
