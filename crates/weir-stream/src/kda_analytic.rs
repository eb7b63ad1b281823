//! The stateful analytic functions behind KDA's RANDOM_CUT_FOREST,
//! RANDOM_CUT_FOREST_WITH_EXPLANATION and HOTSPOTS table functions (`sql::kda_cursor` writes
//! the calls). Each call site (its first argument, a literal the translator makes unique) keeps
//! its model for as long as the job's plan lives; rows are scored, then learned, in the order
//! they come. A restarted job starts a new model (AWS notes its models are reset now and
//! then too).
//! - `KDA_RANDOM_CUT_FOREST(site, trees, sample, decay, shingle, explain, directionality,
//!   'name1', col1, 'name2', col2, ...)` → ROW(ANOMALY_SCORE DOUBLE, ANOMALY_EXPLANATION VARCHAR)
//! - `KDA_HOTSPOTS(site, window, radius, min_points, 'name1', col1, ...)` → VARCHAR (JSON)
//!
//! Only numeric columns count (as the reference says); a NULL counts as 0.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, StringArray, StringBuilder, StructArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, plan_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use parking_lot::Mutex;

use crate::kda_rcf::{Forest, Params};

pub fn all() -> Vec<ScalarUDF> {
    [Kind::Rcf, Kind::Hotspots]
        .into_iter()
        .map(|kind| {
            ScalarUDF::new_from_impl(Analytic {
                kind,
                aliases: vec![kind.name().to_ascii_lowercase()],
                signature: Signature::variadic_any(Volatility::Volatile),
                state: Mutex::new(HashMap::new()),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Rcf,
    Hotspots,
}

enum Model {
    Forest(Box<Forest>),
    Hotspots(VecDeque<Vec<f64>>),
}

struct Analytic {
    kind: Kind,
    aliases: Vec<String>,
    signature: Signature,
    /// Models by call site.
    state: Mutex<HashMap<String, Model>>,
}

impl std::fmt::Debug for Analytic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytic")
            .field("kind", &self.kind)
            .finish()
    }
}

impl PartialEq for Analytic {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Analytic {}
impl std::hash::Hash for Analytic {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

/// The literal settings of a call: its site, numbers, and where the columns start.
struct Call {
    site: String,
    numbers: Vec<f64>,
    flags: Vec<bool>,
    first_column: usize,
}

fn number(v: Option<&ScalarValue>) -> Option<f64> {
    let v = v?;
    if v.is_null() || matches!(v, ScalarValue::Boolean(_)) {
        return None;
    }
    match v.cast_to(&DataType::Float64).ok()? {
        ScalarValue::Float64(Some(x)) => Some(x),
        _ => None,
    }
}

fn text(v: Option<&ScalarValue>) -> Option<String> {
    match v? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

impl Kind {
    /// The result fields after the row's columns.
    fn results(self) -> Vec<Field> {
        match self {
            Kind::Rcf => vec![
                Field::new("ANOMALY_SCORE", DataType::Float64, true),
                Field::new("ANOMALY_EXPLANATION", DataType::Utf8, true),
            ],
            Kind::Hotspots => vec![Field::new("HOTSPOTS_RESULT", DataType::Utf8, true)],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Rcf => "KDA_RANDOM_CUT_FOREST",
            Kind::Hotspots => "KDA_HOTSPOTS",
        }
    }

    fn call(self, args: &[Option<&ScalarValue>]) -> Result<Call> {
        let name = self.name();
        let (numbers, flags) = match self {
            Kind::Rcf => (4, 2),
            Kind::Hotspots => (3, 0),
        };
        let first_column = 1 + numbers + flags;
        let Some(site) = text(args.first().copied().flatten()) else {
            return plan_err!("{name}: the call site must be a literal");
        };
        let mut out = Call {
            site,
            numbers: Vec::new(),
            flags: Vec::new(),
            first_column,
        };
        for i in 1..=numbers {
            match number(args.get(i).copied().flatten()) {
                Some(x) => out.numbers.push(x),
                None => return plan_err!("{name}: argument {} must be a number", i + 1),
            }
        }
        for i in 1 + numbers..first_column {
            match args.get(i).copied().flatten() {
                Some(ScalarValue::Boolean(Some(b))) => out.flags.push(*b),
                _ => return plan_err!("{name}: argument {} must be TRUE or FALSE", i + 1),
            }
        }
        if args.len() <= first_column {
            return plan_err!(
                "{name}: the cursor has no columns (its stream is neither an input nor an \
                 in-application stream)"
            );
        }
        if !(args.len() - first_column).is_multiple_of(2) {
            return plan_err!("{name}: the columns come as 'name', column pairs");
        }
        Ok(out)
    }
}

fn check_range(what: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v.fract() != 0.0 || v < lo || v > hi {
        return plan_err!("{what} must be between {lo} and {hi}, not {v}");
    }
    Ok(())
}

impl Call {
    fn params(&self) -> Result<Params> {
        let [trees, sample, decay, shingle] = self.numbers[..] else {
            return plan_err!("RANDOM_CUT_FOREST takes four numbers");
        };
        check_range("numberOfTrees", trees, 1.0, 1000.0)?;
        check_range("subSampleSize", sample, 10.0, 1000.0)?;
        check_range("timeDecay", decay, 1.0, 2_147_483_647.0)?;
        check_range("shingleSize", shingle, 1.0, 30.0)?;
        if sample >= decay {
            return plan_err!("subSampleSize must be less than timeDecay");
        }
        Ok(Params {
            trees: trees as usize,
            sample: sample as usize,
            time_decay: decay,
            shingle: shingle as usize,
        })
    }
}

fn is_numeric(t: &DataType) -> bool {
    t.is_integer() || t.is_floating()
}

impl ScalarUDFImpl for Analytic {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("{} is typed from its arguments", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let call = self.kind.call(args.scalar_arguments)?;
        let numeric = args.arg_fields[call.first_column..]
            .iter()
            .skip(1)
            .step_by(2)
            .filter(|f| is_numeric(f.data_type()))
            .count();
        match self.kind {
            Kind::Rcf => {
                call.params()?;
                if numeric == 0 || numeric > 30 {
                    return plan_err!(
                        "RANDOM_CUT_FOREST reads 1 to 30 numeric columns (DOUBLE, REAL, FLOAT, \
                         INTEGER, BIGINT, SMALLINT, TINYINT), not {numeric}"
                    );
                }
            }
            Kind::Hotspots => {
                let [window, radius, min_points] = call.numbers[..] else {
                    return plan_err!("HOTSPOTS takes three numbers");
                };
                check_range("windowSize", window, 100.0, 1000.0)?;
                if radius.is_nan() || radius <= 0.0 {
                    return plan_err!("scanRadius must be above 0, not {radius}");
                }
                check_range("minimumNumberOfPointsInAHotspot", min_points, 2.0, window)?;
                if numeric == 0 {
                    return plan_err!("HOTSPOTS reads at least one numeric column");
                }
            }
        }
        // The row's columns come back beside the results, so every column read from the
        // call's output depends on the call (no filter moves below it).
        let mut fields: Vec<Field> = Vec::new();
        for (k, f) in args.arg_fields[call.first_column..]
            .iter()
            .enumerate()
            .skip(1)
            .step_by(2)
        {
            let name = text(
                args.scalar_arguments
                    .get(call.first_column + k - 1)
                    .copied()
                    .flatten(),
            )
            .unwrap_or_default();
            fields.push(Field::new(name, f.data_type().clone(), true));
        }
        fields.extend(self.kind.results());
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Struct(Fields::from(fields)),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let literals: Vec<Option<&ScalarValue>> = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let call = self.kind.call(&literals)?;
        // The numeric columns, by name.
        let mut names = Vec::new();
        let mut columns: Vec<Float64Array> = Vec::new();
        let mut passed: Vec<(Field, ArrayRef)> = Vec::new();
        for pair in args.args[call.first_column..].chunks(2) {
            let [name, column] = pair else {
                return exec_err!("{}: columns come in pairs", self.name());
            };
            let column = column.clone().into_array(rows)?;
            let field_name = match name {
                ColumnarValue::Scalar(s) => text(Some(s)).unwrap_or_default(),
                ColumnarValue::Array(_) => String::new(),
            };
            passed.push((
                Field::new(field_name, column.data_type().clone(), true),
                column.clone(),
            ));
            if !is_numeric(column.data_type()) {
                continue;
            }
            let name = match name {
                ColumnarValue::Scalar(s) => text(Some(s)).unwrap_or_default(),
                ColumnarValue::Array(_) => String::new(),
            };
            let values = cast(&column, &DataType::Float64)?;
            match values.as_any().downcast_ref::<Float64Array>() {
                Some(v) => columns.push(v.clone()),
                None => return exec_err!("{}: column {name} is not numeric", self.name()),
            }
            names.push(name);
        }
        let row = |i: usize| -> Vec<f64> {
            columns
                .iter()
                .map(|c| {
                    // NULL, NaN and infinities count as 0 (they have no place in a box).
                    let v = if c.is_valid(i) { c.value(i) } else { 0.0 };
                    if v.is_finite() {
                        v
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let mut state = self.state.lock();
        let out: Vec<ArrayRef> = match self.kind {
            Kind::Rcf => {
                let params = call.params()?;
                let (explain, directions) = (call.flags[0], call.flags[1]);
                let model = state.entry(call.site.clone()).or_insert_with(|| {
                    Model::Forest(Box::new(Forest::new(params, seed(&call.site))))
                });
                let Model::Forest(forest) = model else {
                    return exec_err!("{}: call site {} is not a forest", self.name(), call.site);
                };
                let mut scores = Float64Builder::with_capacity(rows);
                let mut texts = StringBuilder::new();
                for i in 0..rows {
                    let s = forest.update(&row(i));
                    scores.append_value(s.score);
                    if explain {
                        texts.append_value(explanation(&names, &s, directions));
                    } else {
                        texts.append_null();
                    }
                }
                vec![Arc::new(scores.finish()), Arc::new(texts.finish())]
            }
            Kind::Hotspots => {
                let [window, radius, min_points] = call.numbers[..] else {
                    return exec_err!("HOTSPOTS takes three numbers");
                };
                let model = state
                    .entry(call.site.clone())
                    .or_insert_with(|| Model::Hotspots(VecDeque::new()));
                let Model::Hotspots(recent) = model else {
                    return exec_err!("{}: call site {} is not HOTSPOTS", self.name(), call.site);
                };
                let mut out = Vec::with_capacity(rows);
                for i in 0..rows {
                    recent.push_back(row(i));
                    while recent.len() > window as usize {
                        recent.pop_front();
                    }
                    out.push(crate::kda_hotspots::hotspots_json(
                        recent.make_contiguous(),
                        radius,
                        min_points as usize,
                    ));
                }
                vec![Arc::new(StringArray::from(out))]
            }
        };
        let (mut fields, mut arrays): (Vec<Field>, Vec<ArrayRef>) = passed.into_iter().unzip();
        fields.extend(self.kind.results());
        arrays.extend(out);
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            Fields::from(fields),
            arrays,
            None,
        )?)))
    }
}

fn seed(site: &str) -> u64 {
    site.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `{"col":{"DIRECTION":"LOW","STRENGTH":"0.0922","ATTRIBUTION_SCORE":"0.3792"},...}`.
fn explanation(names: &[String], s: &crate::kda_rcf::Scored, directions: bool) -> String {
    let mut parts = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let (h, l) = (s.high[i], s.low[i]);
        let mut fields = Vec::new();
        if directions {
            let (lo, hi) = (h.min(l), h.max(l));
            let strength = if hi <= 0.0 {
                0.0
            } else if lo <= 0.0 {
                hi
            } else {
                (hi - lo) / lo
            };
            let direction = if h > l { "HIGH" } else { "LOW" };
            fields.push(format!("\"DIRECTION\":\"{direction}\""));
            fields.push(format!("\"STRENGTH\":\"{strength:.4}\""));
        }
        fields.push(format!("\"ATTRIBUTION_SCORE\":\"{:.4}\"", h + l));
        let key = serde_json::Value::String(name.clone()).to_string();
        parts.push(format!("{key}:{{{}}}", fields.join(",")));
    }
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Float64Array, StringArray};

    #[tokio::test]
    async fn scores_and_explanations_come_once_per_row() {
        let ctx = crate::plan::session();
        // 300 rows of (x, label): the last one far off. The model sees each row once, even
        // though the outer query reads both fields of the call.
        let rows: Vec<String> = (0..300)
            .map(|i| {
                let x = if i == 299 { 500 } else { 50 + (i * 37) % 20 };
                format!("({x}, 'r{i}')")
            })
            .collect();
        let sql = format!(
            "SELECT X, L, M.ANOMALY_SCORE AS S, M.ANOMALY_EXPLANATION AS E FROM (SELECT X, L, \
             KDA_RANDOM_CUT_FOREST('t#1', 50, 64, 100000, 1, TRUE, TRUE, 'X', X, 'L', L) AS M \
             FROM (VALUES {}) AS V(X, L)) WHERE M.ANOMALY_SCORE >= 0",
            rows.join(", ")
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let mut scores = Vec::new();
        let mut explanations = Vec::new();
        for b in &batches {
            let s = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
            let e = b.column(3).as_any().downcast_ref::<StringArray>().unwrap();
            scores.extend(s.iter().map(Option::unwrap));
            explanations.extend(e.iter().map(|v| v.unwrap().to_string()));
        }
        assert_eq!(scores.len(), 300);
        assert!(scores[..64].iter().all(|s| *s == 0.0), "{scores:?}");
        assert_eq!(
            explanations[0],
            r#"{"X":{"DIRECTION":"LOW","STRENGTH":"0.0000","ATTRIBUTION_SCORE":"0.0000"}}"#
        );
        let normal = scores[100..299].iter().sum::<f64>() / 199.0;
        assert!(scores[299] > 2.0 * normal, "{} vs {normal}", scores[299]);
        let last: serde_json::Value = serde_json::from_str(&explanations[299]).unwrap();
        assert_eq!(last["X"]["DIRECTION"], "HIGH", "{last}");
        let attribution: f64 = last["X"]["ATTRIBUTION_SCORE"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (attribution - scores[299]).abs() < 1e-3,
            "{attribution} vs {}",
            scores[299]
        );
    }

    #[tokio::test]
    async fn filters_on_passed_columns_stay_above_the_call() {
        let ctx = crate::plan::session();
        let sql = "EXPLAIN SELECT M.X AS X, M.ANOMALY_SCORE AS S FROM (SELECT \
                   KDA_RANDOM_CUT_FOREST('t#1', 50, 64, 100000, 1, FALSE, FALSE, 'X', X) AS M \
                   FROM (VALUES (1), (2)) AS V(X)) WHERE M.X > 1";
        let plan = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
            .unwrap()
            .to_string();
        let physical = &text[text.find("physical_plan").unwrap()..];
        let filter = physical.find("FilterExec").unwrap();
        let call = physical.find("KDA_RANDOM_CUT_FOREST").unwrap();
        assert!(filter < call, "{text}");
        assert_eq!(
            physical.matches("KDA_RANDOM_CUT_FOREST(").count(),
            1,
            "{text}"
        );
    }

    #[tokio::test]
    async fn parameters_are_checked_when_planned() {
        let ctx = crate::plan::session();
        for (sql, want) in [
            (
                "SELECT KDA_RANDOM_CUT_FOREST('t', 0, 256, 100000, 1, FALSE, FALSE, 'X', 1.0)",
                "numberOfTrees must be between 1 and 1000",
            ),
            (
                "SELECT KDA_RANDOM_CUT_FOREST('t', 100, 256, 100, 1, FALSE, FALSE, 'X', 1.0)",
                "subSampleSize must be less than timeDecay",
            ),
            (
                "SELECT KDA_RANDOM_CUT_FOREST('t', 100, 256, 100000, 1, FALSE, FALSE, 'X', 'a')",
                "1 to 30 numeric columns",
            ),
            (
                "SELECT KDA_HOTSPOTS('t', 50, 0.1, 5, 'X', 1.0)",
                "windowSize must be between 100 and 1000",
            ),
        ] {
            let e = ctx
                .sql(sql)
                .await
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want), "{sql}: {e}");
        }
    }
}
