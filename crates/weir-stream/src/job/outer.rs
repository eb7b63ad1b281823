//! Outer joins of streams on equal columns (`LEFT`/`RIGHT`/`FULL JOIN ... ON a.k = b.k`), as
//! Flink's streaming join runs them: a row of a preserved side without a match is sent padded
//! with nulls (`+I`); when the first row of its key comes on the other side, that padded row is
//! retracted (`-D`) and the pairs sent (`+I`). Rows meet by key alone (the condition is only
//! the equalities), so each side counts its kept rows per key, and each kept row knows its key
//! and whether its padded row stands (sent, not yet retracted — Flink's association count
//! of zero). A row with a NULL key meets nothing: its padded row is sent and it is not kept.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{RowConverter, SortField};

use super::interval::JoinState;
use crate::changelog::{with_kinds, DELETE, INSERT};
use crate::error::Result;
use crate::plan::IntervalJoin;
use crate::stage::Stage;

/// Each side's kept rows counted by key.
pub struct OuterKeys {
    /// Per source: its key columns.
    columns: Vec<Vec<usize>>,
    converter: RowConverter,
    counts: Vec<HashMap<Vec<u8>, u64>>,
}

/// A kept batch's keys, and which of its rows' padded rows stand.
pub struct KeptKeys {
    keys: Vec<Option<Vec<u8>>>,
    padded: Vec<bool>,
}

impl OuterKeys {
    pub fn new(join: &IntervalJoin, schemas: &[SchemaRef]) -> Result<OuterKeys> {
        let (columns, types) = join.key_columns(schemas);
        Ok(OuterKeys {
            columns,
            converter: RowConverter::new(types.into_iter().map(SortField::new).collect())?,
            counts: schemas.iter().map(|_| HashMap::new()).collect(),
        })
    }

    /// Each row's key (none when a key column is null: such a row meets nothing).
    fn keys(&self, i: usize, batch: &RecordBatch) -> Result<Vec<Option<Vec<u8>>>> {
        let cols: Vec<_> = self.columns[i]
            .iter()
            .map(|&c| batch.column(c).clone())
            .collect();
        let rows = self.converter.convert_columns(&cols)?;
        Ok((0..batch.num_rows())
            .map(|r| {
                cols.iter()
                    .all(|c| c.is_valid(r))
                    .then(|| rows.row(r).as_ref().to_vec())
            })
            .collect())
    }

    /// Counts a side's kept rows (`add`) or dropped ones.
    fn count(&mut self, i: usize, keys: &[Option<Vec<u8>>], add: bool) {
        for k in keys.iter().flatten() {
            match add {
                true => *self.counts[i].entry(k.clone()).or_insert(0) += 1,
                false => {
                    if let Some(n) = self.counts[i].get_mut(k) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            self.counts[i].remove(k);
                        }
                    }
                }
            }
        }
    }

    /// A batch about to be kept: its keys counted (no padded row standing).
    pub fn kept(&mut self, i: usize, rows: &RecordBatch) -> Result<KeptKeys> {
        let keys = self.keys(i, rows)?;
        self.count(i, &keys, true);
        let padded = vec![false; keys.len()];
        Ok(KeptKeys { keys, padded })
    }

    /// A kept batch dropped (its keys no longer counted).
    pub fn dropped(&mut self, i: usize, kept: &KeptKeys) {
        self.count(i, &kept.keys, false);
    }
}

/// The rows of `batch` whose mask is set.
fn pick(batch: &RecordBatch, mask: Vec<bool>) -> Result<RecordBatch> {
    Ok(filter_record_batch(batch, &BooleanArray::from(mask))?)
}

