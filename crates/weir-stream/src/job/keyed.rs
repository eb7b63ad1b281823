//! Keyed state over cores: an operator's state split into parts by the hash of each row's key
//! (one part per lane, as Flink's key groups spread keyed state over its subtasks). Rows
//! of one key always go to the same part, so every part computes what one operator would
//! for its keys, and the parts of a turn run at once, each on its own task.

use std::future::Future;
use std::hash::{Hash, Hasher};

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::row::{RowConverter, SortField};

use crate::error::{Result, StreamError};

/// How rows are split into parts: per input of the operator, the key columns (in the same
/// order and of the same types for every input, so equal keys meet).
pub struct KeySplit {
    parts: usize,
    /// Per input: its key columns.
    columns: Vec<Vec<usize>>,
    converter: RowConverter,
}

impl KeySplit {
    /// A split into `parts` parts, or none when there is one part or no key (then the
    /// operator keeps one part).
    pub fn new(
        parts: usize,
        columns: Vec<Vec<usize>>,
        types: &[DataType],
    ) -> Result<Option<KeySplit>> {
        if parts <= 1 || types.is_empty() || columns.iter().any(|c| c.len() != types.len()) {
            return Ok(None);
        }
        let converter =
            RowConverter::new(types.iter().map(|t| SortField::new(t.clone())).collect())?;
        Ok(Some(KeySplit {
            parts,
            columns,
            converter,
        }))
    }

    /// A split of one input's rows by its key columns `keys` (none: one part).
    pub fn on(parts: usize, keys: &[usize], schema: &Schema) -> Result<Option<KeySplit>> {
        let types: Vec<DataType> = keys
            .iter()
            .map(|&k| schema.field(k).data_type().clone())
            .collect();
        KeySplit::new(parts, vec![keys.to_vec()], &types)
    }

    pub fn parts(&self) -> usize {
        self.parts
    }

    /// The part of a key (its bytes as the row converter makes them).
    pub fn part_of(&self, key: &[u8]) -> usize {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() % self.parts as u64) as usize
    }

    /// The rows of input `input` by part (none for a part without rows).
    pub fn split(&self, input: usize, batch: &RecordBatch) -> Result<Vec<Option<RecordBatch>>> {
        let Some(columns) = self.columns.get(input) else {
            return Err(StreamError::Unsupported(format!("a keyed input {input}")));
        };
        let cols: Vec<_> = columns.iter().map(|&i| batch.column(i).clone()).collect();
        let keys = self.converter.convert_columns(&cols)?;
        let mut picks: Vec<Vec<u32>> = vec![Vec::new(); self.parts];
        for (i, k) in keys.iter().enumerate() {
            picks[self.part_of(k.as_ref())].push(i as u32);
        }
        picks
            .into_iter()
            .map(|rows| match rows.len() {
                0 => Ok(None),
                n if n == batch.num_rows() => Ok(Some(batch.clone())),
                _ => Ok(Some(take_record_batch(batch, &UInt32Array::from(rows))?)),
            })
            .collect()
    }

    /// Batches of input `input` by part (each part's rows in their order).
    pub fn split_all(
        &self,
        input: usize,
        batches: &[RecordBatch],
    ) -> Result<Vec<Vec<RecordBatch>>> {
        let mut out: Vec<Vec<RecordBatch>> = (0..self.parts).map(|_| Vec::new()).collect();
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            for (k, part) in self.split(input, b)?.into_iter().enumerate() {
                if let Some(part) = part {
                    out[k].push(part);
                }
            }
        }
        Ok(out)
    }
}

/// How many parts a split makes (one without a split).
pub fn parts_of(split: Option<&KeySplit>) -> usize {
    split.map_or(1, KeySplit::parts)
}

/// Input `input`'s batches by part (all in the one part without a split).
pub fn by_part(
    split: Option<&KeySplit>,
    input: usize,
    batches: Vec<RecordBatch>,
) -> Result<Vec<Vec<RecordBatch>>> {
    match split {
        None => Ok(vec![batches]),
        Some(s) => s.split_all(input, &batches),
    }
}

/// Input `input`'s batches as the parts' work (none for a part without rows).
pub fn work(
    split: Option<&KeySplit>,
    input: usize,
    batches: Vec<RecordBatch>,
) -> Result<Vec<Option<Vec<RecordBatch>>>> {
    Ok(by_part(split, input, batches)?
        .into_iter()
        .map(|p| (!p.is_empty()).then_some(p))
        .collect())
}

