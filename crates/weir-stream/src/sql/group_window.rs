//! Flink's group window aggregation (the syntax before window TVFs, used by most Kinesis Data
//! Analytics Studio examples): `GROUP BY TUMBLE(ts, size)`, `HOP(ts, slide, size)` or
//! `SESSION(ts, gap)` beside other keys, with `TUMBLE_START/_END/_ROWTIME/_PROCTIME(...)` (and
//! HOP_..., SESSION_...) in the select list. Each such SELECT is rewritten on sqlparser's tree
//! into the window TVF it means: its table becomes the window relation, the window call becomes
//! `window_start, window_end`, the auxiliary functions become the window columns. A group
//! SESSION window is per key, so the other group keys become the TVF's `PARTITION BY`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, ObjectName, Query,
    Select, SetExpr, TableAlias, TableFactor,
};

use super::{SqlError, WindowKind, WindowTvf};

/// Rewrites every group window of `query`; the TVFs it stands for are numbered from `first`.
pub fn rewrite_group_windows(query: &mut Query, first: usize) -> Result<Vec<WindowTvf>, SqlError> {
    let mut out = Vec::new();
    rewrite_query(query, first, &mut out)?;
    Ok(out)
}

fn rewrite_query(
    query: &mut Query,
    first: usize,
    out: &mut Vec<WindowTvf>,
) -> Result<(), SqlError> {
    if let Some(with) = query.with.as_mut() {
        for cte in &mut with.cte_tables {
            rewrite_query(&mut cte.query, first, out)?;
        }
    }
    rewrite_set(&mut query.body, first, out)
}

fn rewrite_set(set: &mut SetExpr, first: usize, out: &mut Vec<WindowTvf>) -> Result<(), SqlError> {
    match set {
        SetExpr::Select(select) => rewrite_select(select, first, out),
        SetExpr::Query(q) => rewrite_query(q, first, out),
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set(left, first, out)?;
            rewrite_set(right, first, out)
        }
        _ => Ok(()),
    }
}

/// A window call's kind and arguments.
fn window_call(e: &Expr) -> Option<(WindowKind, Vec<Expr>)> {
    let Expr::Function(f) = e else { return None };
    let kind = match name_of(&f.name)?.to_ascii_uppercase().as_str() {
        "TUMBLE" => WindowKind::Tumble,
        "HOP" => WindowKind::Hop,
        "SESSION" => WindowKind::Session,
        _ => return None,
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let args = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((kind, args))
}

fn name_of(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
}

fn column_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()),
        _ => None,
    }
}

