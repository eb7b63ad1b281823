//! Kinesis Data Analytics' JSONPath forms that change a record's shape, applied before
//! decoding: a `RecordRowPath` below the root (`$.a.b`, or `$.a[0:]`: each element a row), a
//! mapping `$.arr[0:].x` that flattens one array (each element its own row, the other values
//! repeated; an empty or missing array gives one row with nulls), and a mapping `$.arr[0:]`
//! that reads the whole array as one text field. A record that is not JSON passes unchanged
//! (the decoder rejects it).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use weir_delivery::source::SourceRecord;

use crate::table::TableDef;

pub const RESHAPE_OPTION: &str = "weir.json.reshape";

/// Paths are lists of keys from the row (or, for `root`, from the record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {
    #[serde(default)]
    pub root: Vec<String>,
    /// The root is an array whose elements are rows.
    #[serde(default)]
    pub root_array: bool,
    #[serde(default)]
    pub flatten: Option<Vec<String>>,
    /// Values read as their JSON text.
    #[serde(default)]
    pub text: Vec<Vec<String>>,
    /// When set, each row becomes an object of these columns, each the value at its path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub project: Vec<(String, Vec<String>)>,
    /// CSV records: rows cut at the first (RecordRowDelimiter), and a column delimiter of
    /// more than one byte rewritten to the unit separator (0x1F) the decoder then reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<(String, String)>,
}

/// The byte a multi-byte CSV column delimiter is rewritten to.
pub const UNIT_SEPARATOR: u8 = 0x1f;

/// The rows of a CSV record (empty ones left out), columns delimited by one byte.
fn csv_rows<'a>(
    rows: &'a str,
    columns: &'a str,
    data: &'a [u8],
) -> impl Iterator<Item = Vec<u8>> + 'a {
    split(data, rows.as_bytes())
        .filter(|r| !r.is_empty())
        .map(move |r| {
            if columns.len() <= 1 {
                return r.to_vec();
            }
            let mut out = Vec::with_capacity(r.len());
            let mut parts = split(r, columns.as_bytes()).peekable();
            while let Some(p) = parts.next() {
                out.extend_from_slice(p);
                if parts.peek().is_some() {
                    out.push(UNIT_SEPARATOR);
                }
            }
            out
        })
}

/// `data` cut at each `sep` (non-empty).
fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(sep.len().max(1)).position(|w| w == sep) {
            Some(at) if !sep.is_empty() => {
                rest = Some(&r[at + sep.len()..]);
                Some(&r[..at])
            }
            _ => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// A CSV object's rows as lines (for a lookup table).
pub fn csv_lines(spec: &Reshape, data: &[u8]) -> Option<Vec<u8>> {
    let (rows, columns) = spec.csv.as_ref()?;
    let mut out = Vec::with_capacity(data.len());
    for row in csv_rows(rows, columns, data) {
        out.extend_from_slice(&row);
        out.push(b'\n');
    }
    Some(out)
}

impl Reshape {
    pub fn is_identity(&self) -> bool {
        *self == Reshape::default()
    }
}

/// The table's reshaping, if it has one.
pub fn of(table: &TableDef) -> Option<Reshape> {
    let spec = table.flink.options.get(RESHAPE_OPTION)?;
    match serde_json::from_str(spec) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "a reshaping that does not read");
            None
        }
    }
}

fn at<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| v.get_mut(k))
}

/// The rows of one record.
fn rows(spec: &Reshape, record: Value) -> Vec<Value> {
    let mut record = record;
    let root = match at(&mut record, &spec.root) {
        Some(v) => v.take(),
        None => Value::Null,
    };
    let roots = match (spec.root_array, root) {
        (true, Value::Array(items)) => items,
        (_, v) => vec![v],
    };
    let mut out = Vec::new();
    let project = |mut row: Value| -> Value {
        if spec.project.is_empty() {
            return row;
        }
        let mut obj = serde_json::Map::new();
        for (name, path) in &spec.project {
            let v = at(&mut row, path).cloned().unwrap_or(Value::Null);
            obj.insert(name.clone(), v);
        }
        Value::Object(obj)
    };
    for mut row in roots {
        for path in &spec.text {
            if let Some(v) = at(&mut row, path) {
                if v.is_array() || v.is_object() {
                    *v = Value::String(v.to_string());
                }
            }
        }
        match &spec.flatten {
            None => out.push(project(row)),
            Some(path) => {
                let items = match at(&mut row, path).map(Value::take) {
                    Some(Value::Array(items)) if !items.is_empty() => items,
                    _ => vec![Value::Null],
                };
                for item in items {
                    let mut copy = row.clone();
                    if let Some(v) = at(&mut copy, path) {
                        *v = item;
                    }
                    out.push(project(copy));
                }
            }
        }
    }
    out
}

