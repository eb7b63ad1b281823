//! An updating aggregate (`GROUP BY` without a window): one partial state row per group, and a
//! changelog out. New rows are aggregated partially, merged with their groups' states, and
//! each touched group's result before and after is compared: a new group is inserted (`+I`),
//! a changed one retracted and updated (`-U` then `+U`), an unchanged one says nothing — as
//! Flink's GroupAggregate does for append-only input.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::{concat_batches, interleave_record_batch};
use datafusion::arrow::row::{RowConverter, SortField};

use crate::changelog::{with_kinds, DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE};
use crate::error::Result;
use crate::plan::PartialPlan;

use super::keyed::{in_parts, parts_of, KeySplit};

pub struct UpdateState {
    /// Group keys as bytes (none for a global aggregate).
    keys: Option<RowConverter>,
    /// State rows; a group's live row is the one `index` names (older ones are garbage until
    /// the next compaction).
    states: Vec<RecordBatch>,
    index: HashMap<Vec<u8>, (usize, usize)>,
    rows: usize,
    pub bytes: usize,
    /// A global aggregate's state over no rows (made on first use).
    empty: Option<RecordBatch>,
}

impl UpdateState {
    pub fn new(plan: &PartialPlan) -> Result<UpdateState> {
        Ok(UpdateState {
            keys: key_converter(plan)?,
            states: Vec::new(),
            index: HashMap::new(),
            rows: 0,
            bytes: 0,
            empty: None,
        })
    }

    /// Each row's group key (all alike without group columns: a global aggregate).
    fn keys_of(&self, batch: &RecordBatch, groups: usize) -> Result<Vec<Vec<u8>>> {
        let Some(converter) = self.keys.as_ref().filter(|_| groups > 0) else {
            return Ok(vec![Vec::new(); batch.num_rows()]);
        };
        let rows = converter.convert_columns(&batch.columns()[..groups])?;
        Ok(rows.iter().map(|r| r.as_ref().to_vec()).collect())
    }

