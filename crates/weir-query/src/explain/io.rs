//! `EXPLAIN (TYPE IO)`: the tables a query reads and the constraints on their columns, in
//! Trino's JSON (`inputTableColumnInfos` with `constraint.columnConstraints[].domain.ranges`).
//! Unknown estimates are `"NaN"`, as Trino writes them.

use std::cmp::Ordering;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan, Operator, TableScan};
use serde::Serialize;

use super::text::{type_name, value};
use crate::CATALOG_NAME;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IoPlan {
    input_table_column_infos: Vec<TableInfo>,
    estimate: Estimate,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct TableInfo {
    table: Table,
    constraint: Constraint,
    estimate: Estimate,
}

#[derive(Serialize, PartialEq)]
struct Table {
    catalog: String,
    #[serde(rename = "schemaTable")]
    schema_table: SchemaTable,
}

#[derive(Serialize, PartialEq)]
struct SchemaTable {
    schema: String,
    table: String,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Constraint {
    none: bool,
    column_constraints: Vec<ColumnConstraint>,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ColumnConstraint {
    column_name: String,
    #[serde(rename = "type")]
    type_name: String,
    domain: Domain,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Domain {
    nulls_allowed: bool,
    ranges: Vec<Range>,
}

#[derive(Serialize, PartialEq)]
struct Range {
    low: Marker,
    high: Marker,
}

#[derive(Serialize, PartialEq)]
struct Marker {
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    bound: &'static str,
}

#[derive(Serialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct Estimate {
    output_row_count: &'static str,
    output_size_in_bytes: &'static str,
    cpu_cost: &'static str,
    max_memory: f64,
    network_cost: f64,
}

const UNKNOWN: Estimate = Estimate {
    output_row_count: "NaN",
    output_size_in_bytes: "NaN",
    cpu_cost: "NaN",
    max_memory: 0.0,
    network_cost: 0.0,
};

/// What is known of one column: IS NULL, a set of values, or bounds (value, inclusive).
#[derive(Default)]
struct Bounds {
    only_null: bool,
    points: Option<Vec<ScalarValue>>,
    low: Option<(ScalarValue, bool)>,
    high: Option<(ScalarValue, bool)>,
}

/// Keeps the tighter of a bound and a new one: `tighter` is the direction that narrows
/// (Greater for a low bound); at equal values an exclusive bound is the tighter.
fn tighten(
    bound: &mut Option<(ScalarValue, bool)>,
    v: ScalarValue,
    inclusive: bool,
    tighter: Ordering,
) {
    let replace = match &*bound {
        None => true,
        Some((old, old_inclusive)) => match v.partial_cmp(old) {
            Some(Ordering::Equal) => *old_inclusive && !inclusive,
            Some(o) => o == tighter,
            None => false,
        },
    };
    if replace {
        *bound = Some((v, inclusive));
    }
}

impl Bounds {
    fn tighten_low(&mut self, v: ScalarValue, inclusive: bool) {
        tighten(&mut self.low, v, inclusive, Ordering::Greater);
    }

    fn tighten_high(&mut self, v: ScalarValue, inclusive: bool) {
        tighten(&mut self.high, v, inclusive, Ordering::Less);
    }

    fn domain(self) -> Domain {
        let marker = |v: &ScalarValue, bound| Marker {
            value: Some(value(v)),
            bound,
        };
        if self.only_null {
            return Domain {
                nulls_allowed: true,
                ranges: Vec::new(),
            };
        }
        let ranges = match self.points {
            Some(points) => points
                .iter()
                .map(|p| Range {
                    low: marker(p, "EXACTLY"),
                    high: marker(p, "EXACTLY"),
                })
                .collect(),
            None => vec![Range {
                low: match &self.low {
                    Some((v, true)) => marker(v, "EXACTLY"),
                    Some((v, false)) => marker(v, "ABOVE"),
                    None => Marker {
                        value: None,
                        bound: "ABOVE",
                    },
                },
                high: match &self.high {
                    Some((v, true)) => marker(v, "EXACTLY"),
                    Some((v, false)) => marker(v, "BELOW"),
                    None => Marker {
                        value: None,
                        bound: "BELOW",
                    },
                },
            }],
        };
        Domain {
            nulls_allowed: false,
            ranges,
        }
    }
}

fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinaryExpr(b) if b.op == Operator::And => {
            conjuncts(&b.left, out);
            conjuncts(&b.right, out);
        }
        other => out.push(other),
    }
}

fn column_and_value<'a>(l: &'a Expr, r: &'a Expr) -> Option<(&'a str, &'a ScalarValue, bool)> {
    let strip = |e: &'a Expr| match e {
        Expr::Cast(c) => c.expr.as_ref(),
        other => other,
    };
    match (strip(l), strip(r)) {
        (Expr::Column(c), Expr::Literal(v, _)) => Some((c.name.as_str(), v, false)),
        (Expr::Literal(v, _), Expr::Column(c)) => Some((c.name.as_str(), v, true)),
        _ => None,
    }
}

