//! A job's statement read: Flink's clauses sqlparser cannot read lifted out first (lookup
//! joins, window TVFs), the statement parsed, views expanded as subqueries, and group windows
//! rewritten into window TVFs.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Ident, ObjectName, Query, Statement, TableAlias, TableFactor, TableObject, VisitMut, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::{Result, StreamError};
use crate::sql::{extract_window_tvfs, WindowTvf};

/// A job's statement, taken apart.
pub struct ParsedJob {
    /// The sink's name (none for an interactive query).
    pub sink: Option<String>,
    pub query: Box<Query>,
    pub tvfs: Vec<WindowTvf>,
    /// Tables joined `FOR SYSTEM_TIME AS OF` (read whole, not streamed).
    pub lookups: Vec<String>,
    /// Views a window TVF reads (name → query text): sources of their own.
    pub windowed_views: BTreeMap<String, String>,
}

/// Reads `INSERT INTO sink [(cols)] query` (the sink's name) or a query (no sink) after lookup
/// clauses and window TVFs were lifted out; the session's views (name → query text) are
/// expanded as subqueries.
pub fn parse_job(sql: &str, views: &BTreeMap<String, String>) -> Result<ParsedJob> {
    let (sql, lookups) = crate::sql::extract_lookups(sql)?;
    let (rewritten, mut tvfs) = extract_window_tvfs(&sql, 0)?;
    let windowed_views: BTreeMap<String, String> = tvfs
        .iter()
        .filter_map(|t| Some((t.table.clone(), views.get(&t.table)?.clone())))
        .collect();
    let mut statements = Parser::parse_sql(&GenericDialect {}, &rewritten)
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    if statements.len() != 1 {
        return Err(StreamError::Validation(
            "Expected one INSERT INTO statement".into(),
        ));
    }
    match statements.remove(0) {
        Statement::Insert(ins) => {
            if ins.overwrite {
                return Err(StreamError::Unsupported(
                    "INSERT OVERWRITE is not supported by streaming sinks".into(),
                ));
            }
            let TableObject::TableName(name) = &ins.table else {
                return Err(StreamError::Validation("INSERT INTO names a table".into()));
            };
            let mut source = ins
                .source
                .ok_or_else(|| StreamError::Validation("INSERT INTO needs a query".into()))?;
            expand_views(&mut source, views, &mut tvfs)?;
            let groups = crate::sql::rewrite_group_windows(&mut source, tvfs.len())?;
            tvfs.extend(groups);
            Ok(ParsedJob {
                sink: Some(last_part(name)),
                query: source,
                tvfs,
                lookups,
                windowed_views,
            })
        }
        Statement::Query(mut query) => {
            expand_views(&mut query, views, &mut tvfs)?;
            let groups = crate::sql::rewrite_group_windows(&mut query, tvfs.len())?;
            tvfs.extend(groups);
            Ok(ParsedJob {
                sink: None,
                query,
                tvfs,
                lookups,
                windowed_views,
            })
        }
        _ => Err(StreamError::Validation(
            "Expected an INSERT INTO statement".into(),
        )),
    }
}

/// A table's own name from `catalog.database.table`.
pub fn last_part(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default()
}

/// How many views one statement may expand (a view naming itself would never end).
const MAX_EXPANSIONS: usize = 64;

/// Replaces each view named in `query` by its query (as a subquery under the view's name);
/// window TVFs in views join the statement's.
fn expand_views(
    query: &mut Query,
    views: &BTreeMap<String, String>,
    tvfs: &mut Vec<WindowTvf>,
) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    struct Expander<'a> {
        views: &'a BTreeMap<String, String>,
        tvfs: &'a mut Vec<WindowTvf>,
        expanded: usize,
    }
    impl VisitorMut for Expander<'_> {
        type Break = StreamError;
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<StreamError> {
            let TableFactor::Table { name, alias, .. } = t else {
                return ControlFlow::Continue(());
            };
            let view = last_part(name);
            let Some(text) = self.views.get(&view) else {
                return ControlFlow::Continue(());
            };
            self.expanded += 1;
            if self.expanded > MAX_EXPANSIONS {
                return ControlFlow::Break(StreamError::Validation(format!(
                    "View '{view}' expands without end (it names itself)"
                )));
            }
            let subquery = match view_query(text, self.tvfs.len()) {
                Ok((q, more)) => {
                    self.tvfs.extend(more);
                    q
                }
                Err(e) => return ControlFlow::Break(e),
            };
            let alias = alias.take().or_else(|| {
                Some(TableAlias {
                    explicit: true,
                    name: Ident::new(view),
                    columns: Vec::new(),
                    at: None,
                })
            });
            *t = TableFactor::Derived {
                lateral: false,
                subquery: Box::new(subquery),
                alias,
                sample: None,
            };
            ControlFlow::Continue(())
        }
    }
    let mut e = Expander {
        views,
        tvfs,
        expanded: 0,
    };
    match query.visit(&mut e) {
        ControlFlow::Break(err) => Err(err),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// A view's query, its window TVFs numbered from `first`.
fn view_query(text: &str, first: usize) -> Result<(Query, Vec<WindowTvf>)> {
    let (rewritten, tvfs) = extract_window_tvfs(text, first)?;
    let query = Parser::new(&GenericDialect {})
        .try_with_sql(&rewritten)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    Ok((*query, tvfs))
}
