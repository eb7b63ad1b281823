//! A DataFusion logical plan drawn as Trino draws its plans: `Name[key = value, ...]` nodes with
//! `Layout:` lines and `symbol := expression` details, `└─`/`├─` branches, and for the
//! distributed form one `Fragment 0 [SINGLE]` (Weir runs a query on one node). Trino's node
//! names stand for DataFusion's operators: a filter and projection over a scan become
//! `ScanFilterProject`, a sort with a fetch `TopN`, DISTINCT an `Aggregate`.

use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr, FetchType, JoinType, LogicalPlan, SkipType};
use serde::Serialize;

use super::text::{expr, order_by, symbol, type_name};
use crate::CATALOG_NAME;

/// One operator of the printed plan.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub descriptor: Vec<(&'static str, String)>,
    pub layout: Vec<(String, String)>,
    pub details: Vec<String>,
    pub children: Vec<Node>,
}

fn layout(schema: &DFSchema) -> Vec<(String, String)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), type_name(f.data_type())))
        .collect()
}

fn names(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(", "))
}

fn and(predicates: &[Expr]) -> String {
    predicates
        .iter()
        .map(expr)
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Skips the aliases DataFusion keeps for subqueries (Trino has none).
fn unaliased(plan: &LogicalPlan) -> &LogicalPlan {
    match plan {
        LogicalPlan::SubqueryAlias(a) => unaliased(&a.input),
        other => other,
    }
}

/// The `Output[columnNames = [...]]` root over the plan's tree.
pub fn output(plan: &LogicalPlan, db: &str) -> Node {
    let schema = plan.schema();
    Node {
        name: "Output".into(),
        descriptor: vec![(
            "columnNames",
            names(schema.fields().iter().map(|f| f.name().clone())),
        )],
        layout: layout(schema),
        details: Vec::new(),
        children: vec![node(plan, db)],
    }
}

/// `symbol := expression` for each computed column (identities are not printed, as in Trino).
fn assignments(exprs: &[Expr], schema: &DFSchema) -> Vec<String> {
    exprs
        .iter()
        .zip(schema.fields())
        .filter(|(e, f)| !matches!(e, Expr::Column(c) if c.name == *f.name()))
        .map(|(e, f)| format!("{} := {}", f.name(), expr(e)))
        .collect()
}

/// `symbol := expression` for expressions whose columns end the schema (aggregates after the
/// grouping columns, however many grouping sets make; window functions after the input's).
fn computed(exprs: &[Expr], schema: &DFSchema) -> Vec<String> {
    let first = schema.fields().len().saturating_sub(exprs.len());
    exprs
        .iter()
        .zip(schema.fields().iter().skip(first))
        .map(|(e, f)| format!("{} := {}", f.name(), expr(e)))
        .collect()
}

/// A table scan, with the filter and projection Trino folds into it.
fn scan(
    scan: &datafusion::logical_expr::TableScan,
    filter: Option<&Expr>,
    project: Option<(Vec<String>, &DFSchema)>,
    db: &str,
) -> Node {
    let mut predicates: Vec<Expr> = scan.filters.clone();
    // DataFusion keeps a filter it pushed into the scan above it too: print it once.
    if let Some(f) = filter {
        if !predicates.contains(f) {
            predicates.push(f.clone());
        }
    }
    let mut name = String::from("Scan");
    let table = format!(
        "{}:{}:{}",
        CATALOG_NAME,
        scan.table_name.schema().unwrap_or(db),
        scan.table_name.table()
    );
    let mut descriptor = vec![("table", table)];
    if !predicates.is_empty() {
        name.push_str("Filter");
        descriptor.push(("filterPredicate", and(&predicates)));
    }
    let mut details = Vec::new();
    let schema = match &project {
        Some((assigned, schema)) => {
            name.push_str("Project");
            details.extend(assigned.iter().cloned());
            *schema
        }
        None => scan.projected_schema.as_ref(),
    };
    if name == "Scan" {
        name = "TableScan".into();
    }
    if let Some(limit) = scan.fetch {
        descriptor.push(("limit", limit.to_string()));
    }
    for f in scan.projected_schema.fields() {
        details.push(format!(
            "{} := {}:{}:REGULAR",
            f.name(),
            f.name(),
            crate::types::hive_name(f.data_type())
        ));
    }
    Node {
        name,
        descriptor,
        layout: layout(schema),
        details,
        children: Vec::new(),
    }
}

fn leaf(name: &str, plan: &LogicalPlan) -> Node {
    Node {
        name: name.into(),
        layout: layout(plan.schema()),
        ..Default::default()
    }
}

fn with(mut n: Node, children: Vec<Node>) -> Node {
    n.children = children;
    n
}

fn node(plan: &LogicalPlan, db: &str) -> Node {
    match plan {
        LogicalPlan::SubqueryAlias(a) => node(&a.input, db),
        LogicalPlan::Projection(p) => {
            let assigned = assignments(&p.expr, &p.schema);
            match unaliased(&p.input) {
                LogicalPlan::TableScan(s) => scan(s, None, Some((assigned, &p.schema)), db),
                LogicalPlan::Filter(f) => match unaliased(&f.input) {
                    LogicalPlan::TableScan(s) => {
                        scan(s, Some(&f.predicate), Some((assigned, &p.schema)), db)
                    }
                    _ => project(plan, assigned, &p.input, db),
                },
                _ if assigned.is_empty() => node(&p.input, db),
                _ => project(plan, assigned, &p.input, db),
            }
        }
        LogicalPlan::Filter(f) => match unaliased(&f.input) {
            LogicalPlan::TableScan(s) => scan(s, Some(&f.predicate), None, db),
            _ => {
                let mut n = leaf("Filter", plan);
                n.descriptor.push(("filterPredicate", expr(&f.predicate)));
                with(n, vec![node(&f.input, db)])
            }
        },
        LogicalPlan::TableScan(s) => scan(s, None, None, db),
        LogicalPlan::Aggregate(a) => {
            let mut n = leaf("Aggregate", plan);
            n.descriptor
                .push(("keys", names(a.group_expr.iter().map(symbol))));
            n.details = computed(&a.aggr_expr, &a.schema);
            with(n, vec![node(&a.input, db)])
        }
        LogicalPlan::Distinct(d) => {
            let mut n = leaf("Aggregate", plan);
            n.descriptor.push((
                "keys",
                names(plan.schema().fields().iter().map(|f| f.name().clone())),
            ));
            with(n, vec![node(d.input(), db)])
        }
        LogicalPlan::Join(j) => {
            let name = match j.join_type {
                JoinType::Inner if j.on.is_empty() && j.filter.is_none() => "CrossJoin",
                JoinType::Inner => "InnerJoin",
                JoinType::Left => "LeftJoin",
                JoinType::Right => "RightJoin",
                JoinType::Full => "FullJoin",
                _ => "SemiJoin",
            };
            let mut n = leaf(name, plan);
            let mut criteria: Vec<String> =
                j.on.iter()
                    .map(|(l, r)| format!("({} = {})", expr(l), expr(r)))
                    .collect();
            if let Some(f) = &j.filter {
                criteria.push(expr(f));
            }
            n.descriptor.push(("criteria", criteria.join(" AND ")));
            if matches!(j.join_type, JoinType::LeftAnti | JoinType::RightAnti) {
                n.descriptor.push(("negated", "true".into()));
            }
            with(n, vec![node(&j.left, db), node(&j.right, db)])
        }
        LogicalPlan::Sort(s) => {
            let mut n = leaf(if s.fetch.is_some() { "TopN" } else { "Sort" }, plan);
            if let Some(count) = s.fetch {
                n.descriptor.push(("count", count.to_string()));
            }
            n.descriptor.push(("orderBy", order_by(&s.expr)));
            with(n, vec![node(&s.input, db)])
        }
        LogicalPlan::Limit(l) => {
            let mut child = node(&l.input, db);
            if let Ok(SkipType::Literal(skip)) = l.get_skip_type() {
                if skip > 0 {
                    let mut o = leaf("Offset", plan);
                    o.descriptor.push(("count", skip.to_string()));
                    child = with(o, vec![child]);
                }
            }
            match l.get_fetch_type() {
                Ok(FetchType::Literal(Some(count))) => {
                    let mut n = leaf("Limit", plan);
                    n.descriptor.push(("count", count.to_string()));
                    with(n, vec![child])
                }
                _ => child,
            }
        }
        LogicalPlan::Union(u) => with(
            leaf("Union", plan),
            u.inputs.iter().map(|i| node(i, db)).collect(),
        ),
        LogicalPlan::Window(w) => {
            let mut n = leaf("Window", plan);
            if let Some(Expr::WindowFunction(f)) = w.window_expr.first().map(|e| match e {
                Expr::Alias(a) => a.expr.as_ref(),
                other => other,
            }) {
                n.descriptor.push((
                    "partitionBy",
                    names(f.params.partition_by.iter().map(symbol)),
                ));
                n.descriptor.push(("orderBy", order_by(&f.params.order_by)));
            }
            n.details = computed(&w.window_expr, &w.schema);
            with(n, vec![node(&w.input, db)])
        }
        LogicalPlan::Values(v) => {
            let mut n = leaf("Values", plan);
            n.details = v
                .values
                .iter()
                .map(|row| format!("({})", row.iter().map(expr).collect::<Vec<_>>().join(", ")))
                .collect();
            n
        }
        LogicalPlan::EmptyRelation(e) => {
            let mut n = leaf("Values", plan);
            if e.produce_one_row {
                n.details.push("()".into());
            }
            n
        }
        LogicalPlan::Unnest(u) => {
            let mut n = leaf("Unnest", plan);
            n.descriptor.push((
                "unnest",
                names(u.exec_columns.iter().map(|c| c.name.clone())),
            ));
            with(n, vec![node(&u.input, db)])
        }
        LogicalPlan::Repartition(r) => with(leaf("LocalExchange", plan), vec![node(&r.input, db)]),
        other => {
            let name = other.display().to_string();
            let name = name
                .split([':', '(', ' '])
                .next()
                .unwrap_or("Node")
                .to_string();
            with(
                leaf(&name, plan),
                other.inputs().into_iter().map(|i| node(i, db)).collect(),
            )
        }
    }
}

fn project(plan: &LogicalPlan, assigned: Vec<String>, input: &LogicalPlan, db: &str) -> Node {
    let mut n = leaf("Project", plan);
    n.details = assigned;
    with(n, vec![node(input, db)])
}

fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    for _ in s.chars().count()..width {
        out.push(' ');
    }
    out
}

