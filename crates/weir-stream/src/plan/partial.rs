//! A window aggregate split in DataFusion's aggregation modes, so a window keeps partial
//! aggregate states (one row per group and pane) rather than rows: `Partial` over a pane's
//! new rows, `PartialReduce` to merge a pane's states, `Final` (with the rest of the query
//! above it) over a window's states when it fires. The states' window columns are the pane's;
//! at firing they are set to the window's, so a hop's panes merge into each window's groups.
//!
//! Only a plan with one aggregate, grouped by the window's bounds, whose inputs and arguments
//! do not read the window columns otherwise, is split; any other keeps rows.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::stage::{slot_exec, Slot, Stage};

/// A window aggregate's stages.
pub struct PartialPlan {
    /// The window's rows (slot of the query's input) → states.
    pub partial: Stage,
    /// States → merged states.
    pub reduce: Stage,
    /// A window's states → the query's output.
    pub finish: Stage,
    /// States → the aggregate's final rows (group columns first).
    pub final_agg: Stage,
    /// The aggregate's final rows → the query's output, when the plan above the aggregate
    /// keeps their order and number.
    pub above: Option<Stage>,
    /// How many group columns lead the states and final rows.
    pub groups: usize,
    /// An updating aggregate's HAVING, over its final rows (a group that fails it is not
    /// shown).
    pub having: Option<Arc<dyn PhysicalExpr>>,
    /// The states' columns.
    pub state_schema: SchemaRef,
    /// The places of `window_start`, `window_end`, `window_time` among the states' columns
    /// (group columns), where grouped by.
    pub window_columns: [Option<usize>; 3],
}

impl PartialPlan {
    /// A copy whose stages run apart from these (another key partition, on another core).
    pub fn fork(&self) -> Result<PartialPlan> {
        Ok(PartialPlan {
            partial: self.partial.fork()?,
            reduce: self.reduce.fork()?,
            finish: self.finish.fork()?,
            final_agg: self.final_agg.fork()?,
            above: self.above.as_ref().map(Stage::fork).transpose()?,
            groups: self.groups,
            having: self.having.clone(),
            state_schema: self.state_schema.clone(),
            window_columns: self.window_columns,
        })
    }
}

const WINDOW_COLUMNS: [&str; 3] = ["window_start", "window_end", "window_time"];

