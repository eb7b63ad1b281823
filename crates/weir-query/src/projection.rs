//! Athena's partition projection: a table with `projection.enabled=true` has its partitions
//! computed from table properties instead of read from the catalog — `enum` (values), `integer`
//! (range, interval, digits), `date` (range with `NOW[±n UNIT]`, format, interval, unit) and
//! `injected` (values from the query's equality filters) — and located by
//! `storage.location.template` (`${col}`) or `col=value/` under the table's location.
//! Candidates are pruned column by column, then together, each pass one vectorised evaluation.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{FieldRef, Schema};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{lit, BinaryExpr, Expr, Operator};
use datafusion::physical_expr::create_physical_expr;
use datafusion::physical_expr::execution_props::ExecutionProps;

use crate::functions::datetime::joda_to_chrono;

/// Athena's limit on the partitions one query may project.
pub const MAX_PROJECTED: usize = 1_000_000;

fn user(msg: String) -> DataFusionError {
    DataFusionError::Plan(msg)
}

/// Which of `rows` (partition values, one per field) pass `filters`.
pub fn prune(
    fields: &[FieldRef],
    rows: &[Vec<ScalarValue>],
    filters: &[Expr],
) -> Result<Vec<bool>> {
    if filters.is_empty() || rows.is_empty() {
        return Ok(vec![true; rows.len()]);
    }
    let schema = Arc::new(Schema::new(fields.to_vec()));
    let columns = (0..fields.len())
        .map(|c| ScalarValue::iter_to_array(rows.iter().map(|r| r[c].clone())))
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let filter = conjunction(filters.iter().cloned()).unwrap_or_else(|| lit(true));
    let expr = create_physical_expr(
        &filter,
        &df_schema,
        &ExecutionProps::new(),
        &PhysicalPlanningContext::default(),
    )?;
    let out = expr.evaluate(&batch)?.into_array(rows.len())?;
    let b = out.as_boolean();
    Ok((0..rows.len())
        .map(|i| b.is_valid(i) && b.value(i))
        .collect())
}

/// The text values a projected column may take.
fn column_values(
    props: &BTreeMap<String, String>,
    col: &str,
    filters: &[Expr],
) -> Result<Vec<String>> {
    let p = |k: &str| {
        props
            .get(&format!("projection.{col}.{k}"))
            .map(|s| s.trim())
    };
    let kind = p("type").ok_or_else(|| {
        user(format!("HIVE_INVALID_METADATA: Column projection for column '{col}' failed. Missing required property: 'projection.{col}.type'"))
    })?;
    match kind.to_ascii_lowercase().as_str() {
        "enum" => Ok(p("values")
            .unwrap_or_default()
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()),
        "integer" => {
            let range = p("range").unwrap_or_default();
            let (a, b) = range.split_once(',').ok_or_else(|| {
                user(format!("HIVE_INVALID_METADATA: projection.{col}.range must be 'min,max', not '{range}'"))
            })?;
            let (a, b): (i64, i64) = (
                a.trim()
                    .parse()
                    .map_err(|_| user(format!("bad range {range}")))?,
                b.trim()
                    .parse()
                    .map_err(|_| user(format!("bad range {range}")))?,
            );
            let step: i64 = p("interval")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
                .max(1);
            let digits: usize = p("digits").and_then(|s| s.parse().ok()).unwrap_or(0);
            let n = b
                .checked_sub(a)
                .map_or(usize::MAX, |d| (d / step + 1).max(0) as usize);
            if n > MAX_PROJECTED {
                return Err(too_many());
            }
            Ok((0..n)
                .map(|i| format!("{:0digits$}", a + i as i64 * step))
                .collect())
        }
        "date" => date_values(
            col,
            p("range"),
            p("format"),
            p("interval"),
            p("interval.unit"),
        ),
        "injected" => injected(col, filters),
        other => Err(user(format!(
            "HIVE_INVALID_METADATA: Unsupported projection type '{other}' for column '{col}'"
        ))),
    }
}

fn too_many() -> DataFusionError {
    user(format!("HIVE_EXCEEDED_PARTITION_LIMIT: Query over table would project more than {MAX_PROJECTED} partitions"))
}

/// `NOW`, `NOW-3YEARS`, `NOW+1DAYS`, or a date in `fmt`.
fn endpoint(text: &str, fmt: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("NOW").or_else(|| t.strip_prefix("now")) {
        if rest.is_empty() {
            return Some(now);
        }
        let sign = if rest.starts_with('-') { -1 } else { 1 };
        let body = rest.trim_start_matches(['+', '-']);
        let digits: String = body.chars().take_while(|c| c.is_ascii_digit()).collect();
        let n: i64 = digits.parse().ok()?;
        let unit = body[digits.len()..].trim().to_ascii_uppercase();
        return shift(now, unit.trim_end_matches('S'), n.checked_mul(sign)?);
    }
    crate::functions::datetime::parse_lenient(t, fmt)
}

