//! Top-N over a stream (`ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC)` kept up to N, as
//! Flink's Rank node): each key's best N rows are state, and every row that enters them
//! changes the result, so the output is a changelog (the rows that left as `-D`/`-U`, the
//! rows that came as `+I`/`+U`). Deduplication keeping the first row by processing time is the
//! append-only special case (`DedupPlan`); keeping the last row, or the first by event time,
//! is Top-1 here.
//!
//! The ranks are Weir's: the table is planned with a rank column, and the ROW_NUMBER node is
//! replaced by that column, so the query over a key's kept rows gives the same rows every
//! time it runs (ties ranked by arrival, as Flink's).

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Column;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator, Projection};

use super::shape::RankShape;
use super::{source, SourcePlan, TimeKind};
use crate::error::{Result, StreamError};
use crate::table::{Connector, TableDef};

/// The rank column the table is planned with (after its columns).
pub const RANK_COLUMN: &str = "__weir_rank";
/// The key column the table is planned with (last): which of a run's keys a row is of. The
/// query's output carries it last, so each key's result rows are known.
pub const KEY_COLUMN: &str = "__weir_key";

/// A planned Top-N.
#[derive(Debug, Clone)]
pub struct TopNPlan {
    /// The PARTITION BY columns' places in the source's table columns.
    pub keys: Vec<usize>,
    /// The ORDER BY columns' places, and how each sorts.
    pub order: Vec<(usize, SortOptions)>,
    /// How many rows each key keeps (`rn <= N`).
    pub n: usize,
    /// The first rank shown (`rn > M`: M + 1), for EXPLAIN (the query's filter keeps it).
    pub start: usize,
    /// Whether the result shows the row number (then a row whose rank changes is updated,
    /// `-U`/`+U`; otherwise rows come and go, `+I`/`-D`).
    pub numbered: bool,
}