/// The bounds the conjuncts of a scan's predicates put on its columns.
fn bounds(predicates: &[&Expr]) -> Vec<(String, Bounds)> {
    let mut all: Vec<(String, Bounds)> = Vec::new();
    fn at(all: &mut Vec<(String, Bounds)>, name: &str) -> usize {
        match all.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                all.push((name.to_string(), Bounds::default()));
                all.len() - 1
            }
        }
    }
    let mut parts = Vec::new();
    for p in predicates {
        conjuncts(p, &mut parts);
    }
    for p in parts {
        match p {
            Expr::BinaryExpr(b) => {
                let Some((name, v, flipped)) = column_and_value(&b.left, &b.right) else {
                    continue;
                };
                let op = if flipped {
                    b.op.swap().unwrap_or(b.op)
                } else {
                    b.op
                };
                let i = at(&mut all, name);
                let bounds = &mut all[i].1;
                match op {
                    Operator::Eq => bounds.points = Some(vec![v.clone()]),
                    Operator::Gt => bounds.tighten_low(v.clone(), false),
                    Operator::GtEq => bounds.tighten_low(v.clone(), true),
                    Operator::Lt => bounds.tighten_high(v.clone(), false),
                    Operator::LtEq => bounds.tighten_high(v.clone(), true),
                    _ => {}
                }
            }
            Expr::Between(b) if !b.negated => {
                if let (Expr::Column(c), Expr::Literal(lo, _), Expr::Literal(hi, _)) =
                    (b.expr.as_ref(), b.low.as_ref(), b.high.as_ref())
                {
                    let i = at(&mut all, &c.name);
                    all[i].1.tighten_low(lo.clone(), true);
                    all[i].1.tighten_high(hi.clone(), true);
                }
            }
            Expr::InList(l) if !l.negated => {
                let values: Option<Vec<ScalarValue>> = l
                    .list
                    .iter()
                    .map(|e| match e {
                        Expr::Literal(v, _) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                if let (Expr::Column(c), Some(values)) = (l.expr.as_ref(), values) {
                    let i = at(&mut all, &c.name);
                    all[i].1.points = Some(values);
                }
            }
            Expr::IsNull(e) => {
                if let Expr::Column(c) = e.as_ref() {
                    let i = at(&mut all, &c.name);
                    all[i].1.only_null = true;
                }
            }
            _ => {}
        }
    }
    all
}

fn table_info(scan: &TableScan, filter: Option<&Expr>, db: &str) -> TableInfo {
    let mut predicates: Vec<&Expr> = scan.filters.iter().collect();
    predicates.extend(filter.filter(|f| !scan.filters.contains(f)));
    let schema = scan.source.schema();
    let column_constraints = bounds(&predicates)
        .into_iter()
        .filter_map(|(name, b)| {
            let field = schema.field_with_name(&name).ok()?;
            Some(ColumnConstraint {
                column_name: name,
                type_name: type_name(field.data_type()),
                domain: b.domain(),
            })
        })
        .collect();
    TableInfo {
        table: Table {
            catalog: CATALOG_NAME.into(),
            schema_table: SchemaTable {
                schema: scan.table_name.schema().unwrap_or(db).to_string(),
                table: scan.table_name.table().to_string(),
            },
        },
        constraint: Constraint {
            none: false,
            column_constraints,
        },
        estimate: UNKNOWN,
    }
}

fn walk(plan: &LogicalPlan, filter: Option<&Expr>, db: &str, out: &mut Vec<TableInfo>) {
    match plan {
        LogicalPlan::TableScan(s) => {
            let info = table_info(s, filter, db);
            if !out.contains(&info) {
                out.push(info);
            }
        }
        LogicalPlan::SubqueryAlias(a) => walk(&a.input, filter, db, out),
        LogicalPlan::Filter(f) => walk(&f.input, Some(&f.predicate), db, out),
        other => {
            for input in other.inputs() {
                walk(input, None, db, out);
            }
        }
    }
}

/// The IO plan of an (optimized) logical plan.
pub fn io_plan(plan: &LogicalPlan, db: &str) -> IoPlan {
    let mut tables = Vec::new();
    walk(plan, None, db, &mut tables);
    IoPlan {
        input_table_column_infos: tables,
        estimate: UNKNOWN,
    }
}

/// JSON pretty-printed as Jackson's default printer does it (`"key" : value`, arrays inline).
pub fn jackson_pretty<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Jackson::default());
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Default)]
struct Jackson {
    depth: usize,
    /// Whether each open object has a member yet.
    members: Vec<bool>,
}

impl serde_json::ser::Formatter for Jackson {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b" ]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        w.write_all(if first { b" " } else { b", " })
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.members.push(false);
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.members.pop().unwrap_or(false) {
            w.write_all(b"\n")?;
            w.write_all("  ".repeat(self.depth).as_bytes())?;
            w.write_all(b"}")
        } else {
            w.write_all(b" }")
        }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if let Some(m) = self.members.last_mut() {
            *m = true;
        }
        w.write_all(if first { b"\n" } else { b",\n" })?;
        w.write_all("  ".repeat(self.depth).as_bytes())
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b" : ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn bounds_become_trinos_ranges() {
        let p1 = col("x").gt(lit(1i64)).and(col("x").lt_eq(lit(9i64)));
        let p2 = col("d").in_list(vec![lit("a"), lit("b")], false);
        let mut b = bounds(&[&p1, &p2]);
        assert_eq!(b.len(), 2);
        let (_, d) = b.remove(1);
        let d = d.domain();
        assert_eq!(d.ranges.len(), 2);
        let (_, x) = b.remove(0);
        let json = jackson_pretty(&x.domain());
        assert_eq!(
            json,
            "{\n  \"nullsAllowed\" : false,\n  \"ranges\" : [ {\n    \"low\" : {\n      \"value\" : \"1\",\n      \"bound\" : \"ABOVE\"\n    },\n    \"high\" : {\n      \"value\" : \"9\",\n      \"bound\" : \"EXACTLY\"\n    }\n  } ]\n}"
        );
        assert_eq!(jackson_pretty(&Vec::<u8>::new()), "[ ]");
    }
}