impl JoinState {
    /// Source `i`'s new rows through an outer join: the retractions of the other side's
    /// standing padded rows their keys now match, the pairs, and the padded rows of theirs
    /// without a match (when their side is preserved).
    pub(super) async fn run_outer(
        &mut self,
        query: &Stage,
        i: usize,
        rows: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let other = self.join.other(i);
        let Some(schema) = rows.first().map(|b| b.schema()) else {
            return Ok(Vec::new());
        };
        let new = concat_batches(&schema, &rows)?;
        let Some(keys) = self.outer.as_ref() else {
            return Ok(Vec::new());
        };
        if new.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let new_keys = keys.keys(i, &new)?;
        let matched: Vec<bool> = new_keys
            .iter()
            .map(|k| {
                k.as_ref()
                    .is_some_and(|k| keys.counts[other].contains_key(k))
            })
            .collect();
        let arriving: HashSet<&Vec<u8>> = new_keys.iter().flatten().collect();
        let (mut meeting, mut retracted) = (Vec::new(), Vec::new());
        for kept in self.kept[other].iter_mut() {
            let Some(kk) = kept.outer.as_mut() else {
                continue;
            };
            let meets: Vec<bool> = kk
                .keys
                .iter()
                .map(|k| k.as_ref().is_some_and(|k| arriving.contains(k)))
                .collect();
            if !meets.iter().any(|m| *m) {
                continue;
            }
            // Padded rows standing for keys that meet now are retracted (once).
            let gone: Vec<bool> = meets
                .iter()
                .zip(&kk.padded)
                .map(|(m, p)| *m && *p)
                .collect();
            if gone.iter().any(|g| *g) {
                for (p, g) in kk.padded.iter_mut().zip(&gone) {
                    *p &= !*g;
                }
                retracted.push(pick(&kept.rows, gone)?);
            }
            meeting.push(pick(&kept.rows, meets)?);
        }
        let empty = || self.kept.iter().map(|_| Vec::new()).collect::<Vec<_>>();
        let mut out = Vec::new();
        let mut send = |batches: Vec<RecordBatch>, kind: i8| -> Result<()> {
            for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
                let n = b.num_rows();
                out.push(with_kinds(b, vec![kind; n])?);
            }
            Ok(())
        };
        if !retracted.is_empty() {
            let mut inputs = empty();
            inputs[other] = retracted;
            send(query.run_all(inputs).await?, DELETE)?;
        }
        if matched.iter().any(|m| *m) {
            let mut inputs = empty();
            inputs[i] = vec![pick(&new, matched.clone())?];
            inputs[other] = meeting;
            send(query.run_all(inputs).await?, INSERT)?;
        }
        let preserved = self.join.preserved(i);
        if preserved && matched.iter().any(|m| !*m) {
            let mut inputs = empty();
            inputs[i] = vec![pick(&new, matched.iter().map(|m| !m).collect())?];
            send(query.run_all(inputs).await?, INSERT)?;
        }
        // Rows with a NULL key meet nothing: not kept (their padded rows are sent).
        let keyed: Vec<bool> = new_keys.iter().map(Option::is_some).collect();
        let padded: Vec<bool> = matched
            .iter()
            .zip(&keyed)
            .filter(|(_, k)| **k)
            .map(|(m, _)| preserved && !*m)
            .collect();
        let new = match keyed.iter().all(|k| *k) {
            true => new,
            false => pick(&new, keyed)?,
        };
        self.keep(i, new)?;
        if let Some(k) = self.kept[i].last_mut().and_then(|k| k.outer.as_mut()) {
            if k.padded.len() == padded.len() {
                k.padded = padded;
            }
        }
        Ok(out)
    }

    /// After a restore: a preserved side's row without a match has its padded row standing
    /// (as it was sent; exact unless rows expired by `table.exec.state.ttl`).
    pub(super) fn settle_outer(&mut self) {
        let Some(keys) = self.outer.as_ref() else {
            return;
        };
        for i in [self.join.left, self.join.right] {
            let (preserved, other) = (self.join.preserved(i), self.join.other(i));
            for kept in self.kept[i].iter_mut() {
                if let Some(kk) = kept.outer.as_mut() {
                    kk.padded = kk
                        .keys
                        .iter()
                        .map(|k| {
                            preserved
                                && k.as_ref()
                                    .is_some_and(|k| !keys.counts[other].contains_key(k))
                        })
                        .collect();
                }
            }
        }
    }
}
