//! JSON records into a Glue table's columns, as Firehose's deserializers read them.
//!
//! - OpenX JSON SerDe (the lenient one): keys matched without regard to case (unless
//!   CaseInsensitive is false), dots in keys turned into underscores when asked,
//!   ColumnToJsonKeyMappings; numeric strings fill numeric columns, any value fills a string
//!   column (objects and arrays as their JSON text), a single value fills an array of one, a
//!   JSON array fills a struct by position; timestamps as ISO text, `yyyy-M-d H:m:s[.f]`, epoch
//!   seconds (< 10^12) or milliseconds, or fractional epoch seconds.
//! - Hive JSON SerDe (the strict one): numbers only for numeric columns, no JSON text for
//!   string columns; timestamps by TimestampFormats (Joda patterns, `millis`) or else
//!   `java.sql.Timestamp.valueOf`'s `yyyy-[m]m-[d]d hh:mm:ss[.f...]`.
//!
//! A record may hold several JSON objects one after another (each is a row). A record that does
//! not fit leaves the columns as they were and says why, with Firehose's error code.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use serde_json::{Map, Value};
use weir_catalog::types::HiveType;

use super::columns::Column;
use crate::timefmt::{days_from_civil, Pattern};

/// Why a record was not converted: Firehose's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub code: &'static str,
    pub message: String,
}

pub const MALFORMED: &str = "DataFormatConversion.MalformedData";
pub const PARSE_ERROR: &str = "DataFormatConversion.ParseError";

fn mismatch(detail: impl std::fmt::Display) -> RecordError {
    RecordError {
        code: MALFORMED,
        message: format!("Data does not match the schema. {detail}"),
    }
}

/// Java's NumberFormatException text, which Firehose passes on.
fn bad_number(s: &str) -> RecordError {
    mismatch(format!("For input string: \"{s}\""))
}

/// The deserializer and its options.
#[derive(Debug, Clone)]
pub enum Deserializer {
    OpenX {
        case_insensitive: bool,
        dots_to_underscores: bool,
        /// column → JSON key.
        mappings: Vec<(String, String)>,
    },
    Hive {
        /// TimestampFormats: Joda patterns, or `millis`.
        timestamp_formats: Vec<TimeFormat>,
    },
}

/// One of the Hive JSON SerDe's TimestampFormats.
#[derive(Debug, Clone)]
pub enum TimeFormat {
    Millis,
    Pattern(Pattern),
}

impl TimeFormat {
    pub fn parse(s: &str) -> Result<TimeFormat, String> {
        if s == "millis" {
            Ok(TimeFormat::Millis)
        } else {
            Pattern::parse(s).map(TimeFormat::Pattern)
        }
    }
}

/// Records being read into columns.
pub struct Decoder {
    schema: SchemaRef,
    pub(super) columns: Vec<Column>,
    /// Columns a row has set so far (the fast path's scratch).
    pub(super) seen: Vec<bool>,
    /// A JSON key (as normalised) → its column.
    lookup: HashMap<String, usize>,
    pub(super) de: Deserializer,
    pub(super) rows: usize,
}

