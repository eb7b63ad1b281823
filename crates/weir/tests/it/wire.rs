//! Raw HTTP against the front door: malformed bodies, wrong types, CBOR, h2c, limits.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::harness::{create_active, TestServer};

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON reply")
    }
    fn error_type(&self) -> String {
        self.json()["__type"].as_str().unwrap_or("").to_string()
    }
}

async fn post(endpoint: &str, target: &str, content_type: &str, body: Vec<u8>, h2: bool) -> Reply {
    let client = if h2 {
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http()
    } else {
        Client::builder(TokioExecutor::new()).build_http()
    };
    // Signed in form (the signature is not checked without keys).
    let mut req = hyper::Request::post(endpoint)
        .header("content-type", content_type)
        .header("x-amz-date", "20250101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
        );
    if !target.is_empty() {
        req = req.header("x-amz-target", target);
    }
    let req = req.body(Full::new(Bytes::from(body))).expect("request");
    let resp = client.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        content_type,
        body,
    }
}

const JSON: &str = "application/x-amz-json-1.1";
const CBOR: &str = "application/x-amz-cbor-1.1";

async fn json_call(endpoint: &str, action: &str, body: &str) -> Reply {
    post(
        endpoint,
        &format!("Kinesis_20131202.{action}"),
        JSON,
        body.as_bytes().to_vec(),
        false,
    )
    .await
}

#[tokio::test]
async fn malformed_and_mistyped_json() {
    let t = TestServer::start().await;
    let e = t.endpoint();
    let r = json_call(&e, "CreateStream", "{\"StreamName\": ").await;
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "SerializationException")
    );
    let r = json_call(&e, "CreateStream", "[1,2]").await;
    assert_eq!(r.error_type(), "SerializationException");
    let r = json_call(&e, "CreateStream", "{\"StreamName\": 5, \"ShardCount\": 1}").await;
    assert_eq!(r.error_type(), "SerializationException");
    let r = json_call(
        &e,
        "CreateStream",
        "{\"StreamName\": \"s\", \"ShardCount\": \"one\"}",
    )
    .await;
    assert_eq!(r.error_type(), "SerializationException");
    let r = json_call(
        &e,
        "PutRecord",
        "{\"StreamName\": \"s\", \"PartitionKey\": \"k\", \"Data\": \"!!notbase64\"}",
    )
    .await;
    assert_eq!(r.error_type(), "SerializationException");
    let r = json_call(&e, "FlyToTheMoon", "{}").await;
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "UnknownOperationException")
    );
    let r = post(&e, "", JSON, b"{}".to_vec(), false).await;
    assert_eq!(r.error_type(), "UnknownOperationException");
    let r = json_call(&e, "PutRecord", "{}").await;
    assert_eq!(r.error_type(), "ValidationException");
    let msg = r.json()["message"].as_str().unwrap_or("").to_string();
    // AWS still asks for a StreamName when no StreamARN names the stream.
    assert!(msg.starts_with("3 validation errors detected"), "{msg}");
    assert!(
        msg.contains("'data'") && msg.contains("'partitionKey'"),
        "{msg}"
    );
    let r = json_call(&e, "GetShardIterator", "{\"StreamName\": \"s\"}").await;
    let msg = r.json()["message"].as_str().unwrap_or("").to_string();
    assert!(
        msg.contains("'shardId'") && msg.contains("'shardIteratorType'"),
        "{msg}"
    );
    // Neither StreamName nor StreamARN: AWS reports the missing StreamName.
    let r = json_call(&e, "DescribeStream", "{}").await;
    assert_eq!(r.error_type(), "ValidationException");
    // The server is still fine.
    let r = json_call(&e, "ListStreams", "{}").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let t = TestServer::start().await;
    let body = format!(
        "{{\"StreamName\":\"s\",\"PartitionKey\":\"k\",\"Data\":\"{}\"}}",
        "A".repeat(17 * 1024 * 1024)
    );
    let r = json_call(&t.endpoint(), "PutRecord", &body).await;
    assert_eq!(r.status, 413);
}

fn cbor(v: ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(&v, &mut out).expect("encode");
    out
}

fn text(s: &str) -> ciborium::Value {
    ciborium::Value::Text(s.into())
}

fn cbor_map(items: Vec<(&str, ciborium::Value)>) -> ciborium::Value {
    ciborium::Value::Map(items.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn get<'a>(v: &'a ciborium::Value, key: &str) -> &'a ciborium::Value {
    let ciborium::Value::Map(m) = v else {
        panic!("not a map: {v:?}")
    };
    &m.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
        .1
}

