//! Top-N state (`plan::TopNPlan`): per key, its best N rows in rank order (ties in order of
//! arrival, as Flink's), and the result rows last sent for it. A batch's rows enter their
//! keys' lists; the query runs over the changed keys' lists (each row with its rank and its
//! key's place), and per key the difference from what was sent is the changelog: rows that
//! left as `-D`, rows that came as `+I`, or — when the rank is shown — a row replaced at a
//! rank as `-U` then `+U`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{OwnedRow, RowConverter, Rows, SortField};

use super::keyed::{by_part, in_parts, parts_of, work, KeySplit};
use crate::changelog::{with_kinds, DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE};
use crate::error::{Result, StreamError};
use crate::plan::TopNPlan;
use crate::stage::Stage;

/// A kept row: its sort key, its columns.
#[derive(Clone)]
struct Kept {
    sort: Box<[u8]>,
    row: OwnedRow,
}

pub struct TopNState {
    plan: TopNPlan,
    table: SchemaRef,
    ranked: SchemaRef,
    keys: Option<RowConverter>,
    sort: RowConverter,
    rows: RowConverter,
    lists: HashMap<Box<[u8]>, Vec<Kept>>,
    /// Per key: the result rows sent for it (the query's columns, as bytes of `out`).
    sent: HashMap<Box<[u8]>, Vec<OwnedRow>>,
    /// The query's columns (without the key column) and their row converter, once known.
    out: Option<(SchemaRef, RowConverter)>,
    /// When each key's list last changed (for `table.exec.state.ttl`).
    touched: HashMap<Box<[u8]>, Instant>,
    pub bytes: usize,
}

impl TopNState {
    pub fn new(plan: TopNPlan, table: SchemaRef) -> Result<TopNState> {
        let field = |i: usize| table.field(i).data_type().clone();
        let keys = match plan.keys.is_empty() {
            true => None,
            false => Some(RowConverter::new(
                plan.keys
                    .iter()
                    .map(|&k| SortField::new(field(k)))
                    .collect(),
            )?),
        };
        let sort = RowConverter::new(
            plan.order
                .iter()
                .map(|(k, o)| SortField::new_with_options(field(*k), *o))
                .collect(),
        )?;
        let rows = converter(&table)?;
        Ok(TopNState {
            ranked: crate::plan::ranked_schema(&table),
            plan,
            table,
            keys,
            sort,
            rows,
            lists: HashMap::new(),
            sent: HashMap::new(),
            out: None,
            touched: HashMap::new(),
            bytes: 0,
        })
    }

    /// Puts rows into their keys' lists; returns the keys whose lists changed.
    fn enter(&mut self, batch: &RecordBatch) -> Result<Vec<Box<[u8]>>> {
        let n = batch.num_rows();
        let keys: Option<Rows> = match &self.keys {
            Some(c) => {
                let cols: Vec<ArrayRef> = self
                    .plan
                    .keys
                    .iter()
                    .map(|&k| batch.column(k).clone())
                    .collect();
                Some(c.convert_columns(&cols)?)
            }
            None => None,
        };
        let cols: Vec<ArrayRef> = self
            .plan
            .order
            .iter()
            .map(|(k, _)| batch.column(*k).clone())
            .collect();
        let sorts = self.sort.convert_columns(&cols)?;
        let rows = self.rows.convert_columns(batch.columns())?;
        let mut changed = Vec::new();
        for i in 0..n {
            let key: &[u8] = keys.as_ref().map_or(&[], |k| k.row(i).data());
            let sort = sorts.row(i);
            let list = self.lists.entry(key.into()).or_default();
            // After the rows it ties with (they came first).
            let at = list.partition_point(|k| k.sort.as_ref() <= sort.as_ref());
            if at >= self.plan.n {
                continue;
            }
            let kept = Kept {
                sort: sort.as_ref().into(),
                row: rows.row(i).owned(),
            };
            self.bytes += kept_bytes(&kept);
            list.insert(at, kept);
            if list.len() > self.plan.n {
                if let Some(out) = list.pop() {
                    self.bytes = self.bytes.saturating_sub(kept_bytes(&out));
                }
            }
            changed.push(Box::<[u8]>::from(key));
        }
        let now = Instant::now();
        for k in &changed {
            self.touched.insert(k.clone(), now);
        }
        Ok(changed)
    }

