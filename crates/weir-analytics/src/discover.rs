//! DiscoverInputSchema's inference: sample records in, an InputSchema out, with each record
//! as the columns read from it. JSON objects give a column per key (`$.key`, nested objects
//! flattened as `$.a.b`); other text is CSV (`,` between columns, a record per line).
//! Types follow what AWS's discovery shows: integers INTEGER (BIGINT when wider), other
//! numbers REAL (DOUBLE past a float's digits), strings VARCHAR sized to the next power of
//! two of their longest value, strings holding numbers as numbers.

use std::collections::BTreeMap;

use crate::error::{AnalyticsError, Result};
use crate::model::{
    CsvMapping, JsonMapping, MappingParameters, RecordColumn, RecordFormat, SourceSchema,
};

/// What discovery found.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub schema: SourceSchema,
    /// Each sampled record's values, in the columns' order (empty where absent).
    pub parsed: Vec<Vec<String>>,
    pub raw: Vec<String>,
}

/// A column's type as values widen it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Kind {
    Boolean,
    Integer,
    Bigint,
    /// A decimal string: digits before and after the point.
    Decimal(u32, u32),
    Real,
    Double,
    Varchar,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    path: String,
    kind: Option<Kind>,
    longest: usize,
}

impl Column {
    fn see(&mut self, kind: Kind, text: &str) {
        self.longest = self.longest.max(text.chars().count());
        self.kind = Some(match (self.kind, kind) {
            (None, k) => k,
            (Some(Kind::Decimal(a, b)), Kind::Decimal(c, d)) => Kind::Decimal(a.max(c), b.max(d)),
            (Some(Kind::Decimal(..)), Kind::Integer | Kind::Bigint)
            | (Some(Kind::Integer | Kind::Bigint), Kind::Decimal(..)) => Kind::Double,
            (Some(Kind::Boolean), k) | (Some(k), Kind::Boolean) if k != Kind::Boolean => {
                Kind::Varchar
            }
            (Some(a), b) => {
                if b > a {
                    b
                } else {
                    a
                }
            }
        });
    }

    fn sql_type(&self) -> String {
        match self.kind.unwrap_or(Kind::Varchar) {
            Kind::Boolean => "BOOLEAN".into(),
            Kind::Integer => "INTEGER".into(),
            Kind::Bigint => "BIGINT".into(),
            Kind::Decimal(int, frac) => format!("DECIMAL({},{frac})", int.max(1)),
            Kind::Real => "REAL".into(),
            Kind::Double => "DOUBLE".into(),
            Kind::Varchar => format!("VARCHAR({})", self.longest.max(1).next_power_of_two()),
        }
    }
}

/// The kind a string's text reads as.
fn text_kind(s: &str) -> Kind {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    if digits(unsigned) {
        return match s.parse::<i32>() {
            Ok(_) => Kind::Integer,
            Err(_) if s.parse::<i64>().is_ok() => Kind::Bigint,
            Err(_) => Kind::Varchar,
        };
    }
    match unsigned.split_once('.') {
        Some((a, b)) if digits(a) && digits(b) => Kind::Decimal(a.len() as u32, b.len() as u32),
        _ => Kind::Varchar,
    }
}

fn number_kind(n: &serde_json::Number) -> Kind {
    if let Some(i) = n.as_i64() {
        return match i32::try_from(i) {
            Ok(_) => Kind::Integer,
            Err(_) => Kind::Bigint,
        };
    }
    let text = n.to_string();
    let significant = text.bytes().filter(u8::is_ascii_digit).count();
    if significant > 7 {
        Kind::Double
    } else {
        Kind::Real
    }
}