    /// Merges new rows' partial states (`plan.partial`'s output) into their groups and
    /// returns the changes (the query's columns and the change column).
    pub async fn apply_states(
        &mut self,
        plan: &PartialPlan,
        partial: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let Some(above) = plan.above.as_ref() else {
            return Ok(Vec::new());
        };
        let g = plan.groups;
        let partial: Vec<RecordBatch> = partial.into_iter().filter(|b| b.num_rows() > 0).collect();
        if partial.is_empty() {
            return Ok(Vec::new());
        }
        let partial = concat_batches(&plan.state_schema, &partial)?;
        // A global aggregate (no group keys) has a state row even when no row reached it (a
        // batch its WHERE filtered out): then nothing changed.
        if g == 0 {
            if self.empty.is_none() {
                let empty = plan.partial.run(Vec::new()).await?;
                self.empty = Some(concat_batches(&plan.state_schema, &empty)?);
            }
            if let Some(empty) = &self.empty {
                if partial.num_rows() == 1
                    && empty.num_rows() == 1
                    && same_row(&partial, 0, empty, 0)
                {
                    return Ok(Vec::new());
                }
            }
        }
        // The touched groups' states as they were.
        let keys = self.keys_of(&partial, g)?;
        let old_at: Vec<(usize, usize)> = keys
            .iter()
            .filter_map(|k| self.index.get(k).copied())
            .collect();
        let refs: Vec<&RecordBatch> = self.states.iter().collect();
        let old = if old_at.is_empty() {
            RecordBatch::new_empty(plan.state_schema.clone())
        } else {
            interleave_record_batch(&refs, &old_at)?
        };
        let merged = plan.reduce.run(vec![old.clone(), partial]).await?;
        let merged = concat_batches(&plan.state_schema, &merged)?;
        // No earlier state: nothing was emitted before (a global aggregate's Final over no
        // state would still make a row).
        let before = match old_at.is_empty() {
            true => Vec::new(),
            false => plan.final_agg.run(vec![old]).await?,
        };
        let after = plan.final_agg.run(vec![merged.clone()]).await?;
        let final_schema = after
            .first()
            .or(before.first())
            .map(|b| b.schema())
            .unwrap_or_else(|| plan.state_schema.clone());
        let before = concat_batches(&final_schema, &before)?;
        let after = concat_batches(&final_schema, &after)?;
        // Before and after by group.
        let before_keys = self.keys_of(&before, g)?;
        let was: HashMap<&[u8], usize> = before_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_slice(), i))
            .collect();
        let after_keys = self.keys_of(&after, g)?;
        // A group is shown when it passes HAVING (every group without one).
        let shown_before = passes(plan, &before)?;
        let shown_after = passes(plan, &after)?;
        let (mut picks, mut kinds) = (Vec::new(), Vec::new());
        for (i, k) in after_keys.iter().enumerate() {
            let was = was.get(k.as_slice()).copied().filter(|&j| shown_before[j]);
            match (was, shown_after[i]) {
                (None, true) => {
                    picks.push((1, i));
                    kinds.push(INSERT);
                }
                (Some(j), true) if !same_row(&before, j, &after, i) => {
                    picks.push((0, j));
                    kinds.push(UPDATE_BEFORE);
                    picks.push((1, i));
                    kinds.push(UPDATE_AFTER);
                }
                (Some(j), false) => {
                    picks.push((0, j));
                    kinds.push(DELETE);
                }
                _ => {}
            }
        }
        // The merged states become the groups' live rows.
        let merged_keys = self.keys_of(&merged, g)?;
        let at = self.states.len();
        for (i, k) in merged_keys.iter().enumerate() {
            self.index.insert(k.clone(), (at, i));
        }
        self.rows += merged.num_rows();
        self.bytes += merged.get_array_memory_size();
        self.states.push(merged);
        if self.rows > 2 * self.index.len() + 1024 {
            self.compact()?;
        }
        if picks.is_empty() {
            return Ok(Vec::new());
        }
        let changed = interleave_record_batch(&[&before, &after], &picks)?;
        let out = above.run(vec![changed]).await?;
        let out = concat_batches(&above.schema(), &out)?;
        Ok(vec![with_kinds(out, kinds)?])
    }

    /// The live state rows, and their keys.
    fn live(&self) -> Result<Option<(RecordBatch, Vec<Vec<u8>>)>> {
        if self.index.is_empty() {
            return Ok(None);
        }
        let mut entries: Vec<(&Vec<u8>, &(usize, usize))> = self.index.iter().collect();
        entries.sort_by_key(|(_, at)| **at);
        let at: Vec<(usize, usize)> = entries.iter().map(|(_, a)| **a).collect();
        let refs: Vec<&RecordBatch> = self.states.iter().collect();
        let live = interleave_record_batch(&refs, &at)?;
        Ok(Some((
            live,
            entries.into_iter().map(|(k, _)| k.clone()).collect(),
        )))
    }

    /// Keeps only the live state rows.
    fn compact(&mut self) -> Result<()> {
        let Some((live, keys)) = self.live()? else {
            return Ok(());
        };
        self.index = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, (0, i)))
            .collect();
        self.rows = live.num_rows();
        self.bytes = live.get_array_memory_size();
        self.states = vec![live];
        Ok(())
    }

    /// The live state rows (a checkpoint's state).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        Ok(self.live()?.map(|(b, _)| b).into_iter().collect())
    }

    pub fn restore(&mut self, plan: &PartialPlan, batches: Vec<RecordBatch>) -> Result<()> {
        for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
            let b = RecordBatch::try_new(plan.state_schema.clone(), b.columns().to_vec())?;
            let keys = self.keys_of(&b, plan.groups)?;
            let at = self.states.len();
            for (i, k) in keys.iter().enumerate() {
                self.index.insert(k.clone(), (at, i));
            }
            self.rows += b.num_rows();
            self.bytes += b.get_array_memory_size();
            self.states.push(b);
        }
        Ok(())
    }
}

