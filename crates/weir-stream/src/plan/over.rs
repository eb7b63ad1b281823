//! OVER aggregations ordered by time (`SUM(x) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN
//! INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)`): a row is emitted once the watermark passes
//! its time, with its aggregates over the rows of its partition in the range before it (rows
//! of the same time included, as Flink's RANGE frames). The query runs over the rows that fall
//! due and the rows before them still in range; a marker column (`__weir_new`, true for rows
//! falling due) picks the rows to emit above the topmost OVER node.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, Filter, LogicalPlan, LogicalPlanBuilder};

use super::TimeKind;
use crate::error::{Result, StreamError};

/// The marker column: true for the rows falling due, false for earlier rows in range.
pub const NEW_COLUMN: &str = "__weir_new";

/// A planned OVER aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverPlan {
    /// The time column's place in the source's table columns.
    pub time_index: usize,
    /// How far before a row its frame reaches.
    pub range_ms: i64,
    /// How many rows before a row of its partition its frame reaches (ROWS frames), and the
    /// partition columns' places in the source's table columns.
    pub rows: Option<(u64, Vec<usize>)>,
    pub time_kind: TimeKind,
    /// Table columns every function is partitioned by (places in the source's table
    /// columns): the state is split by them over the cores. Empty: one part.
    pub keys: Vec<usize>,
}

/// A table's columns and the marker.
pub fn marked_schema(table: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(NEW_COLUMN, DataType::Boolean, false));
    Arc::new(Schema::new(fields))
}

/// The plan keeping only marked rows out of its topmost OVER node, without the marker in its
/// output (a `SELECT *` would show it). Refused unless the table is read once, under that
/// node with the marker (a subquery selecting columns would lose it), and — for ROWS frames,
/// which count the rows kept — unless no filter sits below the node.
pub(super) fn only_new_rows(plan: LogicalPlan, rows: bool) -> Result<LogicalPlan> {
    let mut scans = 0;
    plan.apply(|n| {
        scans += usize::from(matches!(n, LogicalPlan::TableScan(_)));
        Ok(TreeNodeRecursion::Continue)
    })?;
    let refused = |what: &str| {
        StreamError::Unsupported(format!(
            "{what} is not supported by Weir's streaming engine yet"
        ))
    };
    if scans != 1 {
        return Err(refused("An OVER window beside another read of its table"));
    }
    let mut marked = false;
    let mut filtered = false;
    let plan = plan
        .transform_down(|node| {
            let LogicalPlan::Window(w) = &node else {
                return Ok(Transformed::no(node));
            };
            let Ok((q, _)) = w.schema.qualified_field_with_unqualified_name(NEW_COLUMN) else {
                return Ok(Transformed::no(node));
            };
            marked = true;
            w.input.apply(|n| {
                filtered |= matches!(n, LogicalPlan::Filter(_));
                Ok(TreeNodeRecursion::Continue)
            })?;
            let marker = Expr::Column(Column::new(q.cloned(), NEW_COLUMN));
            let filter = Filter::try_new(marker, Arc::new(node))?;
            Ok(Transformed::new(
                LogicalPlan::Filter(filter),
                true,
                TreeNodeRecursion::Jump,
            ))
        })?
        .data;
    if !marked {
        return Err(refused(
            "An OVER window over a subquery that selects columns",
        ));
    }
    if rows && filtered {
        return Err(refused("An OVER window over ROWS of a filtered table"));
    }
    let fields = plan.schema().columns();
    if !fields.iter().any(|c| c.name == NEW_COLUMN) {
        return Ok(plan);
    }
    let keep: Vec<Expr> = fields
        .into_iter()
        .filter(|c| c.name != NEW_COLUMN)
        .map(Expr::Column)
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(keep)?.build()?)
}
