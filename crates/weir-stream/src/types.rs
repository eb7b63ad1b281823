//! Flink's SQL types and Arrow's: a declared column type read into an Arrow type, and an Arrow
//! type written back as Flink names it (DESCRIBE, the Gateway's result columns).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

use crate::error::StreamError;

/// The time zone Arrow carries for Flink's `TIMESTAMP_LTZ` (an instant).
pub const LTZ: &str = "UTC";

/// Reads a Flink type (`BIGINT`, `VARCHAR(10)`, `TIMESTAMP(3)`, `DECIMAL(10, 2)`,
/// `ARRAY<INT>`, `ROW<a INT, b STRING>`, `MAP<STRING, INT>`).
pub fn parse_type(text: &str) -> Result<DataType, StreamError> {
    let mut p = TypeReader {
        chars: text.chars().collect(),
        at: 0,
    };
    let t = p.read_type()?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(p.fail());
    }
    Ok(t)
}

struct TypeReader {
    chars: Vec<char>,
    at: usize,
}

impl TypeReader {
    fn fail(&self) -> StreamError {
        StreamError::Validation(format!(
            "Could not parse type at position {}: {}",
            self.at,
            self.chars.iter().collect::<String>()
        ))
    }

    fn skip_space(&mut self) {
        while self.at < self.chars.len() && self.chars[self.at].is_whitespace() {
            self.at += 1;
        }
    }

    fn word(&mut self) -> String {
        self.skip_space();
        let start = self.at;
        if self.at < self.chars.len() && self.chars[self.at] == '`' {
            self.at += 1;
            let mut w = String::new();
            while self.at < self.chars.len() {
                if self.chars[self.at] == '`' {
                    if self.chars.get(self.at + 1) == Some(&'`') {
                        w.push('`');
                        self.at += 2;
                        continue;
                    }
                    self.at += 1;
                    return w;
                }
                w.push(self.chars[self.at]);
                self.at += 1;
            }
            return w;
        }
        while self.at < self.chars.len()
            && (self.chars[self.at].is_alphanumeric() || self.chars[self.at] == '_')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let save = self.at;
        if self.word().eq_ignore_ascii_case(w) {
            true
        } else {
            self.at = save;
            false
        }
    }

    /// `(n[, m])` after a type name, if present.
    fn numbers(&mut self) -> Result<Vec<u32>, StreamError> {
        let mut out = Vec::new();
        if !self.eat('(') {
            return Ok(out);
        }
        loop {
            let w = self.word();
            out.push(w.parse().map_err(|_| self.fail())?);
            if self.eat(')') {
                return Ok(out);
            }
            if !self.eat(',') {
                return Err(self.fail());
            }
        }
    }