/// `t` moved by `n` units (`YEAR`, `MONTH`, ..., `SECOND`), None when out of range.
fn shift(t: NaiveDateTime, unit: &str, n: i64) -> Option<NaiveDateTime> {
    crate::functions::datetime::add_unit(t, &unit.to_ascii_lowercase(), n)
}

fn date_values(
    col: &str,
    range: Option<&str>,
    format: Option<&str>,
    interval: Option<&str>,
    unit: Option<&str>,
) -> Result<Vec<String>> {
    let java = format.unwrap_or("yyyy-MM-dd");
    let fmt = joda_to_chrono(java);
    let range = range.unwrap_or_default();
    let (a, b) = range.split_once(',').ok_or_else(|| {
        user(format!(
            "HIVE_INVALID_METADATA: projection.{col}.range must be 'start,end', not '{range}'"
        ))
    })?;
    let now = Utc::now().naive_utc();
    let bad = || {
        user(format!("HIVE_INVALID_METADATA: projection.{col}.range '{range}' does not match the format '{java}'"))
    };
    let (start, end) = (
        endpoint(a, &fmt, now).ok_or_else(bad)?,
        endpoint(b, &fmt, now).ok_or_else(bad)?,
    );
    // The default unit is the format's finest field.
    let unit = unit
        .map(|u| u.trim().to_ascii_uppercase())
        .unwrap_or_else(|| {
            if java.contains('s') {
                "SECONDS"
            } else if java.contains('m') {
                "MINUTES"
            } else if java.contains('H') || java.contains('h') {
                "HOURS"
            } else if java.contains('d') {
                "DAYS"
            } else if java.contains('M') {
                "MONTHS"
            } else {
                "YEARS"
            }
            .to_string()
        });
    let step: i64 = interval
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut out = Vec::new();
    let mut t = start;
    let mut i = 0i64;
    while t <= end {
        let mut text = String::new();
        {
            use std::fmt::Write as _;
            write!(text, "{}", t.format(&fmt)).map_err(|_| {
                user(format!(
                    "HIVE_INVALID_METADATA: projection.{col}.format '{java}' cannot print dates"
                ))
            })?;
        }
        out.push(text);
        if out.len() > MAX_PROJECTED {
            return Err(too_many());
        }
        i += 1;
        t = shift(start, unit.trim_end_matches('S'), i * step)
            .ok_or_else(|| user(format!("HIVE_INVALID_METADATA: bad interval unit '{unit}'")))?;
    }
    Ok(out)
}

/// The values an injected column is constrained to by `col = 'v'` / `col IN (...)` filters.
fn injected(col: &str, filters: &[Expr]) -> Result<Vec<String>> {
    fn literal(e: &Expr) -> Option<String> {
        match e {
            Expr::Literal(v, _) if !v.is_null() => Some(match v {
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
                other => other.to_string(),
            }),
            Expr::Cast(c) => literal(&c.expr),
            _ => None,
        }
    }
    fn is_col(e: &Expr, col: &str) -> bool {
        match e {
            Expr::Column(c) => c.name == col,
            Expr::Cast(c) => is_col(&c.expr, col),
            _ => false,
        }
    }
    let mut found: Option<Vec<String>> = None;
    for f in filters {
        let values = match f {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => {
                if is_col(left, col) {
                    literal(right).map(|v| vec![v])
                } else if is_col(right, col) {
                    literal(left).map(|v| vec![v])
                } else {
                    None
                }
            }
            Expr::InList(l) if !l.negated && is_col(&l.expr, col) => {
                l.list.iter().map(literal).collect::<Option<Vec<_>>>()
            }
            _ => None,
        };
        if let Some(v) = values {
            found = Some(match found {
                None => v,
                Some(prev) => prev.into_iter().filter(|x| v.contains(x)).collect(),
            });
        }
    }
    found.ok_or_else(|| {
        user(format!("CONSTRAINT_VIOLATION: For the injected projected partition column {col}, the WHERE clause must contain only static equality conditions, and at least one such condition must be present."))
    })
}

