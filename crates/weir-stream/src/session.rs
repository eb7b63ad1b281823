//! A Flink SQL session: its tables (Flink's default in-memory catalog, which lives as long as
//! the session), its settings (`SET`), and statements run in it — DDL, `INSERT INTO` (a job),
//! `SHOW TABLES/JOBS`, `STOP JOB`, `DESCRIBE`, `SET`/`RESET`.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::engine::Engine;
use crate::error::{Result, StreamError};
use crate::sql::Column;
use crate::table::TableDef;
use crate::types::flink_type_name;

/// What a statement returned.
#[derive(Debug)]
pub enum Outcome {
    /// A statement without a result table (Flink's `SUCCESS` with one `result` = `OK` row).
    Ok,
    /// Rows (Flink's `SUCCESS_WITH_CONTENT`).
    Rows(RecordBatch),
    /// A job was submitted.
    Job(String),
    /// An interactive query runs as a job whose rows are collected as they come.
    Query {
        job: String,
        rows: std::sync::Arc<crate::sink::Collector>,
    },
}

pub struct Session {
    engine: Engine,
    tables: BTreeMap<String, TableDef>,
    /// Views: name → query text.
    views: BTreeMap<String, String>,
    /// `BEGIN STATEMENT SET;` ... `END;`: the INSERT statements gathered so far.
    set: Option<Vec<String>>,
    config: BTreeMap<String, String>,
}

impl Session {
    pub fn new(engine: Engine, config: BTreeMap<String, String>) -> Session {
        Session {
            engine,
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            set: None,
            config,
        }
    }

    pub fn config(&self) -> &BTreeMap<String, String> {
        &self.config
    }