    fn read_type(&mut self) -> Result<DataType, StreamError> {
        let name = self.word().to_ascii_uppercase();
        let t = match name.as_str() {
            "CHAR" | "VARCHAR" | "STRING" => {
                self.numbers()?;
                DataType::Utf8
            }
            "BOOLEAN" => DataType::Boolean,
            "BINARY" | "VARBINARY" | "BYTES" => {
                self.numbers()?;
                DataType::Binary
            }
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let n = self.numbers()?;
                let p = n.first().copied().unwrap_or(10);
                let s = n.get(1).copied().unwrap_or(0);
                if !(1..=38).contains(&p) || s > p {
                    return Err(StreamError::Validation(format!(
                        "Decimal precision must be between 1 and 38 and scale at most the \
                         precision: DECIMAL({p}, {s})"
                    )));
                }
                DataType::Decimal128(p as u8, s as i8)
            }
            "TINYINT" => DataType::Int8,
            "SMALLINT" => DataType::Int16,
            "INT" | "INTEGER" => DataType::Int32,
            "BIGINT" => DataType::Int64,
            "FLOAT" | "REAL" => DataType::Float32,
            "DOUBLE" => {
                self.eat_word("PRECISION");
                DataType::Float64
            }
            "DATE" => DataType::Date32,
            "TIME" => {
                self.numbers()?;
                let _ = self.eat_word("WITHOUT") && self.eat_word("TIME") && self.eat_word("ZONE");
                DataType::Time32(TimeUnit::Millisecond)
            }
            "TIMESTAMP" | "TIMESTAMP_LTZ" => {
                let precision = self.numbers()?.first().copied().unwrap_or(6);
                let mut local = name == "TIMESTAMP_LTZ";
                if self.eat_word("WITH") {
                    if !(self.eat_word("LOCAL") && self.eat_word("TIME") && self.eat_word("ZONE")) {
                        return Err(self.fail());
                    }
                    local = true;
                } else if self.eat_word("WITHOUT")
                    && !(self.eat_word("TIME") && self.eat_word("ZONE"))
                {
                    return Err(self.fail());
                }
                let unit = match precision {
                    0..=3 => TimeUnit::Millisecond,
                    4..=6 => TimeUnit::Microsecond,
                    7..=9 => TimeUnit::Nanosecond,
                    _ => {
                        return Err(StreamError::Validation(format!(
                        "Timestamp precision must be between 0 and 9 (both inclusive): {precision}"
                    )))
                    }
                };
                DataType::Timestamp(unit, local.then(|| Arc::from(LTZ)))
            }
            "ARRAY" | "MULTISET" => {
                let inner = self.angled(|r| r.read_type())?;
                DataType::List(Arc::new(Field::new("element", inner, true)))
            }
            "MAP" => {
                let (k, v) = self.angled(|r| {
                    let k = r.read_type()?;
                    if !r.eat(',') {
                        return Err(r.fail());
                    }
                    Ok((k, r.read_type()?))
                })?;
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k, false),
                        Field::new("value", v, true),
                    ])),
                    false,
                );
                DataType::Map(Arc::new(entries), false)
            }
            "ROW" => {
                let open = if self.eat('<') {
                    '>'
                } else if self.eat('(') {
                    ')'
                } else {
                    return Err(self.fail());
                };
                let mut fields = Vec::new();
                loop {
                    let fname = self.word();
                    if fname.is_empty() {
                        return Err(self.fail());
                    }
                    let ftype = self.read_type()?;
                    fields.push(Field::new(fname, ftype, true));
                    if self.eat(open) {
                        break;
                    }
                    if !self.eat(',') {
                        return Err(self.fail());
                    }
                }
                DataType::Struct(Fields::from(fields))
            }
            "" => return Err(self.fail()),
            other => {
                return Err(StreamError::Validation(format!(
                    "Unsupported type: {other}"
                )))
            }
        };
        // Nullability inside nested types is not tracked.
        self.eat_word("NOT");
        self.eat_word("NULL");
        Ok(t)
    }

    fn angled<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StreamError>,
    ) -> Result<T, StreamError> {
        let close = if self.eat('<') {
            '>'
        } else if self.eat('(') {
            ')'
        } else {
            return Err(self.fail());
        };
        let out = f(self)?;
        if !self.eat(close) {
            return Err(self.fail());
        }
        Ok(out)
    }
}

/// An Arrow type as Flink writes it (`STRING`, `BIGINT`, `TIMESTAMP(3)`,
/// `TIMESTAMP_LTZ(3)`, `ROW<`a` INT>`).
pub fn flink_type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BYTES".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 | DataType::UInt8 => "SMALLINT".into(),
        DataType::Int32 | DataType::UInt16 => "INT".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "BIGINT".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p}, {s})"),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Time32(_) | DataType::Time64(_) => "TIME(0)".into(),
        DataType::Timestamp(unit, tz) => {
            let p = match unit {
                TimeUnit::Second => 0,
                TimeUnit::Millisecond => 3,
                TimeUnit::Microsecond => 6,
                TimeUnit::Nanosecond => 9,
            };
            if tz.is_some() {
                format!("TIMESTAMP_LTZ({p})")
            } else {
                format!("TIMESTAMP({p})")
            }
        }
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL SECOND(3)".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("ARRAY<{}>", flink_type_name(f.data_type()))
        }
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "MAP<{}, {}>",
                flink_type_name(kv[0].data_type()),
                flink_type_name(kv[1].data_type())
            ),
            _ => "MAP<STRING, STRING>".into(),
        },
        DataType::Struct(fields) => format!(
            "ROW<{}>",
            fields
                .iter()
                .map(|f| format!("`{}` {}", f.name(), flink_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Null => "NULL".into(),
        other => other.to_string().to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_types_read_and_written_back() {
        for (text, name) in [
            ("STRING", "STRING"),
            ("varchar(10)", "STRING"),
            ("BIGINT NOT NULL", "BIGINT"),
            ("DECIMAL(10, 2)", "DECIMAL(10, 2)"),
            ("TIMESTAMP(3)", "TIMESTAMP(3)"),
            ("TIMESTAMP", "TIMESTAMP(6)"),
            ("TIMESTAMP(3) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(3)"),
            ("TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(3)"),
            ("ARRAY<INT>", "ARRAY<INT>"),
            ("MAP<STRING, DOUBLE>", "MAP<STRING, DOUBLE>"),
            ("ROW<a INT, `b c` STRING>", "ROW<`a` INT, `b c` STRING>"),
            ("DOUBLE PRECISION", "DOUBLE"),
        ] {
            let t = parse_type(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(flink_type_name(&t), name, "{text}");
        }
        assert!(parse_type("WIBBLE").is_err());
        assert!(parse_type("DECIMAL(40, 2)").is_err());
        assert!(parse_type("INT extra").is_err());
    }
}
