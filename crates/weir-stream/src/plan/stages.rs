//! Stages: a query that reads a stream beside a window aggregate of a stream (Nexmark's q7:
//! the bids joined with their window's greatest price by a time range) runs as parts of one
//! job. Each such window aggregate becomes a part of its own that writes its rows into an
//! internal Weir stream; the query reads that stream as a table whose rowtime is the window's
//! time (`TUMBLE_ROWTIME`, `window_time`), as Flink's planner passes a window aggregate's
//! rows on with their time attribute. Between the parts, rows are at least once (each part
//! checkpoints apart).

use sqlparser::ast::{
    Expr, FunctionArguments, GroupByExpr, Query, SelectItem, SetExpr, Statement, TableFactor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

/// How stage tables' names start (not a name a user would give a table).
pub const PREFIX: &str = "__weir_stage_";

/// How stage streams' names start: `weir-stage-<job id>-<k>`.
pub const STREAM_PREFIX: &str = "weir-stage-";

/// The internal stream of job `id`'s stage `k`.
pub fn stream_name(id: &str, k: usize) -> String {
    format!("{STREAM_PREFIX}{id}-{k}")
}

/// A window aggregate lifted out of a query.
pub struct Stage {
    /// The table the query reads instead (also the stage's sink).
    pub table: String,
    /// The window aggregate's query.
    pub query: String,
    /// Its rowtime column (the window's time).
    pub rowtime: String,
}

/// The statement with its window aggregates read from stage tables, and the stages; `None`
/// when the statement has no window aggregate beside another read (or does not parse
/// without Weir's rewrites, as window TVFs do not).
pub fn split(statement: &str, name: impl Fn(usize) -> String) -> Option<(String, Vec<Stage>)> {
    let mut parsed = Parser::parse_sql(&GenericDialect {}, statement).ok()?;
    let [one] = parsed.as_mut_slice() else {
        return None;
    };
    let query: &mut Query = match one {
        Statement::Insert(ins) => ins.source.as_deref_mut()?,
        _ => return None,
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let mut stages = Vec::new();
    let mut plain = 0;
    for from in select.from.iter_mut() {
        let factors = std::iter::once(&mut from.relation)
            .chain(from.joins.iter_mut().map(|j| &mut j.relation));
        for factor in factors {
            match factor {
                TableFactor::Table { .. } => plain += 1,
                TableFactor::Derived {
                    subquery, alias, ..
                } => {
                    let Some(rowtime) = window_rowtime(subquery) else {
                        continue;
                    };
                    let table = name(stages.len());
                    let text = subquery.to_string();
                    let mut read = table_factor(&table)?;
                    if let TableFactor::Table { alias: a, .. } = &mut read {
                        *a = alias.clone();
                    }
                    *factor = read;
                    stages.push(Stage {
                        table,
                        query: text,
                        rowtime,
                    });
                }
                _ => {}
            }
        }
    }
    (!stages.is_empty() && plain > 0).then(|| (one.to_string(), stages))
}

/// The rowtime column of a group-window aggregate (`GROUP BY TUMBLE/HOP/SESSION(...)` with a
/// `*_ROWTIME(...) AS name` column).
fn window_rowtime(query: &Query) -> Option<String> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let GroupByExpr::Expressions(groups, _) = &select.group_by else {
        return None;
    };
    let windowed = groups.iter().any(|g| {
        function_name(g).is_some_and(|n| matches!(n.as_str(), "TUMBLE" | "HOP" | "SESSION"))
    });
    if !windowed {
        return None;
    }
    select.projection.iter().find_map(|item| match item {
        SelectItem::ExprWithAlias { expr, alias } => function_name(expr)
            .filter(|n| n.ends_with("_ROWTIME"))
            .map(|_| alias.value.clone()),
        _ => None,
    })
}

/// A function call's name, upper-cased.
fn function_name(e: &Expr) -> Option<String> {
    let Expr::Function(f) = e else {
        return None;
    };
    if matches!(f.args, FunctionArguments::None) {
        return None;
    }
    Some(f.name.to_string().to_ascii_uppercase())
}

/// `FROM <table>` as sqlparser builds it.
fn table_factor(table: &str) -> Option<TableFactor> {
    let sql = format!("SELECT * FROM `{table}`");
    let mut parsed = Parser::parse_sql(&GenericDialect {}, &sql).ok()?;
    let Statement::Query(q) = parsed.pop()? else {
        return None;
    };
    let SetExpr::Select(select) = *q.body else {
        return None;
    };
    select.from.into_iter().next().map(|f| f.relation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_aggregate_beside_its_stream_is_lifted_into_a_stage() {
        let q7 = "INSERT INTO discard_sink
            SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
            from bid B
            JOIN (
              SELECT MAX(B1.price) AS maxprice,
                     TUMBLE_ROWTIME(B1.dateTime, INTERVAL '10' SECOND) as dateTime
              FROM bid B1
              GROUP BY TUMBLE(B1.dateTime, INTERVAL '10' SECOND)
            ) B1
            ON B.price = B1.maxprice
            WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime";
        let (statement, stages) = split(q7, |k| format!("stage_{k}")).expect("split");
        assert_eq!(stages.len(), 1);
        assert_eq!(stages[0].table, "stage_0");
        assert_eq!(stages[0].rowtime, "dateTime");
        assert!(
            stages[0].query.contains("GROUP BY TUMBLE"),
            "{}",
            stages[0].query
        );
        assert!(statement.contains("JOIN `stage_0` B1 ON"), "{statement}");
        assert!(!statement.contains("MAX("), "{statement}");
        // No window aggregate, or nothing beside it: nothing to lift.
        assert!(
            split("INSERT INTO s SELECT a FROM t JOIN u ON t.a = u.a", |k| k
                .to_string())
            .is_none()
        );
        let alone = "INSERT INTO s SELECT * FROM (SELECT MAX(p) AS m, TUMBLE_ROWTIME(ts, \
                     INTERVAL '1' SECOND) AS t FROM bid GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)) w";
        assert!(split(alone, |k| k.to_string()).is_none());
    }
}