    /// Forgets the keys whose lists did not change for `ttl` (their results stay as sent).
    pub fn expire_ttl(&mut self, ttl: Duration) {
        let old: Vec<Box<[u8]>> = self
            .touched
            .iter()
            .filter(|(_, at)| at.elapsed() >= ttl)
            .map(|(k, _)| k.clone())
            .collect();
        for k in old {
            self.touched.remove(&k);
            if let Some(list) = self.lists.remove(&k) {
                let held: usize = list.iter().map(kept_bytes).sum();
                self.bytes = self.bytes.saturating_sub(held);
            }
            if let Some(sent) = self.sent.remove(&k) {
                self.bytes = self.bytes.saturating_sub(sent_bytes(&sent));
            }
        }
    }

    /// Keys' lists as ranked rows (the table's columns, the rank, the key's place).
    fn ranked(&self, keys: &[Box<[u8]>]) -> Result<RecordBatch> {
        let (mut rows, mut ranks, mut places) = (Vec::new(), Vec::new(), Vec::new());
        for (p, key) in keys.iter().enumerate() {
            for (r, k) in self.lists.get(key).into_iter().flatten().enumerate() {
                rows.push(k.row.row());
                ranks.push(r as u64 + 1);
                places.push(p as u32);
            }
        }
        if rows.is_empty() {
            return Ok(RecordBatch::new_empty(self.ranked.clone()));
        }
        let mut cols = self.rows.convert_rows(rows)?;
        cols.push(Arc::new(UInt64Array::from(ranks)));
        cols.push(Arc::new(UInt32Array::from(places)));
        Ok(RecordBatch::try_new(self.ranked.clone(), cols)?)
    }

    /// The query's result rows per key (in the order of `keys`) for their lists now.
    async fn results(&mut self, query: &Stage, keys: &[Box<[u8]>]) -> Result<Vec<Vec<OwnedRow>>> {
        let out = query.run(vec![self.ranked(keys)?]).await?;
        let schema = query.schema();
        let n = schema.fields().len().saturating_sub(1);
        if self.out.is_none() {
            let cols = Arc::new(schema.project(&(0..n).collect::<Vec<_>>())?);
            self.out = Some((cols.clone(), converter(&cols)?));
        }
        let mut per_key: Vec<Vec<OwnedRow>> = vec![Vec::new(); keys.len()];
        let Some((_, conv)) = &self.out else {
            return Ok(per_key);
        };
        for b in out.iter().filter(|b| b.num_rows() > 0) {
            let places = b
                .column(n)
                .as_any()
                .downcast_ref::<UInt32Array>()
                .cloned()
                .ok_or_else(|| StreamError::Unsupported("a Top-N row without its key".into()))?;
            let rows = conv.convert_columns(&b.columns()[..n])?;
            for (i, p) in places.values().iter().enumerate() {
                if let Some(k) = per_key.get_mut(*p as usize) {
                    k.push(rows.row(i).owned());
                }
            }
        }
        Ok(per_key)
    }

