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
            let v = at(&mut row, path).map(Value::take).unwrap_or(Value::Null);
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

/// JSON lines as the lines of their rows.
pub fn lines(spec: &Reshape, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split(|b| *b == b'\n') {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => {
                for row in rows(spec, v) {
                    out.extend_from_slice(row.to_string().as_bytes());
                    out.push(b'\n');
                }
            }
            Err(_) => {
                out.extend_from_slice(line);
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
        let Ok(value) = serde_json::from_slice::<Value>(&r.data) else {
            out.push(r);
            continue;
        };
        let parts = rows(spec, value);
        let n = parts.len();
        for (k, part) in parts.into_iter().enumerate() {
            out.push(SourceRecord {
                arrival_ms: r.arrival_ms,
                data: part.to_string().into_bytes().into(),
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
