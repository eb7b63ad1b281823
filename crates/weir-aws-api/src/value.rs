//! The document model shared by AWS JSON 1.1 and CBOR bodies, with a codec for each.
//!
//! JSON carries blobs as base64 strings and timestamps as epoch seconds; CBOR carries blobs as
//! byte strings and timestamps as tag 1 over integer epoch milliseconds (the Java SDK's form).

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A member name: static in responses, owned in decoded requests.
pub type Key = std::borrow::Cow<'static, str>;

/// A decoded request or response document.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Bytes(Bytes),
    /// Epoch milliseconds.
    Timestamp(i64),
    List(Vec<Value>),
    Map(Vec<(Key, Value)>),
}

/// Which body encoding a request used; the response uses the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Cbor,
}

impl Protocol {
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json => "application/x-amz-json-1.1",
            Protocol::Cbor => "application/x-amz-cbor-1.1",
        }
    }
}

/// A body that is not a well-formed document.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// A map from (key, value) pairs, dropping `Null`s (absent members are omitted on the wire).
    pub fn map<I: IntoIterator<Item = (&'static str, Value)>>(items: I) -> Value {
        Value::Map(
            items
                .into_iter()
                .filter(|(_, v)| *v != Value::Null)
                .map(|(k, v)| (Key::Borrowed(k), v))
                .collect(),
        )
    }

    pub fn opt_str(s: Option<impl Into<String>>) -> Value {
        s.map(|s| Value::Str(s.into())).unwrap_or(Value::Null)
    }

    /// Short type name for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Bytes(_) => "byte string",
            Value::Timestamp(_) => "timestamp",
            Value::List(_) => "list",
            Value::Map(_) => "structure",
        }
    }
}

/// Decodes a request body; an empty body is an empty structure.
pub fn decode(protocol: Protocol, body: &[u8]) -> Result<Value, DecodeError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Map(Vec::new()));
    }
    match protocol {
        Protocol::Json => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| DecodeError(format!("Malformed JSON request body: {e}")))?;
            Ok(v)
        }
        Protocol::Cbor => {
            let v: ciborium::Value = ciborium::from_reader(body)
                .map_err(|e| DecodeError(format!("Malformed CBOR request body: {e}")))?;
            from_cbor(v, 0)
        }
    }
}

/// Encodes a response document.
pub fn encode(protocol: Protocol, v: &Value) -> Vec<u8> {
    match protocol {
        Protocol::Json => {
            let mut out = Vec::with_capacity(json_size_hint(v));
            write_json(&mut out, v);
            out
        }
        Protocol::Cbor => {
            let mut out = Vec::with_capacity(256);
            // Writing into a Vec cannot fail.
            let _ = ciborium::into_writer(&to_cbor(v), &mut out);
            out
        }
    }
}

/// JSON documents deserialize straight into `Value` (no intermediate tree).
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Int(u.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            out.push((Key::Owned(k), v));
        }
        Ok(Value::Map(out))
    }
}

const MAX_DEPTH: usize = 64;