#[tokio::test]
async fn cbor_round_trip_over_http1_and_h2c() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "c", 1).await;
    let e = t.endpoint();
    for h2 in [false, true] {
        let body = cbor(cbor_map(vec![
            ("StreamName", text("c")),
            ("PartitionKey", text("pk")),
            ("Data", ciborium::Value::Bytes(vec![0, 1, 2, 255])),
        ]));
        let r = post(&e, "Kinesis_20131202.PutRecord", CBOR, body, h2).await;
        assert_eq!(r.status, 200, "h2={h2}");
        assert_eq!(r.content_type, CBOR);
        let v: ciborium::Value = ciborium::from_reader(r.body.as_slice()).expect("cbor reply");
        assert_eq!(get(&v, "ShardId").as_text(), Some("shardId-000000000000"));
    }
    let body = cbor(cbor_map(vec![
        ("StreamName", text("c")),
        ("ShardId", text("shardId-000000000000")),
        ("ShardIteratorType", text("AT_TIMESTAMP")),
        // Tag 1 over integer epoch milliseconds, as the Java SDK sends it.
        (
            "Timestamp",
            ciborium::Value::Tag(
                1,
                Box::new(ciborium::Value::Integer(1_000_000_000_000i64.into())),
            ),
        ),
    ]));
    let r = post(&e, "Kinesis_20131202.GetShardIterator", CBOR, body, false).await;
    assert_eq!(r.status, 200);
    let v: ciborium::Value = ciborium::from_reader(r.body.as_slice()).expect("cbor");
    let it = get(&v, "ShardIterator")
        .as_text()
        .expect("iterator")
        .to_string();
    let r = post(
        &e,
        "Kinesis_20131202.GetRecords",
        CBOR,
        cbor(cbor_map(vec![("ShardIterator", text(&it))])),
        true,
    )
    .await;
    let v: ciborium::Value = ciborium::from_reader(r.body.as_slice()).expect("cbor");
    let ciborium::Value::Array(records) = get(&v, "Records") else {
        panic!("records")
    };
    assert_eq!(records.len(), 2);
    assert_eq!(
        get(&records[0], "Data").as_bytes().map(Vec::as_slice),
        Some(&[0u8, 1, 2, 255][..])
    );
    let ts = get(&records[0], "ApproximateArrivalTimestamp");
    assert!(
        matches!(ts, ciborium::Value::Tag(1, inner) if inner.is_integer()),
        "{ts:?}"
    );

    // Malformed CBOR and CBOR of the wrong types.
    let r = post(
        &e,
        "Kinesis_20131202.PutRecord",
        CBOR,
        vec![0xbf, 0x61, 0x41],
        false,
    )
    .await;
    assert_eq!(r.status, 400);
    let v: ciborium::Value = ciborium::from_reader(r.body.as_slice()).expect("cbor error");
    assert_eq!(get(&v, "__type").as_text(), Some("SerializationException"));
    let body = cbor(cbor_map(vec![
        ("StreamName", ciborium::Value::Integer(3.into())),
        ("PartitionKey", text("k")),
    ]));
    let r = post(&e, "Kinesis_20131202.PutRecord", CBOR, body, false).await;
    let v: ciborium::Value = ciborium::from_reader(r.body.as_slice()).expect("cbor error");
    assert_eq!(get(&v, "__type").as_text(), Some("SerializationException"));
}

#[tokio::test]
async fn subscribe_to_shard_streams_over_h2c() {
    use http_body_util::BodyExt as _;
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "h2", 1).await;
    let c = k
        .register_stream_consumer()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/h2")
        .consumer_name("c")
        .send()
        .await
        .expect("register");
    let arn = c.consumer().expect("c").consumer_arn().to_string();
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let body = serde_json::json!({
        "ConsumerARN": arn,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "LATEST"}
    });
    let req = hyper::Request::post(t.endpoint())
        .header("content-type", JSON)
        .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
        .header("x-amz-date", "20250101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let mut events: Vec<(String, serde_json::Value)> = Vec::new();
    let mut put_done = false;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !events
        .iter()
        .any(|(_, v)| v["Records"].as_array().is_some_and(|r| !r.is_empty()))
    {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("in time");
        let frame = frame.expect("stream open").expect("frame");
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        while let Some(msg) = weir_aws_api::eventstream::decode(&buf) {
            let kind = msg.header(":event-type").unwrap_or_default().to_string();
            events.push((
                kind,
                serde_json::from_slice(&msg.payload).expect("JSON payload"),
            ));
            buf.drain(..msg.used);
        }
        if !put_done && !events.is_empty() {
            k.put_record()
                .stream_name("h2")
                .partition_key("p")
                .data(aws_smithy_types::Blob::new("pushed"))
                .send()
                .await
                .expect("put");
            put_done = true;
        }
    }
    assert_eq!(events[0].0, "initial-response");
    let last = &events[events.len() - 1];
    assert_eq!(last.0, "SubscribeToShardEvent");
    assert_eq!(last.1["Records"][0]["Data"], "cHVzaGVk");
    assert!(last.1["ContinuationSequenceNumber"].is_string());
}
