//! Deduplication keeping each key's first row (`ROW_NUMBER() OVER (PARTITION BY k ORDER BY
//! proctime ASC)` kept where it is 1): a row whose key was not seen before goes through the
//! query, the others are dropped; keys are kept until `table.exec.state.ttl` (forever when
//! unset, as Flink's). The output is append-only. The keys are split over the cores
//! (`KeyedDedup`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, BinaryArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::row::{RowConverter, SortField};

use super::keyed::{in_parts, parts_of, work, KeySplit};
use crate::error::Result;

pub struct DedupState {
    keys: Vec<usize>,
    converter: Option<RowConverter>,
    seen: HashMap<Vec<u8>, Instant>,
    /// Bytes the seen keys take (their bytes and each entry's own).
    pub bytes: usize,
}

impl DedupState {
    pub fn new(keys: Vec<usize>, table: &Schema) -> Result<DedupState> {
        let converter = match keys.is_empty() {
            true => None,
            false => Some(RowConverter::new(
                keys.iter()
                    .map(|&i| SortField::new(table.field(i).data_type().clone()))
                    .collect(),
            )?),
        };
        Ok(DedupState {
            keys,
            converter,
            seen: HashMap::new(),
            bytes: 0,
        })
    }

    /// The rows of `batch` whose key comes for the first time (in arrival order).
    pub fn first_rows(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let keys: Vec<Vec<u8>> = match &self.converter {
            None => vec![Vec::new(); batch.num_rows()],
            Some(c) => {
                let cols: Vec<_> = self.keys.iter().map(|&i| batch.column(i).clone()).collect();
                c.convert_columns(&cols)?
                    .iter()
                    .map(|r| r.as_ref().to_vec())
                    .collect()
            }
        };
        let now = Instant::now();
        let keep: BooleanArray = keys
            .into_iter()
            .map(|k| match self.seen.contains_key(&k) {
                true => Some(false),
                false => {
                    self.bytes += entry_bytes(&k);
                    self.seen.insert(k, now);
                    Some(true)
                }
            })
            .collect();
        Ok(filter_record_batch(batch, &keep)?)
    }

    /// Forgets keys seen longer ago than `ttl`.
    pub fn expire_ttl(&mut self, ttl: Duration) {
        let mut freed = 0;
        self.seen.retain(|k, at| {
            let keep = at.elapsed() < ttl;
            if !keep {
                freed += entry_bytes(k);
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
    }

    /// The keys seen (a checkpoint's state).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        if self.seen.is_empty() {
            return Ok(Vec::new());
        }
        let keys = BinaryArray::from_iter_values(self.seen.keys());
        Ok(vec![RecordBatch::try_new(
            key_schema(),
            vec![Arc::new(keys)],
        )?])
    }

    pub fn restore(&mut self, batches: Vec<RecordBatch>) {
        let now = Instant::now();
        for b in batches {
            if let Some(keys) = b
                .columns()
                .first()
                .and_then(|c| c.as_any().downcast_ref::<BinaryArray>())
            {
                for k in keys.iter().flatten() {
                    if self.seen.insert(k.to_vec(), now).is_none() {
                        self.bytes += entry_bytes(k);
                    }
                }
            }
        }
    }
}

/// What one seen key takes: its bytes, its vector and the entry's time.
fn entry_bytes(key: &[u8]) -> usize {
    key.len() + std::mem::size_of::<(Vec<u8>, Instant)>()
}

/// Deduplication split by its keys into parts (one per lane), each keeping the keys that
/// fall in it and deduplicating its rows on its own task.
pub struct KeyedDedup {
    parts: Vec<DedupState>,
    split: Option<KeySplit>,
}

impl KeyedDedup {
    pub fn new(keys: Vec<usize>, table: &Schema, parallelism: usize) -> Result<KeyedDedup> {
        let split = KeySplit::on(parallelism, &keys, table)?;
        let parts = (0..parts_of(split.as_ref()))
            .map(|_| DedupState::new(keys.clone(), table))
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyedDedup { parts, split })
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|d| d.bytes).sum()
    }

    /// The rows whose key comes for the first time (in arrival order within a key's part).
    pub async fn first_rows(&mut self, rows: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        // One part with work runs in place (`in_parts` spawns only for several).
        let inputs = work(self.split.as_ref(), 0, rows)?;
        let out = in_parts(&mut self.parts, inputs, |mut d, rows| async move {
            let out = rows
                .iter()
                .map(|b| d.first_rows(b))
                .collect::<Result<Vec<_>>>();
            (d, out)
        })
        .await?;
        Ok(out.into_iter().flatten().collect())
    }

    pub fn expire_ttl(&mut self, ttl: Duration) {
        self.parts.iter_mut().for_each(|d| d.expire_ttl(ttl));
    }

    /// Every part's keys (a checkpoint's state).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for d in &self.parts {
            out.extend(d.snapshot()?);
        }
        Ok(out)
    }

    /// Restores saved keys, each into the part it falls in now.
    pub fn restore(&mut self, batches: Vec<RecordBatch>) -> Result<()> {
        let Some(split) = self.split.as_ref() else {
            self.parts[0].restore(batches);
            return Ok(());
        };
        let mut keys: Vec<Vec<&[u8]>> = vec![Vec::new(); self.parts.len()];
        for b in &batches {
            if let Some(k) = b
                .columns()
                .first()
                .and_then(|c| c.as_any().downcast_ref::<BinaryArray>())
            {
                for k in k.iter().flatten() {
                    keys[split.part_of(k)].push(k);
                }
            }
        }
        for (d, keys) in self.parts.iter_mut().zip(keys) {
            let column = BinaryArray::from_iter_values(keys);
            d.restore(vec![RecordBatch::try_new(
                key_schema(),
                vec![Arc::new(column)],
            )?]);
        }
        Ok(())
    }
}

/// The schema of saved keys.
fn key_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new(
        "key",
        DataType::Binary,
        false,
    )]))
}
