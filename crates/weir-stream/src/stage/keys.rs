//! The columns a stage's plan can be split by: rows of different keys never meet in it (its
//! joins match rows by those columns, its aggregates group and its window functions partition
//! by them), so the plan run over each part of its input, split by those keys, gives together
//! what it gives over the whole. A window's query at its firing is so run in parts at once.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::JoinType;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::ExecutionPlan;

use super::{SlotExec, Stage};

/// Key columns found: per scan of a slot, the slot and its key columns (with their types), in
/// one order for every scan.
type Found = Vec<(usize, Vec<usize>, Vec<DataType>)>;

/// Per input of a stage: its key columns; and their types (the same for every input).
pub type SplitKeys = (Vec<Vec<usize>>, Vec<DataType>);

impl Stage {
    /// The key columns each input of the plan can be split by, or `None` when it cannot be
    /// split (no join, aggregate or window function at its top; keys that are not plain
    /// columns; inputs keyed differently).
    pub fn split_keys(&self) -> Option<SplitKeys> {
        let found = natural(self, &self.plan)?;
        let types = found.first()?.2.clone();
        let mut per: Vec<Option<Vec<usize>>> = vec![None; self.inputs.len()];
        for (slot, cols, t) in found {
            if t != types {
                return None;
            }
            match &per[slot] {
                Some(c) if *c != cols => return None,
                _ => per[slot] = Some(cols),
            }
        }
        Some((per.into_iter().collect::<Option<Vec<_>>>()?, types))
    }
}

/// The keys of the first keyed operator from the top (what is above it works row by row).
fn natural(stage: &Stage, node: &Arc<dyn ExecutionPlan>) -> Option<Found> {
    // A limit pushed into an operator would keep that many rows per part.
    if node.fetch().is_some() {
        return None;
    }
    if let Some(j) = node.downcast_ref::<HashJoinExec>() {
        let (l, r): (Vec<usize>, Vec<usize>) = join_pairs(j).into_iter().unzip();
        if l.is_empty()
            || !matches!(
                j.join_type(),
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
            )
        {
            return None;
        }
        let mut found = keys_of(stage, j.left(), &l)?;
        found.extend(keys_of(stage, j.right(), &r)?);
        return Some(found);
    }
    if let Some(a) = node.downcast_ref::<AggregateExec>() {
        if !a.group_expr().is_single() || a.limit_options().is_some() {
            return None;
        }
        let cols: Vec<usize> = a
            .group_expr()
            .expr()
            .iter()
            .filter_map(|(e, _)| column(e))
            .collect();
        if cols.is_empty() {
            return None;
        }
        return keys_of(stage, a.input(), &cols);
    }
    if let Some((input, partitions)) = window(node) {
        let mut common: Vec<usize> = partitions.first()?.clone();
        common.retain(|c| partitions.iter().all(|p| p.contains(c)));
        if common.is_empty() {
            return None;
        }
        return keys_of(stage, input, &common);
    }
    if let Some(child) = row_local(node) {
        return natural(stage, child);
    }
    None
}

