//! Scalar functions of the Kinesis Data Analytics SQL reference that neither Flink nor Trino
//! has: `TSDIFF(t1, t2)` (milliseconds from t2 to t1), `CHAR_TO_TIMESTAMP(format, text)` and
//! `TIMESTAMP_TO_CHAR(format, time)` with Java SimpleDateFormat patterns (the letters
//! `weir_delivery::timefmt` reads), and `CHAR_TO_DATE(format, text)` / `CHAR_TO_TIME(format,
//! text)`. `TO_TIMESTAMP(ms)` and `UNIX_TIMESTAMP(t)` are rewritten by
//! the KDA translator (their names mean other things in Flink).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Int64Array, StringArray, Time32MillisecondArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use weir_delivery::timefmt::Pattern;

/// The three functions, to register in a session.
pub fn all() -> Vec<ScalarUDF> {
    [
        Kind::TsDiff,
        Kind::CharToTimestamp,
        Kind::TimestampToChar,
        Kind::CharToDate,
        Kind::CharToTime,
    ]
    .into_iter()
    .map(|kind| {
        ScalarUDF::new_from_impl(KdaFunction {
            kind,
            signature: Signature::one_of(vec![TypeSignature::Any(2)], Volatility::Immutable),
        })
    })
    .chain([ScalarUDF::new_from_impl(Monotonic {
        signature: Signature::any(1, Volatility::Immutable),
        aliases: vec!["monotonic".into()],
    })])
    .collect()
}

/// `MONOTONIC(x)`: declares that `x` only grows (KDA uses it to close GROUP BY windows); the
/// engine windows by ROWTIME, so it is `x` itself.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Monotonic {
    signature: Signature,
    aliases: Vec<String>,
}