impl TopNPlan {
    /// `EXPLAIN`'s line for the operator, after Flink's `Rank` node.
    pub fn explain(&self, table: &SchemaRef) -> String {
        let name = |i: usize| table.field(i).name().clone();
        format!(
            "Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart={}, \
             rankEnd={}], partitionBy=[{}], orderBy=[{}]; each key's best rows kept, changelog)",
            self.start,
            self.n,
            self.keys
                .iter()
                .map(|&k| name(k))
                .collect::<Vec<_>>()
                .join(", "),
            self.order
                .iter()
                .map(|(k, o)| format!("{} {}", name(*k), if o.descending { "DESC" } else { "ASC" }))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// The table's columns, the rank column and the key column.
pub fn ranked_schema(table: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(RANK_COLUMN, DataType::UInt64, false));
    fields.push(Field::new(KEY_COLUMN, DataType::UInt32, false));
    Arc::new(Schema::new(fields))
}

/// The greatest row number a plan keeps of `rn` (`rn = 1`, `rn <= N`, `rn < N`, with a lower
/// bound `rn > M` or `rn >= M` beside it or not), if it bounds it.
pub(super) fn rank_limit(plan: &LogicalPlan, rn: &str) -> Option<(usize, usize)> {
    let mut limit: Option<i64> = None;
    let mut start: i64 = 1;
    let mut other = false;
    let _ = plan.apply(|p| {
        if let LogicalPlan::Filter(f) = p {
            for c in split_conjunction(&f.predicate) {
                let Expr::BinaryExpr(BinaryExpr { left, op, right }) = c else {
                    continue;
                };
                let (col, v, op) = match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(v, _)) => (c, v, *op),
                    (Expr::Literal(v, _), Expr::Column(c)) => match op.swap() {
                        Some(o) => (c, v, o),
                        None => continue,
                    },
                    _ => continue,
                };
                if col.name != rn {
                    continue;
                }
                let n = v.to_string().parse::<i64>().unwrap_or(-1);
                let bound = match op {
                    Operator::Eq if n == 1 => Some(1),
                    Operator::LtEq => Some(n),
                    Operator::Lt => Some(n - 1),
                    // A rank range starting later (`rn > 2 AND rn <= 5`): the query's own
                    // filter on Weir's ranks keeps it; the state keeps the first N.
                    Operator::Gt if n >= 0 => {
                        start = start.max(n + 1);
                        None
                    }
                    Operator::GtEq if n >= 0 => {
                        start = start.max(n);
                        None
                    }
                    _ => {
                        other = true;
                        None
                    }
                };
                if let Some(b) = bound {
                    limit = Some(limit.map_or(b, |l| l.min(b)));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    match (limit, other) {
        (Some(n), false) if n >= 1 => {
            Some((usize::try_from(start).ok()?, usize::try_from(n).ok()?))
        }
        _ => None,
    }
}

/// The keys of a deduplication keeping each key's first row by processing time, when the
/// rank is one (append-only: `DedupPlan`).
pub(super) fn first_by_proctime(source: &SourcePlan, rank: &RankShape) -> Option<Vec<usize>> {
    let [(order, true, _)] = rank.order.as_slice() else {
        return None;
    };
    if source::time_attribute(source, order) != Some(TimeKind::Processing) {
        return None;
    }
    rank.keys
        .iter()
        .map(|k| source.table_schema.index_of(k).ok())
        .collect()
}

/// Refuses a sink that takes no changes (Flink's error, naming the node that makes them).
pub(super) fn check_sink(sink: Option<&TableDef>, node: &str) -> Result<()> {
    match sink {
        Some(s) if !matches!(s.connector, Connector::Print | Connector::Blackhole) => {
            Err(StreamError::Validation(format!(
                "Table sink 'default_catalog.default_database.{}' doesn't support consuming \
                 update and delete changes which is produced by node {node}",
                s.name()
            )))
        }
        _ => Ok(()),
    }
}

/// The Top-N's plan over the source's table columns.
pub(super) fn top_n(
    source: &SourcePlan,
    rank: &RankShape,
    (start, n): (usize, usize),
    numbered: bool,
) -> Result<TopNPlan> {
    let at = |c: &str| source.table_schema.index_of(c).map_err(StreamError::from);
    Ok(TopNPlan {
        keys: rank.keys.iter().map(|k| at(k)).collect::<Result<_>>()?,
        order: rank
            .order
            .iter()
            .map(|(c, asc, nulls_first)| {
                Ok((
                    at(c)?,
                    SortOptions {
                        descending: !asc,
                        nulls_first: *nulls_first,
                    },
                ))
            })
            .collect::<Result<_>>()?,
        n,
        start,
        numbered,
    })
}

/// A plan over the ranked table with its ROW_NUMBER node replaced by the rank column, the
/// key column carried up to its output (last) and the rank column not in it. Refused unless
/// the node reads the rank column (a subquery selecting columns under it would lose it) and
/// only projections, filters and aliases sit above it.
pub(super) fn with_ranks(plan: LogicalPlan) -> Result<LogicalPlan> {
    let refused = |what: &str| {
        StreamError::Unsupported(format!(
            "{what} is not supported by Weir's streaming engine yet"
        ))
    };
    let mut ranked = false;
    let plan = plan
        .transform_down(|node| {
            let LogicalPlan::Window(w) = &node else {
                return Ok(Transformed::no(node));
            };
            let Ok((q, _)) = w
                .input
                .schema()
                .qualified_field_with_unqualified_name(RANK_COLUMN)
            else {
                return Ok(Transformed::no(node));
            };
            let [e] = w.window_expr.as_slice() else {
                return Ok(Transformed::no(node));
            };
            ranked = true;
            let mut exprs: Vec<Expr> = w
                .input
                .schema()
                .iter()
                .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
                .collect();
            let rank = Expr::Column(Column::new(q.cloned(), RANK_COLUMN));
            exprs.push(rank.alias(e.schema_name().to_string()));
            let p = Projection::try_new(exprs, w.input.clone())?;
            Ok(Transformed::new(
                LogicalPlan::Projection(p),
                true,
                TreeNodeRecursion::Jump,
            ))
        })?
        .data;
    if !ranked {
        return Err(refused(
            "A Top-N over a subquery that selects some of the table's columns",
        ));
    }
    // Every projection above passes the key column on.
    let plan = plan
        .transform_up(|node| {
            let LogicalPlan::Projection(p) = &node else {
                return Ok(Transformed::no(node));
            };
            let Ok((q, _)) = p
                .input
                .schema()
                .qualified_field_with_unqualified_name(KEY_COLUMN)
            else {
                return Ok(Transformed::no(node));
            };
            if p.schema.has_column_with_unqualified_name(KEY_COLUMN) {
                return Ok(Transformed::no(node));
            }
            let mut exprs = p.expr.clone();
            exprs.push(Expr::Column(Column::new(q.cloned(), KEY_COLUMN)));
            let p = Projection::try_new(exprs, p.input.clone())?;
            Ok(Transformed::yes(LogicalPlan::Projection(p)))
        })?
        .data;
    let only_rows = row_operators_only(&plan);
    let key = plan
        .schema()
        .columns()
        .into_iter()
        .find(|c| c.name == KEY_COLUMN);
    let (true, Some(key)) = (only_rows, key) else {
        return Err(refused(
            "A Top-N under an aggregate, a join or another operator",
        ));
    };
    // The query's columns, then the key.
    let mut keep: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .filter(|c| c.name != RANK_COLUMN && c.name != KEY_COLUMN)
        .map(Expr::Column)
        .collect();
    keep.push(Expr::Column(key));
    Ok(LogicalPlan::Projection(Projection::try_new(
        keep,
        Arc::new(plan),
    )?))
}

/// Whether a plan is only projections, filters, aliases, its table scan and (before its
/// rewrite) the ROW_NUMBER node: nothing that keeps state over the ranked rows.
pub(super) fn row_operators_only(plan: &LogicalPlan) -> bool {
    let mut only = true;
    let _ = plan.apply(|n| {
        only &= matches!(
            n,
            LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::TableScan(_)
                | LogicalPlan::Window(_)
        );
        Ok(TreeNodeRecursion::Continue)
    });
    only
}

/// Whether a plan's output shows the row number `rn` (a column computed from it).
pub(super) fn shows_rank(plan: &LogicalPlan, rn: &str) -> bool {
    !rank_columns(plan, rn).is_empty()
}

/// The places of a plan's output columns computed from `rn`.
fn rank_columns(plan: &LogicalPlan, rn: &str) -> Vec<usize> {
    match plan {
        LogicalPlan::Window(w) => {
            let mut out = rank_columns(&w.input, rn);
            let n = w.input.schema().fields().len();
            for (k, e) in w.window_expr.iter().enumerate() {
                if e.schema_name().to_string() == rn {
                    out.push(n + k);
                }
            }
            out
        }
        LogicalPlan::Projection(p) => {
            let from = rank_columns(&p.input, rn);
            let input = p.input.schema();
            let names: Vec<&str> = from
                .iter()
                .map(|&i| input.field(i).name().as_str())
                .collect();
            p.expr
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    e.column_refs()
                        .iter()
                        .any(|c| names.contains(&c.name.as_str()))
                })
                .map(|(i, _)| i)
                .collect()
        }
        LogicalPlan::Filter(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_) => plan
            .inputs()
            .first()
            .map_or_else(Vec::new, |i| rank_columns(i, rn)),
        LogicalPlan::TableScan(_) => Vec::new(),
        // Another node: counted as showing it (the changes are then updates).
        _ => (0..plan.schema().fields().len()).collect(),
    }
}
