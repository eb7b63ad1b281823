//! The schemas a crawl infers, in Hive's types, and how they merge: across the records of a
//! file and across files, a column keeps the widest type seen (`int` < `bigint` < `double`;
//! anything with `string` is `string`; structs merge field by field; arrays by element), and
//! columns missing from some files stay, in first-seen order.

use arrow_schema::{DataType, Field};
use weir_catalog::types::HiveType;

/// A column type, as the catalog writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum HType {
    /// Only NULLs seen so far (a `string` if nothing else turns up).
    Null,
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal(u8, i8),
    String,
    Binary,
    Date,
    Timestamp,
    Array(Box<HType>),
    Map(Box<HType>, Box<HType>),
    Struct(Vec<(String, HType)>),
}

/// A table's columns.
pub type Columns = Vec<(String, HType)>;

impl HType {
    /// The Glue type string (`bigint`, `array<struct<a:int>>`).
    pub fn hive(&self) -> String {
        self.to_hive().to_string()
    }

    /// As the catalog's type (only NULLs seen: `string`).
    fn to_hive(&self) -> HiveType {
        let boxed = |t: &HType| Box::new(t.to_hive());
        match self {
            HType::Null | HType::String => HiveType::String,
            HType::Boolean => HiveType::Boolean,
            HType::TinyInt => HiveType::TinyInt,
            HType::SmallInt => HiveType::SmallInt,
            HType::Int => HiveType::Int,
            HType::BigInt => HiveType::BigInt,
            HType::Float => HiveType::Float,
            HType::Double => HiveType::Double,
            HType::Decimal(p, s) => HiveType::Decimal(*p, *s),
            HType::Binary => HiveType::Binary,
            HType::Date => HiveType::Date,
            HType::Timestamp => HiveType::Timestamp,
            HType::Array(e) => HiveType::Array(boxed(e)),
            HType::Map(k, v) => HiveType::Map(boxed(k), boxed(v)),
            HType::Struct(fields) => HiveType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| (n.clone(), t.to_hive()))
                    .collect(),
            ),
        }
    }

    /// From the catalog's type.
    fn of_hive(t: HiveType) -> HType {
        let boxed = |t: HiveType| Box::new(HType::of_hive(t));
        match t {
            HiveType::String => HType::String,
            HiveType::Boolean => HType::Boolean,
            HiveType::TinyInt => HType::TinyInt,
            HiveType::SmallInt => HType::SmallInt,
            HiveType::Int => HType::Int,
            HiveType::BigInt => HType::BigInt,
            HiveType::Float => HType::Float,
            HiveType::Double => HType::Double,
            HiveType::Decimal(p, s) => HType::Decimal(p, s),
            HiveType::Binary => HType::Binary,
            HiveType::Date => HType::Date,
            HiveType::Timestamp => HType::Timestamp,
            HiveType::Array(e) => HType::Array(boxed(*e)),
            HiveType::Map(k, v) => HType::Map(boxed(*k), boxed(*v)),
            HiveType::Struct(fields) => HType::Struct(
                fields
                    .into_iter()
                    .map(|(n, t)| (n.to_lowercase(), HType::of_hive(t)))
                    .collect(),
            ),
        }
    }

    fn integer_rank(&self) -> Option<u8> {
        Some(match self {
            HType::TinyInt => 1,
            HType::SmallInt => 2,
            HType::Int => 3,
            HType::BigInt => 4,
            _ => return None,
        })
    }

    /// The type that holds values of both.
    pub fn merge(self, other: HType) -> HType {
        use HType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Null, b) => b,
            (a, Null) => a,
            (a, b) if a.integer_rank().is_some() && b.integer_rank().is_some() => {
                if a.integer_rank() >= b.integer_rank() {
                    a
                } else {
                    b
                }
            }
            (a, b)
                if (a.integer_rank().is_some() || matches!(a, Float | Double | Decimal(..)))
                    && (b.integer_rank().is_some()
                        || matches!(b, Float | Double | Decimal(..))) =>
            {
                Double
            }
            (Date, Timestamp) | (Timestamp, Date) => Timestamp,
            (Array(a), Array(b)) => Array(Box::new(a.merge(*b))),
            (Map(ka, va), Map(kb, vb)) => Map(Box::new(ka.merge(*kb)), Box::new(va.merge(*vb))),
            (Struct(a), Struct(b)) => Struct(merge_columns(a, b)),
            _ => String,
        }
    }

    /// The type of a JSON value (numbers that fit 32 bits are `int`, as Glue's JSON classifier
    /// infers them).
    pub fn of_json(v: &serde_json::Value) -> HType {
        use serde_json::Value;
        match v {
            Value::Null => HType::Null,
            Value::Bool(_) => HType::Boolean,
            Value::Number(n) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => HType::Int,
                Some(_) => HType::BigInt,
                None if n.as_u64().is_some() => HType::BigInt,
                None => HType::Double,
            },
            Value::String(_) => HType::String,
            Value::Array(items) => HType::Array(Box::new(
                items
                    .iter()
                    .map(HType::of_json)
                    .fold(HType::Null, HType::merge),
            )),
            Value::Object(fields) => HType::Struct(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_lowercase(), HType::of_json(v)))
                    .collect(),
            ),
        }
    }

    /// The Hive type of an Arrow type (Parquet and ORC footers are read as Arrow schemas).
    pub fn of_arrow(dt: &DataType) -> HType {
        match dt {
            DataType::Null => HType::Null,
            other => HType::of_hive(HiveType::of_arrow(other)),
        }
    }
}