    /// Runs one statement (a trailing `;` allowed).
    pub async fn execute(&mut self, statement: &str) -> Result<Outcome> {
        let sql = statement.trim().trim_end_matches(';').trim();
        let tokens = words(sql)?;
        let w = |i: usize| tokens.get(i).map(String::as_str).unwrap_or("");
        // A statement set being gathered takes INSERTs until END.
        if self.set.is_some() && !matches!((w(0), w(1)), ("INSERT", "INTO") | ("END", _)) {
            return Err(StreamError::Validation(
                "Only 'INSERT' statement is allowed in Statement Set or use 'END' statement to \
                 submit Statement Set."
                    .into(),
            ));
        }
        match (w(0), w(1), w(2)) {
            ("BEGIN", "STATEMENT", "SET") => {
                if self.set.is_some() {
                    return Err(StreamError::Validation(
                        "Only one STATEMENT SET is allowed at the same time.".into(),
                    ));
                }
                self.set = Some(Vec::new());
                Ok(Outcome::Ok)
            }
            ("INSERT", "INTO", _) if self.set.is_some() => {
                if let Some(set) = self.set.as_mut() {
                    set.push(sql.to_string());
                }
                Ok(Outcome::Ok)
            }
            ("END", _, _) if self.set.is_some() => {
                let set = self.set.take().unwrap_or_default();
                if set.is_empty() {
                    return Ok(Outcome::Ok);
                }
                self.run_set(&set).await
            }
            ("EXECUTE", "STATEMENT", "SET") => {
                let set = set_statements(sql)?;
                self.run_set(&set).await
            }
            ("CREATE", "TABLE", _) | ("CREATE", "TEMPORARY", "TABLE") => {
                let t = self.engine.table(sql)?;
                if self.tables.contains_key(t.name()) {
                    if t.flink.if_not_exists {
                        return Ok(Outcome::Ok);
                    }
                    return Err(StreamError::Validation(format!(
                        "Could not execute CreateTable in path \
                         `default_catalog`.`default_database`.`{0}`\nTable (or view) \
                         default_database.{0} already exists in Catalog default_catalog.",
                        t.name()
                    )));
                }
                self.tables.insert(t.name().to_string(), t);
                Ok(Outcome::Ok)
            }
            ("CREATE", "VIEW", _) | ("CREATE", "TEMPORARY", "VIEW") => self.create_view(sql).await,
            ("DROP", "VIEW", _) | ("DROP", "TEMPORARY", "VIEW") => {
                let if_exists = w(2) == "IF" || (w(3) == "IF" && w(4) == "EXISTS");
                let name = raw_name(sql);
                if self.views.remove(&name).is_none() && !if_exists {
                    return Err(StreamError::Validation(format!(
                        "View with identifier 'default_catalog.default_database.{name}' does not \
                         exist."
                    )));
                }
                Ok(Outcome::Ok)
            }
            ("SHOW", "VIEWS", _) => Ok(Outcome::Rows(strings(
                &["view name"],
                self.views.keys().map(|k| vec![Some(k.clone())]).collect(),
            )?)),
            ("DROP", "TABLE", _) | ("DROP", "TEMPORARY", "TABLE") => {
                let if_exists = w(2) == "IF" || (w(3) == "IF" && w(4) == "EXISTS");
                let name = raw_name(sql);
                if self.tables.remove(&name).is_none() && !if_exists {
                    return Err(StreamError::Validation(format!(
                        "Table with identifier 'default_catalog.default_database.{name}' does not \
                         exist."
                    )));
                }
                Ok(Outcome::Ok)
            }
            // Flink lists views among the tables.
            ("SHOW", "TABLES", _) => Ok(Outcome::Rows(strings(
                &["table name"],
                self.tables
                    .keys()
                    .chain(self.views.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|k| vec![Some(k.clone())])
                    .collect(),
            )?)),
            ("SHOW", "CATALOGS", _) => Ok(Outcome::Rows(strings(
                &["catalog name"],
                vec![vec![Some("default_catalog".into())]],
            )?)),
            ("SHOW", "DATABASES", _) => Ok(Outcome::Rows(strings(
                &["database name"],
                vec![vec![Some("default_database".into())]],
            )?)),
            ("SHOW", "CURRENT", "CATALOG") => Ok(Outcome::Rows(strings(
                &["current catalog name"],
                vec![vec![Some("default_catalog".into())]],
            )?)),
            ("SHOW", "CURRENT", "DATABASE") => Ok(Outcome::Rows(strings(
                &["current database name"],
                vec![vec![Some("default_database".into())]],
            )?)),
            ("SHOW", "JOBS", _) => self.show_jobs(),
            ("STOP", "JOB", _) => {
                let id = quoted_arg(sql).ok_or_else(|| {
                    StreamError::Validation("STOP JOB needs a job id in quotes".into())
                })?;
                let drain = tokens_of(sql)?
                    .iter()
                    .any(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("DRAIN")));
                self.engine.stop_job(&id, drain).await?;
                Ok(Outcome::Ok)
            }
            ("SET", "", _) => Ok(Outcome::Rows(strings(
                &["key", "value"],
                self.config
                    .iter()
                    .map(|(k, v)| vec![Some(k.clone()), Some(v.clone())])
                    .collect(),
            )?)),
            ("SET", _, _) => {
                let (k, v) = set_pair(sql)?;
                self.config.insert(k, v);
                Ok(Outcome::Ok)
            }
            ("RESET", "", _) => {
                self.config.clear();
                Ok(Outcome::Ok)
            }
            ("RESET", _, _) => {
                if let Some(k) = quoted_arg(sql) {
                    self.config.remove(&k);
                }
                Ok(Outcome::Ok)
            }
            ("DESCRIBE" | "DESC", _, _) => self.describe(&raw_name(sql)),
            ("INSERT", "INTO", _) => {
                let (id, _) = self
                    .engine
                    .submit(sql, &self.tables, &self.views, &self.config)
                    .await?;
                Ok(Outcome::Job(id))
            }
            ("EXECUTE", "INSERT", _) => {
                let inner = sql[sql.to_ascii_uppercase().find("INSERT").unwrap_or(0)..].to_string();
                let (id, _) = self
                    .engine
                    .submit(&inner, &self.tables, &self.views, &self.config)
                    .await?;
                Ok(Outcome::Job(id))
            }
            ("EXPLAIN", _, _) => {
                let inner = explained(sql)?;
                let text = self
                    .engine
                    .explain(&inner, &self.tables, &self.views)
                    .await?;
                Ok(Outcome::Rows(strings(&["result"], vec![vec![Some(text)]])?))
            }
            ("USE", _, _) => Ok(Outcome::Ok),
            ("SELECT" | "WITH", _, _) => {
                let (job, rows) = self
                    .engine
                    .submit(sql, &self.tables, &self.views, &self.config)
                    .await?;
                let rows = rows.ok_or_else(|| {
                    StreamError::Unsupported("The query did not get a collector".into())
                })?;
                Ok(Outcome::Query { job, rows })
            }
            _ => Err(StreamError::Unsupported(format!(
                "Unsupported statement: {}",
                sql.chars().take(60).collect::<String>()
            ))),
        }
    }

    async fn run_set(&self, set: &[String]) -> Result<Outcome> {
        let (id, _) = self
            .engine
            .submit_set(set, &self.tables, &self.views, &self.config)
            .await?;
        Ok(Outcome::Job(id))
    }

    /// `CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(columns)] AS query`: kept as its query
    /// (under the columns' names), checked by planning it as Flink does.
    async fn create_view(&mut self, sql: &str) -> Result<Outcome> {
        let tokens = Tokenizer::new(&GenericDialect {}, sql)
            .tokenize()
            .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
        let is = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
        let view_at = tokens
            .iter()
            .position(|t| is(t, "VIEW"))
            .ok_or_else(|| StreamError::Validation("Expected CREATE VIEW".into()))?;
        let mut i = view_at + 1;
        let next = |i: &mut usize| {
            while matches!(tokens.get(*i), Some(Token::Whitespace(_))) {
                *i += 1;
            }
            tokens.get(*i)
        };
        let mut if_not_exists = false;
        if next(&mut i).is_some_and(|t| is(t, "IF")) {
            i += 1;
            next(&mut i);
            i += 1;
            next(&mut i);
            i += 1;
            if_not_exists = true;
        }
        // The name (its last part), then optional columns, then AS.
        let mut name = String::new();
        while let Some(t) = next(&mut i) {
            match t {
                Token::Word(w) if !is(t, "AS") => name = w.value.clone(),
                Token::Period => {}
                _ => break,
            }
            i += 1;
        }
        let mut columns = Vec::new();
        if next(&mut i) == Some(&Token::LParen) {
            i += 1;
            while let Some(t) = next(&mut i) {
                i += 1;
                match t {
                    Token::Word(w) => columns.push(crate::plan::quote(&w.value)),
                    Token::RParen => break,
                    _ => {}
                }
            }
        }
        if !next(&mut i).is_some_and(|t| is(t, "AS")) || name.is_empty() {
            return Err(StreamError::Validation(
                "Expected CREATE VIEW name [(columns)] AS query".into(),
            ));
        }
        let query: String = tokens[i + 1..].iter().map(crate::sql::token_sql).collect();
        let query = if columns.is_empty() {
            query
        } else {
            format!(
                "SELECT * FROM ({query}) AS {}({})",
                crate::plan::quote(&name),
                columns.join(", ")
            )
        };
        if self.tables.contains_key(&name) || self.views.contains_key(&name) {
            if if_not_exists {
                return Ok(Outcome::Ok);
            }
            return Err(StreamError::Validation(format!(
                "Could not execute CreateView in path \
                 `default_catalog`.`default_database`.`{name}`\nTable (or view) \
                 default_database.{name} already exists in Catalog default_catalog."
            )));
        }
        let mut views = self.views.clone();
        views.insert(name.clone(), query.trim().to_string());
        self.engine
            .explain(
                &format!("SELECT * FROM {}", crate::plan::quote(&name)),
                &self.tables,
                &views,
            )
            .await?;
        self.views = views;
        Ok(Outcome::Ok)
    }

    fn show_jobs(&self) -> Result<Outcome> {
        let jobs = self.engine.jobs();
        let schema = Arc::new(Schema::new(vec![
            Field::new("job id", DataType::Utf8, false),
            Field::new("job name", DataType::Utf8, false),
            Field::new("status", DataType::Utf8, false),
            Field::new(
                "start time",
                DataType::Timestamp(TimeUnit::Millisecond, Some(Arc::from(crate::types::LTZ))),
                false,
            ),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                jobs.iter().map(|j| &j.spec.id),
            )),
            Arc::new(StringArray::from_iter_values(
                jobs.iter().map(|j| &j.spec.name),
            )),
            Arc::new(StringArray::from_iter_values(
                jobs.iter().map(|j| j.spec.state.as_str()),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(jobs.iter().map(|j| j.spec.start_ms))
                    .with_timezone(crate::types::LTZ),
            ),
        ];
        Ok(Outcome::Rows(RecordBatch::try_new(schema, cols)?))
    }

    fn describe(&self, name: &str) -> Result<Outcome> {
        let t = self.tables.get(name).ok_or_else(|| {
            StreamError::Validation(format!(
                "Tables or views with the identifier 'default_catalog.default_database.{name}' \
                 doesn't exist."
            ))
        })?;
        let mut rows = Vec::new();
        for c in &t.flink.columns {
            let (ty, null, extras) = match c {
                Column::Physical {
                    name,
                    not_null,
                    metadata,
                    ..
                } => {
                    let ty = t
                        .decoded
                        .field_with_name(name)
                        .map(|f| flink_type_name(f.data_type()))
                        .unwrap_or_default();
                    let extras = metadata.as_ref().map(|m| format!("METADATA FROM '{m}'"));
                    (ty, !not_null, extras)
                }
                Column::Computed { expr, .. } => (String::new(), true, Some(format!("AS {expr}"))),
            };
            let is_pk = t.flink.primary_key.iter().any(|k| k == c.name());
            let wm = t
                .flink
                .watermark
                .as_ref()
                .filter(|w| w.column == c.name())
                .map(|w| w.expr.clone());
            rows.push(vec![
                Some(c.name().to_string()),
                Some(ty),
                Some(if null && !is_pk { "TRUE" } else { "FALSE" }.to_string()),
                is_pk.then(|| format!("PRI({})", t.flink.primary_key.join(", "))),
                extras,
                wm,
            ]);
        }
        Ok(Outcome::Rows(strings(
            &["name", "type", "null", "key", "extras", "watermark"],
            rows,
        )?))
    }
}