/// Group keys (the states' leading columns) as bytes; none for a global aggregate.
fn key_converter(plan: &PartialPlan) -> Result<Option<RowConverter>> {
    if plan.groups == 0 {
        return Ok(None);
    }
    let fields = plan.state_schema.fields()[..plan.groups]
        .iter()
        .map(|f| SortField::new(f.data_type().clone()))
        .collect();
    Ok(Some(RowConverter::new(fields)?))
}

/// Which final rows pass the aggregate's HAVING (all when it has none; NULL fails).
fn passes(plan: &PartialPlan, rows: &RecordBatch) -> Result<Vec<bool>> {
    let Some(having) = &plan.having else {
        return Ok(vec![true; rows.num_rows()]);
    };
    let values = having.evaluate(rows)?.into_array(rows.num_rows())?;
    let values = values
        .as_any()
        .downcast_ref::<datafusion::arrow::array::BooleanArray>()
        .cloned()
        .unwrap_or_else(|| {
            datafusion::arrow::array::BooleanArray::from(vec![false; rows.num_rows()])
        });
    Ok(values.iter().map(|v| v == Some(true)).collect())
}

/// Whether row `i` of `a` equals row `j` of `b` (same schema).
fn same_row(a: &RecordBatch, i: usize, b: &RecordBatch, j: usize) -> bool {
    a.columns().iter().zip(b.columns()).all(|(x, y)| {
        let x = x.slice(i, 1);
        let y = y.slice(j, 1);
        x.to_data() == y.to_data()
    })
}

/// An updating aggregate's groups split by key into parts (one per lane): each part keeps its
/// keys' states, with its own copies of the stages, and parts merge their states at once on
/// several cores. A global aggregate is one part.
pub struct KeyedUpdate {
    parts: Vec<(UpdateState, PartialPlan)>,
    /// Group keys (the states' leading columns), to pick a row's part.
    split: Option<KeySplit>,
    state_schema: datafusion::arrow::datatypes::SchemaRef,
}

impl KeyedUpdate {
    pub fn new(plan: &PartialPlan, parallelism: usize) -> Result<KeyedUpdate> {
        let groups: Vec<usize> = (0..plan.groups).collect();
        let split = KeySplit::on(parallelism, &groups, &plan.state_schema)?;
        let parts = (0..parts_of(split.as_ref()))
            .map(|_| Ok((UpdateState::new(plan)?, plan.fork()?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyedUpdate {
            parts,
            split,
            state_schema: plan.state_schema.clone(),
        })
    }

    /// How many parts keep the state.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// The states' bytes in memory.
    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|(u, _)| u.bytes).sum()
    }

    /// Merges partial states into their groups (each part on its own task) and returns the
    /// changes.
    pub async fn apply_states(&mut self, states: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let states: Vec<RecordBatch> = states.into_iter().filter(|b| b.num_rows() > 0).collect();
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let Some(split) = self.split.as_ref() else {
            let (u, p) = &mut self.parts[0];
            return u.apply_states(p, states).await;
        };
        let all = concat_batches(&self.state_schema, &states)?;
        let inputs = split.split(0, &all)?;
        let out = in_parts(&mut self.parts, inputs, |(mut u, p), b| async move {
            let out = u.apply_states(&p, vec![b]).await;
            ((u, p), out)
        })
        .await?;
        Ok(out.into_iter().flatten().collect())
    }

    /// Every part's live state rows (a checkpoint's state).
    pub fn snapshot(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        for (u, _) in &self.parts {
            out.extend(u.snapshot()?);
        }
        Ok(out)
    }

    /// Restores saved state rows, each into the part its key falls in now.
    pub fn restore(&mut self, batches: Vec<RecordBatch>) -> Result<()> {
        for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
            let b = RecordBatch::try_new(self.state_schema.clone(), b.columns().to_vec())?;
            let split = match self.split.as_ref() {
                Some(s) => s.split(0, &b)?,
                None => vec![Some(b)],
            };
            for ((u, p), part) in self.parts.iter_mut().zip(split) {
                if let Some(part) = part {
                    u.restore(p, vec![part])?;
                }
            }
        }
        Ok(())
    }
}
