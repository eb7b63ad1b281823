//! Interval joins: an inner join of two streams whose condition bounds one side's time
//! attribute by the other's (`l.t BETWEEN r.t - INTERVAL '4' HOUR AND r.t`, or `>=`/`<=`/`>`/`<`
//! pairs). Each side keeps its rows while a row of the other side still to come can match
//! them: with `lower ≤ l.t − r.t ≤ upper`, a left row is kept while `l.t − lower ≥ watermark`
//! and a right row while `r.t + upper ≥ watermark`. New rows of one side run the query
//! against the rows kept of the other, so each pair is joined exactly once. A regular inner
//! join of two streams (no time bounds) is the same with rows kept until
//! `table.exec.state.ttl` (forever by default, as Flink's).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{BinaryExpr, Expr, Join, LogicalPlan, Operator};

use super::{source, SourcePlan, TimeKind};
use crate::error::StreamError;

/// A planned interval join, by source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalJoin {
    /// The sources read on the join's left and right.
    pub left: usize,
    pub right: usize,
    /// Their time attributes' places in the sources' table columns.
    pub left_time: usize,
    pub right_time: usize,
    /// `lower ≤ left time − right time ≤ upper`, in milliseconds.
    pub lower_ms: i64,
    pub upper_ms: i64,
    pub time_kind: super::TimeKind,
    /// A regular join: no time bounds (the times above are unused).
    pub regular: bool,
    /// The columns joined by equality (left, right: places in the sources' table columns, of
    /// one type each pair): rows of a key meet only rows of the same key, so the state is
    /// split by them over the cores. Empty: one part.
    pub keys: Vec<(usize, usize)>,
    /// The sides an outer join keeps without a match (a regular join on `keys` alone).
    pub outer: Outer,
}

/// Which sides of an outer join are kept without a match, padded with nulls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outer {
    pub left: bool,
    pub right: bool,
}

impl Outer {
    pub fn of(kind: datafusion::logical_expr::JoinType) -> Outer {
        use datafusion::logical_expr::JoinType;
        Outer {
            left: matches!(kind, JoinType::Left | JoinType::Full),
            right: matches!(kind, JoinType::Right | JoinType::Full),
        }
    }

    pub fn any(&self) -> bool {
        self.left || self.right
    }

    /// Flink's name of the join's type.
    pub fn name(&self) -> &'static str {
        match (self.left, self.right) {
            (true, true) => "FullOuterJoin",
            (true, false) => "LeftOuterJoin",
            (false, true) => "RightOuterJoin",
            (false, false) => "InnerJoin",
        }
    }
}

impl IntervalJoin {
    /// A regular inner join of two sources.
    pub fn regular(left: usize, right: usize) -> IntervalJoin {
        IntervalJoin {
            left,
            right,
            left_time: 0,
            right_time: 0,
            lower_ms: i64::MIN,
            upper_ms: i64::MAX,
            time_kind: super::TimeKind::Processing,
            regular: true,
            keys: Vec::new(),
            outer: Outer::default(),
        }
    }

    /// The earliest time a source's kept row may have and still meet a row to come.
    pub fn keep_from(&self, source: usize, watermark: i64) -> i64 {
        if source == self.left {
            watermark.saturating_add(self.lower_ms)
        } else {
            watermark.saturating_sub(self.upper_ms)
        }
    }

    /// The time column of a source's rows.
    pub fn time_of(&self, source: usize) -> usize {
        if source == self.left {
            self.left_time
        } else {
            self.right_time
        }
    }

    /// Whether a source's rows are kept without a match (an outer join's preserved side).
    pub fn preserved(&self, source: usize) -> bool {
        if source == self.left {
            self.outer.left
        } else {
            self.outer.right
        }
    }

    /// Per source of the job: its equality columns (in `keys`' order), and their types
    /// (alike on both sides).
    pub fn key_columns(
        &self,
        schemas: &[datafusion::arrow::datatypes::SchemaRef],
    ) -> (Vec<Vec<usize>>, Vec<DataType>) {
        let mut columns = vec![Vec::new(); schemas.len()];
        columns[self.left] = self.keys.iter().map(|k| k.0).collect();
        columns[self.right] = self.keys.iter().map(|k| k.1).collect();
        let types = self
            .keys
            .iter()
            .map(|k| schemas[self.left].field(k.0).data_type().clone())
            .collect();
        (columns, types)
    }

    /// The other side.
    pub fn other(&self, source: usize) -> usize {
        if source == self.left {
            self.right
        } else {
            self.left
        }
    }
}