fn write(n: &Node, first: &str, next: &str, out: &mut String) {
    out.push_str(first);
    out.push_str(&n.name);
    let shown: Vec<String> = n
        .descriptor
        .iter()
        .filter(|(_, v)| !v.is_empty() && v != "[]")
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    out.push_str(&format!("[{}]\n", shown.join(", ")));
    let detail = format!(
        "{next}{}",
        pad(if n.children.is_empty() { "" } else { "│" }, 4)
    );
    let layout: Vec<String> = n.layout.iter().map(|(s, t)| format!("{s}:{t}")).collect();
    out.push_str(&format!("{detail}Layout: [{}]\n", layout.join(", ")));
    for d in &n.details {
        for line in d.lines() {
            out.push_str(&format!("{detail}{line}\n"));
        }
    }
    let count = n.children.len();
    for (i, c) in n.children.iter().enumerate() {
        let last = i + 1 == count;
        let child_first = format!("{next}{}", pad(if last { "└─" } else { "├─" }, 3));
        let child_next = format!("{next}{}", pad(if last { "" } else { "│" }, 3));
        write(c, &child_first, &child_next, out);
    }
}

/// `EXPLAIN (TYPE LOGICAL)`: the tree at column 0.
pub fn logical_text(root: &Node) -> String {
    let mut out = String::new();
    write(root, "", "", &mut out);
    out
}