impl Decoder {
    pub fn new(columns: &[(String, HiveType)], de: Deserializer) -> Decoder {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, t)| Field::new(n, t.to_arrow(), true))
                .collect::<Vec<_>>(),
        ));
        let mut lookup = HashMap::new();
        let mapped: HashMap<String, String> = match &de {
            Deserializer::OpenX {
                mappings,
                case_insensitive,
                ..
            } => mappings
                .iter()
                .map(|(c, k)| {
                    let key = if *case_insensitive {
                        k.to_lowercase()
                    } else {
                        k.clone()
                    };
                    (c.to_lowercase(), key)
                })
                .collect(),
            Deserializer::Hive { .. } => HashMap::new(),
        };
        for (i, (name, _)) in columns.iter().enumerate() {
            let name = name.to_lowercase();
            let key = mapped.get(&name).cloned().unwrap_or(name);
            lookup.insert(key, i);
        }
        Decoder {
            schema,
            columns: columns.iter().map(|(_, t)| Column::new(t)).collect(),
            seen: Vec::new(),
            lookup,
            de,
            rows: 0,
        }
    }

    /// Rows read since the last batch.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Reads one record (one or more JSON objects); on error the columns are unchanged.
    pub fn push(&mut self, record: &[u8]) -> Result<usize, RecordError> {
        if record.iter().all(u8::is_ascii_whitespace) {
            return Err(RecordError {
                code: MALFORMED,
                message: "The record was empty or contained only whitespace.".into(),
            });
        }
        let before = self.rows;
        if let Some(rows) = super::fast::read(self, record) {
            return Ok(rows);
        }
        // Roll back what the fast path took; the exact reading decides and says why.
        for c in &mut self.columns {
            c.truncate(before);
        }
        self.rows = before;
        let result = self.push_values(record);
        if result.is_err() {
            for c in &mut self.columns {
                c.truncate(before);
            }
            self.rows = before;
        }
        result.map(|()| self.rows - before)
    }

    fn push_values(&mut self, record: &[u8]) -> Result<(), RecordError> {
        let values = serde_json::Deserializer::from_slice(record).into_iter::<Value>();
        for v in values {
            let v = v.map_err(|e| RecordError {
                code: PARSE_ERROR,
                message: format!("Encountered malformed JSON. {e}"),
            })?;
            let Value::Object(obj) = v else {
                return Err(RecordError {
                    code: MALFORMED,
                    message: format!(
                        "Data does not match the schema. Data is not JSONObject  but {} with \
                         value {v}",
                        java_class(&v)
                    ),
                });
            };
            self.push_object(&obj)?;
            self.rows += 1;
        }
        Ok(())
    }

    fn push_object(&mut self, obj: &Map<String, Value>) -> Result<(), RecordError> {
        let mut slots: Vec<Option<&Value>> = vec![None; self.columns.len()];
        for (k, v) in obj {
            if let Some(i) = self.column_of(k) {
                slots[i] = Some(v);
            }
        }
        let de = &self.de;
        for (col, v) in self.columns.iter_mut().zip(slots) {
            put(col, v, de)?;
        }
        Ok(())
    }

    pub(super) fn column_of(&self, key: &str) -> Option<usize> {
        if let Some(i) = self.lookup.get(key) {
            return Some(*i);
        }
        let Deserializer::OpenX {
            case_insensitive,
            dots_to_underscores,
            ..
        } = &self.de
        else {
            return None;
        };
        let mut k = if *case_insensitive {
            key.to_lowercase()
        } else {
            key.to_string()
        };
        if *dots_to_underscores {
            k = k.replace('.', "_");
        }
        self.lookup.get(&k).copied()
    }

    /// The rows so far as a batch of the table's schema; the decoder starts again empty.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays = self
            .columns
            .iter_mut()
            .map(Column::finish)
            .collect::<Result<Vec<_>, _>>()?;
        let rows = std::mem::take(&mut self.rows);
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// The Java class org.json would give a value (Firehose's messages name it).
fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "org.json.JSONObject$Null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) {
                "java.lang.Integer"
            } else {
                "java.lang.Long"
            }
        }
        Value::Number(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "org.json.JSONArray",
        Value::Object(_) => "org.json.JSONObject",
    }
}

fn is_openx(de: &Deserializer) -> bool {
    matches!(de, Deserializer::OpenX { .. })
}

/// The text a scalar is read from (numbers as written, strings as they are).
fn scalar_text(v: &Value, de: &Deserializer, numeric: bool) -> Result<String, RecordError> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if is_openx(de) || !numeric => Ok(s.clone()),
        Value::String(_) => Err(mismatch(
            "Current token (VALUE_STRING) not numeric, can not use numeric value accessors",
        )),
        Value::Bool(b) if !numeric => Ok(b.to_string()),
        other => Err(mismatch(format!(
            "Data is not a primitive but {} with value {other}",
            java_class(other)
        ))),
    }
}

fn int<T: TryFrom<i64>>(v: &Value, de: &Deserializer) -> Result<T, RecordError> {
    let text = scalar_text(v, de, true)?;
    let t = text.trim();
    let wide: i64 = match t.parse::<i64>() {
        Ok(i) => i,
        // OpenX reads a JSON number into an integer column as Java's intValue() does.
        Err(_) if matches!(v, Value::Number(_)) && is_openx(de) => match t.parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() < 9.2e18 => f.trunc() as i64,
            _ => return Err(bad_number(t)),
        },
        Err(_) => return Err(bad_number(t)),
    };
    T::try_from(wide).map_err(|_| mismatch(format!("Value out of range. Value:\"{t}\"")))
}

fn float(v: &Value, de: &Deserializer) -> Result<f64, RecordError> {
    let text = scalar_text(v, de, true)?;
    text.trim().parse().map_err(|_| bad_number(&text))
}

