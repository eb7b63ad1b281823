//! Session windows: per partition key (SESSION's `PARTITION BY` columns), rows closer than the
//! gap in time share a session `[first row, last row + gap)`. A row opens `[t, t + gap)` and
//! merges every open session of its key it touches (Flink's `TimeWindow.intersects`: adjacent
//! windows merge). A session fires when the watermark passes its end (end − 1 ms ≤ watermark);
//! a row whose own window has closed and which touches no open session is late.
//! Fixed sessions (KDA's stagger windows) last the gap from their first row: a row joins the
//! open window of its key that it falls in, else opens `[t, t + gap)`; windows never merge.

use std::collections::{BTreeMap, HashMap, HashSet};

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};

use crate::error::Result;

/// Closed windows' rows by (end, start).
pub(super) type Closed = BTreeMap<(i64, i64), RecordBatch>;

/// One open session of a key.
struct Session {
    start: i64,
    end: i64,
    rows: Vec<RecordBatch>,
    /// Rows of the batch being pushed that fall in this session.
    new_rows: Vec<u32>,
}

impl Session {
    fn touches(&self, start: i64, end: i64) -> bool {
        self.start <= end && self.end >= start
    }
}

pub(super) struct Sessions {
    gap: i64,
    fixed: bool,
    partition: Vec<usize>,
    keys: RowConverter,
    open: HashMap<Vec<u8>, Vec<Session>>,
}

impl Sessions {
    pub(super) fn new(
        gap: i64,
        partition: Vec<usize>,
        schema: &SchemaRef,
        fixed: bool,
    ) -> Result<Sessions> {
        let fields = partition
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect();
        Ok(Sessions {
            gap,
            fixed,
            partition,
            keys: RowConverter::new(fields)?,
            open: HashMap::new(),
        })
    }

    /// Each row's partition key (all alike without `PARTITION BY`).
    fn keys_of(&self, batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
        if self.partition.is_empty() {
            return Ok(vec![Vec::new(); batch.num_rows()]);
        }
        let cols: Vec<ArrayRef> = self
            .partition
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let rows = self.keys.convert_columns(&cols)?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }

    /// Adds a batch's rows (`times` in epoch ms); returns (rows dropped late, bytes added).
    pub(super) fn push(
        &mut self,
        batch: &RecordBatch,
        times: &Int64Array,
        watermark: i64,
    ) -> Result<(u64, usize)> {
        let keys = self.keys_of(batch)?;
        let mut late = 0u64;
        let mut touched: HashSet<&[u8]> = HashSet::new();
        for (i, key) in keys.iter().enumerate() {
            let Some(t) = times.is_valid(i).then(|| times.value(i)) else {
                late += 1;
                continue;
            };
            let (mut start, mut end) = (t, t.saturating_add(self.gap));
            let sessions = match self.open.get_mut(key.as_slice()) {
                Some(s) => s,
                None => self.open.entry(key.clone()).or_default(),
            };
            let mut merged = Session {
                start,
                end,
                rows: Vec::new(),
                new_rows: vec![i as u32],
            };
            if self.fixed {
                if let Some(s) = sessions.iter_mut().find(|s| s.start <= t && t < s.end) {
                    s.new_rows.push(i as u32);
                    touched.insert(key.as_slice());
                    continue;
                }
            }
            let mut k = 0;
            while !self.fixed && k < sessions.len() {
                if sessions[k].touches(start, end) {
                    let s = sessions.swap_remove(k);
                    start = start.min(s.start);
                    end = end.max(s.end);
                    merged.rows.extend(s.rows);
                    merged.new_rows.extend(s.new_rows);
                } else {
                    k += 1;
                }
            }
            // Open sessions end after the watermark, so a merge never closes one.
            if merged.rows.is_empty() && merged.new_rows.len() == 1 && end - 1 <= watermark {
                late += 1;
                if sessions.is_empty() {
                    self.open.remove(key.as_slice());
                }
                continue;
            }
            merged.start = start;
            merged.end = end;
            sessions.push(merged);
            touched.insert(key.as_slice());
        }
        let mut bytes = 0;
        for key in touched {
            let Some(sessions) = self.open.get_mut(key) else {
                continue;
            };
            for s in sessions.iter_mut().filter(|s| !s.new_rows.is_empty()) {
                let idx = UInt32Array::from(std::mem::take(&mut s.new_rows));
                let cols = batch
                    .columns()
                    .iter()
                    .map(|c| take(c, &idx, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let part = RecordBatch::try_new(batch.schema(), cols)?;
                bytes += part.get_array_memory_size();
                s.rows.push(part);
            }
        }
        Ok((late, bytes))
    }

    /// Takes out the sessions the watermark closes: their rows by (end, start), and the bytes
    /// freed.
    pub(super) fn fire(&mut self, watermark: i64, schema: &SchemaRef) -> Result<(Closed, usize)> {
        let mut closed: BTreeMap<(i64, i64), Vec<RecordBatch>> = BTreeMap::new();
        let mut freed = 0;
        self.open.retain(|_, sessions| {
            let mut k = 0;
            while k < sessions.len() {
                if sessions[k].end - 1 <= watermark {
                    let s = sessions.swap_remove(k);
                    freed += s
                        .rows
                        .iter()
                        .map(|b| b.get_array_memory_size())
                        .sum::<usize>();
                    closed.entry((s.end, s.start)).or_default().extend(s.rows);
                } else {
                    k += 1;
                }
            }
            !sessions.is_empty()
        });
        let mut out = BTreeMap::new();
        for (bounds, parts) in closed {
            out.insert(bounds, concat_batches(schema, &parts)?);
        }
        Ok((out, freed))
    }

    /// Every open session's (start, end) and rows.
    pub(super) fn each(&self) -> impl Iterator<Item = (i64, i64, &RecordBatch)> {
        self.open
            .values()
            .flatten()
            .flat_map(|s| s.rows.iter().map(move |b| (s.start, s.end, b)))
    }

    /// Puts back rows of session `[start, end)` (from a checkpoint).
    pub(super) fn restore(&mut self, start: i64, end: i64, rows: RecordBatch) -> Result<()> {
        if rows.num_rows() == 0 {
            return Ok(());
        }
        let key = self.keys_of(&rows.slice(0, 1))?.pop().unwrap_or_default();
        let sessions = self.open.entry(key).or_default();
        match sessions
            .iter_mut()
            .find(|s| (s.start, s.end) == (start, end))
        {
            Some(s) => s.rows.push(rows),
            None => sessions.push(Session {
                start,
                end,
                rows: vec![rows],
                new_rows: Vec::new(),
            }),
        }
        Ok(())
    }
}