fn from_cbor(v: ciborium::Value, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError("CBOR request body nests too deeply".into()));
    }
    Ok(match v {
        ciborium::Value::Null => Value::Null,
        ciborium::Value::Bool(b) => Value::Bool(b),
        ciborium::Value::Integer(i) => Value::Int(i128::from(i)),
        ciborium::Value::Float(f) => Value::Float(f),
        ciborium::Value::Text(s) => Value::Str(s),
        ciborium::Value::Bytes(b) => Value::Bytes(Bytes::from(b)),
        ciborium::Value::Array(a) => Value::List(
            a.into_iter()
                .map(|v| from_cbor(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        ciborium::Value::Map(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                let ciborium::Value::Text(k) = k else {
                    return Err(DecodeError("CBOR map keys must be text strings".into()));
                };
                out.push((Key::Owned(k), from_cbor(v, depth + 1)?));
            }
            Value::Map(out)
        }
        ciborium::Value::Tag(1, inner) => match *inner {
            ciborium::Value::Integer(i) => {
                let ms = i64::try_from(i128::from(i))
                    .map_err(|_| DecodeError("CBOR timestamp out of range".into()))?;
                Value::Timestamp(ms)
            }
            ciborium::Value::Float(f) if f.is_finite() => {
                Value::Timestamp((f * 1000.0).round() as i64)
            }
            _ => return Err(DecodeError("CBOR tag 1 must wrap a number".into())),
        },
        ciborium::Value::Tag(_, inner) => from_cbor(*inner, depth + 1)?,
        _ => return Err(DecodeError("unsupported CBOR item".into())),
    })
}

pub(crate) fn to_cbor(v: &Value) -> ciborium::Value {
    match v {
        Value::Null => ciborium::Value::Null,
        Value::Bool(b) => ciborium::Value::Bool(*b),
        Value::Int(i) => match i64::try_from(*i) {
            Ok(i) => ciborium::Value::Integer(i.into()),
            Err(_) => ciborium::Value::Float(*i as f64),
        },
        Value::Float(f) => ciborium::Value::Float(*f),
        Value::Str(s) => ciborium::Value::Text(s.clone()),
        Value::Bytes(b) => ciborium::Value::Bytes(b.to_vec()),
        Value::Timestamp(ms) => {
            ciborium::Value::Tag(1, Box::new(ciborium::Value::Integer((*ms).into())))
        }
        Value::List(l) => ciborium::Value::Array(l.iter().map(to_cbor).collect()),
        Value::Map(m) => ciborium::Value::Map(
            m.iter()
                .map(|(k, v)| (ciborium::Value::Text(k.to_string()), to_cbor(v)))
                .collect(),
        ),
    }
}

pub(crate) fn write_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_json_str(out, s),
        Value::Bytes(b) => {
            out.push(b'"');
            let start = out.len();
            let n = base64_simd::STANDARD.encoded_length(b.len());
            out.resize(start + n, 0);
            let _ =
                base64_simd::STANDARD.encode(b, base64_simd::Out::from_slice(&mut out[start..]));
            out.push(b'"');
        }
        Value::Timestamp(ms) => write_millis_as_seconds(out, *ms),
        Value::List(l) => {
            out.push(b'[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Value::Map(m) => {
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_str(out, k);
                out.push(b':');
                write_json(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Roughly the JSON size of `v`, so the output buffer is allocated once.
pub(crate) fn json_size_hint(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len() + 2,
        Value::Bytes(b) => b.len().div_ceil(3) * 4 + 2,
        Value::List(l) => l.iter().map(json_size_hint).sum::<usize>() + l.len() + 2,
        Value::Map(m) => {
            m.iter()
                .map(|(k, v)| k.len() + 4 + json_size_hint(v))
                .sum::<usize>()
                + 2
        }
        _ => 24,
    }
}

fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            out.extend_from_slice(format!("{}", f as i64).as_bytes());
        } else {
            out.extend_from_slice(format!("{f}").as_bytes());
        }
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Epoch milliseconds as decimal seconds (`1700000000.123`), without float formatting.
fn write_millis_as_seconds(out: &mut Vec<u8>, ms: i64) {
    use std::io::Write;
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let _ = if frac == 0 {
        write!(out, "{secs}")
    } else {
        write!(out, "{secs}.{frac:03}")
    };
}

pub(crate) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_shapes() {
        let v = Value::map([
            ("A", Value::str("x\"y")),
            ("B", Value::Bytes(Bytes::from_static(b"hello"))),
            ("C", Value::Timestamp(1_500)),
            ("D", Value::List(vec![Value::Int(1), Value::Bool(true)])),
            ("E", Value::Null),
        ]);
        let s = String::from_utf8(encode(Protocol::Json, &v)).expect("utf8");
        assert_eq!(s, r#"{"A":"x\"y","B":"aGVsbG8=","C":1.500,"D":[1,true]}"#);
    }

    #[test]
    fn cbor_timestamps_and_blobs() {
        let v = Value::map([
            ("T", Value::Timestamp(1_700_000_000_123)),
            ("B", Value::Bytes(Bytes::from_static(&[0, 255]))),
        ]);
        let bytes = encode(Protocol::Cbor, &v);
        assert_eq!(decode(Protocol::Cbor, &bytes).expect("decode"), v);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(decode(Protocol::Json, b"{\"a\":").is_err());
        assert!(decode(Protocol::Json, b"\xff\xfe").is_err());
        assert!(decode(Protocol::Cbor, &[0xbf, 0x61]).is_err());
        assert!(decode(Protocol::Cbor, &[0xff]).is_err());
        assert_eq!(
            decode(Protocol::Json, b"").expect("empty"),
            Value::Map(vec![])
        );
    }
}

#[cfg(test)]
mod garbage {
    //! Decoders meet arbitrary bytes: they may refuse, never panic. (The cargo-fuzz target in
    //! `fuzz/` explores the same property with coverage guidance.)
    use super::*;

    /// A small deterministic generator, so the test is the same on every run.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_and_mutated_bodies_never_panic() {
        let seeds: Vec<Vec<u8>> = vec![
            br#"{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"}]}"#.to_vec(),
            encode(
                Protocol::Cbor,
                &Value::map([
                    ("StreamName", Value::str("s")),
                    ("Timestamp", Value::Timestamp(5)),
                    ("Data", Value::Bytes(Bytes::from_static(b"xyz"))),
                ]),
            ),
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            let seed = &seeds[round % seeds.len()];
            let mut body = seed.clone();
            let edits = 1 + (xorshift(&mut state) % 4) as usize;
            for _ in 0..edits {
                let r = xorshift(&mut state);
                match r % 3 {
                    0 if !body.is_empty() => {
                        let i = (r >> 8) as usize % body.len();
                        body[i] = (r >> 32) as u8;
                    }
                    1 if !body.is_empty() => {
                        let i = (r >> 8) as usize % body.len();
                        body.truncate(i);
                    }
                    _ => body.push((r >> 16) as u8),
                }
            }
            for protocol in [Protocol::Json, Protocol::Cbor] {
                if let Ok(v) = decode(protocol, &body) {
                    let _ = encode(protocol, &v);
                    // The model's checks take whatever decodes, for any operation.
                    for (model, op) in [
                        (crate::model::kinesis(), "PutRecords"),
                        (crate::model::kinesis(), "ListShards"),
                        (crate::model::firehose(), "CreateDeliveryStream"),
                    ] {
                        let mut doc = v.clone();
                        let overlay = &crate::kinesis::OVERLAY;
                        let _ = model.check_request(op, &mut doc, protocol, overlay);
                    }
                    let _ = crate::input::Input::new(v, protocol);
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let json = "[".repeat(100_000);
        assert!(decode(Protocol::Json, json.as_bytes()).is_err());
        let cbor = vec![0x81u8; 100_000];
        assert!(decode(Protocol::Cbor, &cbor).is_err());
    }
}
