//! Glue column types (`bigint`, `decimal(10,2)`, `array<struct<a:int>>`, ...): parsed once
//! here, as Hive and Athena spell them, and mapped to Arrow for every reader and writer of the
//! lake (Athena's tables, Firehose's format conversion).

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, FieldRef, Fields, TimeUnit};

/// A column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    /// Precision (at most 38) and scale.
    Decimal(u8, i8),
    /// `string`, `varchar(n)`, `char(n)`.
    String,
    Binary,
    Date,
    Timestamp,
    Array(Box<HiveType>),
    Map(Box<HiveType>, Box<HiveType>),
    Struct(Vec<(String, HiveType)>),
}

impl HiveType {
    /// Parses a type as the catalog, DDL or a CAST writes it (case-insensitive; `<...>` or
    /// `(...)` around parameters; `row(a int)` as well as `struct<a:int>`).
    pub fn parse(t: &str) -> Result<HiveType, String> {
        let mut p = Parser {
            s: t.trim().as_bytes(),
            at: 0,
            text: t,
        };
        let ty = p.parse()?;
        p.ws();
        if p.at != p.s.len() {
            return Err(format!("Unknown type '{t}'"));
        }
        Ok(ty)
    }

    /// The Arrow type Weir reads and writes this type as.
    pub fn to_arrow(&self) -> DataType {
        match self {
            HiveType::Boolean => DataType::Boolean,
            HiveType::TinyInt => DataType::Int8,
            HiveType::SmallInt => DataType::Int16,
            HiveType::Int => DataType::Int32,
            HiveType::BigInt => DataType::Int64,
            HiveType::Float => DataType::Float32,
            HiveType::Double => DataType::Float64,
            HiveType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            HiveType::String => DataType::Utf8,
            HiveType::Binary => DataType::Binary,
            HiveType::Date => DataType::Date32,
            HiveType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            HiveType::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.to_arrow(), true)))
            }
            HiveType::Map(k, v) => DataType::Map(map_entries(k, v), false),
            HiveType::Struct(fields) => DataType::Struct(struct_fields(fields)),
        }
    }
}

/// The type as Glue writes it: `int`, `decimal(10,2)`, `array<struct<a:int>>`.
impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::TinyInt => f.write_str("tinyint"),
            HiveType::SmallInt => f.write_str("smallint"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Float => f.write_str("float"),
            HiveType::Double => f.write_str("double"),
            HiveType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            HiveType::String => f.write_str("string"),
            HiveType::Binary => f.write_str("binary"),
            HiveType::Date => f.write_str("date"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Array(e) => write!(f, "array<{e}>"),
            HiveType::Map(k, v) => write!(f, "map<{k},{v}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{n}:{t}")?;
                }
                f.write_str(">")
            }
        }
    }
}

impl HiveType {
    /// The Glue type of an Arrow type (as Parquet and ORC footers and query results come):
    /// unsigned integers widened, dictionaries as their values, anything without a Hive
    /// counterpart (and Null) as `string`.
    pub fn of_arrow(dt: &DataType) -> HiveType {
        match dt {
            DataType::Boolean => HiveType::Boolean,
            DataType::Int8 => HiveType::TinyInt,
            DataType::Int16 | DataType::UInt8 => HiveType::SmallInt,
            DataType::Int32 | DataType::UInt16 => HiveType::Int,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => HiveType::BigInt,
            DataType::Float16 | DataType::Float32 => HiveType::Float,
            DataType::Float64 => HiveType::Double,
            DataType::Decimal32(p, s)
            | DataType::Decimal64(p, s)
            | DataType::Decimal128(p, s)
            | DataType::Decimal256(p, s) => HiveType::Decimal((*p).min(38), *s),
            DataType::Date32 | DataType::Date64 => HiveType::Date,
            DataType::Timestamp(..) => HiveType::Timestamp,
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => HiveType::Binary,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _) => {
                HiveType::Array(Box::new(HiveType::of_arrow(f.data_type())))
            }
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => HiveType::Map(
                    Box::new(HiveType::of_arrow(kv[0].data_type())),
                    Box::new(HiveType::of_arrow(kv[1].data_type())),
                ),
                _ => HiveType::String,
            },
            DataType::Struct(fields) => HiveType::Struct(
                fields
                    .iter()
                    .map(|f| (f.name().clone(), HiveType::of_arrow(f.data_type())))
                    .collect(),
            ),
            DataType::Dictionary(_, v) => HiveType::of_arrow(v),
            _ => HiveType::String,
        }
    }
}

