//! AWS's recorded answers to invalid Kinesis requests, replayed over raw HTTP (JSON and CBOR).
//!
//! The cases (`fixtures/kinesis_cases.json`) are AWS's responses as recorded by kinesalite's
//! test suite (MIT; request bodies and answers transcribed as facts). Each is sent as JSON, and
//! the serialization-free ones also as CBOR, against a server holding one ACTIVE 3-shard stream.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value as Json;

use crate::harness::{create_active, TestServer};

/// Cases where today's AWS answers differently from the recording, and Weir follows today's.
const TODAY_DIFFERS: &[(&str, &str, &str)] = &[
    (
        "PutRecord",
        "should return ValidationException for long StreamName",
        "records may be 10 MiB since 2025: the model's Data max is 10485760, not 1048576",
    ),
    (
        "PutRecords",
        "should return ValidationException for long StreamName",
        "records may be 10 MiB since 2025 (Data max 10485760)",
    ),
    (
        "IncreaseStreamRetentionPeriod",
        "should return ValidationException for retention period greater than 168",
        "retention may be up to 8760 hours (365 days) since 2020",
    ),
    (
        "DecreaseStreamRetentionPeriod",
        "should return ValidationException for retention period greater than 168",
        "retention may be up to 8760 hours (365 days) since 2020",
    ),
    (
        "IncreaseStreamRetentionPeriod",
        "should return ValidationException for empty StreamName",
        "the model no longer bounds RetentionPeriodHours (AWS checks it against 24..8760 itself)",
    ),
    (
        "DecreaseStreamRetentionPeriod",
        "should return ValidationException for empty StreamName",
        "the model no longer bounds RetentionPeriodHours (AWS checks it against 24..8760 itself)",
    ),
    (
        "CreateStream",
        "should return ValidationException for no StreamName",
        "ShardCount is optional since on-demand streams (2021)",
    ),
    (
        "CreateStream",
        "should return ValidationException for long StreamName",
        "ShardCount has no upper bound in today's model (shard quotas decide)",
    ),
    (
        "AddTagsToStream",
        "should return ValidationException for too many tags",
        "streams may carry 50 tags per call (model max 200), not 10",
    ),
    (
        "RemoveTagsFromStream",
        "should return ValidationException for too many TagKeys",
        "TagKeys may list 50 keys today (model), not 10",
    ),
    (
        "ListTagsForStream",
        "should return ValidationException for long StreamName",
        "Limit may be up to 50 today (model), not 10",
    ),
];

static NEXT: AtomicU64 = AtomicU64::new(1);