/// SQL words a key cannot be a column name as (KDA renames such keys `COL_<key>`).
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CHAR",
    "COUNT",
    "CURRENT",
    "DATE",
    "DAY",
    "DEFAULT",
    "DELETE",
    "DISTINCT",
    "ELSE",
    "END",
    "EXISTS",
    "FALSE",
    "FLOOR",
    "FROM",
    "GROUP",
    "HAVING",
    "HOUR",
    "IN",
    "INSERT",
    "INTERVAL",
    "IS",
    "JOIN",
    "KEY",
    "LIKE",
    "LIMIT",
    "MINUTE",
    "MONTH",
    "NOT",
    "NULL",
    "OF",
    "ON",
    "OR",
    "ORDER",
    "OVER",
    "RANGE",
    "ROW",
    "ROWS",
    "ROWTIME",
    "SECOND",
    "SELECT",
    "SET",
    "STREAM",
    "TABLE",
    "THEN",
    "TIME",
    "TIMESTAMP",
    "TO",
    "TRUE",
    "UNION",
    "UPDATE",
    "USER",
    "VALUE",
    "VALUES",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "YEAR",
];

/// A key as a column name: itself when it is a plain identifier that is not a SQL word,
/// else `COL_` and its letters, digits and underscores.
fn column_name(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !RESERVED.contains(&key.to_ascii_uppercase().as_str()) {
        return key.to_string();
    }
    let kept: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("COL_{kept}")
}

fn walk(
    prefix: &str,
    v: &serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<(String, String, Kind, String)>,
) {
    for (k, v) in v {
        let path = format!("{prefix}.{k}");
        let (kind, text) = match v {
            serde_json::Value::Object(m) => {
                walk(&path, m, out);
                continue;
            }
            serde_json::Value::Null => continue,
            serde_json::Value::Bool(b) => (Kind::Boolean, b.to_string()),
            serde_json::Value::Number(n) => (number_kind(n), n.to_string()),
            serde_json::Value::String(s) => (text_kind(s), s.clone()),
            serde_json::Value::Array(_) => (Kind::Varchar, v.to_string()),
        };
        out.push((k.clone(), path, kind, text));
    }
}