/// The entries of an Arrow map of `k` to `v` (keys never null).
pub fn map_entries(k: &HiveType, v: &HiveType) -> FieldRef {
    Arc::new(Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", k.to_arrow(), false),
            Field::new("value", v.to_arrow(), true),
        ])),
        false,
    ))
}

/// The fields of an Arrow struct (all nullable).
pub fn struct_fields(fields: &[(String, HiveType)]) -> Fields {
    Fields::from(
        fields
            .iter()
            .map(|(n, t)| Field::new(n, t.to_arrow(), true))
            .collect::<Vec<_>>(),
    )
}

/// A Glue column type as Arrow.
pub fn hive_to_arrow(t: &str) -> Result<DataType, String> {
    HiveType::parse(t).map(|h| h.to_arrow())
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn unknown(&self) -> String {
        format!("Unknown type '{}'", self.text)
    }
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
            Err(self.unknown())
        }
    }
    fn number(&mut self) -> Result<u32, String> {
        self.word().parse().map_err(|_| self.unknown())
    }
    /// `(n)` after a type name, if there.
    fn length(&mut self) -> Result<(), String> {
        if self.eat(b'(') {
            self.number()?;
            self.expect(b')')?;
        }
        Ok(())
    }
    /// The closing bracket of `<...>` or `(...)` after an opening one.
    fn open(&mut self) -> Result<u8, String> {
        if self.eat(b'<') {
            Ok(b'>')
        } else {
            self.expect(b'(')?;
            Ok(b')')
        }
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
    fn parse(&mut self) -> Result<HiveType, String> {
        let w = self.word();
        Ok(match w.as_str() {
            "string" | "varchar" | "char" | "json" => {
                self.length()?;
                HiveType::String
            }
            "int" | "integer" => HiveType::Int,
            "bigint" | "long" => HiveType::BigInt,
            "smallint" => HiveType::SmallInt,
            "tinyint" => HiveType::TinyInt,
            "double" => HiveType::Double,
            "float" | "real" => HiveType::Float,
            "boolean" | "bool" => HiveType::Boolean,
            "date" => HiveType::Date,
            "timestamp" => {
                self.length()?;
                HiveType::Timestamp
            }
            "binary" | "varbinary" => HiveType::Binary,
            "decimal" | "numeric" => {
                if self.eat(b'(') {
                    let p = self.number()?;
                    let s = if self.eat(b',') { self.number()? } else { 0 };
                    self.expect(b')')?;
                    // Hive's bounds: 1 ≤ precision ≤ 38, scale ≤ precision.
                    if p == 0 || p > 38 || s > p {
                        return Err(self.unknown());
                    }
                    HiveType::Decimal(p as u8, s as i8)
                } else {
                    HiveType::Decimal(10, 0)
                }
            }
            "array" => {
                let close = self.open()?;
                let item = self.parse()?;
                self.expect(close)?;
                HiveType::Array(Box::new(item))
            }
            "map" => {
                let close = self.open()?;
                let k = self.parse()?;
                self.expect(b',')?;
                let v = self.parse()?;
                self.expect(close)?;
                HiveType::Map(Box::new(k), Box::new(v))
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
                    fields.push((name, self.parse()?));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(if angle { b'>' } else { b')' })?;
                HiveType::Struct(fields)
            }
            _ => return Err(self.unknown()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_glue_types() {
        assert_eq!(hive_to_arrow("INT"), Ok(DataType::Int32));
        assert_eq!(
            hive_to_arrow("decimal(12, 2)"),
            Ok(DataType::Decimal128(12, 2))
        );
        assert_eq!(hive_to_arrow("varchar(10)"), Ok(DataType::Utf8));
        let nested = hive_to_arrow("array<struct<a:int,b:map<string,bigint>>>");
        assert!(matches!(nested, Ok(DataType::List(_))), "{nested:?}");
        for t in [
            "array<struct<a:int,b:string>>",
            "map<string,array<decimal(10,2)>>",
            "timestamp",
        ] {
            assert_eq!(HiveType::parse(t).map(|h| h.to_string()).as_deref(), Ok(t));
        }
        assert_eq!(
            HiveType::parse("row(a integer, b varchar)"),
            Ok(HiveType::Struct(vec![
                ("a".into(), HiveType::Int),
                ("b".into(), HiveType::String)
            ]))
        );
        assert!(hive_to_arrow("blob").is_err());
        assert!(hive_to_arrow("int int").is_err());
        assert!(hive_to_arrow("decimal(5,10)").is_err());
        assert!(hive_to_arrow("decimal(0)").is_err());
    }
}