/// Runs `f` for each part that has work (`inputs[k]` for part `k`), at once on several tasks
/// when more than one has; parts without work stay as they are. Returns the outputs in the
/// order of the parts. A part lost to a panic fails the turn (the job then resumes from its
/// checkpoint).
pub async fn in_parts<T, I, O, F, Fut>(
    parts: &mut Vec<T>,
    inputs: Vec<Option<I>>,
    f: F,
) -> Result<Vec<O>>
where
    T: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
    F: Fn(T, I) -> Fut,
    Fut: Future<Output = (T, Result<O>)> + Send + 'static,
{
    let busy = inputs.iter().filter(|i| i.is_some()).count();
    let mut all: Vec<Option<T>> = std::mem::take(parts).into_iter().map(Some).collect();
    let mut handles = Vec::with_capacity(busy);
    let mut inline = Vec::new();
    for (k, input) in inputs.into_iter().enumerate() {
        let Some(input) = input else {
            continue;
        };
        let Some(part) = all.get_mut(k).and_then(Option::take) else {
            continue;
        };
        match busy {
            1 => inline.push((k, f(part, input).await)),
            _ => handles.push((k, tokio::spawn(f(part, input)))),
        }
    }
    let mut done = inline;
    let mut failed = None;
    let (places, handles): (Vec<usize>, Vec<_>) = handles.into_iter().unzip();
    for (k, h) in places
        .into_iter()
        .zip(futures::future::join_all(handles).await)
    {
        match h {
            Ok(r) => done.push((k, r)),
            Err(e) => {
                failed = failed.or(Some(StreamError::Unsupported(format!(
                    "a keyed state part failed: {e}"
                ))))
            }
        }
    }
    let mut out = Vec::with_capacity(done.len());
    done.sort_by_key(|(k, _)| *k);
    for (k, (part, result)) in done {
        all[k] = Some(part);
        match result {
            Ok(o) => out.push(o),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    // A part lost to a panic leaves the operator without it: the parts that are left stay
    // (the turn fails, and the job resumes from its checkpoint).
    *parts = all.into_iter().flatten().collect();
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(keys: &[i64], names: &[&str]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("n", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(keys.to_vec())),
                Arc::new(StringArray::from(names.to_vec())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn equal_keys_meet_in_one_part_whichever_input_they_come_from() {
        // Input 0 keys on column 0, input 1 on column 0 of another batch layout alike.
        let split = KeySplit::new(4, vec![vec![0], vec![0]], &[DataType::Int64])
            .unwrap()
            .unwrap();
        let keys: Vec<i64> = (0..200).collect();
        let names: Vec<&str> = keys.iter().map(|_| "x").collect();
        let a = split.split(0, &batch(&keys, &names)).unwrap();
        let b = split.split(1, &batch(&keys, &names)).unwrap();
        let mut used = 0;
        for (pa, pb) in a.iter().zip(&b) {
            assert_eq!(
                pa.as_ref().map(|p| p.num_rows()),
                pb.as_ref().map(|p| p.num_rows())
            );
            let (Some(pa), Some(pb)) = (pa, pb) else {
                continue;
            };
            used += 1;
            assert_eq!(pa.column(0).to_data(), pb.column(0).to_data());
        }
        assert!(used > 1, "200 keys spread over more than one part");
        let total: usize = a.iter().flatten().map(RecordBatch::num_rows).sum();
        assert_eq!(total, 200);
    }

    #[test]
    fn keys_in_other_places_of_other_inputs_meet_too() {
        // Input 1 holds its key second, after a text column.
        let split = KeySplit::new(3, vec![vec![0], vec![1]], &[DataType::Int64])
            .unwrap()
            .unwrap();
        let keys: Vec<i64> = (0..60).collect();
        let names: Vec<&str> = keys.iter().map(|_| "x").collect();
        let a = batch(&keys, &names);
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Utf8, true),
            Field::new("k", DataType::Int64, true),
        ]));
        let b =
            RecordBatch::try_new(schema, vec![a.column(1).clone(), a.column(0).clone()]).unwrap();
        let (pa, pb) = (split.split(0, &a).unwrap(), split.split(1, &b).unwrap());
        for (x, y) in pa.iter().zip(&pb) {
            let keys =
                |p: &Option<RecordBatch>, c: usize| p.as_ref().map(|p| p.column(c).to_data());
            assert_eq!(keys(x, 0), keys(y, 1));
        }
    }

    #[test]
    fn one_part_or_no_key_is_no_split() {
        assert!(KeySplit::new(1, vec![vec![0]], &[DataType::Int64])
            .unwrap()
            .is_none());
        assert!(KeySplit::new(4, vec![vec![]], &[]).unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parts_with_work_run_and_come_back_in_order() {
        let mut parts: Vec<Vec<u32>> = vec![vec![], vec![], vec![]];
        let out = in_parts(
            &mut parts,
            vec![Some(1), None, Some(3)],
            |mut p, i| async move {
                p.push(i);
                (p, Ok(i * 10))
            },
        )
        .await
        .unwrap();
        assert_eq!(out, vec![10, 30]);
        assert_eq!(parts, vec![vec![1], vec![], vec![3]]);
    }
}