/// A JSON object's rows as lines: its values one after the other (lines, or pretty-printed),
/// a top-level array's elements each a record. What does not read stays as it is.
pub fn lines(spec: &Reshape, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut values = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    for v in values.by_ref() {
        let Ok(v) = v else {
            return data.to_vec();
        };
        let records = match v {
            Value::Array(items) => items,
            v => vec![v],
        };
        for record in records {
            for row in rows(spec, record) {
                out.extend_from_slice(row.to_string().as_bytes());
                out.push(b'\n');
            }
        }
    }
    out
}

/// Each record as its rows (parts of one record keep its position; the last is its boundary).
pub fn apply(spec: &Reshape, records: Vec<SourceRecord>) -> Vec<SourceRecord> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let parts: Vec<Vec<u8>> = match &spec.csv {
            Some((rows, columns)) => csv_rows(rows, columns, &r.data).collect(),
            None => match serde_json::from_slice::<Value>(&r.data) {
                Ok(value) => rows(spec, value)
                    .into_iter()
                    .map(|v| v.to_string().into_bytes())
                    .collect(),
                Err(_) => {
                    out.push(r);
                    continue;
                }
            },
        };
        let n = parts.len();
        for (k, part) in parts.into_iter().enumerate() {
            out.push(SourceRecord {
                arrival_ms: r.arrival_ms,
                data: part.into(),
                shard: Arc::clone(&r.shard),
                sequence_number: Arc::clone(&r.sequence_number),
                partition_key: Arc::clone(&r.partition_key),
                subsequence: r.subsequence + k as u32,
                boundary: r.boundary && k + 1 == n,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(spec: &Reshape, json: &str) -> Vec<String> {
        rows(spec, serde_json::from_str(json).unwrap())
            .iter()
            .map(Value::to_string)
            .collect()
    }

    #[test]
    fn csv_records_are_cut_into_rows() {
        let rows: Vec<String> = csv_rows("\r\n", "||", b"a||1\r\nb||2\r\n")
            .map(|r| String::from_utf8(r).unwrap())
            .collect();
        assert_eq!(rows, vec!["a\u{1f}1", "b\u{1f}2"]);
        let rows: Vec<String> = csv_rows("\n", ",", b"a,1\nb,2")
            .map(|r| String::from_utf8(r).unwrap())
            .collect();
        assert_eq!(rows, vec!["a,1", "b,2"]);
    }

    #[test]
    fn the_guide_s_orders_example() {
        let record = r#"{"customerName":"John Doe","orders":[{"orderId":"23284"},{"orderId":"63122"}],"tags":["a","b"]}"#;
        let spec = Reshape {
            flatten: Some(vec!["orders".into()]),
            text: vec![vec!["tags".into()]],
            ..Reshape::default()
        };
        assert_eq!(
            shape(&spec, record),
            vec![
                r#"{"customerName":"John Doe","orders":{"orderId":"23284"},"tags":"[\"a\",\"b\"]"}"#,
                r#"{"customerName":"John Doe","orders":{"orderId":"63122"},"tags":"[\"a\",\"b\"]"}"#,
            ]
        );
        // An empty array still makes one row.
        assert_eq!(
            shape(&spec, r#"{"customerName":"x","orders":[]}"#),
            vec![r#"{"customerName":"x","orders":null}"#]
        );
        let rooted = Reshape {
            root: vec!["data".into()],
            root_array: true,
            ..Reshape::default()
        };
        assert_eq!(
            shape(&rooted, r#"{"data":[{"a":1},{"a":2}]}"#),
            vec![r#"{"a":1}"#, r#"{"a":2}"#]
        );
    }
}