/// A table of strings.
fn strings(names: &[&str], rows: Vec<Vec<Option<String>>>) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let cols: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            Arc::new(
                rows.iter()
                    .map(|r| r.get(i).cloned().flatten())
                    .collect::<StringArray>(),
            ) as ArrayRef
        })
        .collect();
    Ok(RecordBatch::try_new(schema, cols)?)
}

fn tokens_of(sql: &str) -> Result<Vec<Token>> {
    Ok(Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect())
}

/// The statement's leading keywords, upper-cased (comments skipped).
fn words(sql: &str) -> Result<Vec<String>> {
    Ok(tokens_of(sql)?
        .into_iter()
        .take(6)
        .map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            other => other.to_string(),
        })
        .collect())
}

/// The last identifier of the statement (`DESCRIBE t`, `DROP TABLE IF EXISTS a.b.t`).
fn raw_name(sql: &str) -> String {
    tokens_of(sql)
        .ok()
        .and_then(|t| {
            t.into_iter().rev().find_map(|t| match t {
                Token::Word(w) => Some(w.value),
                _ => None,
            })
        })
        .unwrap_or_default()
}

/// The first quoted string of a statement (`STOP JOB '...'`, `RESET 'k'`).
fn quoted_arg(sql: &str) -> Option<String> {
    tokens_of(sql).ok()?.into_iter().find_map(|t| match t {
        Token::SingleQuotedString(s) => Some(s),
        _ => None,
    })
}

