//! What happens to a source record before it is buffered: RecordDeAggregation (JSON or
//! DELIMITED), MetadataExtraction (partition keys by jq) when dynamic partitioning is on, and
//! AppendDelimiterToRecord. A record that cannot be partitioned becomes error output.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;

use crate::model::{Processor, S3Destination};
use crate::prefix::Prefixes;

/// The error-output type of records that could not be partitioned.
pub const PARTITIONING_FAILED: &str = "partitioning-failed";
/// The error-output type of records a Lambda processor failed.
pub const PROCESSING_FAILED: &str = "processing-failed";

/// Where a processed record goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A partition (no keys without dynamic partitioning).
    Partition(BTreeMap<String, String>),
    /// Error output of this type.
    Error(&'static str),
    /// The source records as they came (S3BackupMode Enabled).
    Backup,
}

/// A record ready for a buffer.
pub struct Output {
    pub target: Target,
    pub data: Vec<u8>,
}

/// RecordDeAggregation, when configured: the records inside one source record.
pub fn split(dest: &S3Destination, data: Bytes) -> Vec<Bytes> {
    match dest
        .processors()
        .iter()
        .find(|p| p.kind == "RecordDeAggregation")
    {
        Some(p) => deaggregate(p, &data),
        None => vec![data],
    }
}

/// The rest of the processors over one record: partition keys (from MetadataExtraction's jq
/// query and/or the keys a Lambda returned) and AppendDelimiterToRecord.
pub fn finish(
    dest: &S3Destination,
    prefixes: &Prefixes,
    arrival_ms: i64,
    now_ms: i64,
    record: &[u8],
    lambda_keys: Option<&BTreeMap<String, String>>,
) -> Output {
    let processors = dest.processors();
    let find = |kind: &str| processors.iter().find(|p| p.kind == kind);
    let keys = if dest.partitioning_enabled() {
        let query = find("MetadataExtraction").and_then(|p| p.parameter("MetadataExtractionQuery"));
        match partition_keys(query, lambda_keys, prefixes, record) {
            Ok(k) => k,
            Err(message) => {
                return failed(
                    &Failure {
                        kind: PARTITIONING_FAILED,
                        code: "DynamicPartitioning.MetadataExtractionFailed",
                        message: &message,
                        attempts: 1,
                        lambda_arn: None,
                    },
                    arrival_ms,
                    now_ms,
                    record,
                )
            }
        }
    } else {
        BTreeMap::new()
    };
    let mut data = record.to_vec();
    if let Some(p) = find("AppendDelimiterToRecord") {
        data.extend_from_slice(p.parameter("Delimiter").unwrap_or("\n").as_bytes());
    }
    Output {
        target: Target::Partition(keys),
        data,
    }
}

fn partition_keys(
    query: Option<&str>,
    lambda_keys: Option<&BTreeMap<String, String>>,
    prefixes: &Prefixes,
    record: &[u8],
) -> Result<BTreeMap<String, String>, String> {
    let extracted = match query {
        Some(q)
            if prefixes
                .prefix()
                .partition_keys()
                .any(|(lambda, _)| !lambda) =>
        {
            crate::extract::extract(q, record)?
        }
        _ => BTreeMap::new(),
    };
    let mut keys = BTreeMap::new();
    for (from_lambda, key) in prefixes.prefix().partition_keys() {
        let value = if from_lambda {
            lambda_keys
                .and_then(|k| k.get(key))
                .ok_or_else(|| format!("the Lambda function returned no partition key {key}"))?
        } else {
            extracted
                .get(key)
                .ok_or_else(|| format!("partition key {key} was not extracted"))?
        };
        keys.insert(
            crate::prefix::partition_key_name(from_lambda, key),
            value.clone(),
        );
    }
    Ok(keys)
}

/// Why a record failed, as its error document says.
pub struct Failure<'a> {
    /// The error-output type (`processing-failed`, `partitioning-failed`, …).
    pub kind: &'static str,
    pub code: &'a str,
    pub message: &'a str,
    pub attempts: u32,
    pub lambda_arn: Option<&'a str>,
}

