//! Types across the three vocabularies: Hive/Glue type strings (the catalog), Arrow (DataFusion)
//! and Athena's result type names with their precision and scale.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

/// A Glue column type (`bigint`, `decimal(10,2)`, `array<struct<a:int>>`, ...) as Arrow.
pub fn hive_to_arrow(t: &str) -> Result<DataType, String> {
    let mut p = TypeParser {
        s: t.trim().as_bytes(),
        at: 0,
        text: t,
    };
    let dt = p.parse()?;
    p.ws();
    if p.at != p.s.len() {
        return Err(format!("Unknown type '{t}'"));
    }
    Ok(dt)
}

struct TypeParser<'a> {
    s: &'a [u8],
    at: usize,
    text: &'a str,
}

impl TypeParser<'_> {
    fn ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }
    fn word(&mut self) -> String {
        self.ws();
        let start = self.at;
        while self.at < self.s.len()
            && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_')
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).to_ascii_lowercase()
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("Unknown type '{}'", self.text))
        }
    }
    fn number(&mut self) -> Result<u32, String> {
        let w = self.word();
        w.parse()
            .map_err(|_| format!("Unknown type '{}'", self.text))
    }
    fn field_name(&mut self) -> String {
        self.ws();
        if self.eat(b'`') || self.eat(b'"') {
            let start = self.at;
            while self.at < self.s.len() && self.s[self.at] != b'`' && self.s[self.at] != b'"' {
                self.at += 1;
            }
            let name = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
            self.at += 1;
            return name;
        }
        let start = self.at;
        while self.at < self.s.len() && !matches!(self.s[self.at], b':' | b' ' | b'\t') {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }
    fn parse(&mut self) -> Result<DataType, String> {
        let w = self.word();
        Ok(match w.as_str() {
            "string" | "varchar" | "char" | "json" => {
                if self.eat(b'(') {
                    self.number()?;
                    self.expect(b')')?;
                }
                DataType::Utf8
            }
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "smallint" => DataType::Int16,
            "tinyint" => DataType::Int8,
            "double" => DataType::Float64,
            "float" | "real" => DataType::Float32,
            "boolean" | "bool" => DataType::Boolean,
            "date" => DataType::Date32,
            "timestamp" => {
                if self.eat(b'(') {
                    self.number()?;
                    self.expect(b')')?;
                }
                DataType::Timestamp(TimeUnit::Millisecond, None)
            }
            "binary" | "varbinary" => DataType::Binary,
            "decimal" | "numeric" => {
                if self.eat(b'(') {
                    let p = self.number()?;
                    let s = if self.eat(b',') { self.number()? } else { 0 };
                    self.expect(b')')?;
                    DataType::Decimal128(p.min(38) as u8, s as i8)
                } else {
                    DataType::Decimal128(10, 0)
                }
            }
            "array" => {
                let close = if self.eat(b'<') {
                    b'>'
                } else {
                    self.expect(b'(')?;
                    b')'
                };
                let item = self.parse()?;
                self.expect(close)?;
                DataType::List(Arc::new(Field::new("item", item, true)))
            }
            "map" => {
                let close = if self.eat(b'<') {
                    b'>'
                } else {
                    self.expect(b'(')?;
                    b')'
                };
                let k = self.parse()?;
                self.expect(b',')?;
                let v = self.parse()?;
                self.expect(close)?;
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
            "struct" | "row" => {
                let angle = self.eat(b'<');
                if !angle {
                    self.expect(b'(')?;
                }
                let mut fields = Vec::new();
                loop {
                    let name = self.field_name();
                    if angle {
                        self.expect(b':')?;
                    } else {
                        self.eat(b':');
                    }
                    let t = self.parse()?;
                    fields.push(Field::new(name, t, true));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(if angle { b'>' } else { b')' })?;
                DataType::Struct(Fields::from(fields))
            }
            _ => return Err(format!("Unknown type '{}'", self.text)),
        })
    }
}

/// Athena's name for a result column's type, with its precision and scale.
pub fn athena_type(dt: &DataType) -> (&'static str, i64, i64) {
    match dt {
        DataType::Boolean => ("boolean", 0, 0),
        DataType::Int8 => ("tinyint", 3, 0),
        DataType::Int16 | DataType::UInt8 => ("smallint", 5, 0),
        DataType::Int32 | DataType::UInt16 => ("integer", 10, 0),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ("bigint", 19, 0),
        DataType::Float16 | DataType::Float32 => ("real", 24, 0),
        DataType::Float64 => ("double", 53, 0),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => ("decimal", *p as i64, *s as i64),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ("varchar", 2147483647, 0),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => ("varbinary", 2147483647, 0),
        DataType::Date32 | DataType::Date64 => ("date", 0, 0),
        DataType::Timestamp(_, Some(_)) => ("timestamp with time zone", 3, 0),
        DataType::Timestamp(_, None) => ("timestamp", 3, 0),
        DataType::Time32(_) | DataType::Time64(_) => ("time", 3, 0),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_) => ("array", 0, 0),
        DataType::Map(..) => ("map", 0, 0),
        DataType::Struct(_) => ("row", 0, 0),
        DataType::Interval(_) | DataType::Duration(_) => ("interval day to second", 0, 0),
        DataType::Null => ("unknown", 0, 0),
        DataType::Dictionary(_, v) => athena_type(v),
        _ => ("varchar", 2147483647, 0),
    }
}

/// The type as DDL (and Glue) writes it: `int`, `string`, `array<string>`, ...
pub fn hive_name(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "int".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("array<{}>", hive_name(f.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!(
                    "map<{},{}>",
                    hive_name(kv[0].data_type()),
                    hive_name(kv[1].data_type())
                )
            }
            _ => "string".into(),
        },
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => "string".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_types() {
        assert_eq!(hive_to_arrow("INT"), Ok(DataType::Int32));
        assert_eq!(
            hive_to_arrow("decimal(12, 2)"),
            Ok(DataType::Decimal128(12, 2))
        );
        assert_eq!(hive_to_arrow("varchar(10)"), Ok(DataType::Utf8));
        let nested = hive_to_arrow("array<struct<a:int,b:map<string,bigint>>>");
        assert!(matches!(nested, Ok(DataType::List(_))), "{nested:?}");
        assert_eq!(
            hive_name(&hive_to_arrow("array<struct<a:int,b:string>>").unwrap_or(DataType::Null)),
            "array<struct<a:int,b:string>>"
        );
        assert!(hive_to_arrow("blob").is_err());
    }
}
