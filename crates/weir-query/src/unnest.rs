//! Trino's lateral UNNEST — `FROM t CROSS JOIN UNNEST(t.items) AS u (item)`, the comma form
//! `FROM t, UNNEST(...)`, and `LEFT JOIN UNNEST(...) ON true` — which DataFusion does not plan
//! (it unnests only in a select list). The relations before the UNNEST become a derived table
//! that unnests in its select list:
//!
//! ```text
//! FROM (SELECT *, unnest(t.items) AS item FROM t) AS __weir_unnest0
//! ```
//!
//! and the query's references to `t.x` and `u.item` are re-qualified with that table's name.
//! Several arrays in one UNNEST are zipped (DataFusion pads the shorter with NULLs, as Trino
//! does); `WITH ORDINALITY` has already become one more array (see trino.rs).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, Query, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, Statement, TableFactor, TableWithJoins, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::trino::TrinoDialect;

/// The alias a relation is referred to by (its alias, else its table name).
fn name_of(t: &TableFactor) -> Option<String> {
    match t {
        TableFactor::Table { name, alias, .. } => {
            alias.as_ref().map(|a| a.name.value.clone()).or_else(|| {
                name.0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
            })
        }
        TableFactor::Derived { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::Function { alias, .. } => alias.as_ref().map(|a| a.name.value.clone()),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => name_of(&table_with_joins.relation),
        _ => None,
    }
}

/// Every name the relations of `t` can be referred to by.
fn names_in(t: &TableWithJoins, out: &mut Vec<String>) {
    out.extend(name_of(&t.relation));
    for j in &t.joins {
        out.extend(name_of(&j.relation));
    }
}

fn is_true(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if v.value == Value::Boolean(true))
}

/// Where a lateral UNNEST joins: (index in `from[0].joins`, or `None` for `from[1]`; outer).
fn find(from: &[TableWithJoins]) -> Option<(Option<usize>, bool)> {
    let first = from.first()?;
    for (i, j) in first.joins.iter().enumerate() {
        if !matches!(j.relation, TableFactor::UNNEST { .. }) {
            continue;
        }
        match &j.join_operator {
            JoinOperator::CrossJoin(_) => return Some((Some(i), false)),
            JoinOperator::Join(JoinConstraint::On(e))
            | JoinOperator::Inner(JoinConstraint::On(e))
                if is_true(e) =>
            {
                return Some((Some(i), false))
            }
            JoinOperator::Left(JoinConstraint::On(e))
            | JoinOperator::LeftOuter(JoinConstraint::On(e))
                if is_true(e) =>
            {
                return Some((Some(i), true))
            }
            _ => {}
        }
    }
    match from.get(1) {
        Some(t) if matches!(t.relation, TableFactor::UNNEST { .. }) && t.joins.is_empty() => {
            Some((None, false))
        }
        _ => None,
    }
}

/// Re-qualifies `q.col` as `alias.col` for every `q` in `names`.
struct Requalify<'a> {
    names: &'a [String],
    alias: &'a str,
}

impl Requalify<'_> {
    fn ours(&self, i: &Ident) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(&i.value))
    }
}

impl VisitorMut for Requalify<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(ids) = expr {
            if ids.len() == 2 && self.ours(&ids[0]) {
                ids[0] = Ident::new(self.alias);
            }
        }
        ControlFlow::Continue(())
    }
}

fn requalify_select_items(items: &mut [SelectItem], r: &Requalify) {
    for item in items {
        if let SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _) =
            item
        {
            if n.0.len() == 1 && n.0[0].as_ident().is_some_and(|i| r.ours(i)) {
                *n = datafusion::sql::sqlparser::ast::ObjectName::from(vec![Ident::new(r.alias)]);
            }
        }
    }
}

/// A table factor from SQL text: `(subquery) AS alias`.
fn derived(sql: &str) -> Option<TableFactor> {
    let mut stmts = Parser::parse_sql(&TrinoDialect, &format!("SELECT * FROM {sql}")).ok()?;
    let Some(Statement::Query(q)) = stmts.pop() else {
        return None;
    };
    let SetExpr::Select(select) = *q.body else {
        return None;
    };
    select.from.into_iter().next().map(|t| t.relation)
}

/// Rewrites the lateral UNNESTs of one query; `seq` numbers the derived tables.
pub fn rewrite(query: &mut Query, seq: &mut usize) {
    loop {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return;
        };
        let Some((at, outer)) = find(&select.from) else {
            return;
        };
        // Split FROM into the relations before the UNNEST, the UNNEST, and what follows.
        let first = &mut select.from[0];
        let (unnest, rest) = match at {
            Some(i) => {
                let mut tail = first.joins.split_off(i);
                let u = tail.remove(0).relation;
                (u, tail)
            }
            None => (select.from.remove(1).relation, Vec::new()),
        };
        let prefix = select.from[0].clone();
        let TableFactor::UNNEST {
            alias, array_exprs, ..
        } = unnest
        else {
            return;
        };
        let alias_name = format!("__weir_unnest{seq}");
        *seq += 1;
        let mut names = Vec::new();
        names_in(&prefix, &mut names);
        let unnest_name = alias.as_ref().map(|a| a.name.value.clone());
        names.extend(unnest_name.clone());
        // The unnested columns' names: the alias's column list, else the alias itself.
        let columns: Vec<String> = (0..array_exprs.len())
            .map(|i| {
                alias
                    .as_ref()
                    .and_then(|a| a.columns.get(i))
                    .map(|c| c.name.value.clone())
                    .or_else(|| unnest_name.clone().filter(|_| i == 0))
                    .unwrap_or_else(|| format!("_col{i}"))
            })
            .collect();
        let function = if outer { "unnest_outer" } else { "unnest" };
        let unnests: Vec<String> = array_exprs
            .iter()
            .zip(&columns)
            .map(|(e, c)| format!("{function}({e}) AS \"{}\"", c.replace('"', "\"\"")))
            .collect();
        let text = format!(
            "(SELECT *, {} FROM {prefix}) AS {alias_name}",
            unnests.join(", ")
        );
        let Some(table) = derived(&text) else {
            return;
        };
        // Re-qualify the rest of the query, then put the derived table in place.
        select.from[0] = TableWithJoins {
            relation: table,
            joins: rest,
        };
        let r = Requalify {
            names: &names,
            alias: &alias_name,
        };
        let Some(placeholder) = derived(&alias_name) else {
            return;
        };
        let inner = std::mem::replace(&mut select.from[0].relation, placeholder);
        requalify_select_items(&mut select.projection, &r);
        let _ = query.visit(&mut Requalify { ..r });
        if let SetExpr::Select(select) = query.body.as_mut() {
            select.from[0].relation = inner;
        }
    }
}