    /// New rows in: the changes of the query's result.
    pub async fn push(
        &mut self,
        query: &Stage,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let mut changed = Vec::new();
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            changed.extend(self.enter(b)?);
        }
        changed.sort();
        changed.dedup();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let results = self.results(query, &changed).await?;
        let (mut rows, mut kinds): (Vec<OwnedRow>, Vec<i8>) = (Vec::new(), Vec::new());
        for (key, now) in changed.into_iter().zip(results) {
            let before = self.sent.remove(&key).unwrap_or_default();
            let (gone, came) = difference(&before, &now);
            // Shown ranks: a row replaced at a rank is updated; otherwise rows come and go.
            let paired = match self.plan.numbered {
                true => gone.len().min(came.len()),
                false => 0,
            };
            for k in 0..paired {
                rows.push(before[gone[k]].clone());
                kinds.push(UPDATE_BEFORE);
                rows.push(now[came[k]].clone());
                kinds.push(UPDATE_AFTER);
            }
            for &g in &gone[paired..] {
                rows.push(before[g].clone());
                kinds.push(DELETE);
            }
            for &c in &came[paired..] {
                rows.push(now[c].clone());
                kinds.push(INSERT);
            }
            self.bytes = self.bytes.saturating_sub(sent_bytes(&before)) + sent_bytes(&now);
            self.sent.insert(key, now);
        }
        let Some((schema, conv)) = &self.out else {
            return Ok(Vec::new());
        };
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let cols = conv.convert_rows(rows.iter().map(|r| r.row()))?;
        let out = RecordBatch::try_new(schema.clone(), cols)?;
        Ok(vec![with_kinds(out, kinds)?])
    }

    /// Every key's kept rows in rank order (a checkpoint's state: the table's columns).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        if self.lists.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.lists.values().flatten().map(|k| k.row.row());
        let cols = self.rows.convert_rows(rows)?;
        Ok(vec![RecordBatch::try_new(self.table.clone(), cols)?])
    }

    /// Restores kept rows (entered again in their order: each key's list comes back as it
    /// was), and what was sent for them (the query over them).
    pub async fn restore(&mut self, query: &Stage, batches: Vec<RecordBatch>) -> Result<()> {
        let mut keys = Vec::new();
        for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
            let b = RecordBatch::try_new(self.table.clone(), b.columns().to_vec())?;
            keys.extend(self.enter(&b)?);
        }
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Ok(());
        }
        let results = self.results(query, &keys).await?;
        for (key, now) in keys.into_iter().zip(results) {
            self.bytes += sent_bytes(&now);
            self.sent.insert(key, now);
        }
        Ok(())
    }
}

/// The rows of `before` not in `now` and of `now` not in `before` (as multisets), by place,
/// each in its order.
fn difference(before: &[OwnedRow], now: &[OwnedRow]) -> (Vec<usize>, Vec<usize>) {
    let mut count: HashMap<&[u8], usize> = HashMap::new();
    for r in before {
        *count.entry(r.as_ref()).or_default() += 1;
    }
    let mut came = Vec::new();
    for (i, r) in now.iter().enumerate() {
        match count.get_mut(r.as_ref()) {
            Some(c) if *c > 0 => *c -= 1,
            _ => came.push(i),
        }
    }
    let mut gone = Vec::new();
    for (i, r) in before.iter().enumerate() {
        if let Some(c) = count.get_mut(r.as_ref()) {
            if *c > 0 {
                *c -= 1;
                gone.push(i);
            }
        }
    }
    (gone, came)
}

/// A row converter over every column of a schema.
fn converter(schema: &SchemaRef) -> Result<RowConverter> {
    Ok(RowConverter::new(
        schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect(),
    )?)
}

fn sent_bytes(rows: &[OwnedRow]) -> usize {
    rows.iter()
        .map(|r| r.as_ref().len() + std::mem::size_of::<OwnedRow>())
        .sum()
}

/// What a kept row holds in memory.
fn kept_bytes(k: &Kept) -> usize {
    k.sort.len() + k.row.as_ref().len() + std::mem::size_of::<Kept>()
}

/// Top-N state split by its PARTITION BY keys into parts (one per lane, each with its own
/// copy of the query). Without keys, one part.
pub struct KeyedTopN {
    parts: Vec<(TopNState, Stage)>,
    split: Option<KeySplit>,
}