/// A decimal's text as an integer of `scale` digits after the point (rounded half up), within
/// `precision` digits.
fn decimal(text: &str, precision: u8, scale: i8) -> Option<i128> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (
            &t[..i],
            t[i + 1..].parse::<i32>().ok().filter(|e| e.abs() <= 100)?,
        ),
        None => (t, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // value = digits × 10^(exp − frac_len); wanted: value × 10^scale.
    let shift = exp - frac_part.len() as i32 + i32::from(scale);
    let digits = digits.trim_start_matches('0');
    let mut n: i128 = 0;
    let keep = if shift >= 0 {
        digits.len()
    } else {
        digits.len().saturating_sub((-shift) as usize)
    };
    for b in digits[..keep].bytes() {
        n = n.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if shift > 0 {
        n = n.checked_mul(10i128.checked_pow(shift as u32)?)?;
    } else if shift < 0
        && (-shift) as usize <= digits.len()
        && digits.as_bytes().get(keep).is_some_and(|d| *d >= b'5')
    {
        // Half up: the first digit cut off decides (an implicit 0 when all were cut).
        n += 1;
    }
    if n >= 10i128.pow(u32::from(precision)) {
        return None;
    }
    Some(if neg { -n } else { n })
}

/// `yyyy-[M]M-[d]d[ H:m:s[.f]]` or (OpenX) `yyyy-MM-ddTHH:mm:ss[.f]Z`: epoch milliseconds.
fn civil_time(s: &str, iso: bool) -> Option<i64> {
    let (date, time) = match s.split_once(if iso { 'T' } else { ' ' }) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let mo = parts.next()?;
    let d = parts.next()?;
    if iso && (mo.len() != 2 || d.len() != 2) {
        return None;
    }
    let days = days_from_civil(y, mo.parse().ok()?, d.parse().ok()?)?;
    let Some(time) = time else {
        return (!iso).then_some(days * 86_400_000);
    };
    let time = if iso { time.strip_suffix('Z')? } else { time };
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut hms = hms.splitn(3, ':');
    let mut field = |max: i64| -> Option<i64> {
        let f = hms.next()?;
        if f.is_empty() || f.len() > 2 || (iso && f.len() != 2) {
            return None;
        }
        f.parse().ok().filter(|v| *v <= max)
    };
    let (h, m, sec) = (field(23)?, field(59)?, field(59)?);
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = format!("{frac:0<3}")[..3].parse::<i64>().ok()?;
    Some(((days * 24 + h) * 60 + m) * 60_000 + sec * 1000 + ms)
}

fn timestamp(v: &Value, de: &Deserializer) -> Result<i64, RecordError> {
    let text = scalar_text(v, de, false)?;
    let t = text.trim();
    let parsed = match de {
        Deserializer::OpenX { .. } => {
            if t.contains(':') {
                civil_time(t, t.contains('T'))
            } else {
                // Epoch seconds below 10^12, milliseconds from there; fractions rounded to ms.
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && v.abs() < 1e17)
                    .map(|v| {
                        if v.abs() >= 1e12 {
                            v.round() as i64
                        } else {
                            (v * 1000.0).round() as i64
                        }
                    })
            }
        }
        Deserializer::Hive { timestamp_formats } => {
            let by_format = timestamp_formats.iter().find_map(|f| match f {
                TimeFormat::Millis => t.parse::<i64>().ok(),
                TimeFormat::Pattern(p) => p.parse_time(t),
            });
            by_format.or_else(|| civil_time(t, false).filter(|_| t.contains(':')))
        }
    };
    parsed.ok_or_else(|| {
        mismatch(format!(
            "Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff] ({t})"
        ))
    })
}

fn date(v: &Value, de: &Deserializer) -> Result<i32, RecordError> {
    let text = scalar_text(v, de, false)?;
    let t = text.trim();
    let day = t.split([' ', 'T']).next().unwrap_or(t);
    civil_time(day, false)
        .and_then(|ms| i32::try_from(ms / 86_400_000).ok())
        .ok_or_else(|| mismatch(format!("Cannot parse date \"{t}\"")))
}