fn rewrite_select(
    select: &mut Select,
    first: usize,
    out: &mut Vec<WindowTvf>,
) -> Result<(), SqlError> {
    // Subqueries in FROM (and joined) first.
    for t in &mut select.from {
        let joined = t.joins.iter_mut().map(|j| &mut j.relation);
        for relation in std::iter::once(&mut t.relation).chain(joined) {
            if let TableFactor::Derived { subquery, .. } = relation {
                rewrite_query(subquery, first, out)?;
            }
        }
    }
    let GroupByExpr::Expressions(keys, _) = &mut select.group_by else {
        return Ok(());
    };
    let Some((at, (kind, args))) = keys
        .iter()
        .enumerate()
        .find_map(|(i, e)| window_call(e).map(|c| (i, c)))
    else {
        return Ok(());
    };
    let unsupported = |what: &str| SqlError::Parse(format!("A group window {what}"));
    let (time, size, step) = match (kind, args.as_slice()) {
        (WindowKind::Tumble | WindowKind::Session, [t, size]) => (t, size, None),
        (WindowKind::Hop, [t, slide, size]) => (t, size, Some(slide)),
        _ => {
            return Err(unsupported(&format!(
                "{kind:?}(...) has the wrong number of arguments"
            )))
        }
    };
    let time_column =
        column_of(time).ok_or_else(|| unsupported("needs a time attribute column"))?;
    let partition_by = if kind == WindowKind::Session {
        keys.iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .filter_map(|(_, e)| column_of(e))
            .collect()
    } else {
        Vec::new()
    };
    let [from] = select.from.as_mut_slice() else {
        return Err(unsupported("reads one table"));
    };
    if !from.joins.is_empty() {
        return Err(unsupported("over a join is not supported by Weir yet"));
    }
    let TableFactor::Table { name, alias, .. } = &mut from.relation else {
        return Err(unsupported(
            "over a subquery is not supported by Weir yet; use a window TVF",
        ));
    };
    let table = name_of(name).unwrap_or_default();
    let relation = format!("__weir_window_{}", first + out.len());
    *name = ObjectName::from(vec![Ident::new(relation.clone())]);
    if alias.is_none() {
        *alias = Some(TableAlias {
            explicit: true,
            name: Ident::new(table.clone()),
            columns: Vec::new(),
            at: None,
        });
    }
    keys.splice(
        at..=at,
        [
            Expr::Identifier(Ident::new("window_start")),
            Expr::Identifier(Ident::new("window_end")),
        ],
    );
    let prefix = match kind {
        WindowKind::Tumble => "TUMBLE_",
        WindowKind::Hop => "HOP_",
        _ => "SESSION_",
    };
    let uses_time = std::cell::Cell::new(false);
    let aux = |e: &mut Expr| {
        if let Expr::Function(f) = e {
            let name = name_of(&f.name).unwrap_or_default().to_ascii_uppercase();
            let column = match name.strip_prefix(prefix) {
                Some("START") => Some("window_start"),
                Some("END") => Some("window_end"),
                Some("ROWTIME" | "PROCTIME") => Some("window_time"),
                _ => None,
            };
            if let Some(c) = column {
                uses_time.set(uses_time.get() || c == "window_time");
                *e = Expr::Identifier(Ident::new(c));
            }
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = sqlparser::ast::visit_expressions_mut(&mut select.projection, aux);
    if let Some(h) = select.having.as_mut() {
        let _ = sqlparser::ast::visit_expressions_mut(h, aux);
    }
    // `*_ROWTIME` is the window's time: one per window, so grouping by it changes nothing but
    // lets it be selected.
    if uses_time.get() {
        if let GroupByExpr::Expressions(keys, _) = &mut select.group_by {
            keys.insert(at + 2, Expr::Identifier(Ident::new("window_time")));
        }
    }
    out.push(WindowTvf {
        kind,
        relation,
        table,
        partition_by,
        time_column,
        size: size.to_string(),
        step: step.map(|s| s.to_string()),
        offset: None,
        fixed: false,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::GenericDialect;
    use sqlparser::parser::Parser;

    fn rewrite(sql: &str) -> (String, Vec<WindowTvf>) {
        let mut stmts = Parser::parse_sql(&GenericDialect {}, sql).expect("parse");
        let sqlparser::ast::Statement::Query(q) = &mut stmts[0] else {
            panic!("query")
        };
        let tvfs = rewrite_group_windows(q, 0).expect("rewrite");
        (q.to_string(), tvfs)
    }

    #[test]
    fn group_windows_become_window_tvfs() {
        let (sql, tvfs) = rewrite(
            "SELECT ticker, TUMBLE_START(event_time, INTERVAL '10' SECOND) AS ws, \
             TUMBLE_ROWTIME(event_time, INTERVAL '10' SECOND) AS wt, SUM(price) \
             FROM stock GROUP BY TUMBLE(event_time, INTERVAL '10' SECOND), ticker",
        );
        assert_eq!(
            sql,
            "SELECT ticker, window_start AS ws, window_time AS wt, SUM(price) FROM \
             __weir_window_0 AS stock GROUP BY window_start, window_end, window_time, ticker"
        );
        assert_eq!(tvfs[0].kind, WindowKind::Tumble);
        assert_eq!(tvfs[0].table, "stock");
        assert_eq!(tvfs[0].size, "INTERVAL '10' SECOND");

        let (_, tvfs) = rewrite(
            "SELECT user_id, SESSION_END(ts, INTERVAL '1' MINUTE) FROM clicks c \
             GROUP BY user_id, SESSION(c.ts, INTERVAL '1' MINUTE)",
        );
        assert_eq!(tvfs[0].partition_by, ["user_id"]);
        assert_eq!(tvfs[0].time_column, "ts");

        let (_, tvfs) = rewrite(
            "SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), COUNT(*) FROM t \
             GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)",
        );
        // Nexmark q8: group windows in both joined subqueries.
        let (sql, q8) = rewrite(
            "SELECT P.id FROM (SELECT id, TUMBLE_START(dt, INTERVAL '10' SECOND) AS s FROM \
             person GROUP BY id, TUMBLE(dt, INTERVAL '10' SECOND)) P JOIN (SELECT seller, \
             TUMBLE_START(dt, INTERVAL '10' SECOND) AS s FROM auction GROUP BY seller, \
             TUMBLE(dt, INTERVAL '10' SECOND)) A ON P.id = A.seller AND P.s = A.s",
        );
        assert_eq!(q8.len(), 2, "{sql}");
        assert_eq!(
            (q8[0].table.as_str(), q8[1].table.as_str()),
            ("person", "auction")
        );
        assert_ne!(q8[0].relation, q8[1].relation);
        assert_eq!(
            (tvfs[0].step.as_deref(), tvfs[0].size.as_str()),
            (Some("INTERVAL '1' MINUTE"), "INTERVAL '5' MINUTE")
        );
    }
}
