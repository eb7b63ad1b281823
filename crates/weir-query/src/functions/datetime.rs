//! Trino's date and time functions: date_parse/date_format (MySQL-style `%Y-%m-%d %H:%i:%s`),
//! format_datetime/parse_datetime (Joda patterns `yyyy-MM-dd HH:mm:ss`), from_iso8601_timestamp,
//! from_iso8601_date, to_iso8601, date_add(unit, n, t), date_diff(unit, t1, t2).
//! Timestamps are milliseconds, as Athena's `timestamp(3)`.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::error::Result;
use datafusion::logical_expr::ScalarUDF;

use super::{bigint, exec_err, ints, strings, udf, varchar};

const TS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

fn ts_type(_: &[DataType]) -> Result<DataType> {
    Ok(TS)
}

fn tz_type(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Timestamp(
        TimeUnit::Millisecond,
        Some("UTC".into()),
    ))
}

fn date_type(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Date32)
}

/// date_add keeps dates dates; everything else becomes a timestamp.
fn same_as_third(t: &[DataType]) -> Result<DataType> {
    Ok(match t.get(2) {
        Some(DataType::Date32) | Some(DataType::Date64) => DataType::Date32,
        _ => TS,
    })
}

/// The argument as timestamps in milliseconds (UTC for zoned values).
fn millis(a: &ArrayRef) -> Result<TimestampMillisecondArray> {
    let a = match a.data_type() {
        DataType::Timestamp(_, Some(_)) => {
            cast(a, &DataType::Timestamp(TimeUnit::Millisecond, None))?
        }
        _ => cast(a, &TS)?,
    };
    Ok(a.as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .cloned()
        .unwrap_or_else(|| TimestampMillisecondArray::new_null(a.len())))
}

fn naive(ms: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.naive_utc())
}

/// A MySQL `date_format` pattern as a chrono pattern (`parse` for reading).
pub fn mysql_to_chrono(p: &str, parse: bool) -> String {
    let mut out = String::new();
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(d) = it.next() else { break };
        let s = match d {
            'a' => "%a",
            'b' => "%b",
            'c' => {
                if parse {
                    "%m"
                } else {
                    "%-m"
                }
            }
            'd' => "%d",
            'e' => {
                if parse {
                    "%d"
                } else {
                    "%-d"
                }
            }
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => {
                if parse {
                    "%H"
                } else {
                    "%-H"
                }
            }
            'l' => {
                if parse {
                    "%I"
                } else {
                    "%-I"
                }
            }
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'v' => "%V",
            'W' => "%A",
            'x' => "%G",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(s);
    }
    out
}

/// A Joda-Time pattern (Trino's format_datetime) as a chrono pattern.
pub fn joda_to_chrono(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal text; '' is a quote.
            i += 1;
            if chars.get(i) == Some(&'\'') {
                out.push('\'');
                i += 1;
                continue;
            }
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        out.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                if chars[i] == '%' {
                    out.push_str("%%");
                } else {
                    out.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let s: &str = match (c, n) {
            ('y' | 'Y' | 'u', 2) => "%y",
            ('y' | 'Y' | 'u', _) => "%Y",
            ('x', _) => "%G",
            ('w', _) => "%V",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('e', _) => "%u",
            ('a', _) => "%p",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('k', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('K', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) => "%Z",
            ('G', _) => "AD",
            _ => "",
        };
        out.push_str(s);
    }
    out
}

/// Parses `text` with a chrono pattern; fields the pattern lacks default as Joda's do (month
/// and day 1, time 00:00:00), so `%Y-%m-%d %H`, `%Y-%m` or `%Y` read too.
pub fn parse_lenient(text: &str, fmt: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
        return Some(t);
    }
    let mut p = chrono::format::Parsed::new();
    chrono::format::parse(&mut p, text, chrono::format::StrftimeItems::new(fmt)).ok()?;
    let date = NaiveDate::from_ymd_opt(p.year()?, p.month().unwrap_or(1), p.day().unwrap_or(1))?;
    let hour = p.hour_div_12().unwrap_or(0) * 12 + p.hour_mod_12().unwrap_or(0);
    date.and_hms_nano_opt(
        hour,
        p.minute().unwrap_or(0),
        p.second().unwrap_or(0),
        p.nanosecond().unwrap_or(0),
    )
}

fn parse_fn(a: &[ArrayRef], convert: fn(&str) -> String, name: &str) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let f = strings(&a[1])?;
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) || f.is_null(i) {
            out.push(None);
            continue;
        }
        let fmt = convert(f.value(i));
        match parse_lenient(s.value(i), &fmt) {
            Some(t) => out.push(Some(t.and_utc().timestamp_millis())),
            None => {
                return Err(exec_err(format!(
                    "{name}: Invalid format: \"{}\"",
                    s.value(i)
                )))
            }
        }
    }
    Ok(Arc::new(TimestampMillisecondArray::from(out)))
}

fn date_parse(a: &[ArrayRef]) -> Result<ArrayRef> {
    parse_fn(a, |f| mysql_to_chrono(f, true), "date_parse")
}