/// The time bounds a join's condition puts between a left and a right column.
#[derive(Debug)]
pub(super) struct Bounds {
    pub left: Column,
    pub right: Column,
    pub lower_ms: i64,
    pub upper_ms: i64,
}

/// The bounds of an inner join's condition, when it has a lower and an upper one between the
/// same two columns (one per side); other comparisons stay conditions of the join.
pub(super) fn bounds_of(j: &Join) -> Option<Bounds> {
    let filter = j.filter.as_ref()?;
    // Per (left, right) column pair: its lower and upper bound.
    let mut pairs: Vec<(Column, Column, Option<i64>, Option<i64>)> = Vec::new();
    let mut conjuncts: Vec<(Expr, Operator, Expr)> = Vec::new();
    for c in split_conjunction(filter) {
        match c {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                conjuncts.push(((**left).clone(), *op, (**right).clone()))
            }
            Expr::Between(b) if !b.negated => {
                conjuncts.push(((*b.expr).clone(), Operator::GtEq, (*b.low).clone()));
                conjuncts.push(((*b.expr).clone(), Operator::LtEq, (*b.high).clone()));
            }
            _ => {}
        }
    }
    for (a, op, b) in conjuncts {
        if !matches!(
            op,
            Operator::Gt | Operator::GtEq | Operator::Lt | Operator::LtEq
        ) {
            continue;
        }
        // a − b = Σ sign·column + k
        let mut terms = Vec::new();
        let Some(ka) = linear(&a, 1, &mut terms) else {
            continue;
        };
        let Some(kb) = linear(&b, -1, &mut terms) else {
            continue;
        };
        let [(c1, s1), (c2, s2)] = terms.as_slice() else {
            continue;
        };
        if s1 + s2 != 0 {
            continue;
        }
        let side = |c: &Column| {
            (
                j.left.schema().has_column(c),
                j.right.schema().has_column(c),
            )
        };
        // Orient as left − right.
        let (l, r, sign) = match (side(c1), side(c2)) {
            ((true, false), (false, true)) => (c1, c2, *s1),
            ((false, true), (true, false)) => (c2, c1, *s2),
            _ => continue,
        };
        let at = match pairs.iter().position(|p| &p.0 == l && &p.1 == r) {
            Some(at) => at,
            None => {
                pairs.push((l.clone(), r.clone(), None, None));
                pairs.len() - 1
            }
        };
        let (_, _, lower, upper) = &mut pairs[at];
        // sign·(l − r) + k op 0  →  (l − r) op' −k·sign
        let k = ka + kb;
        let (op, bound) = if sign > 0 { (op, -k) } else { (op.swap()?, k) };
        match op {
            Operator::GtEq => *lower = Some(lower.map_or(bound, |x| x.max(bound))),
            Operator::Gt => *lower = Some(lower.map_or(bound + 1, |x| x.max(bound + 1))),
            Operator::LtEq => *upper = Some(upper.map_or(bound, |x| x.min(bound))),
            Operator::Lt => *upper = Some(upper.map_or(bound - 1, |x| x.min(bound - 1))),
            _ => {}
        }
    }
    let mut bounded = pairs
        .into_iter()
        .filter_map(|(l, r, lo, up)| Some((l, r, lo?, up?)));
    let (left, right, lower_ms, upper_ms) = bounded.next()?;
    if bounded.next().is_some() {
        return None;
    }
    // The columns as the tables name them (a computed column is no time attribute).
    let left = Column::new_unqualified(scan_column(&j.left, &left.name)?);
    let right = Column::new_unqualified(scan_column(&j.right, &right.name)?);
    Some(Bounds {
        left,
        right,
        lower_ms,
        upper_ms,
    })
}

/// The columns a join's condition makes equal, one of each side (as the tables name them).
pub(super) fn equi_keys(j: &Join) -> Vec<(String, String)> {
    j.on.iter()
        .filter_map(|(l, r)| match (l, r) {
            (Expr::Column(l), Expr::Column(r)) => Some((
                scan_column(&j.left, &l.name)?,
                scan_column(&j.right, &r.name)?,
            )),
            _ => None,
        })
        .collect()
}