/// Infers a schema from sample records.
pub fn discover(samples: &[Vec<u8>]) -> Result<Discovered> {
    let raw: Vec<String> = samples
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let objects: Option<Vec<serde_json::Map<String, serde_json::Value>>> = raw
        .iter()
        .map(|r| match serde_json::from_str(r.trim()) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        })
        .collect();
    let unable = |message: &str| AnalyticsError::UnableToDetectSchema {
        message: message.into(),
        raw: raw.clone(),
        processed: raw.clone(),
    };
    if raw.is_empty() {
        return Err(unable(
            "No data was read from the source to discover a schema from.",
        ));
    }
    let (columns, rows, format) = match objects {
        Some(objects) => {
            let mut columns: Vec<Column> = Vec::new();
            let mut at: BTreeMap<String, usize> = BTreeMap::new();
            let mut rows = Vec::new();
            for o in &objects {
                let mut found = Vec::new();
                walk("$", o, &mut found);
                let mut row = BTreeMap::new();
                for (key, path, kind, text) in found {
                    let c = *at.entry(path.clone()).or_insert_with(|| {
                        columns.push(Column {
                            name: column_name(&key),
                            path: path.clone(),
                            kind: None,
                            longest: 0,
                        });
                        columns.len() - 1
                    });
                    columns[c].see(kind, &text);
                    row.insert(c, text);
                }
                rows.push(row);
            }
            let format = RecordFormat {
                record_format_type: "JSON".into(),
                mapping_parameters: Some(MappingParameters {
                    json: Some(JsonMapping {
                        record_row_path: "$".into(),
                    }),
                    csv: None,
                }),
            };
            (columns, rows, format)
        }
        None => {
            let mut columns: Vec<Column> = Vec::new();
            let mut rows = Vec::new();
            for line in raw.iter().flat_map(|r| r.lines()).filter(|l| !l.is_empty()) {
                let mut row = BTreeMap::new();
                for (c, field) in line.split(',').enumerate() {
                    if c == columns.len() {
                        columns.push(Column {
                            name: format!("COL{}", c + 1),
                            path: String::new(),
                            kind: None,
                            longest: 0,
                        });
                    }
                    columns[c].see(text_kind(field), field);
                    row.insert(c, field.to_string());
                }
                rows.push(row);
            }
            let format = RecordFormat {
                record_format_type: "CSV".into(),
                mapping_parameters: Some(MappingParameters {
                    json: None,
                    csv: Some(CsvMapping {
                        record_row_delimiter: "\n".into(),
                        record_column_delimiter: ",".into(),
                    }),
                }),
            };
            (columns, rows, format)
        }
    };
    if columns.is_empty() {
        return Err(unable("Unable to determine a schema from the data read."));
    }
    let json = format.record_format_type == "JSON";
    let parsed = rows
        .into_iter()
        .map(|mut row| {
            (0..columns.len())
                .map(|c| row.remove(&c).unwrap_or_default())
                .collect()
        })
        .collect();
    let schema = SourceSchema {
        record_format: format,
        record_encoding: Some("UTF-8".into()),
        record_columns: columns
            .iter()
            .map(|c| RecordColumn {
                name: c.name.clone(),
                mapping: json.then(|| c.path.clone()),
                sql_type: c.sql_type(),
            })
            .collect(),
    };
    Ok(Discovered {
        schema,
        parsed,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::discover;

    #[test]
    fn the_stock_ticker_demo_is_discovered_as_aws_shows_it() {
        let samples: Vec<Vec<u8>> = [
            r#"{"TICKER_SYMBOL": "QXZ", "SECTOR": "HEALTHCARE", "CHANGE": -0.05, "PRICE": 84.51}"#,
            r#"{"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": 1.5, "PRICE": 5.2}"#,
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let d = discover(&samples).expect("discovered");
        let cols: Vec<(String, Option<String>, String)> = d
            .schema
            .record_columns
            .iter()
            .map(|c| (c.name.clone(), c.mapping.clone(), c.sql_type.clone()))
            .collect();
        // serde_json keeps keys sorted.
        assert_eq!(
            cols,
            [
                ("CHANGE", "$.CHANGE", "REAL"),
                ("PRICE", "$.PRICE", "REAL"),
                ("SECTOR", "$.SECTOR", "VARCHAR(16)"),
                ("TICKER_SYMBOL", "$.TICKER_SYMBOL", "VARCHAR(4)"),
            ]
            .map(|(a, b, c)| (a.to_string(), Some(b.to_string()), c.to_string()))
        );
        assert_eq!(d.parsed[0], ["-0.05", "84.51", "HEALTHCARE", "QXZ"]);
        assert_eq!(d.schema.record_format.record_format_type, "JSON");
    }

    #[test]
    fn keys_that_are_not_names_are_renamed_and_numeric_strings_are_numbers() {
        let samples = vec![
            br#"{"time": "123", "x-stuff": "1.0", "ok": true, "n": {"a": 5000000000}}"#.to_vec(),
        ];
        let d = discover(&samples).expect("discovered");
        let cols: Vec<(&str, &str)> = d
            .schema
            .record_columns
            .iter()
            .map(|c| (c.name.as_str(), c.sql_type.as_str()))
            .collect();
        assert_eq!(
            cols,
            [
                ("a", "BIGINT"),
                ("ok", "BOOLEAN"),
                ("COL_time", "INTEGER"),
                ("COL_xstuff", "DECIMAL(1,1)"),
            ]
        );
    }

    #[test]
    fn text_that_is_not_json_is_csv_and_nothing_is_an_error() {
        let d = discover(&[b"a,1,2.5\nbb,2,3.5".to_vec()]).expect("csv");
        assert_eq!(d.schema.record_format.record_format_type, "CSV");
        let types: Vec<&str> = d
            .schema
            .record_columns
            .iter()
            .map(|c| c.sql_type.as_str())
            .collect();
        assert_eq!(types, ["VARCHAR(2)", "INTEGER", "DECIMAL(1,1)"]);
        assert_eq!(d.parsed.len(), 2);
        assert!(discover(&[]).is_err());
    }
}