fn parse_datetime(a: &[ArrayRef]) -> Result<ArrayRef> {
    parse_fn(a, joda_to_chrono, "parse_datetime")
}

fn format_fn(a: &[ArrayRef], convert: fn(&str) -> String) -> Result<ArrayRef> {
    use std::fmt::Write;
    let t = millis(&a[0])?;
    let f = strings(&a[1])?;
    let mut out = Vec::with_capacity(t.len());
    for i in 0..t.len() {
        if t.is_null(i) || f.is_null(i) {
            out.push(None);
            continue;
        }
        let Some(dt) = naive(t.value(i)) else {
            out.push(None);
            continue;
        };
        let fmt = convert(f.value(i));
        let mut s = String::new();
        write!(s, "{}", dt.and_utc().format(&fmt))
            .map_err(|_| exec_err(format!("Invalid format '{}'", f.value(i))))?;
        out.push(Some(s));
    }
    Ok(Arc::new(StringArray::from(out)))
}

fn date_format(a: &[ArrayRef]) -> Result<ArrayRef> {
    format_fn(a, |f| mysql_to_chrono(f, false))
}

fn format_datetime(a: &[ArrayRef]) -> Result<ArrayRef> {
    format_fn(a, joda_to_chrono)
}

/// An ISO 8601 date or date-time, as UTC milliseconds.
pub fn iso8601(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp_millis());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.timestamp_millis());
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    if let Some(h) = t.strip_suffix('Z') {
        if let Ok(d) = NaiveDateTime::parse_from_str(h, "%Y-%m-%dT%H:%M") {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

fn from_iso8601_timestamp(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) {
            out.push(None);
            continue;
        }
        out.push(Some(iso8601(s.value(i)).ok_or_else(|| {
            exec_err(format!("Invalid format: \"{}\"", s.value(i)))
        })?));
    }
    Ok(Arc::new(
        TimestampMillisecondArray::from(out).with_timezone("UTC"),
    ))
}

fn from_iso8601_date(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) {
            out.push(None);
            continue;
        }
        let d = NaiveDate::parse_from_str(s.value(i).trim(), "%Y-%m-%d")
            .map_err(|_| exec_err(format!("Invalid format: \"{}\"", s.value(i))))?;
        out.push(Some((d - epoch).num_days() as i32));
    }
    Ok(Arc::new(Date32Array::from(out)))
}