impl KeyedTopN {
    pub fn new(
        plan: TopNPlan,
        table: SchemaRef,
        query: &Stage,
        parallelism: usize,
    ) -> Result<KeyedTopN> {
        let split = KeySplit::on(parallelism, &plan.keys, &table)?;
        let parts = (0..parts_of(split.as_ref()))
            .map(|_| Ok((TopNState::new(plan.clone(), table.clone())?, query.fork()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyedTopN { parts, split })
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|(t, _)| t.bytes).sum()
    }

    /// New rows in (each part on its own task): the changes of the result.
    pub async fn push(&mut self, rows: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let inputs = work(self.split.as_ref(), 0, rows)?;
        let out = in_parts(&mut self.parts, inputs, |(mut t, q), rows| async move {
            let out = t.push(&q, rows).await;
            ((t, q), out)
        })
        .await?;
        Ok(out.into_iter().flatten().collect())
    }

    pub fn expire_ttl(&mut self, ttl: Duration) {
        self.parts.iter_mut().for_each(|(t, _)| t.expire_ttl(ttl));
    }

    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for (t, _) in &self.parts {
            out.extend(t.snapshot()?);
        }
        Ok(out)
    }

    /// Restores kept rows, each into the part its key falls in now.
    pub async fn restore(&mut self, batches: Vec<RecordBatch>) -> Result<()> {
        let parts = by_part(self.split.as_ref(), 0, batches)?;
        for ((t, q), rows) in self.parts.iter_mut().zip(parts) {
            t.restore(q, rows).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::compute::SortOptions;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn state() -> TopNState {
        let table = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
            Field::new("id", DataType::Int64, true),
        ]));
        let plan = TopNPlan {
            keys: vec![0],
            order: vec![(
                1,
                SortOptions {
                    descending: true,
                    nulls_first: false,
                },
            )],
            n: 2,
            start: 1,
            numbered: false,
        };
        TopNState::new(plan, table).unwrap()
    }

    fn batch(s: &TopNState, rows: &[(&str, i64, i64)]) -> RecordBatch {
        RecordBatch::try_new(
            s.table.clone(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
            ],
        )
        .unwrap()
    }

    /// Each key's kept ids in rank order.
    fn kept(s: &TopNState) -> Vec<(String, Vec<i64>)> {
        let mut out: Vec<(String, Vec<i64>)> = Vec::new();
        for (key, list) in &s.lists {
            let cols = s
                .rows
                .convert_rows(list.iter().map(|k| k.row.row()))
                .unwrap();
            let ids = cols[2].as_any().downcast_ref::<Int64Array>().unwrap();
            let k = s
                .keys
                .as_ref()
                .unwrap()
                .convert_rows([s.keys.as_ref().unwrap().parser().parse(key)])
                .unwrap();
            let k = k[0]
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .value(0)
                .to_string();
            out.push((k, ids.values().to_vec()));
        }
        out.sort();
        out
    }

    #[test]
    fn each_key_keeps_its_best_rows_ties_by_arrival_and_restores_as_it_was() {
        let mut s = state();
        // Ties at 5: the earlier stays ahead; 1 never enters a full list of better rows.
        s.enter(&batch(
            &s,
            &[("a", 5, 1), ("b", 3, 2), ("a", 5, 3), ("a", 1, 4)],
        ))
        .unwrap();
        let changed = s
            .enter(&batch(&s, &[("a", 9, 5), ("b", 1, 6), ("a", 5, 7)]))
            .unwrap();
        assert_eq!(
            kept(&s),
            vec![("a".into(), vec![5, 1]), ("b".into(), vec![2, 6])]
        );
        // Both keys changed (a: 9 entered; b: its list grew), each with its list before.
        assert_eq!(changed.len(), 2);
        // A checkpoint's rows entered again give the same lists.
        let mut restored = state();
        for b in s.snapshot().unwrap() {
            restored.enter(&b).unwrap();
        }
        assert_eq!(kept(&restored), kept(&s));
        assert_eq!(restored.bytes, s.bytes);
        // table.exec.state.ttl: keys not changed for that long are forgotten.
        restored.expire_ttl(Duration::from_secs(3600));
        assert_eq!(kept(&restored).len(), 2);
        restored.expire_ttl(Duration::ZERO);
        assert!(restored.lists.is_empty() && restored.touched.is_empty());
        assert_eq!(restored.bytes, 0);
    }
}