/// Whether a table's partitions are projected.
pub fn enabled(props: &BTreeMap<String, String>) -> bool {
    props
        .get("projection.enabled")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The projected partitions that pass `filters`: (typed values, location).
pub fn partitions(
    props: &BTreeMap<String, String>,
    fields: &[FieldRef],
    table_location: &str,
    filters: &[Expr],
) -> Result<Vec<(Vec<ScalarValue>, String)>> {
    let typed = |f: &FieldRef, v: &str| {
        ScalarValue::try_from_string(v.to_string(), f.data_type())
            .or_else(|_| ScalarValue::try_from(f.data_type()))
    };
    // Each column's values, pruned by the filters on that column alone.
    let mut per_column: Vec<Vec<(String, ScalarValue)>> = Vec::new();
    for f in fields {
        let texts = column_values(props, f.name(), filters)?;
        let values = texts
            .iter()
            .map(|t| typed(f, t))
            .collect::<Result<Vec<_>>>()?;
        let own: Vec<Expr> = filters
            .iter()
            .filter(|e| expr_applicable_for_cols(&[f.name().as_str()], e))
            .cloned()
            .collect();
        let rows: Vec<Vec<ScalarValue>> = values.iter().map(|v| vec![v.clone()]).collect();
        let keep = prune(std::slice::from_ref(f), &rows, &own)?;
        per_column.push(
            texts
                .into_iter()
                .zip(values)
                .zip(keep)
                .filter_map(|(tv, k)| k.then_some(tv))
                .collect(),
        );
    }
    let total = per_column
        .iter()
        .try_fold(1usize, |acc, c| acc.checked_mul(c.len()));
    if total.is_none_or(|t| t > MAX_PROJECTED) {
        return Err(too_many());
    }
    // The cartesian product, then every filter at once.
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for col in &per_column {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..col.len()).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    let rows: Vec<Vec<ScalarValue>> = combos
        .iter()
        .map(|c| {
            c.iter()
                .enumerate()
                .map(|(j, &i)| per_column[j][i].1.clone())
                .collect()
        })
        .collect();
    let keep = prune(fields, &rows, filters)?;
    let template = props.get("storage.location.template");
    let mut out = Vec::new();
    for ((c, values), k) in combos.iter().zip(rows).zip(keep) {
        if !k {
            continue;
        }
        let texts: Vec<&str> = c
            .iter()
            .enumerate()
            .map(|(j, &i)| per_column[j][i].0.as_str())
            .collect();
        let loc = match template {
            Some(t) => {
                let mut l = t.clone();
                for (f, v) in fields.iter().zip(&texts) {
                    l = l.replace(&format!("${{{}}}", f.name()), v);
                }
                if !l.ends_with('/') {
                    l.push('/');
                }
                l
            }
            None => {
                let mut l = table_location.trim_end_matches('/').to_string();
                for (f, v) in fields.iter().zip(&texts) {
                    l.push_str(&format!("/{}={v}", f.name()));
                }
                l.push('/');
                l
            }
        };
        out.push((values, loc));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::logical_expr::col;

    fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn projects_and_prunes() {
        let p = props(&[
            ("projection.enabled", "true"),
            ("projection.dt.type", "date"),
            ("projection.dt.range", "2024-01-01,2024-12-31"),
            ("projection.dt.format", "yyyy-MM-dd"),
            ("projection.region.type", "enum"),
            ("projection.region.values", "eu,us"),
            ("projection.hour.type", "integer"),
            ("projection.hour.range", "0,23"),
            ("projection.hour.digits", "2"),
            (
                "storage.location.template",
                "s3://b/logs/${region}/${dt}/${hour}",
            ),
        ]);
        assert!(enabled(&p));
        let fields: Vec<FieldRef> = ["dt", "region", "hour"]
            .iter()
            .map(|n| Arc::new(Field::new(*n, DataType::Utf8, true)))
            .collect();
        let all = partitions(&p, &fields, "s3://b/t/", &[]).unwrap_or_default();
        assert_eq!(all.len(), 366 * 2 * 24);
        let one = partitions(
            &p,
            &fields,
            "s3://b/t/",
            &[
                col("dt").eq(lit("2024-07-01")),
                col("region").eq(lit("eu")),
                col("hour").eq(lit("05")),
            ],
        )
        .unwrap_or_default();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1, "s3://b/logs/eu/2024-07-01/05/");
    }

    #[test]
    fn injected_needs_equality_and_dates_take_now() {
        let p = props(&[
            ("projection.enabled", "true"),
            ("projection.id.type", "injected"),
        ]);
        let fields: Vec<FieldRef> = vec![Arc::new(Field::new("id", DataType::Utf8, true))];
        assert!(partitions(&p, &fields, "s3://b/t", &[]).is_err());
        let got =
            partitions(&p, &fields, "s3://b/t", &[col("id").eq(lit("x"))]).unwrap_or_default();
        assert_eq!(got[0].1, "s3://b/t/id=x/");
        let now = endpoint(
            "NOW-3DAYS",
            "%Y-%m-%d",
            chrono::NaiveDate::from_ymd_opt(2024, 3, 4)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default(),
        );
        assert_eq!(
            now.map(|d| d.format("%Y-%m-%d").to_string()).as_deref(),
            Some("2024-03-01")
        );
    }
}
