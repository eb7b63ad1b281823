//! EXPLAIN as Athena (Trino) answers it. `EXPLAIN [(TYPE LOGICAL | DISTRIBUTED | VALIDATE | IO,
//! FORMAT TEXT | JSON)] q`: the plan Weir will run, drawn with Trino's operator names and layout
//! (DISTRIBUTED, the default, as one `Fragment 0 [SINGLE]`), in one varchar column `Query Plan`
//! with a row per line; VALIDATE answers `Valid` = true once the query plans; IO lists the tables
//! read with their column constraints as Trino's JSON. `EXPLAIN ANALYZE q` runs the query and
//! answers DataFusion's plan with its run-time metrics.

mod io;
mod text;
mod tree;

use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use crate::words::Words;

/// What the EXPLAIN asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Logical,
    Distributed,
    Validate,
    Io,
    /// Run the statement and show the executed plan with its metrics.
    Analyze,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Text,
    Json,
}

/// A parsed EXPLAIN: its options and the statement explained.
#[derive(Debug, PartialEq)]
pub struct Explain {
    pub kind: Kind,
    pub format: Format,
    pub statement: String,
}

fn plan_err(m: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(m.into())
}

/// Reads Trino's EXPLAIN options. As in Trino, the first TYPE and the first FORMAT given count,
/// TYPE IO answers JSON, and VALIDATE answers whatever the FORMAT.
pub fn translate(sql: &str) -> Result<Explain> {
    let mut w = Words::new(sql).map_err(plan_err)?;
    w.expect("explain").map_err(plan_err)?;
    let analyze = w.keyword("analyze");
    if analyze {
        w.keyword("verbose");
    }
    let mut kind = None;
    let mut format = None;
    let after = w.rest().trim_start();
    let query_in_parens = after.strip_prefix('(').is_some_and(|r| {
        let first = r.split_whitespace().next().unwrap_or("");
        ["select", "with", "values", "("]
            .iter()
            .any(|k| first.to_ascii_lowercase().starts_with(k))
    });
    if after.starts_with('(') && !query_in_parens {
        let options = w.paren_text().map_err(plan_err)?;
        for option in options.split(',') {
            let parts: Vec<String> = option
                .split_whitespace()
                .map(|p| p.to_ascii_uppercase())
                .collect();
            let unsupported = || {
                DataFusionError::NotImplemented(format!(
                    "EXPLAIN option '{}' (Weir explains with TYPE LOGICAL, DISTRIBUTED, VALIDATE or IO, FORMAT TEXT or JSON)",
                    option.trim()
                ))
            };
            match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["TYPE", t] if !analyze => {
                    let k = match t {
                        "LOGICAL" => Kind::Logical,
                        "DISTRIBUTED" => Kind::Distributed,
                        "VALIDATE" => Kind::Validate,
                        "IO" => Kind::Io,
                        _ => return Err(unsupported()),
                    };
                    kind.get_or_insert(k);
                }
                ["TYPE", _] => {
                    return Err(plan_err(
                        "EXPLAIN ANALYZE only supports TYPE DISTRIBUTED option",
                    ))
                }
                ["FORMAT", "TEXT"] => {
                    format.get_or_insert(Format::Text);
                }
                ["FORMAT", "JSON"] if !analyze => {
                    format.get_or_insert(Format::Json);
                }
                _ => return Err(unsupported()),
            }
        }
    }
    let kind = if analyze {
        Kind::Analyze
    } else {
        kind.unwrap_or(Kind::Distributed)
    };
    let format = match (kind, format) {
        (Kind::Io, _) => Format::Json,
        (_, f) => f.unwrap_or(Format::Text),
    };
    Ok(Explain {
        kind,
        format,
        statement: w.rest().trim().to_string(),
    })
}

/// One varchar column named `name`, a row per line of `text`.
fn text_rows(name: &str, text: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, true)]));
    let lines: Vec<&str> = text.split('\n').collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(lines))])?;
    Ok((schema, vec![batch]))
}

