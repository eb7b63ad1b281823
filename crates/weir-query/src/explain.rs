//! EXPLAIN as Athena answers it: one varchar column, `Query Plan`, a row per line of the plan.
//! Trino's options are read (`EXPLAIN (TYPE LOGICAL | DISTRIBUTED, FORMAT TEXT) q`, and
//! `EXPLAIN ANALYZE q`); the plan itself is DataFusion's (logical for TYPE LOGICAL, physical
//! otherwise, with run-time metrics for ANALYZE), since that is the engine that runs it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};

use crate::words::Words;

/// Which of DataFusion's EXPLAIN rows become the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Logical,
    Physical,
    Analyze,
}

fn plan_err(m: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(m.into())
}

/// Trino's EXPLAIN statement → the DataFusion statement to run and the rows to keep.
pub fn translate(sql: &str) -> Result<(String, Kind)> {
    let mut w = Words::new(sql).map_err(plan_err)?;
    w.expect("explain").map_err(plan_err)?;
    if w.keyword("analyze") {
        w.keyword("verbose");
        return Ok((format!("EXPLAIN ANALYZE {}", w.rest()), Kind::Analyze));
    }
    let mut kind = Kind::Physical;
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
            match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["TYPE", "LOGICAL"] => kind = Kind::Logical,
                ["TYPE", "DISTRIBUTED"] => kind = Kind::Physical,
                ["FORMAT", "TEXT"] => {}
                _ => {
                    return Err(DataFusionError::NotImplemented(format!(
                        "EXPLAIN option '{}' (Weir explains with TYPE LOGICAL or DISTRIBUTED, FORMAT TEXT)",
                        option.trim()
                    )))
                }
            }
        }
    }
    Ok((format!("EXPLAIN {}", w.rest()), kind))
}

/// The `Query Plan` column.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "Query Plan",
        DataType::Utf8,
        true,
    )]))
}

/// DataFusion's (plan_type, plan) rows → one row per line of the chosen plan.
pub fn lines(batches: &[RecordBatch], kind: Kind) -> Result<Vec<RecordBatch>> {
    let wanted = |t: &str| match kind {
        Kind::Logical => t == "logical_plan",
        Kind::Physical => t == "physical_plan",
        Kind::Analyze => t.starts_with("Plan with"),
    };
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
            if types.is_valid(row) && wanted(types.value(row)) && plans.is_valid(row) {
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
    Ok(vec![RecordBatch::try_new(
        schema(),
        vec![Arc::new(StringArray::from(out))],
    )?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trino_options_are_read() {
        let t = |s: &str| translate(s).map_err(|e| e.to_string());
        assert_eq!(
            t("EXPLAIN SELECT 1"),
            Ok(("EXPLAIN SELECT 1".into(), Kind::Physical))
        );
        assert_eq!(
            t("explain (type logical, format text) SELECT 1"),
            Ok(("EXPLAIN SELECT 1".into(), Kind::Logical))
        );
        assert_eq!(
            t("EXPLAIN ANALYZE SELECT 1"),
            Ok(("EXPLAIN ANALYZE SELECT 1".into(), Kind::Analyze))
        );
        assert!(t("EXPLAIN (FORMAT GRAPHVIZ) SELECT 1").is_err());
        assert_eq!(
            t("EXPLAIN (SELECT 1)"),
            Ok(("EXPLAIN (SELECT 1)".into(), Kind::Physical))
        );
    }
}