/// An Arrow schema's fields as columns (names lower case, as Glue keeps them).
pub fn columns_of_arrow(fields: &[std::sync::Arc<Field>]) -> Columns {
    fields
        .iter()
        .map(|f| (f.name().to_lowercase(), HType::of_arrow(f.data_type())))
        .collect()
}

/// Both column lists merged: `a`'s order, then `b`'s new columns; shared ones widened.
pub fn merge_columns(mut a: Columns, b: Columns) -> Columns {
    for (name, t) in b {
        match a.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                let old = std::mem::replace(existing, HType::Null);
                *existing = old.merge(t);
            }
            None => a.push((name, t)),
        }
    }
    a
}

/// How alike two schemas are: the share of the smaller one's columns that the other has too
/// (1.0 when one extends the other, 0.0 for `a,b` against `c,d`).
pub fn similarity(a: &Columns, b: &Columns) -> f64 {
    let shared = a
        .iter()
        .filter(|(n, _)| b.iter().any(|(m, _)| m == n))
        .count();
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        1.0
    } else {
        shared as f64 / smaller as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_and_json() {
        assert_eq!(HType::Int.merge(HType::BigInt), HType::BigInt);
        assert_eq!(HType::BigInt.merge(HType::Double), HType::Double);
        assert_eq!(HType::Int.merge(HType::String), HType::String);
        assert_eq!(HType::Null.merge(HType::Boolean), HType::Boolean);
        assert_eq!(HType::Boolean.merge(HType::Int), HType::String);
        let v: serde_json::Value = serde_json::from_str(
            r#"{"A": 1, "big": 5000000000, "x": 1.5, "tags": ["a"], "geo": {"lat": 1}}"#,
        )
        .unwrap_or_default();
        assert_eq!(
            HType::of_json(&v).hive(),
            "struct<a:int,big:bigint,geo:struct<lat:int>,tags:array<string>,x:double>"
        );
        let a = vec![("a".to_string(), HType::Int), ("b".to_string(), HType::Int)];
        let b = vec![
            ("b".to_string(), HType::Double),
            ("c".to_string(), HType::String),
        ];
        let m = merge_columns(a.clone(), b.clone());
        assert_eq!(
            m.iter()
                .map(|(n, t)| format!("{n}:{}", t.hive()))
                .collect::<Vec<_>>(),
            ["a:int", "b:double", "c:string"]
        );
        assert!((similarity(&a, &b) - 0.5).abs() < 1e-9);
    }
}