/// Appends one value (`None`: the key is absent) to a column.
pub(super) fn put(
    col: &mut Column,
    v: Option<&Value>,
    de: &Deserializer,
) -> Result<(), RecordError> {
    let v = match v {
        None | Some(Value::Null) => return col.push_null().map_err(mismatch),
        Some(v) => v,
    };
    match col {
        Column::Boolean(c) => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::String(s) if is_openx(de) => s.trim().eq_ignore_ascii_case("true"),
                other => return Err(mismatch(format!("Cannot read {other} as a boolean"))),
            };
            c.push(Some(b));
        }
        Column::TinyInt(c) => c.push(Some(int(v, de)?)),
        Column::SmallInt(c) => c.push(Some(int(v, de)?)),
        Column::Int(c) => c.push(Some(int(v, de)?)),
        Column::BigInt(c) => c.push(Some(int(v, de)?)),
        Column::Float(c) => c.push(Some(float(v, de)? as f32)),
        Column::Double(c) => c.push(Some(float(v, de)?)),
        Column::Decimal(c, p, s) => {
            let text = scalar_text(v, de, true)?;
            let d = decimal(&text, *p, *s).ok_or_else(|| bad_number(&text))?;
            c.push(Some(d));
        }
        Column::String(c) => match v {
            Value::String(s) => c.push(Some(s.as_bytes())).map_err(mismatch)?,
            Value::Number(_) | Value::Bool(_) => {
                c.push(Some(v.to_string().as_bytes())).map_err(mismatch)?
            }
            _ if is_openx(de) => c.push(Some(v.to_string().as_bytes())).map_err(mismatch)?,
            _ => {
                return Err(RecordError {
                    code: MALFORMED,
                    message: "One or more fields have incorrect format. Exception when \
                              validating field (root)"
                        .into(),
                })
            }
        },
        Column::Binary(c) => {
            let text = scalar_text(v, de, false)?;
            c.push(Some(text.as_bytes())).map_err(mismatch)?;
        }
        Column::Date(c) => c.push(Some(date(v, de)?)),
        Column::Timestamp(c) => c.push(Some(timestamp(v, de)?)),
        Column::Array(offsets, item, _) => {
            match v {
                Value::Array(items) => {
                    for it in items {
                        put(item, Some(it), de)?;
                    }
                }
                // OpenX reads a single value as an array of one.
                other if is_openx(de) => put(item, Some(other), de)?,
                _ => return Err(mismatch("java.io.IOException: Start of Array expected")),
            }
            offsets.close(item.len(), true).map_err(mismatch)?;
        }
        Column::Map(offsets, keys, values, _) => {
            let Value::Object(m) = v else {
                return Err(not_object(v, de));
            };
            for (k, val) in m {
                let k = match de {
                    Deserializer::OpenX {
                        case_insensitive: true,
                        ..
                    } => k.to_lowercase(),
                    _ => k.clone(),
                };
                put(keys, Some(&Value::String(k)), de)?;
                put(values, Some(val), de)?;
            }
            offsets.close(keys.len(), true).map_err(mismatch)?;
        }
        Column::Struct(valid, fields, _) => {
            match v {
                Value::Object(m) => {
                    let mut slots: Vec<Option<&Value>> = vec![None; fields.len()];
                    for (k, val) in m {
                        let found = fields.iter().position(|(n, _)| n == k).or_else(|| {
                            let openx_ci = matches!(
                                de,
                                Deserializer::OpenX {
                                    case_insensitive: true,
                                    ..
                                }
                            );
                            openx_ci
                                .then(|| fields.iter().position(|(n, _)| n.eq_ignore_ascii_case(k)))
                                .flatten()
                        });
                        if let Some(i) = found {
                            slots[i] = Some(val);
                        }
                    }
                    for ((_, c), val) in fields.iter_mut().zip(slots) {
                        put(c, val, de)?;
                    }
                }
                // OpenX fills a struct from an array by position.
                Value::Array(items) if is_openx(de) => {
                    for (i, (_, c)) in fields.iter_mut().enumerate() {
                        put(c, items.get(i), de)?;
                    }
                }
                other => return Err(not_object(other, de)),
            }
            valid.push(Some(()));
        }
    }
    Ok(())
}

