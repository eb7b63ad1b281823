//! How AWS's Java services print values in validation messages.

use super::{Kind, ServiceModel, Shape};
use crate::value::Value;

/// `StreamName` → `streamName`: member names as AWS's messages give them.
pub fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A model bound as Java prints it (bounds are whole numbers in practice).
pub fn java_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A value as AWS shows it in `Value '...' at ...`: strings as they are, blobs as the byte
/// buffer's description, lists as `[a, b]`, maps as `{k=v}`, structures as their class.
pub fn render(model: &ServiceModel, shape: &Shape, v: &Value) -> String {
    match (shape.kind, v) {
        (_, Value::Str(s)) if shape.kind != Kind::Blob => s.clone(),
        (Kind::Blob, _) => {
            let n = match v {
                Value::Bytes(b) => b.len(),
                Value::Str(s) => {
                    let pad = s.bytes().rev().take_while(|&c| c == b'=').count();
                    (s.len() / 4 * 3).saturating_sub(pad)
                }
                _ => 0,
            };
            format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]")
        }
        (Kind::List, Value::List(items)) => {
            let member = shape.member.as_deref();
            let parts: Vec<String> = items
                .iter()
                .map(
                    |item| match member.and_then(|m| Some((m, model.shape(m)?))) {
                        Some((name, s)) => render_member(model, name, s, item),
                        None => plain(item),
                    },
                )
                .collect();
            format!("[{}]", parts.join(", "))
        }
        (Kind::Map, Value::Map(entries)) => {
            let value = shape.value.as_deref();
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, item)| {
                    let shown = match value.and_then(|m| Some((m, model.shape(m)?))) {
                        Some((name, s)) => render_member(model, name, s, item),
                        None => plain(item),
                    };
                    format!("{k}={shown}")
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        _ => plain(v),
    }
}

fn render_member(model: &ServiceModel, name: &str, shape: &Shape, v: &Value) -> String {
    if matches!(shape.kind, Kind::Structure | Kind::Union) {
        // Java's default toString: the class and an identity hash.
        return format!("{}.{name}@c965e310", model.class_prefix);
    }
    render(model, shape, v)
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => format!("java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]", b.len()),
        Value::Timestamp(ms) => ms.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(plain).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}={}", plain(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