fn fresh_name() -> String {
    format!(
        "__weir_case_{}{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A request signed well enough for Weir without keys (the signature is not checked).
pub async fn call(endpoint: &str, target: &str, content_type: &str, body: Vec<u8>) -> (u16, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let req = hyper::Request::post(endpoint)
        .header("content-type", content_type)
        .header("x-amz-target", target)
        .header("x-amz-date", "20250101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
        )
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, body)
}

/// Fills placeholders and generated values into a case's body or message.
struct Filler {
    stream: String,
    names: std::collections::HashMap<String, String>,
}

impl Filler {
    fn text(&mut self, s: &str) -> String {
        let mut out = s
            .replace("{stream}", &self.stream)
            .replace("{account}", "000000000000");
        while let Some(start) = out.find("{random") {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let token = out[start..start + len + 1].to_string();
            let name = self
                .names
                .entry(token.clone())
                .or_insert_with(fresh_name)
                .clone();
            out = out.replacen(&token, &name, 1);
        }
        out
    }

    fn value(&mut self, v: &Json) -> Json {
        match v {
            Json::String(s) => Json::String(self.text(s)),
            Json::Array(items) => Json::Array(items.iter().map(|i| self.value(i)).collect()),
            Json::Object(m) if m.contains_key("repeat") => {
                let unit = m["repeat"].as_str().unwrap_or("a");
                Json::String(unit.repeat(m["times"].as_u64().unwrap_or(0) as usize))
            }
            Json::Object(m) if m.contains_key("base64_bytes") => {
                use base64::Engine;
                let n = m["base64_bytes"].as_u64().unwrap_or(0) as usize;
                Json::String(base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]))
            }
            Json::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (self.text(k), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// A JSON request body as the Java SDK would send it in CBOR: `Data` members as byte strings.
fn to_cbor(v: &Json, key: &str) -> ciborium::Value {
    use base64::Engine;
    use ciborium::Value as C;
    match v {
        Json::Null => C::Null,
        Json::Bool(b) => C::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => C::Integer(i.into()),
            None => C::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) if key == "Data" => {
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => C::Bytes(b),
                Err(_) => C::Text(s.clone()),
            }
        }
        Json::String(s) => C::Text(s.clone()),
        Json::Array(items) => C::Array(items.iter().map(|i| to_cbor(i, key)).collect()),
        Json::Object(m) => C::Map(
            m.iter()
                .map(|(k, v)| (C::Text(k.clone()), to_cbor(v, k)))
                .collect(),
        ),
    }
}

/// The bad values AWS's decoder is given per type, with its answers (kinesalite's helpers).
fn type_table(kind: &str) -> Vec<(Json, &'static str)> {
    use serde_json::json;
    const TRUNC: &str =
        "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to ";
    let list = "Start of list found where not expected";
    let map = "Start of structure or map found where not expected.";
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    match kind {
        "Boolean" => vec![
            (json!("23"), "'23' can not be converted to an Boolean"),
            (json!(23), leak(format!("{TRUNC}an Boolean"))),
            (json!(-2147483648i64), leak(format!("{TRUNC}an Boolean"))),
            (json!(2147483648i64), leak(format!("{TRUNC}an Boolean"))),
            (json!([]), list),
            (json!({}), map),
        ],
        "String" => vec![
            (json!(true), "class java.lang.Boolean can not be converted to an String"),
            (json!(23), leak(format!("{TRUNC}an String"))),
            (json!(-2147483648i64), leak(format!("{TRUNC}an String"))),
            (json!(2147483648i64), leak(format!("{TRUNC}an String"))),
            (json!(34.56), leak(format!("{TRUNC}an String"))),
            (json!([]), list),
            (json!({}), map),
        ],
        "Integer" | "Long" => vec![
            (json!("23"), leak(format!("class java.lang.String can not be converted to an {kind}"))),
            (json!(true), leak(format!("class java.lang.Boolean can not be converted to an {kind}"))),
            (json!([]), list),
            (json!({}), map),
        ],
        "Blob" => vec![
            (json!(true), "class java.lang.Boolean can not be converted to a Blob"),
            (json!(23), leak(format!("{TRUNC}a Blob"))),
            (json!(-2147483648i64), leak(format!("{TRUNC}a Blob"))),
            (json!(2147483648i64), leak(format!("{TRUNC}a Blob"))),
            (json!(34.56), leak(format!("{TRUNC}a Blob"))),
            (json!([]), list),
            (json!({}), map),
            (json!("23456"), "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
            (json!("=+/="), "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"),
            (json!("+/+="), "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
        ],
        "Timestamp" => vec![
            (json!("23"), "class java.lang.String can not be converted to milliseconds since epoch"),
            (json!(true), "class java.lang.Boolean can not be converted to milliseconds since epoch"),
            (json!([]), list),
            (json!({}), map),
        ],
        "List" => vec![
            (json!("23"), "Expected list or null"),
            (json!(true), "Expected list or null"),
            (json!(23), "Expected list or null"),
            (json!(-2147483648i64), "Expected list or null"),
            (json!(2147483648i64), "Expected list or null"),
            (json!(34.56), "Expected list or null"),
            (json!({}), map),
        ],
        "Map" => vec![
            (json!("23"), "Expected map or null"),
            (json!(true), "Expected map or null"),
            (json!(23), "Expected map or null"),
            (json!(-2147483648i64), "Expected map or null"),
            (json!(2147483648i64), "Expected map or null"),
            (json!(34.56), "Expected map or null"),
            (json!([]), list),
        ],
        "Structure" => vec![
            (json!("23"), "Expected null"),
            (json!(true), "Expected null"),
            (json!(23), "Expected null"),
            (json!(-2147483648i64), "Expected null"),
            (json!(2147483648i64), "Expected null"),
            (json!(34.56), "Expected null"),
            (json!([]), list),
        ],
        other => panic!("unknown type {other}"),
    }
}

/// `Records.0.Data` with value v → `{"Records":[{"Data":v}]}`.
fn nest(path: &str, v: Json) -> Json {
    let pieces: Vec<&str> = path.split('.').collect();
    fn build(pieces: &[&str], v: Json) -> Json {
        match pieces {
            [] => v,
            [first, rest @ ..] => {
                let inner = build(rest, v);
                if *first == "0" {
                    Json::Array(vec![inner])
                } else {
                    let mut m = serde_json::Map::new();
                    m.insert(first.to_string(), inner);
                    Json::Object(m)
                }
            }
        }
    }
    build(&pieces, v)
}

/// Compares an answer with a case; `None` when it matches.
fn mismatch(case: &Json, filler: &mut Filler, status: u16, body: &Json) -> Option<String> {
    let want_type = case["type"].as_str().unwrap_or("");
    let got_type = body["__type"].as_str().unwrap_or("");
    let got = body["message"]
        .as_str()
        .or(body["Message"].as_str())
        .unwrap_or("")
        .to_string();
    if got_type != want_type || status != 400 {
        return Some(format!("{status} {got_type}: {got}"));
    }
    if let Some(m) = case["message"].as_str() {
        let want = filler.text(m);
        return (got != want).then(|| format!("message\n      got:  {got}\n      want: {want}"));
    }
    if let Some(re) = case["message_regex"].as_str() {
        let re = regex_lite::Regex::new(&format!("^(?:{})$", filler.text(re))).expect("regex");
        return (!re.is_match(&got)).then(|| format!("message {got} !~ {re}"));
    }
    if let Some(list) = case["messages"].as_array() {
        let want: Vec<String> = list
            .iter()
            .map(|m| filler.text(m.as_str().unwrap_or("")))
            .collect();
        let prefix = format!(
            "{} validation error{} detected: ",
            want.len(),
            if want.len() == 1 { "" } else { "s" }
        );
        let Some(rest) = got.strip_prefix(&prefix) else {
            return Some(format!(
                "prefix\n      got:  {got}\n      want: {prefix}{}",
                want.join("; ")
            ));
        };
        // AWS's order, compared as written; the set must match exactly.
        let got_items: Vec<&str> = split_violations(rest);
        let mut missing: Vec<&String> = want
            .iter()
            .filter(|w| !got_items.contains(&w.as_str()))
            .collect();
        missing.dedup();
        if !missing.is_empty() || got_items.len() != want.len() {
            return Some(format!(
                "violations\n      got:  {got}\n      want: {prefix}{}",
                want.join("; ")
            ));
        }
    }
    None
}

/// Splits `a; b; c` at the separators between violations (a value may itself hold "; ").
fn split_violations(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(pos) = s[i..].find("; Value ") {
        out.push(&s[start..i + pos]);
        start = i + pos + 2;
        i = start;
    }
    out.push(&s[start..]);
    out
}

#[tokio::test]
async fn recorded_aws_answers_to_invalid_requests() {
    let server = TestServer::start().await;
    let endpoint = server.endpoint();
    let stream = fresh_name();
    create_active(&server.kinesis(), &stream, 3).await;
    let fixture: Json =
        serde_json::from_str(include_str!("fixtures/kinesis_cases.json")).expect("fixture");
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in fixture["cases"].as_array().expect("cases") {
        let action = case["action"].as_str().expect("action");
        let target = format!("Kinesis_20131202.{action}");
        let mut filler = Filler {
            stream: stream.clone(),
            names: Default::default(),
        };
        match case["kind"].as_str() {
            Some("type") => {
                let member = case["member"].as_str().expect("member");
                for (bad, want) in type_table(case["type"].as_str().expect("type")) {
                    let body = nest(member, bad.clone());
                    let (status, reply) = call(
                        &endpoint,
                        &target,
                        "application/x-amz-json-1.1",
                        body.to_string().into_bytes(),
                    )
                    .await;
                    ran += 1;
                    let reply: Json = serde_json::from_slice(&reply).unwrap_or(Json::Null);
                    let expected =
                        serde_json::json!({"__type": "SerializationException", "Message": want});
                    if status != 400 || reply != expected {
                        failures.push(format!(
                            "{action} {member}={bad}: {status} {reply}\n      want: {expected}"
                        ));
                    }
                }
            }
            Some("error") => {
                let name = case["name"].as_str().unwrap_or("");
                if TODAY_DIFFERS
                    .iter()
                    .any(|(a, n, _)| *a == action && *n == name)
                {
                    continue;
                }
                let body = filler.value(&case["body"]);
                let (status, reply) = call(
                    &endpoint,
                    &target,
                    "application/x-amz-json-1.1",
                    body.to_string().into_bytes(),
                )
                .await;
                ran += 1;
                let reply: Json = serde_json::from_slice(&reply).unwrap_or(Json::Null);
                if let Some(m) = mismatch(case, &mut filler, status, &reply) {
                    failures.push(format!("{action} «{name}»: {m}"));
                }
                // The same request in CBOR (blobs as byte strings) gets the same answer.
                let mut cbor = Vec::new();
                ciborium::into_writer(&to_cbor(&body, ""), &mut cbor).expect("cbor");
                let (status, reply) =
                    call(&endpoint, &target, "application/x-amz-cbor-1.1", cbor).await;
                ran += 1;
                let reply: ciborium::Value =
                    ciborium::from_reader(&reply[..]).unwrap_or(ciborium::Value::Null);
                let reply = serde_json::to_value(&reply).unwrap_or(Json::Null);
                if let Some(m) = mismatch(case, &mut filler, status, &reply) {
                    failures.push(format!("{action} «{name}» (CBOR): {m}"));
                }
            }
            other => panic!("unknown case kind {other:?}"),
        }
    }
    assert!(ran > 300, "only {ran} requests ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} answers differ from AWS's:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
