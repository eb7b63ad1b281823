//! The shape of a planned query: stateless, window aggregate (grouped by a window's bounds,
//! under whatever names), window join (joined on equal window bounds) — both run per window —
//! or something the engine does not run yet.

use std::collections::BTreeSet;

use datafusion::common::tree_node::TreeNode;
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan};

use super::interval::{bounds_of, equi_keys, table_of, Bounds};

pub(super) enum Shape {
    Stateless,
    WindowAggregate,
    Aggregate,
    /// An inner join of two streams bounded in time (its bounds, the tables on each side and
    /// the columns it joins on by equality, as the tables name them). (No bounds: a regular
    /// inner join.)
    IntervalJoin(
        Option<Box<Bounds>>,
        String,
        String,
        Vec<(String, String)>,
        JoinType,
    ),
    /// OVER windows ordered by a time column over a time range before each row.
    Over(OverFrame),
    /// Top-N (or deduplication): `ROW_NUMBER() OVER (PARTITION BY keys ORDER BY ...)` over the
    /// table's rows, kept up to some number.
    Rank(RankShape),
    Unsupported(&'static str),
}

pub(super) fn shape_of(plan: &LogicalPlan, lookups: &[String]) -> Shape {
    let mut shape = Shape::Stateless;
    // The input of the last OVER node met (another OVER node must be it: stacked directly).
    let mut over_input: Option<*const LogicalPlan> = None;
    let _ = plan.apply(|node| {
        use datafusion::common::tree_node::TreeNodeRecursion;
        let found = match node {
            LogicalPlan::Aggregate(a) => {
                // Grouped by the window's bounds, under whatever names.
                let bounds: BTreeSet<&str> = a
                    .group_expr
                    .iter()
                    .filter_map(|e| match e {
                        Expr::Column(c) => window_origin(&a.input, &c.name),
                        _ => None,
                    })
                    .collect();
                if bounds.len() == 2 {
                    Some(Shape::WindowAggregate)
                } else {
                    Some(Shape::Aggregate)
                }
            }
            // A join on equal window bounds (Flink's window join, or joined window
            // aggregates) is computed per window.
            LogicalPlan::Join(j) if joins_on_window_bounds(j) => Some(Shape::WindowAggregate),
            // A lookup join: each row meets the looked-up table as it is now.
            LogicalPlan::Join(j)
                if matches!(j.join_type, JoinType::Inner | JoinType::Left)
                    && reads_lookup(&j.right, lookups) =>
            {
                None
            }
            LogicalPlan::Join(_) if matches!(shape, Shape::IntervalJoin(..)) => Some(
                Shape::Unsupported("More than one join of streams in a query"),
            ),
            LogicalPlan::Join(j) => match (bounds_of(j), table_of(&j.left), table_of(&j.right)) {
                (b, Some(l), Some(r)) if j.join_type == JoinType::Inner && l != r => Some(
                    Shape::IntervalJoin(b.map(Box::new), l, r, equi_keys(j), JoinType::Inner),
                ),
                // An outer join on equal columns only: a row meets the other side's rows of
                // its key (its null-padded row is retracted when the first one comes).
                (None, Some(l), Some(r))
                    if matches!(
                        j.join_type,
                        JoinType::Left | JoinType::Right | JoinType::Full
                    ) && l != r
                        && j.filter.is_none()
                        && unfiltered(&j.left)
                        && unfiltered(&j.right)
                        && !j.on.is_empty()
                        && equi_keys(j).len() == j.on.len() =>
                {
                    Some(Shape::IntervalJoin(None, l, r, equi_keys(j), j.join_type))
                }
                (_, Some(l), Some(r)) if l == r => {
                    Some(Shape::Unsupported("A join of a table with itself"))
                }
                (Some(_), _, _) if j.join_type != JoinType::Inner => Some(Shape::Unsupported(
                    "An outer interval join (or a semi/anti one)",
                )),
                (_, Some(_), Some(_)) => Some(Shape::Unsupported(
                    "An outer join of streams on other than equal columns, over a filtered \
                     table (or a semi or anti join)",
                )),
                _ => Some(Shape::Unsupported(
                    "A join of streams over several tables on one side",
                )),
            },
            // Window Top-N / deduplication: ROW_NUMBER() (or any window function) partitioned
            // by a window's bounds is computed per window.
            LogicalPlan::Window(w) if partitions_by_window_bounds(w) => {
                Some(Shape::WindowAggregate)
            }
            LogicalPlan::Window(w) if matches!(shape, Shape::Stateless) => match rank_of(w) {
                Some(rank) => Some(Shape::Rank(rank)),
                None => Some(match over_frame(w) {
                    Ok(f) => Shape::Over(f),
                    Err(what) => Shape::Unsupported(what),
                }),
            },
            LogicalPlan::Window(w) => Some(match (over_frame(w), &shape) {
                (Ok(_), Shape::Over(_)) if over_input != Some(node as *const LogicalPlan) => {
                    Shape::Unsupported("An OVER window over the result of another OVER window")
                }
                // OVER nodes stacked (functions over different partitions) share the frame.
                (Ok(f), Shape::Over(prev)) if prev.order == f.order => {
                    match merge_frames(prev.clone(), f) {
                        Ok(f) => Shape::Over(f),
                        Err(what) => Shape::Unsupported(what),
                    }
                }
                (Ok(_), Shape::Over(_)) => {
                    Shape::Unsupported("OVER windows ordered by different columns")
                }
                (Ok(f), _) => Shape::Over(f),
                (Err(what), _) => Shape::Unsupported(what),
            }),
            LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
                Some(Shape::Unsupported("ORDER BY or LIMIT on a stream"))
            }
            LogicalPlan::Distinct(_) => Some(Shape::Aggregate),
            _ => None,
        };
        if let LogicalPlan::Window(w) = node {
            over_input = Some(std::sync::Arc::as_ptr(&w.input));
        }
        // A stateful operator below another is refused, but for window operators (a window
        // join over window aggregates, Top-N over them) and stacked OVER nodes.
        let found = found.map(|s| match (&shape, s) {
            (_, s @ Shape::Unsupported(_)) | (Shape::Stateless, s) => s,
            (Shape::Rank(_), _) => {
                Shape::Unsupported("A Top-N or deduplication over a join, an aggregate or a window")
            }
            (Shape::Over(_), s @ Shape::Over(_)) => s,
            (
                Shape::WindowAggregate,
                s @ (Shape::WindowAggregate | Shape::Aggregate | Shape::IntervalJoin(..)),
            ) => s,
            (Shape::Over(_), _) | (Shape::WindowAggregate, Shape::Over(_)) => Shape::Unsupported(
                "An OVER window over (or beside) a window aggregate, an aggregate or a join",
            ),
            (Shape::IntervalJoin(..), _) => Shape::Unsupported(
                "A join of windows (not on their window_start and window_end), aggregates \
                     or OVER windows",
            ),
            (_, s) => s,
        });
        match found {
            Some(s) => {
                let stop = !matches!(
                    s,
                    Shape::WindowAggregate
                        | Shape::IntervalJoin(..)
                        | Shape::Over(_)
                        | Shape::Rank(..)
                );
                shape = s;
                Ok(if stop {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            }
            None => Ok(TreeNodeRecursion::Continue),
        }
    });
    shape
}

/// Whether a plan reads a lookup table.
fn reads_lookup(plan: &LogicalPlan, lookups: &[String]) -> bool {
    let mut found = false;
    let _ = plan.apply(|n| {
        if let LogicalPlan::TableScan(t) = n {
            found |= lookups.iter().any(|l| l == t.table_name.table());
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    found
}

/// Whether every function of an OVER node is partitioned by both bounds of a window.
fn partitions_by_window_bounds(w: &datafusion::logical_expr::logical_plan::Window) -> bool {
    w.window_expr.iter().all(|e| {
        let Expr::WindowFunction(f) = e.clone().unalias() else {
            return false;
        };
        let bounds: BTreeSet<&str> = f
            .params
            .partition_by
            .iter()
            .filter_map(|p| match p {
                Expr::Column(c) => window_origin(&w.input, &c.name),
                _ => None,
            })
            .collect();
        bounds.len() == 2
    })
}

/// Whether a join's equalities include `window_start = window_start` and
/// `window_end = window_end` (through aliases, projections and group keys).
fn joins_on_window_bounds(j: &datafusion::logical_expr::Join) -> bool {
    let mut covered = BTreeSet::new();
    for (l, r) in &j.on {
        let (Expr::Column(l), Expr::Column(r)) = (l, r) else {
            continue;
        };
        match (
            window_origin(&j.left, &l.name),
            window_origin(&j.right, &r.name),
        ) {
            (Some(a), Some(b)) if a == b => {
                covered.insert(a);
            }
            _ => {}
        }
    }
    covered.len() == 2
}

/// `window_start` or `window_end` when the column `name` of `plan` is one of a window
/// relation's bounds.
fn window_origin(plan: &LogicalPlan, name: &str) -> Option<&'static str> {
    let column_of = |e: &Expr| match e.clone().unalias() {
        Expr::Column(c) => Some(c.name),
        _ => None,
    };
    match plan {
        LogicalPlan::Projection(p) => {
            let i = p.schema.fields().iter().position(|f| f.name() == name)?;
            window_origin(&p.input, &column_of(p.expr.get(i)?)?)
        }
        LogicalPlan::Aggregate(a) => {
            let i = a.schema.fields().iter().position(|f| f.name() == name)?;
            window_origin(&a.input, &column_of(a.group_expr.get(i)?)?)
        }
        LogicalPlan::SubqueryAlias(s) => window_origin(&s.input, name),
        LogicalPlan::Filter(f) => window_origin(&f.input, name),
        LogicalPlan::TableScan(t) if t.table_name.table().starts_with("__weir_window_") => {
            match name {
                "window_start" => Some("window_start"),
                "window_end" => Some("window_end"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a join side reads its table unfiltered (an outer join counts its rows by key: a
/// row a filter drops would still count as a match).
fn unfiltered(plan: &LogicalPlan) -> bool {
    let mut plain = true;
    let _ = plan.apply(|n| {
        plain &= match n {
            LogicalPlan::TableScan(t) => t.filters.is_empty(),
            LogicalPlan::Projection(_) | LogicalPlan::SubqueryAlias(_) => true,
            _ => false,
        };
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    plain
}

/// A `ROW_NUMBER()` over the table's rows (a projection at most between them), partitioned
/// and ordered by its columns.
#[derive(Debug, Clone)]
pub(super) struct RankShape {
    /// The PARTITION BY columns as the table names them.
    pub keys: Vec<String>,
    /// The ORDER BY columns as the table names them, each with its ascending and nulls-first.
    pub order: Vec<(String, bool, bool)>,
    /// The row number's name in the plan.
    pub rn: String,
}

fn rank_of(w: &datafusion::logical_expr::logical_plan::Window) -> Option<RankShape> {
    let [e] = w.window_expr.as_slice() else {
        return None;
    };
    let name = e.schema_name().to_string();
    let Expr::WindowFunction(f) = e.clone().unalias() else {
        return None;
    };
    let datafusion::logical_expr::WindowFunctionDefinition::WindowUDF(udf) = &f.fun else {
        return None;
    };
    if udf.name() != "row_number" {
        return None;
    }
    // Rows are ranked as they arrive: a filter under the ROW_NUMBER would have to run first.
    let mut plain = true;
    let _ = w.input.apply(|n| {
        plain &= matches!(
            n,
            LogicalPlan::Projection(_) | LogicalPlan::SubqueryAlias(_) | LogicalPlan::TableScan(_)
        );
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    if !plain {
        return None;
    }
    let column = |e: &Expr| match e {
        Expr::Column(c) => super::interval::scan_column(&w.input, &c.name),
        _ => None,
    };
    let keys = f
        .params
        .partition_by
        .iter()
        .map(column)
        .collect::<Option<Vec<_>>>()?;
    let order = f
        .params
        .order_by
        .iter()
        .map(|s| Some((column(&s.expr)?, s.asc, s.nulls_first)))
        .collect::<Option<Vec<_>>>()?;
    if order.is_empty() {
        return None;
    }
    Some(RankShape {
        keys,
        order,
        rn: name,
    })
}

/// An OVER aggregation's frame: ordered by `order` (a time column), over the rows of the same
/// partition at most `range_ms` before each row, the row's own time included.
#[derive(Debug, Clone)]
pub(super) struct OverFrame {
    pub order: datafusion::common::Column,
    pub range_ms: i64,
    /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW`: n, and the partition columns.
    pub rows: Option<(u64, Vec<datafusion::common::Column>)>,
    /// Table columns every function is partitioned by (as the table names them): rows of
    /// different keys never share a frame.
    pub keys: Vec<String>,
}

/// The frame every function of an OVER node shares, when Weir runs it: `ORDER BY` one column
/// ascending, `RANGE BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW`.
fn over_frame(
    w: &datafusion::logical_expr::logical_plan::Window,
) -> Result<OverFrame, &'static str> {
    use datafusion::logical_expr::{WindowFrameBound, WindowFrameUnits};
    let mut frame: Option<OverFrame> = None;
    for e in &w.window_expr {
        let Expr::WindowFunction(f) = e.clone().unalias() else {
            return Err("An OVER window");
        };
        // Ranking functions (ROW_NUMBER, RANK, ...) and LEAD need the whole partition; LAG and
        // the value functions read rows before the current one, which the frame keeps (a row
        // further back than the frame reaches counts as absent, as in KDA's windows).
        let backward = match &f.fun {
            datafusion::logical_expr::WindowFunctionDefinition::AggregateUDF(_) => true,
            datafusion::logical_expr::WindowFunctionDefinition::WindowUDF(u) => matches!(
                u.name().to_ascii_lowercase().as_str(),
                "lag" | "first_value" | "last_value" | "nth_value"
            ),
        };
        if !backward {
            return Err(
                "A ranking function or LEAD (ROW_NUMBER, RANK, LEAD, ...) OVER the stream \
                 (Top-N over the stream)",
            );
        }
        let p = &f.params;
        let order = match p.order_by.as_slice() {
            [s] if s.asc => match &s.expr {
                Expr::Column(c) => c.clone(),
                _ => return Err("An OVER window ordered by an expression"),
            },
            _ => return Err("An OVER window not ordered by one time attribute ascending"),
        };
        let wf = &p.window_frame;
        let mut rows = None;
        let range_ms = match (&wf.units, &wf.start_bound, &wf.end_bound) {
            (
                WindowFrameUnits::Range,
                WindowFrameBound::Preceding(v),
                WindowFrameBound::CurrentRow,
            ) if !v.is_null() => super::interval::interval_ms(v)
                .ok_or("An OVER window whose RANGE is not an interval of days or less")?,
            (
                WindowFrameUnits::Rows,
                WindowFrameBound::Preceding(datafusion::common::ScalarValue::UInt64(Some(n))),
                WindowFrameBound::CurrentRow,
            ) => {
                let partition = p
                    .partition_by
                    .iter()
                    .map(|e| match e {
                        Expr::Column(c) => Ok(c.clone()),
                        _ => Err("An OVER window over ROWS partitioned by an expression"),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                rows = Some((*n, partition));
                0
            }
            (_, WindowFrameBound::Preceding(v), _) if v.is_null() => {
                return Err(
                    "An OVER window over UNBOUNDED PRECEDING rows (state growing without bound)",
                )
            }
            _ => return Err("An OVER window frame other than RANGE BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW or ROWS BETWEEN n PRECEDING AND CURRENT ROW"),
        };
        let keys = p
            .partition_by
            .iter()
            .filter_map(|e| match e {
                Expr::Column(c) => super::interval::scan_column(&w.input, &c.name),
                _ => None,
            })
            .collect();
        let f = OverFrame {
            order,
            range_ms,
            rows,
            keys,
        };
        frame = Some(match frame {
            Some(prev) if prev.order != f.order => {
                return Err("OVER windows ordered by different columns")
            }
            Some(prev) => merge_frames(prev, f)?,
            None => f,
        });
    }
    frame.ok_or("An OVER window")
}

/// Two frames of one query, ordered alike: the widest range, the most rows (over the same
/// partition).
fn merge_frames(a: OverFrame, b: OverFrame) -> Result<OverFrame, &'static str> {
    let rows = match (a.rows, b.rows) {
        (Some((n, p)), Some((m, q))) if p == q => Some((n.max(m), p)),
        (Some(_), Some(_)) => {
            return Err("OVER windows over ROWS partitioned differently in one query")
        }
        (x, y) => x.or(y),
    };
    Ok(OverFrame {
        order: a.order,
        range_ms: a.range_ms.max(b.range_ms),
        rows,
        keys: a.keys.into_iter().filter(|k| b.keys.contains(k)).collect(),
    })
}