/// Adds `sign ×` an expression's columns to `terms` and returns its constant (ms), when it is
/// columns and intervals added and subtracted.
fn linear(e: &Expr, sign: i64, terms: &mut Vec<(Column, i64)>) -> Option<i64> {
    match e {
        Expr::Column(c) => {
            terms.push((c.clone(), sign));
            Some(0)
        }
        // Only casts between timestamps keep the time (a cast to DATE does not).
        Expr::Cast(c) if matches!(c.field.data_type(), DataType::Timestamp(..)) => {
            linear(&c.expr, sign, terms)
        }
        Expr::TryCast(c) if matches!(c.field.data_type(), DataType::Timestamp(..)) => {
            linear(&c.expr, sign, terms)
        }
        Expr::Alias(a) => linear(&a.expr, sign, terms),
        Expr::Literal(v, _) => Some(sign * interval_ms(v)?),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let s = match op {
                Operator::Plus => sign,
                Operator::Minus => -sign,
                _ => return None,
            };
            Some(linear(left, sign, terms)? + linear(right, s, terms)?)
        }
        _ => None,
    }
}

pub(super) fn interval_ms(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::IntervalMonthDayNano(Some(v)) if v.months == 0 => {
            Some(v.days as i64 * 86_400_000 + v.nanoseconds / 1_000_000)
        }
        ScalarValue::IntervalDayTime(Some(v)) => {
            Some(v.days as i64 * 86_400_000 + v.milliseconds as i64)
        }
        _ => None,
    }
}

/// The table a side of a join reads (its one table scan).
pub(super) fn table_of(plan: &LogicalPlan) -> Option<String> {
    let mut names = Vec::new();
    let _ = plan.apply(|n| {
        if let LogicalPlan::TableScan(t) = n {
            names.push(t.table_name.table().to_string());
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    match names.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The column of the table scan a plan's column `name` is (passed along unchanged through
/// projections, aliases and filters), if it is one.
pub(super) fn scan_column(plan: &LogicalPlan, name: &str) -> Option<String> {
    match plan {
        LogicalPlan::Projection(p) => {
            let i = p.schema.fields().iter().position(|f| f.name() == name)?;
            match p.expr.get(i)?.clone().unalias() {
                Expr::Column(c) => scan_column(&p.input, &c.name),
                _ => None,
            }
        }
        LogicalPlan::SubqueryAlias(s) => scan_column(&s.input, name),
        LogicalPlan::Filter(f) => scan_column(&f.input, name),
        LogicalPlan::TableScan(_) => Some(name.to_string()),
        _ => None,
    }
}

/// An interval join's sides as sources, its columns checked to be their time attributes.
pub(super) fn interval_join(
    sources: &[SourcePlan],
    tables: &[String],
    b: Bounds,
    left: &str,
    right: &str,
) -> crate::error::Result<IntervalJoin> {
    let side = |table: &str, column: &str| -> crate::error::Result<(usize, usize, TimeKind)> {
        let i = tables.iter().position(|t| t == table).ok_or_else(|| {
            StreamError::Unsupported(format!("An interval join side reading '{table}'"))
        })?;
        let time = sources[i].table_schema.index_of(column).ok();
        match (time, source::time_attribute(&sources[i], column)) {
            (Some(t), Some(kind)) => Ok((i, t, kind)),
            _ => Err(StreamError::Unsupported(format!(
                "A join of streams bounded by '{column}', which is not a time attribute of \
                 '{table}' (a regular join), is not supported by Weir's streaming engine yet"
            ))),
        }
    };
    let (l, lt, lk) = side(left, &b.left.name)?;
    let (r, rt, rk) = side(right, &b.right.name)?;
    if lk != rk {
        return Err(StreamError::Validation(
            "Interval join requires both time attributes to be event time or both processing \
             time"
                .into(),
        ));
    }
    if b.lower_ms > b.upper_ms {
        return Err(StreamError::Validation(
            "The interval join's lower bound is greater than its upper bound".into(),
        ));
    }
    Ok(IntervalJoin {
        left: l,
        right: r,
        left_time: lt,
        right_time: rt,
        lower_ms: b.lower_ms,
        upper_ms: b.upper_ms,
        time_kind: lk,
        regular: false,
        keys: Vec::new(),
        outer: Outer::default(),
    })
}

/// A join's equality columns as places in its sources' table columns (pairs of one type).
pub(super) fn join_keys(
    sources: &[SourcePlan],
    j: &IntervalJoin,
    keys: &[(String, String)],
) -> Vec<(usize, usize)> {
    let (l, r) = (
        &sources[j.left].table_schema,
        &sources[j.right].table_schema,
    );
    keys.iter()
        .filter_map(|(a, b)| {
            let (a, b) = (l.index_of(a).ok()?, r.index_of(b).ok()?);
            (l.field(a).data_type() == r.field(b).data_type()).then_some((a, b))
        })
        .collect()
}