/// The answer to an EXPLAIN that does not run its statement.
pub async fn answer(ctx: &SessionContext, e: &Explain) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let plan = crate::trino::logical_plan(ctx, &e.statement).await?;
    let plan = ctx.state().optimize(&plan)?;
    let db = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_schema
        .clone();
    match (e.kind, e.format) {
        (Kind::Validate, _) => {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "Valid",
                DataType::Boolean,
                true,
            )]));
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(BooleanArray::from(vec![true]))],
            )?;
            Ok((schema, vec![batch]))
        }
        (Kind::Io, _) => text_rows("Query Plan", &io::jackson_pretty(&io::io_plan(&plan, &db))),
        (Kind::Logical, Format::Text) => {
            text_rows("Query Plan", &tree::logical_text(&tree::output(&plan, &db)))
        }
        (Kind::Distributed, Format::Text) | (Kind::Analyze, _) => text_rows(
            "Query Plan",
            &tree::distributed_text(&tree::output(&plan, &db)),
        ),
        (Kind::Logical, Format::Json) => {
            let root = tree::json(tree::output(&plan, &db), &mut 0);
            text_rows("Query Plan", &io::jackson_pretty(&root))
        }
        (Kind::Distributed, Format::Json) => {
            let root = tree::json(tree::output(&plan, &db), &mut 0);
            let fragments = std::collections::BTreeMap::from([("0", root)]);
            text_rows("Query Plan", &io::jackson_pretty(&fragments))
        }
    }
}

/// `EXPLAIN ANALYZE`'s answer: DataFusion's (plan_type, plan) rows → one row per line of the
/// executed plan with its metrics.
pub fn analyzed(batches: &[RecordBatch]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut out: Vec<String> = Vec::new();
    for b in batches {
        if b.num_columns() < 2 {
            continue;
        }
        let types = cast(b.column(0), &DataType::Utf8)?;
        let plans = cast(b.column(1), &DataType::Utf8)?;
        let (Some(types), Some(plans)) = (
            types.as_any().downcast_ref::<StringArray>(),
            plans.as_any().downcast_ref::<StringArray>(),
        ) else {
            continue;
        };
        for row in 0..b.num_rows() {
            if types.is_valid(row)
                && types.value(row).starts_with("Plan with")
                && plans.is_valid(row)
            {
                out.extend(
                    plans
                        .value(row)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string),
                );
            }
        }
    }
    text_rows("Query Plan", &out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trino_options_are_read() {
        let t = |s: &str| translate(s).map(|e| (e.kind, e.format, e.statement));
        let select = || "SELECT 1".to_string();
        assert_eq!(
            t("EXPLAIN SELECT 1").ok(),
            Some((Kind::Distributed, Format::Text, select()))
        );
        assert_eq!(
            t("explain (type logical, format text) SELECT 1").ok(),
            Some((Kind::Logical, Format::Text, select()))
        );
        assert_eq!(
            t("EXPLAIN (TYPE IO, FORMAT TEXT) SELECT 1").ok(),
            Some((Kind::Io, Format::Json, select()))
        );
        assert_eq!(
            t("EXPLAIN (TYPE VALIDATE, TYPE LOGICAL) SELECT 1").ok(),
            Some((Kind::Validate, Format::Text, select()))
        );
        assert_eq!(
            t("EXPLAIN ANALYZE VERBOSE SELECT 1").ok(),
            Some((Kind::Analyze, Format::Text, select()))
        );
        assert!(t("EXPLAIN (FORMAT GRAPHVIZ) SELECT 1").is_err());
        assert!(t("EXPLAIN ANALYZE (TYPE LOGICAL) SELECT 1").is_err());
        assert_eq!(
            t("EXPLAIN (SELECT 1)").ok(),
            Some((Kind::Distributed, Format::Text, "(SELECT 1)".to_string()))
        );
    }
}