fn not_object(v: &Value, de: &Deserializer) -> RecordError {
    if is_openx(de) {
        mismatch(format!(
            "Data is not JSONObject  but {} with value {v}",
            java_class(v)
        ))
    } else {
        mismatch("java.io.IOException: Start of Object expected")
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
    use arrow_array::Array;

    use super::*;

    fn openx() -> Deserializer {
        Deserializer::OpenX {
            case_insensitive: true,
            dots_to_underscores: false,
            mappings: Vec::new(),
        }
    }

    fn cols(spec: &[(&str, &str)]) -> Vec<(String, HiveType)> {
        spec.iter()
            .map(|(n, t)| (n.to_string(), HiveType::parse(t).expect("type")))
            .collect()
    }

    #[test]
    fn openx_reads_leniently_and_rolls_back_bad_records() {
        let mut d = Decoder::new(
            &cols(&[
                ("id", "int"),
                ("name", "string"),
                ("tags", "array<string>"),
                ("loc", "struct<lat:double,lon:double>"),
                ("ts", "timestamp"),
            ]),
            openx(),
        );
        assert_eq!(
            d.push(br#"{"ID":"7","Name":{"x":1},"tags":"one","loc":[1.5,2.5],"ts":1518033528}"#),
            Ok(1)
        );
        // Fails at ts after id/name/tags were appended: nothing of it stays.
        let err = d
            .push(br#"{"id":8,"name":"b","tags":["x","y"],"ts":"yesterday"}"#)
            .expect_err("bad timestamp");
        assert_eq!(err.code, MALFORMED);
        assert_eq!(
            d.push(br#"{"id":9,"extra":true,"ts":"2017-02-07T15:13:01.39256Z"} {"id":10}"#),
            Ok(2)
        );
        let e = d.push(b"  \n").expect_err("empty");
        assert_eq!(
            e.message,
            "The record was empty or contained only whitespace."
        );
        assert_eq!(d.push(b"{\"id\":").map_err(|e| e.code), Err(PARSE_ERROR));
        assert_eq!(
            d.push(br#"{"id":"oops"}"#).map_err(|e| e.message),
            Err("Data does not match the schema. For input string: \"oops\"".into())
        );
        let b = d.finish().expect("batch");
        assert_eq!(b.num_rows(), 3);
        let ids = b.column(0).as_primitive::<Int32Type>();
        assert_eq!(ids.iter().collect::<Vec<_>>(), [Some(7), Some(9), Some(10)]);
        let names = b.column(1).as_string::<i32>();
        assert_eq!(names.value(0), r#"{"x":1}"#);
        assert!(names.is_null(1));
        let tags = b.column(2).as_list::<i32>();
        assert_eq!(tags.value_length(0), 1);
        assert!(tags.is_null(1));
        let ts = b.column(4).as_primitive::<TimestampMillisecondType>();
        assert_eq!(ts.value(0), 1_518_033_528_000);
        assert_eq!(ts.value(1), 1_486_480_381_392);
    }

    #[test]
    fn hive_is_strict_and_uses_timestamp_formats() {
        let mut d = Decoder::new(
            &cols(&[
                ("n", "bigint"),
                ("t", "timestamp"),
                ("m", "map<string,int>"),
            ]),
            Deserializer::Hive {
                timestamp_formats: vec![
                    TimeFormat::parse("millis").expect("millis"),
                    TimeFormat::parse("dd/MM/yyyy HH:mm").expect("pattern"),
                ],
            },
        );
        assert!(d.push(br#"{"n":"5"}"#).is_err());
        assert_eq!(d.push(br#"{"n":5,"t":"1518033528123","m":{"a":1}}"#), Ok(1));
        assert_eq!(d.push(br#"{"n":6,"t":"07/02/2017 15:13"}"#), Ok(1));
        assert_eq!(d.push(br#"{"n":7,"t":"2017-2-7 15:13:01.5"}"#), Ok(1));
        let b = d.finish().expect("batch");
        let n = b.column(0).as_primitive::<Int64Type>();
        assert_eq!(n.values().to_vec(), [5, 6, 7]);
        let t = b.column(1).as_primitive::<TimestampMillisecondType>();
        assert_eq!(
            t.values().to_vec(),
            [1_518_033_528_123, 1_486_480_380_000, 1_486_480_381_500]
        );
    }

    #[test]
    fn decimals_round_half_up_within_precision() {
        assert_eq!(decimal("12.345", 10, 2), Some(1235));
        assert_eq!(decimal("-0.5", 5, 0), Some(-1));
        assert_eq!(decimal("1e3", 6, 2), Some(100_000));
        assert_eq!(decimal("123456", 5, 0), None);
        assert_eq!(decimal("abc", 5, 0), None);
        assert_eq!(decimal("7", 3, 1), Some(70));
        assert_eq!(decimal("0.05", 5, 0), Some(0));
        assert_eq!(decimal("0.006", 5, 1), Some(0));
        assert_eq!(decimal("0.06", 5, 1), Some(1));
        assert_eq!(decimal("1e2147483647", 5, 0), None);
    }
}
