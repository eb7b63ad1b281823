//! Trino's JSON functions over JSON text (Athena's `json` values are text here):
//! json_extract, json_extract_scalar, json_parse, json_format, json_array_length, json_size,
//! with Trino's JSONPath subset (`$`, `.key`, `["key"]`, `[n]`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use super::{bigint, exec_err, strings, udf, varchar};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A JSONPath as steps, or an error naming the path.
fn path(p: &str) -> Result<Vec<Step>> {
    let bad = || exec_err(format!("Invalid JSON path: '{p}'"));
    let c: Vec<char> = p.trim().chars().collect();
    if c.first() != Some(&'$') {
        return Err(bad());
    }
    let mut steps = Vec::new();
    let mut i = 1;
    while i < c.len() {
        match c[i] {
            '.' => {
                let start = i + 1;
                let mut j = start;
                while j < c.len() && c[j] != '.' && c[j] != '[' {
                    j += 1;
                }
                if j == start {
                    return Err(bad());
                }
                steps.push(Step::Key(c[start..j].iter().collect()));
                i = j;
            }
            '[' => {
                let close = c[i..].iter().position(|&x| x == ']').ok_or_else(bad)? + i;
                let inner: String = c[i + 1..close].iter().collect();
                let inner = inner.trim();
                if let Some(q) = inner
                    .strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .or_else(|| inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().map_err(|_| bad())?));
                }
                i = close + 1;
            }
            _ => return Err(bad()),
        }
    }
    Ok(steps)
}

fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for s in steps {
        v = match (s, v) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(n), Value::Array(a)) => a.get(*n)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Applies `f` to each row's parsed JSON and path (NULL in, NULL out; bad JSON gives NULL).
fn with_path(a: &[ArrayRef], f: impl Fn(&Value) -> Option<String>) -> Result<ArrayRef> {
    let j = strings(&a[0])?;
    let p = strings(&a[1])?;
    let mut cache: Option<(String, Vec<Step>)> = None;
    let mut out = Vec::with_capacity(j.len());
    for i in 0..j.len() {
        if j.is_null(i) || p.is_null(i) {
            out.push(None);
            continue;
        }
        if cache.as_ref().is_none_or(|(text, _)| text != p.value(i)) {
            cache = Some((p.value(i).to_string(), path(p.value(i))?));
        }
        let steps = cache.as_ref().map(|(_, s)| s.as_slice()).unwrap_or(&[]);
        let v: Option<Value> = serde_json::from_str(j.value(i)).ok();
        out.push(v.as_ref().and_then(|v| walk(v, steps)).and_then(&f));
    }
    Ok(Arc::new(StringArray::from(out)))
}

fn json_extract(a: &[ArrayRef]) -> Result<ArrayRef> {
    with_path(a, |v| Some(v.to_string()))
}

fn json_extract_scalar(a: &[ArrayRef]) -> Result<ArrayRef> {
    with_path(a, |v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn json_size(a: &[ArrayRef]) -> Result<ArrayRef> {
    let sizes = with_path(a, |v| {
        Some(match v {
            Value::Array(x) => x.len().to_string(),
            Value::Object(m) => m.len().to_string(),
            _ => "0".to_string(),
        })
    })?;
    Ok(datafusion::arrow::compute::cast(&sizes, &DataType::Int64)?)
}

fn json_parse(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) {
            out.push(None);
            continue;
        }
        let v: Value = serde_json::from_str(s.value(i)).map_err(|e| {
            exec_err(format!(
                "Cannot convert value to JSON: '{}': {e}",
                s.value(i)
            ))
        })?;
        out.push(Some(v.to_string()));
    }
    Ok(Arc::new(StringArray::from(out)))
}

fn json_format(a: &[ArrayRef]) -> Result<ArrayRef> {
    Ok(Arc::new(strings(&a[0])?))
}

fn json_array_length(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let out: Int64Array = (0..s.len())
        .map(|i| {
            if s.is_null(i) {
                return None;
            }
            match serde_json::from_str::<Value>(s.value(i)).ok()? {
                Value::Array(x) => Some(x.len() as i64),
                _ => None,
            }
        })
        .collect();
    Ok(Arc::new(out))
}

pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf("json_extract", 2, varchar, json_extract),
        udf("json_extract_scalar", 2, varchar, json_extract_scalar),
        udf("json_size", 2, bigint, json_size),
        udf("json_parse", 1, varchar, json_parse),
        udf("json_format", 1, varchar, json_format),
        udf("json_array_length", 1, bigint, json_array_length),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;

    #[test]
    fn paths() {
        assert_eq!(
            path("$.a[0][\"b c\"]").ok(),
            Some(vec![
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("b c".into())
            ])
        );
        assert!(path("a.b").is_err());
        let j: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"a":{"b":[1,"x",{"c":true}]}}"#),
            Some("not json"),
            None,
        ]));
        let p: ArrayRef = Arc::new(StringArray::from(vec![Some("$.a.b[1]"); 3]));
        let out = json_extract_scalar(&[j.clone(), p.clone()]).unwrap_or_else(|e| panic!("{e}"));
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "x");
        assert!(out.is_null(1) && out.is_null(2));
        let p2: ArrayRef = Arc::new(StringArray::from(vec![Some("$.a.b[2]"); 3]));
        let out = json_extract(&[j, p2]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.as_string::<i32>().value(0), r#"{"c":true}"#);
    }
}