/// Where the key columns `cols` of `node`'s output come from in the slots it scans, when
/// rows of different keys never meet below it.
fn keys_of(stage: &Stage, node: &Arc<dyn ExecutionPlan>, cols: &[usize]) -> Option<Found> {
    if node.fetch().is_some() {
        return None;
    }
    if let Some(s) = node.downcast_ref::<SlotExec>() {
        let slot = stage
            .inputs
            .iter()
            .position(|i| Arc::ptr_eq(&i.0, &s.slot.0))?;
        let mapped = through(s.projection.as_deref(), cols)?;
        // The scan's schema is its projection's.
        let types = cols
            .iter()
            .map(|c| Some(s.schema.fields().get(*c)?.data_type().clone()))
            .collect::<Option<Vec<_>>>()?;
        return Some(vec![(slot, mapped, types)]);
    }
    if let Some(p) = node.downcast_ref::<ProjectionExec>() {
        let mapped: Vec<usize> = cols
            .iter()
            .map(|c| column(&p.expr().get(*c)?.expr))
            .collect::<Option<_>>()?;
        return keys_of(stage, p.input(), &mapped);
    }
    if let Some(f) = node.downcast_ref::<FilterExec>() {
        let mapped = through(f.projection().as_deref(), cols)?;
        return keys_of(stage, f.input(), &mapped);
    }
    if let Some(j) = node.downcast_ref::<HashJoinExec>() {
        let cols = through(j.projection.as_deref(), cols)?;
        let left_len = j.left().schema().fields().len();
        // An outer join's padded side has nulls where its rows had keys: only the kept side's
        // columns key its output.
        let (from_left, from_right) = match j.join_type() {
            JoinType::Inner => (true, true),
            JoinType::Left => (true, false),
            JoinType::Right => (false, true),
            _ => return None,
        };
        let pairs = join_pairs(j);
        let (mut l, mut r) = (Vec::new(), Vec::new());
        for c in cols {
            let pair = match c < left_len {
                true if from_left => pairs.iter().find(|(a, _)| *a == c)?,
                false if from_right => pairs.iter().find(|(_, b)| *b == c - left_len)?,
                _ => return None,
            };
            l.push(pair.0);
            r.push(pair.1);
        }
        let mut found = keys_of(stage, j.left(), &l)?;
        found.extend(keys_of(stage, j.right(), &r)?);
        return Some(found);
    }
    if let Some(a) = node.downcast_ref::<AggregateExec>() {
        let groups = a.group_expr();
        if !groups.is_single() || a.limit_options().is_some() {
            return None;
        }
        let mapped: Vec<usize> = cols
            .iter()
            .map(|c| column(&groups.expr().get(*c)?.0))
            .collect::<Option<_>>()?;
        return keys_of(stage, a.input(), &mapped);
    }
    if let Some((input, partitions)) = window(node) {
        let n = input.schema().fields().len();
        if cols
            .iter()
            .all(|c| *c < n && partitions.iter().all(|p| p.contains(c)))
        {
            return keys_of(stage, input, cols);
        }
        return None;
    }
    if let Some(u) = node.downcast_ref::<UnionExec>() {
        let mut found = Vec::new();
        for child in u.children() {
            found.extend(keys_of(stage, child, cols)?);
        }
        return Some(found);
    }
    if let Some(child) = row_local(node) {
        return keys_of(stage, child, cols);
    }
    None
}

/// Columns of a node's output as columns of what it projects from (the same without a
/// projection).
fn through(projection: Option<&[usize]>, cols: &[usize]) -> Option<Vec<usize>> {
    match projection {
        Some(p) => cols.iter().map(|c| p.get(*c).copied()).collect(),
        None => Some(cols.to_vec()),
    }
}

/// A node that passes its input's rows on as they are (columns in place): its input.
fn row_local(node: &Arc<dyn ExecutionPlan>) -> Option<&Arc<dyn ExecutionPlan>> {
    if let Some(s) = node.downcast_ref::<SortExec>() {
        return s.fetch().is_none().then(|| s.input());
    }
    if let Some(c) = node.downcast_ref::<CooperativeExec>() {
        return Some(c.input());
    }
    if let Some(c) = node.downcast_ref::<CoalescePartitionsExec>() {
        return c.fetch().is_none().then(|| c.input());
    }
    if let Some(r) = node.downcast_ref::<RepartitionExec>() {
        return Some(r.input());
    }
    if let Some(p) = node.downcast_ref::<ProjectionExec>() {
        return Some(p.input());
    }
    if let Some(f) = node.downcast_ref::<FilterExec>() {
        return Some(f.input());
    }
    None
}

/// A join's equality columns that are plain columns of one type on both sides (left, right
/// places in their inputs).
fn join_pairs(j: &HashJoinExec) -> Vec<(usize, usize)> {
    let (ls, rs) = (j.left().schema(), j.right().schema());
    j.on()
        .iter()
        .filter_map(|(a, b)| {
            let (a, b) = (column(a)?, column(b)?);
            (ls.field(a).data_type() == rs.field(b).data_type()).then_some((a, b))
        })
        .collect()
}

/// A window function node's input and, per function, the plain columns it partitions by.
type WindowNode<'a> = (&'a Arc<dyn ExecutionPlan>, Vec<Vec<usize>>);

/// A window function node: its input and, per function, the plain columns it partitions by.
fn window(node: &Arc<dyn ExecutionPlan>) -> Option<WindowNode<'_>> {
    let (input, exprs) = if let Some(w) = node.downcast_ref::<BoundedWindowAggExec>() {
        (w.input(), w.window_expr())
    } else if let Some(w) = node.downcast_ref::<WindowAggExec>() {
        (w.input(), w.window_expr())
    } else {
        return None;
    };
    let partitions = exprs
        .iter()
        .map(|e| e.partition_by().iter().filter_map(column).collect())
        .collect();
    Some((input, partitions))
}

/// The input column a plain column expression reads.
fn column(e: &Arc<dyn PhysicalExpr>) -> Option<usize> {
    e.downcast_ref::<Column>().map(Column::index)
}