impl ScalarUDFImpl for Monotonic {
    fn name(&self) -> &str {
        "MONOTONIC"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(t) => Ok(t.clone()),
            None => exec_err!("MONOTONIC takes one argument"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.into_iter().next() {
            Some(v) => Ok(v),
            None => exec_err!("MONOTONIC takes one argument"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    TsDiff,
    CharToTimestamp,
    TimestampToChar,
    CharToDate,
    CharToTime,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KdaFunction {
    kind: Kind,
    signature: Signature,
}

/// A column of epoch milliseconds from any timestamp (or text DataFusion casts).
fn millis(a: &ArrayRef) -> Result<Int64Array> {
    let t = cast(a, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let t = cast(&t, &DataType::Int64)?;
    match t.as_any().downcast_ref::<Int64Array>() {
        Some(v) => Ok(v.clone()),
        None => exec_err!("not a timestamp"),
    }
}

fn strings(a: &ArrayRef) -> Result<StringArray> {
    let s = cast(a, &DataType::Utf8)?;
    match s.as_any().downcast_ref::<StringArray>() {
        Some(v) => Ok(v.clone()),
        None => exec_err!("not a string"),
    }
}

/// Patterns by text, parsed once per batch (a format is nearly always a constant).
fn pattern<'a>(
    cache: &'a mut Option<(String, Pattern)>,
    text: &str,
    name: &str,
) -> Result<&'a Pattern> {
    if cache.as_ref().is_none_or(|(t, _)| t != text) {
        let p = match Pattern::parse(text) {
            Ok(p) => p,
            Err(e) => return exec_err!("{name}: format '{text}' is not valid: {e}"),
        };
        *cache = Some((text.to_string(), p));
    }
    match cache {
        Some((_, p)) => Ok(p),
        None => exec_err!("{name}: no format"),
    }
}

impl ScalarUDFImpl for KdaFunction {
    fn name(&self) -> &str {
        match self.kind {
            Kind::TsDiff => "TSDIFF",
            Kind::CharToTimestamp => "CHAR_TO_TIMESTAMP",
            Kind::TimestampToChar => "TIMESTAMP_TO_CHAR",
            Kind::CharToDate => "CHAR_TO_DATE",
            Kind::CharToTime => "CHAR_TO_TIME",
        }
    }

    fn aliases(&self) -> &[String] {
        static ALIASES: std::sync::OnceLock<[Vec<String>; 5]> = std::sync::OnceLock::new();
        let all = ALIASES.get_or_init(|| {
            [
                vec!["tsdiff".to_string()],
                vec!["char_to_timestamp".to_string()],
                vec!["timestamp_to_char".to_string()],
                vec!["char_to_date".to_string()],
                vec!["char_to_time".to_string()],
            ]
        });
        match self.kind {
            Kind::TsDiff => &all[0],
            Kind::CharToTimestamp => &all[1],
            Kind::TimestampToChar => &all[2],
            Kind::CharToDate => &all[3],
            Kind::CharToTime => &all[4],
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::TsDiff => DataType::Int64,
            Kind::CharToTimestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            Kind::TimestampToChar => DataType::Utf8,
            Kind::CharToDate => DataType::Date32,
            Kind::CharToTime => DataType::Time32(TimeUnit::Millisecond),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [a, b] = args.args.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let (a, b) = (a.clone().into_array(rows)?, b.clone().into_array(rows)?);
        let out: ArrayRef = match self.kind {
            Kind::TsDiff => {
                let (a, b) = (millis(&a)?, millis(&b)?);
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            (a.is_valid(i) && b.is_valid(i))
                                .then(|| a.value(i).checked_sub(b.value(i)))
                                .flatten()
                        })
                        .collect::<Int64Array>(),
                )
            }
            Kind::CharToTimestamp | Kind::CharToDate | Kind::CharToTime => {
                let (formats, texts) = (strings(&a)?, strings(&b)?);
                let mut cache = None;
                let mut out = Vec::with_capacity(rows);
                for i in 0..rows {
                    if formats.is_null(i) || texts.is_null(i) {
                        out.push(None);
                        continue;
                    }
                    let p = pattern(&mut cache, formats.value(i), self.name())?;
                    out.push(p.parse_time(texts.value(i)));
                }
                const DAY: i64 = 86_400_000;
                match self.kind {
                    Kind::CharToDate => {
                        Arc::new(Date32Array::from_iter(out.iter().map(|ms| {
                            ms.and_then(|ms| i32::try_from(ms.div_euclid(DAY)).ok())
                        })))
                    }
                    Kind::CharToTime => {
                        Arc::new(Time32MillisecondArray::from_iter(out.iter().map(|ms| {
                            ms.and_then(|ms| i32::try_from(ms.rem_euclid(DAY)).ok())
                        })))
                    }
                    _ => Arc::new(TimestampMillisecondArray::from(out)),
                }
            }
            Kind::TimestampToChar => {
                let (formats, times) = (strings(&a)?, millis(&b)?);
                let utc = match weir_delivery::timefmt::time_zone(None) {
                    Ok(z) => z,
                    Err(e) => return exec_err!("{e}"),
                };
                let mut cache = None;
                let mut out = Vec::with_capacity(rows);
                for i in 0..rows {
                    if formats.is_null(i) || times.is_null(i) {
                        out.push(None);
                        continue;
                    }
                    let p = pattern(&mut cache, formats.value(i), self.name())?;
                    out.push(Some(p.format(times.value(i), &utc)));
                }
                Arc::new(StringArray::from(out))
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;

    #[tokio::test]
    async fn the_kda_time_functions() {
        let ctx = crate::plan::session();
        let batches = ctx
            .sql(
                "SELECT TSDIFF(TIMESTAMP '2024-05-01 10:00:01.500', TIMESTAMP '2024-05-01 \
                 10:00:00'), CHAR_TO_TIMESTAMP('yyyy-MM-dd HH:mm:ss', '2024-05-01 10:20:30'), \
                 TIMESTAMP_TO_CHAR('dd/MM/yyyy HH:mm', TIMESTAMP '2024-05-01 10:20:30'), \
                 CHAR_TO_TIMESTAMP('yyyy-MM-dd', 'not a date'), CHAR_TO_DATE('dd.MM.yyyy', \
                 '02.05.2024'), CHAR_TO_TIME('HH:mm', '13:45'), MONOTONIC(41) + 1",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = pretty_format_batches(&batches).unwrap().to_string();
        assert!(text.contains("| 1500 "), "{text}");
        assert!(text.contains("2024-05-01T10:20:30"), "{text}");
        assert!(text.contains("01/05/2024 10:20"), "{text}");
        assert!(text.contains("| 2024-05-02 "), "{text}");
        assert!(text.contains("| 13:45:00 "), "{text}");
        assert!(text.contains("| 42 "), "{text}");
    }
}