fn to_iso8601(a: &[ArrayRef]) -> Result<ArrayRef> {
    if matches!(a[0].data_type(), DataType::Date32 | DataType::Date64) {
        let s = strings(&a[0])?;
        return Ok(Arc::new(s));
    }
    let zoned = matches!(a[0].data_type(), DataType::Timestamp(_, Some(_)));
    let t = millis(&a[0])?;
    let out: StringArray = (0..t.len())
        .map(|i| {
            if t.is_null(i) {
                return None;
            }
            naive(t.value(i)).map(|d| {
                let s = d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
                if zoned {
                    format!("{s}Z")
                } else {
                    s
                }
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `t` moved by `n` units (calendar units clamp the day, as Joda does).
pub fn add_unit(t: NaiveDateTime, unit: &str, n: i64) -> Option<NaiveDateTime> {
    let months = |m: i64| {
        if m >= 0 {
            t.checked_add_months(Months::new(u32::try_from(m).ok()?))
        } else {
            t.checked_sub_months(Months::new(u32::try_from(m.checked_neg()?).ok()?))
        }
    };
    match unit {
        "millisecond" => t.checked_add_signed(Duration::try_milliseconds(n)?),
        "second" => t.checked_add_signed(Duration::try_seconds(n)?),
        "minute" => t.checked_add_signed(Duration::try_minutes(n)?),
        "hour" => t.checked_add_signed(Duration::try_hours(n)?),
        "day" => t.checked_add_signed(Duration::try_days(n)?),
        "week" => t.checked_add_signed(Duration::try_weeks(n)?),
        "month" => months(n),
        "quarter" => months(n.checked_mul(3)?),
        "year" => months(n.checked_mul(12)?),
        _ => None,
    }
}

/// Whole `unit`s from `a` to `b` (truncated toward zero).
pub fn diff_unit(a: NaiveDateTime, b: NaiveDateTime, unit: &str) -> Option<i64> {
    let ms = (b - a).num_milliseconds();
    let per = match unit {
        "millisecond" => 1,
        "second" => 1_000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 604_800_000,
        "month" | "quarter" | "year" => 0,
        _ => return None,
    };
    if per > 0 {
        return Some(ms / per);
    }
    let mut months =
        (b.year() as i64 * 12 + b.month0() as i64) - (a.year() as i64 * 12 + a.month0() as i64);
    // A month counts only when complete.
    if months > 0 && add_unit(a, "month", months).is_some_and(|x| x > b) {
        months -= 1;
    } else if months < 0 && add_unit(a, "month", months).is_some_and(|x| x < b) {
        months += 1;
    }
    Some(match unit {
        "month" => months,
        "quarter" => months / 3,
        _ => months / 12,
    })
}

fn unit_of(s: &StringArray, i: usize) -> Result<String> {
    let u = s.value(i).to_ascii_lowercase();
    let u = u.trim_end_matches('s').to_string();
    match u.as_str() {
        "millisecond" | "second" | "minute" | "hour" | "day" | "week" | "month" | "quarter"
        | "year" => Ok(u),
        _ => Err(exec_err(format!(
            "'{}' is not a valid TIMESTAMP field",
            s.value(i)
        ))),
    }
}

fn date_add(a: &[ArrayRef]) -> Result<ArrayRef> {
    let unit = strings(&a[0])?;
    let n = ints(&a[1])?;
    let is_date = matches!(a[2].data_type(), DataType::Date32 | DataType::Date64);
    let t = millis(&a[2])?;
    let mut out = Vec::with_capacity(t.len());
    for i in 0..t.len() {
        if unit.is_null(i) || n.is_null(i) || t.is_null(i) {
            out.push(None);
            continue;
        }
        let u = unit_of(&unit, i)?;
        let moved = naive(t.value(i))
            .and_then(|d| add_unit(d, &u, n.value(i)))
            .ok_or_else(|| exec_err("date_add: the result is out of range"))?;
        out.push(Some(moved.and_utc().timestamp_millis()));
    }
    let ts: ArrayRef = Arc::new(TimestampMillisecondArray::from(out));
    if is_date {
        Ok(cast(&ts, &DataType::Date32)?)
    } else {
        Ok(ts)
    }
}

fn date_diff(a: &[ArrayRef]) -> Result<ArrayRef> {
    let unit = strings(&a[0])?;
    let x = millis(&a[1])?;
    let y = millis(&a[2])?;
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        if unit.is_null(i) || x.is_null(i) || y.is_null(i) {
            out.push(None);
            continue;
        }
        let u = unit_of(&unit, i)?;
        out.push(
            naive(x.value(i))
                .zip(naive(y.value(i)))
                .and_then(|(p, q)| diff_unit(p, q, &u)),
        );
    }
    Ok(Arc::new(Int64Array::from(out)))
}

pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf("date_parse", 2, ts_type, date_parse),
        udf("parse_datetime", 2, ts_type, parse_datetime),
        udf("date_format", 2, varchar, date_format),
        udf("format_datetime", 2, varchar, format_datetime),
        udf("from_iso8601_timestamp", 1, tz_type, from_iso8601_timestamp),
        udf("from_iso8601_date", 1, date_type, from_iso8601_date),
        udf("to_iso8601", 1, varchar, to_iso8601),
        udf("date_add", 3, same_as_third, date_add),
        udf("date_diff", 3, bigint, date_diff),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn patterns() {
        assert_eq!(
            mysql_to_chrono("%Y-%m-%d %H:%i:%s", true),
            "%Y-%m-%d %H:%M:%S"
        );
        assert_eq!(
            joda_to_chrono("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            "%Y-%m-%dT%H:%M:%S.%3f"
        );
        assert_eq!(joda_to_chrono("EEE, d MMM yy"), "%a, %-d %b %y");
        assert_eq!(
            iso8601("2024-03-01T10:20:30.5+02:00"),
            Some(at("2024-03-01 08:20:30").and_utc().timestamp_millis() + 500)
        );
        assert_eq!(
            parse_lenient("2024-03-01 10", "%Y-%m-%d %H"),
            Some(at("2024-03-01 10:00:00"))
        );
        assert_eq!(
            parse_lenient("2024-03", "%Y-%m"),
            Some(at("2024-03-01 00:00:00"))
        );
        assert_eq!(
            iso8601("2024-03-01"),
            Some(at("2024-03-01 00:00:00").and_utc().timestamp_millis())
        );
    }

    #[test]
    fn units() {
        let jan31 = at("2024-01-31 00:00:00");
        assert_eq!(add_unit(jan31, "month", 1), Some(at("2024-02-29 00:00:00")));
        assert_eq!(add_unit(jan31, "day", -1), Some(at("2024-01-30 00:00:00")));
        // Joda counts Jan 31 → Feb 29 as a whole month (the day is clamped).
        assert_eq!(
            diff_unit(jan31, at("2024-02-29 00:00:00"), "month"),
            Some(1)
        );
        assert_eq!(
            diff_unit(
                at("2024-01-15 00:00:00"),
                at("2024-03-15 00:00:00"),
                "month"
            ),
            Some(2)
        );
        assert_eq!(
            diff_unit(
                at("2024-03-15 00:00:00"),
                at("2024-01-15 00:00:00"),
                "month"
            ),
            Some(-2)
        );
        assert_eq!(
            diff_unit(at("2024-01-01 00:00:00"), at("2024-01-02 12:00:00"), "day"),
            Some(1)
        );
        assert_eq!(
            diff_unit(at("2020-06-01 00:00:00"), at("2024-05-31 00:00:00"), "year"),
            Some(3)
        );
    }
}