/// Splits `plan` (over `input`, the window relation's slot) when it is one aggregate grouped by
/// the window's bounds — or, not `windowed`, any one aggregate (an updating aggregate).
pub fn split(
    ctx: &SessionContext,
    plan: &Arc<dyn ExecutionPlan>,
    input: &Slot,
    windowed: bool,
) -> Result<Option<PartialPlan>> {
    let mut aggs = Vec::new();
    let mut others = false;
    plan.apply(|node| {
        if let Some(a) = node.downcast_ref::<AggregateExec>() {
            aggs.push(a.clone());
        } else if node.children().len() > 1 || node.name().contains("Window") {
            others = true;
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let ([agg], false) = (aggs.as_slice(), others) else {
        return Ok(None);
    };
    if *agg.mode() != AggregateMode::Single || !agg.group_expr().is_single() {
        return Ok(None);
    }
    let in_schema = agg.input().schema();
    let is_window =
        |c: &Column| WINDOW_COLUMNS.contains(&in_schema.field(c.index()).name().as_str());
    // The window columns where grouped by (plain columns only).
    let mut window_columns = [None; 3];
    for (i, (e, _)) in agg.group_expr().expr().iter().enumerate() {
        if let Some(c) = e.downcast_ref::<Column>() {
            if let Some(k) = WINDOW_COLUMNS
                .iter()
                .position(|w| *w == in_schema.field(c.index()).name())
            {
                window_columns[k] = Some(i);
                continue;
            }
        }
        if collect_columns(e).iter().any(is_window) {
            return Ok(None);
        }
    }
    let has_bounds = window_columns[0].is_some() && window_columns[1].is_some();
    if windowed != has_bounds {
        return Ok(None);
    }
    // Aggregate arguments and filters must not read the window columns (panes carry their
    // own bounds, not the window's).
    let reads_window = |e: &Arc<dyn PhysicalExpr>| collect_columns(e).iter().any(is_window);
    if agg.aggr_expr().iter().any(|a| {
        a.expressions().iter().any(reads_window)
            || a.order_bys().iter().any(|s| reads_window(&s.expr))
    }) || agg.filter_expr().iter().flatten().any(reads_window)
    {
        return Ok(None);
    }
    if !passes_window_columns(agg.input())? {
        return Ok(None);
    }
    let partial = Arc::new(AggregateExec::try_new(
        AggregateMode::Partial,
        agg.group_expr().clone(),
        agg.aggr_expr().to_vec(),
        agg.filter_expr().to_vec(),
        agg.input().clone(),
        agg.input_schema(),
    )?);
    let state_schema = partial.schema();
    let states = Slot::default();
    let merge = |mode| -> Result<Arc<AggregateExec>> {
        Ok(Arc::new(AggregateExec::try_new(
            mode,
            agg.group_expr().as_final(),
            agg.aggr_expr().to_vec(),
            agg.filter_expr().to_vec(),
            slot_exec(state_schema.clone(), states.clone()),
            agg.input_schema(),
        )?))
    };
    let reduce = merge(AggregateMode::PartialReduce)?;
    let last = merge(AggregateMode::Final)?;
    // The plan above the aggregate over a slot of its final rows, when it keeps their order
    // and number (projections only): an updating aggregate's changes run through it.
    let finals = Slot::default();
    let mut row_preserving = true;
    // HAVING: a filter right above the aggregate, evaluated apart on the final rows.
    let mut having: Option<Arc<dyn PhysicalExpr>> = None;
    let above = plan
        .clone()
        .transform_down(|node| {
            if let Some(f) = node.downcast_ref::<FilterExec>() {
                if f.input().downcast_ref::<AggregateExec>().is_some()
                    && f.projection().is_none()
                    && having.is_none()
                {
                    having = Some(f.predicate().clone());
                    return Ok(Transformed::new(
                        slot_exec(last.schema(), finals.clone()),
                        true,
                        TreeNodeRecursion::Jump,
                    ));
                }
            }
            if node.downcast_ref::<AggregateExec>().is_some() {
                return Ok(Transformed::new(
                    slot_exec(last.schema(), finals.clone()),
                    true,
                    TreeNodeRecursion::Jump,
                ));
            }
            if node.downcast_ref::<ProjectionExec>().is_none()
                && !matches!(node.name(), "CooperativeExec" | "CoalesceBatchesExec")
            {
                row_preserving = false;
            }
            Ok(Transformed::no(node))
        })?
        .data;
    let finish = plan
        .clone()
        .transform_up(|node| {
            if node.downcast_ref::<AggregateExec>().is_some() {
                Ok(Transformed::new(
                    last.clone() as Arc<dyn ExecutionPlan>,
                    true,
                    TreeNodeRecursion::Jump,
                ))
            } else {
                Ok(Transformed::no(node))
            }
        })?
        .data;
    Ok(Some(PartialPlan {
        partial: Stage::new(ctx, partial, vec![input.clone()]),
        reduce: Stage::new(ctx, reduce, vec![states.clone()]),
        finish: Stage::new(ctx, finish, vec![states.clone()]),
        final_agg: Stage::new(ctx, last.clone(), vec![states]),
        above: row_preserving.then(|| Stage::new(ctx, above, vec![finals])),
        having,
        groups: agg.group_expr().expr().len(),
        state_schema,
        window_columns,
    }))
}

/// Whether the plan below the aggregate only passes the window columns along (projections
/// naming them, filters not reading them).
fn passes_window_columns(plan: &Arc<dyn ExecutionPlan>) -> Result<bool> {
    let mut ok = true;
    plan.apply(|node| {
        let schema = node
            .children()
            .first()
            .map(|c| c.schema())
            .unwrap_or_else(|| node.schema());
        let is_window = |c: &Column| {
            schema
                .fields()
                .get(c.index())
                .is_some_and(|f| WINDOW_COLUMNS.contains(&f.name().as_str()))
        };
        if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            for e in p.expr() {
                match e.expr.downcast_ref::<Column>() {
                    // Passed along under its own name, or not a window column.
                    Some(c) if !is_window(c) || schema.field(c.index()).name() == &e.alias => {}
                    Some(_) => ok = false,
                    None if collect_columns(&e.expr).iter().any(is_window) => ok = false,
                    None => {}
                }
            }
        } else if let Some(f) = node.downcast_ref::<FilterExec>() {
            if collect_columns(f.predicate()).iter().any(is_window) {
                ok = false;
            }
        } else if !node.children().is_empty()
            && !matches!(node.name(), "CooperativeExec" | "CoalesceBatchesExec")
        {
            ok = false;
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(ok)
}