/// `EXPLAIN (TYPE DISTRIBUTED)`: one fragment holding the whole plan, then a blank line.
pub fn distributed_text(root: &Node) -> String {
    let layout: Vec<&str> = root.layout.iter().map(|(s, _)| s.as_str()).collect();
    let mut out = format!(
        "Fragment 0 [SINGLE]\n    Output layout: [{}]\n    Output partitioning: SINGLE []\n",
        layout.join(", ")
    );
    write(root, "    ", "    ", &mut out);
    out.push('\n');
    out
}

/// A node as Trino's JSON renderer writes it.
#[derive(Serialize)]
pub struct JsonNode {
    id: String,
    name: String,
    descriptor: Descriptor,
    outputs: Vec<JsonSymbol>,
    details: Vec<String>,
    estimates: Vec<()>,
    children: Vec<JsonNode>,
}

#[derive(Serialize)]
struct JsonSymbol {
    symbol: String,
    #[serde(rename = "type")]
    type_name: String,
}

/// The descriptor's keys in their order.
struct Descriptor(Vec<(&'static str, String)>);

impl Serialize for Descriptor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The tree in Trino's JSON shape, numbering nodes depth first.
pub fn json(n: Node, next_id: &mut usize) -> JsonNode {
    let id = next_id.to_string();
    *next_id += 1;
    JsonNode {
        id,
        name: n.name,
        descriptor: Descriptor(n.descriptor),
        outputs: n
            .layout
            .into_iter()
            .map(|(symbol, type_name)| JsonSymbol { symbol, type_name })
            .collect(),
        details: n.details,
        estimates: Vec::new(),
        children: n.children.into_iter().map(|c| json(c, next_id)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_trinos_tree() {
        let scan = Node {
            name: "TableScan".into(),
            descriptor: vec![("table", "awsdatacatalog:db:t".into())],
            layout: vec![("k".into(), "bigint".into())],
            details: vec!["k := k:bigint:REGULAR".into()],
            children: Vec::new(),
        };
        let root = Node {
            name: "Output".into(),
            descriptor: vec![("columnNames", "[k]".into()), ("empty", "[]".into())],
            layout: vec![("k".into(), "bigint".into())],
            details: Vec::new(),
            children: vec![scan],
        };
        assert_eq!(
            logical_text(&root),
            "Output[columnNames = [k]]\n│   Layout: [k:bigint]\n└─ TableScan[table = awsdatacatalog:db:t]\n       Layout: [k:bigint]\n       k := k:bigint:REGULAR\n"
        );
        assert!(distributed_text(&root).starts_with(
            "Fragment 0 [SINGLE]\n    Output layout: [k]\n    Output partitioning: SINGLE []\n    Output[columnNames = [k]]\n    │   Layout: [k:bigint]\n    └─ TableScan"
        ));
        assert!(distributed_text(&root).ends_with("REGULAR\n\n"));
    }
}