/// The `INSERT INTO` statements of `EXECUTE STATEMENT SET BEGIN ...; ...; END`.
fn set_statements(sql: &str) -> Result<Vec<String>> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    let is = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let begin = tokens.iter().position(|t| is(t, "BEGIN"));
    let end = tokens.iter().rposition(|t| is(t, "END"));
    let (Some(begin), Some(end)) = (begin, end) else {
        return Err(StreamError::Validation(
            "Expected EXECUTE STATEMENT SET BEGIN ... END".into(),
        ));
    };
    let mut out = Vec::new();
    for part in tokens[begin + 1..end.max(begin + 1)].split(|t| *t == Token::SemiColon) {
        let text: String = part.iter().map(crate::sql::token_sql).collect();
        if !text.trim().is_empty() {
            out.push(text.trim().to_string());
        }
    }
    if out.is_empty() {
        return Err(StreamError::Validation("The statement set is empty".into()));
    }
    Ok(out)
}

/// The statement `EXPLAIN [PLAN FOR] [detail, ...] statement` explains (Flink's details —
/// ESTIMATED_COST, CHANGELOG_MODE, PLAN_ADVICE, JSON_EXECUTION_PLAN — are accepted; the text is
/// the same).
fn explained(sql: &str) -> Result<String> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    const SKIPPED: [&str; 7] = [
        "EXPLAIN",
        "PLAN",
        "FOR",
        "ESTIMATED_COST",
        "CHANGELOG_MODE",
        "PLAN_ADVICE",
        "JSON_EXECUTION_PLAN",
    ];
    let start = tokens
        .iter()
        .position(|t| match t {
            Token::Whitespace(_) | Token::Comma => false,
            Token::Word(w) if w.quote_style.is_none() => {
                !SKIPPED.iter().any(|k| w.value.eq_ignore_ascii_case(k))
            }
            _ => true,
        })
        .ok_or_else(|| StreamError::Validation("EXPLAIN needs a statement".into()))?;
    let inner: String = tokens[start..].iter().map(crate::sql::token_sql).collect();
    match words(&inner)?.first().map(String::as_str) {
        Some("INSERT" | "SELECT" | "WITH") => Ok(inner),
        _ => Err(StreamError::Unsupported(
            "EXPLAIN explains INSERT INTO and SELECT statements".into(),
        )),
    }
}

/// `SET 'key' = 'value'` (quotes optional, as in older Flink).
fn set_pair(sql: &str) -> Result<(String, String)> {
    // The tokens after SET (comments skipped).
    let tokens: Vec<Token> = tokens_of(sql)?.into_iter().skip(1).collect();
    let parts: Vec<String> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(Whitespace::Space)))
        .map(|t| match t {
            Token::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let eq = parts
        .iter()
        .position(|p| p == "=")
        .ok_or_else(|| StreamError::Validation(format!("SET needs 'key' = 'value': {sql}")))?;
    Ok((parts[..eq].concat(), parts[eq + 1..].concat()))
}
