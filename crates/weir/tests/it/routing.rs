//! The shared port: which service answers, and how AWS's JSON endpoints answer requests that are
//! malformed, unsigned or not meant for them (AWS's recorded answers, as kinesalite's
//! connection tests record them), and CORS.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value as Json};

use crate::harness::TestServer;

const JSON_CT: &str = "application/x-amz-json-1.1";
const CBOR_CT: &str = "application/x-amz-cbor-1.1";
const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=00";

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn content_type(&self) -> Option<&str> {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The body as JSON, whichever encoding it came in.
    fn doc(&self) -> Json {
        match self.content_type() {
            Some(CBOR_CT) => {
                let v: ciborium::Value = ciborium::from_reader(&self.body[..]).expect("CBOR body");
                serde_json::to_value(&v).expect("as JSON")
            }
            _ => serde_json::from_slice(&self.body).unwrap_or(Json::Null),
        }
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request: method, path, headers; `signed` adds a well-formed SigV4 header for kinesis.
async fn send(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    signed: bool,
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("{endpoint}{path}"));
    if signed {
        req = req
            .header("authorization", SIGNED)
            .header("x-amz-date", "20250101T000000Z");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

fn xml(kind: &str, message: &str) -> String {
    format!("<{kind}>\n  <Message>{message}</Message>\n</{kind}>\n")
}

/// What an answer's body must be.
enum Want {
    Doc(Json),
    Text(String),
}

/// (name, method, path, headers, body, signed, status, content type, body check)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
    bool,
    u16,
    Option<&'static str>,
    Want,
);

const DENIED: &str = "Unable to determine service/operation name to be authorized";
const TARGET: &str = "Kinesis_20131202.ListStreams";

#[tokio::test]
async fn protocol_answers_match_aws() {
    let t = TestServer::start().await;
    let e = t.endpoint();
    let target = ("x-amz-target", TARGET);
    let json_ct = ("content-type", JSON_CT);
    // (name, method, path, headers, body, signed, status, content type, body check)
    let cases: Vec<Row> = vec![
        (
            "POST, nothing else",
            "POST",
            "/",
            vec![],
            "",
            false,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "GET",
            "GET",
            "/",
            vec![],
            "",
            true,
            403,
            None,
            Want::Text(xml("AccessDeniedException", DENIED)),
        ),
        (
            "PUT",
            "PUT",
            "/",
            vec![],
            "",
            true,
            403,
            None,
            Want::Text(xml("AccessDeniedException", DENIED)),
        ),
        (
            "DELETE",
            "DELETE",
            "/",
            vec![],
            "",
            true,
            403,
            None,
            Want::Text(xml("AccessDeniedException", DENIED)),
        ),
        (
            "POST, no body",
            "POST",
            "/",
            vec![],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "body, no Content-Type",
            "POST",
            "/",
            vec![],
            "{}",
            true,
            403,
            None,
            Want::Text(xml("AccessDeniedException", DENIED)),
        ),
        (
            "JSON 1.0",
            "POST",
            "/",
            vec![("content-type", "application/x-amz-json-1.0")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "odd Content-Type",
            "POST",
            "/",
            vec![("content-type", "application/x-amz-json-1.1asdf")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "odd target",
            "POST",
            "/",
            vec![("x-amz-target", "Whatever")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "empty action",
            "POST",
            "/",
            vec![("x-amz-target", "Kinesis_20131202.")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "unknown action",
            "POST",
            "/",
            vec![("x-amz-target", "Kinesis_20131202.ListStream")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "unknown service",
            "POST",
            "/",
            vec![("x-amz-target", "Whatever.Whatever")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "target, no Content-Type, no body",
            "POST",
            "/",
            vec![target],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "SerializationException"})),
        ),
        (
            "JSON, no target",
            "POST",
            "/",
            vec![json_ct],
            "",
            true,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "JSON, no target, unsigned",
            "POST",
            "/",
            vec![json_ct],
            "",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "application/json, no target",
            "POST",
            "/",
            vec![("content-type", "application/json")],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "UnknownOperationException"})),
        ),
        (
            "application/json, no body",
            "POST",
            "/",
            vec![("content-type", "application/json"), target],
            "",
            true,
            400,
            Some(CBOR_CT),
            Want::Doc(json!({"__type": "SerializationException"})),
        ),
        (
            "JSON, no body",
            "POST",
            "/",
            vec![json_ct, target],
            "",
            true,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "SerializationException"})),
        ),
        (
            "JSON, not JSON",
            "POST",
            "/",
            vec![json_ct, target],
            "hello",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "SerializationException"})),
        ),
        (
            "application/json with a body",
            "POST",
            "/",
            vec![("content-type", "application/json"), target],
            "{}",
            false,
            404,
            Some("application/json"),
            Want::Doc(
                json!({"Output": {"__type": "com.amazon.coral.service#UnknownOperationException"}, "Version": "1.0"}),
            ),
        ),
        (
            "application/json, not JSON",
            "POST",
            "/",
            vec![("content-type", "     application/json     ;"), target],
            "hello",
            false,
            400,
            Some("application/json"),
            Want::Doc(
                json!({"Output": {"__type": "com.amazon.coral.service#SerializationException"}, "Version": "1.0"}),
            ),
        ),
        (
            "unsigned",
            "POST",
            "/",
            vec![
                ("content-type", "   application/x-amz-json-1.1   ;whatever"),
                target,
            ],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(
                json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}),
            ),
        ),
        (
            "malformed Authorization",
            "POST",
            "/?X-Amz-Algorith",
            vec![json_ct, target, ("authorization", "X")],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "IncompleteSignatureException", "message":
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"})),
        ),
        (
            "query without X-Amz-Algorithm",
            "POST",
            "/?X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d",
            vec![json_ct, target],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(
                json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}),
            ),
        ),
        (
            "header and query",
            "POST",
            "/?X-Amz-Algorithm",
            vec![json_ct, target, ("authorization", "X")],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "InvalidSignatureException", "message":
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."})),
        ),
        (
            "no SignedHeaders",
            "POST",
            "/",
            vec![
                json_ct,
                target,
                ("authorization", "AWS4- Signature=b, Credential=a"),
                ("date", "a"),
            ],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "IncompleteSignatureException", "message":
                "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b, Credential=a"})),
        ),
        (
            "empty presigned query",
            "POST",
            "/?X-Amz-Algorithm",
            vec![json_ct, target],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "IncompleteSignatureException", "message":
                "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."})),
        ),
        (
            "presigned query without SignedHeaders",
            "POST",
            "/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d",
            vec![json_ct, target],
            "{}",
            false,
            400,
            Some(JSON_CT),
            Want::Doc(json!({"__type": "IncompleteSignatureException", "message":
                "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."})),
        ),
        (
            "a good call",
            "POST",
            "/",
            vec![json_ct, target],
            "{}",
            true,
            200,
            Some(JSON_CT),
            // The recording predates StreamSummaries, which today's AWS adds.
            Want::Doc(json!({"HasMoreStreams": false, "StreamNames": [], "StreamSummaries": []})),
        ),
    ];
    let mut failures = Vec::new();
    for (name, method, path, headers, body, signed, status, ct, want) in cases {
        let a = send(&e, method, path, &headers, body, signed).await;
        let body_ok = match &want {
            Want::Doc(d) => a.doc() == *d,
            Want::Text(s) => a.text() == *s,
        };
        if a.status != status || a.content_type() != ct || !body_ok {
            failures.push(format!(
                "{name}: {} {:?} {}",
                a.status,
                a.content_type(),
                a.text()
            ));
            continue;
        }
        let id = a.header("x-amzn-requestid").unwrap_or("");
        let id2 = a.header("x-amz-id-2").unwrap_or("");
        use base64::Engine;
        let id2_len = base64::engine::general_purpose::STANDARD
            .decode(id2)
            .map_or(0, |b| b.len());
        if id.len() != 36 || !(64..=80).contains(&id2_len) {
            failures.push(format!("{name}: request ids {id:?} {id2:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn cors_preflight_and_headers() {
    let t = TestServer::start().await;
    let e = t.endpoint();
    for signed in [false, true] {
        let a = send(&e, "OPTIONS", "/", &[("origin", "whatever")], "", signed).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("access-control-allow-origin"), Some("*"));
        assert_eq!(a.header("access-control-max-age"), Some("172800"));
        assert_eq!(a.header("content-length"), Some("0"));
        assert_eq!(a.content_type(), None);
        assert!(a.header("x-amz-id-2").is_none());
        assert_eq!(a.header("x-amzn-requestid").map(str::len), Some(36));
    }
    let a = send(
        &e,
        "OPTIONS",
        "/",
        &[
            ("origin", "whatever"),
            ("access-control-request-headers", "a, b, c"),
            ("access-control-request-method", "d"),
        ],
        "",
        true,
    )
    .await;
    assert_eq!(a.header("access-control-allow-headers"), Some("a, b, c"));
    assert_eq!(a.header("access-control-allow-methods"), Some("d"));
    // Every answer to a request with Origin carries the CORS headers, errors included.
    let a = send(&e, "POST", "/", &[("origin", "whatever")], "", true).await;
    assert_eq!(a.doc(), json!({"__type": "UnknownOperationException"}));
    assert_eq!(a.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        a.header("access-control-expose-headers"),
        Some("x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date")
    );
    // S3 grants CORS per bucket (Weir grants none): no CORS headers there.
    let a = send(&e, "GET", "/", &[("origin", "whatever")], "", false).await;
    assert_eq!(a.status, 200, "S3 ListBuckets");
    assert_eq!(a.header("access-control-allow-origin"), None);
    let a = send(
        &e,
        "OPTIONS",
        "/lake/key",
        &[
            ("origin", "whatever"),
            ("access-control-request-method", "PUT"),
        ],
        "",
        false,
    )
    .await;
    assert_eq!(a.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn each_service_answers_its_own_requests() {
    let t = TestServer::start().await;
    let e = t.endpoint();
    let signed_for = |service: &'static str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
        )
    };
    let date = ("x-amz-date", "20250101T000000Z");
    // Firehose by target.
    let fh = signed_for("firehose");
    let a = send(
        &e,
        "POST",
        "/",
        &[
            ("content-type", JSON_CT),
            ("x-amz-target", "Firehose_20150804.ListDeliveryStreams"),
            ("authorization", &fh),
            date,
        ],
        "{}",
        false,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.doc()["HasMoreDeliveryStreams"], json!(false));
    // Signed for firehose, without a target: Firehose's JSON answer, not S3's XML.
    let a = send(
        &e,
        "POST",
        "/",
        &[("content-type", JSON_CT), ("authorization", &fh), date],
        "{}",
        false,
    )
    .await;
    assert_eq!(
        (a.status, a.doc()),
        (400, json!({"__type": "UnknownOperationException"}))
    );
    // Signed for kinesis, a GET on a bucket-like path: Kinesis's answer.
    let a = send(&e, "GET", "/lake", &[], "", true).await;
    assert_eq!(
        (a.status, a.text()),
        (403, xml("AccessDeniedException", DENIED))
    );
    // Signed for S3 (or anonymous): S3.
    let s3 = signed_for("s3");
    let a = send(
        &e,
        "PUT",
        "/lake",
        &[
            ("authorization", &s3),
            date,
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ],
        "",
        false,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let a = send(&e, "GET", "/", &[], "", false).await;
    assert!(a.text().contains("<Name>lake</Name>"), "{}", a.text());
    // An action without output answers with an empty body.
    let a = send(
        &e,
        "POST",
        "/",
        &[
            ("content-type", JSON_CT),
            ("x-amz-target", "Kinesis_20131202.CreateStream"),
        ],
        r#"{"StreamName":"s","ShardCount":1}"#,
        true,
    )
    .await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    assert_eq!(a.content_type(), Some(JSON_CT));
    // CBOR requests get CBOR errors, with AWS's member names.
    let mut body = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![(
            ciborium::Value::Text("StreamName".into()),
            ciborium::Value::Bool(true),
        )]),
        &mut body,
    )
    .expect("cbor");
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::post(&e)
        .header("content-type", CBOR_CT)
        .header("x-amz-target", "Kinesis_20131202.DescribeStreamSummary")
        .header("authorization", SIGNED)
        .header("x-amz-date", "20250101T000000Z")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let a = Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.into_body().collect().await.expect("body").to_bytes(),
    };
    assert_eq!(
        (a.status, a.doc()),
        (
            400,
            json!({"__type": "SerializationException",
                   "Message": "class java.lang.Boolean can not be converted to an String"})
        )
    );
}