/// A failed record as Firehose writes it to the error output: one JSON document per line.
pub fn failed(f: &Failure, arrival_ms: i64, now_ms: i64, raw: &[u8]) -> Output {
    let mut doc = serde_json::json!({
        "attemptsMade": f.attempts,
        "arrivalTimestamp": arrival_ms,
        "errorCode": f.code,
        "errorMessage": f.message,
        "attemptEndingTimestamp": now_ms,
        "rawData": base64::engine::general_purpose::STANDARD.encode(raw),
    });
    if let Some(arn) = f.lambda_arn {
        doc["lambdaArn"] = serde_json::Value::from(arn);
    }
    let mut data = doc.to_string().into_bytes();
    data.push(b'\n');
    Output {
        target: Target::Error(f.kind),
        data,
    }
}

/// RecordDeAggregation: `SubRecordType` JSON (concatenated JSON values) or DELIMITED (split at
/// the base64-encoded `Delimiter`).
fn deaggregate(p: &Processor, data: &Bytes) -> Vec<Bytes> {
    match p.parameter("SubRecordType") {
        Some("DELIMITED") => {
            let delimiter = p
                .parameter("Delimiter")
                .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| b"\n".to_vec());
            let mut out = Vec::new();
            let mut start = 0;
            let mut i = 0;
            while i + delimiter.len() <= data.len() {
                if data[i..i + delimiter.len()] == delimiter[..] {
                    if i > start {
                        out.push(data.slice(start..i));
                    }
                    i += delimiter.len();
                    start = i;
                } else {
                    i += 1;
                }
            }
            if start < data.len() {
                out.push(data.slice(start..));
            }
            out
        }
        _ => json_values(data),
    }
}

/// Splits concatenated JSON values (objects, arrays, scalars) at their top-level boundaries;
/// whitespace between them is dropped. Bytes that do not parse stay one record.
fn json_values(data: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let b = &data[..];
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut depth = 0i32;
        let mut in_str = false;
        while i < b.len() {
            let c = b[i];
            if in_str {
                match c {
                    b'\\' => i += 1,
                    b'"' => in_str = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth -= 1,
                    _ if depth == 0 && c.is_ascii_whitespace() => break,
                    _ => {}
                }
                if depth == 0 && (c == b'}' || c == b']' || (c == b'"' && !in_str && i > start)) {
                    i += 1;
                    break;
                }
            }
            i += 1;
        }
        out.push(data.slice(start..i.min(b.len())));
    }
    // Only a sequence of valid JSON values is split; anything else stays one record (and
    // fails where JSON is needed).
    let valid = out
        .iter()
        .all(|v| serde_json::from_slice::<serde::de::IgnoredAny>(v).is_ok());
    if out.is_empty() || !valid {
        return vec![data.clone()];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_delimited_deaggregation() {
        let data = Bytes::from(r#"{"a":"x}"}{"b":[1,{"c":2}]} {"d":"q\"}"}"#);
        let parts = json_values(&data);
        let parts: Vec<&[u8]> = parts.iter().map(|b| &b[..]).collect();
        assert_eq!(
            parts,
            [
                &br#"{"a":"x}"}"#[..],
                br#"{"b":[1,{"c":2}]}"#,
                br#"{"d":"q\"}"}"#
            ]
        );
        let p = Processor {
            kind: "RecordDeAggregation".into(),
            parameters: vec![
                ("SubRecordType".into(), "DELIMITED".into()),
                ("Delimiter".into(), "IyMjIw==".into()),
            ],
        };
        assert_eq!(
            json_values(&Bytes::from("not json")),
            vec![Bytes::from("not json")]
        );
        let split = deaggregate(&p, &Bytes::from("a####bb####ccc"));
        assert_eq!(
            split,
            vec![Bytes::from("a"), Bytes::from("bb"), Bytes::from("ccc")]
        );
    }
}
