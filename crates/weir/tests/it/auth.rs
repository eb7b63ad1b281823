//! SigV4 verification with keys configured: the Rust SDK's signatures, aws-sigv4's header and
//! presigned forms over HTTP/1.1 and h2c, and AWS's errors for everything else.

use std::time::{Duration, SystemTime};

use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::harness::{code, test_config, TestServer};

const KEY_ID: &str = "AKIDWEIRTEST";
const SECRET: &str = "weir-secret-key";

async fn secured() -> TestServer {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.auth.keys.push(weir::config::AccessKey {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
    });
    TestServer::start_with(dir, config).await
}

fn client(endpoint: &str, key: &str, secret: &str) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

#[tokio::test]
async fn sdk_signatures_are_verified() {
    let t = secured().await;
    let good = client(&t.endpoint(), KEY_ID, SECRET);
    good.create_stream()
        .stream_name("sec")
        .shard_count(1)
        .send()
        .await
        .expect("signed create");
    // The region comes from the verified credential scope.
    let arn = good
        .describe_stream_summary()
        .stream_name("sec")
        .send()
        .await
        .expect("describe")
        .stream_description_summary()
        .expect("s")
        .stream_arn()
        .to_string();
    assert!(arn.starts_with("arn:aws:kinesis:eu-west-1:"), "{arn}");
    let wrong = client(&t.endpoint(), KEY_ID, "not-the-secret");
    let err = wrong
        .list_streams()
        .send()
        .await
        .expect_err("bad signature");
    assert_eq!(code(&err), "InvalidSignatureException");
    let unknown = client(&t.endpoint(), "AKIDUNKNOWN", SECRET);
    let err = unknown
        .list_streams()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(code(&err), "UnrecognizedClientException");
}

/// A ListStreams request signed by aws-sigv4 in the given location.
fn signed_request(
    endpoint: &str,
    location: SignatureLocation,
    at: SystemTime,
) -> http::Request<Full<Bytes>> {
    let body = b"{}".to_vec();
    let host = endpoint.trim_start_matches("http://").to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "Kinesis_20131202.ListStreams"),
    ];
    let identity =
        aws_credential_types::Credentials::new(KEY_ID, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    settings.expires_in = Some(Duration::from_secs(300));
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("kinesis")
        .time(at)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("{endpoint}/"),
        headers.iter().copied(),
        SignableBody::Bytes(&body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("{endpoint}/"));
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Full::new(Bytes::from(body))).expect("request");
    instructions.apply_to_request_http1x(&mut req);
    req
}

async fn send(req: http::Request<Full<Bytes>>, h2: bool) -> (u16, serde_json::Value) {
    let client = if h2 {
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http()
    } else {
        Client::builder(TokioExecutor::new()).build_http()
    };
    let resp = client.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).expect("json"))
}

#[tokio::test]
async fn header_and_presigned_forms_over_http1_and_h2c() {
    let t = secured().await;
    let e = t.endpoint();
    for h2 in [false, true] {
        for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
            let (status, body) = send(signed_request(&e, location, SystemTime::now()), h2).await;
            assert_eq!(status, 200, "h2={h2} {location:?}: {body}");
        }
    }
    // A signature from 20 minutes ago has expired.
    let old = SystemTime::now() - Duration::from_secs(20 * 60);
    let (status, body) = send(signed_request(&e, SignatureLocation::Headers, old), false).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
    // So has a presigned request past its X-Amz-Expires.
    let (_, body) = send(
        signed_request(&e, SignatureLocation::QueryParams, old),
        false,
    )
    .await;
    assert_eq!(body["__type"].as_str(), Some("InvalidSignatureException"));
}

#[tokio::test]
async fn unsigned_and_malformed_requests_are_refused() {
    let t = secured().await;
    let plain = |auth: Option<&str>| {
        let mut req = http::Request::post(t.endpoint())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "Kinesis_20131202.ListStreams")
            .header("x-amz-date", "20250101T000000Z");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.body(Full::new(Bytes::from_static(b"{}")))
            .expect("request")
    };
    // AWS's JSON endpoints answer a well-formed call without any signature with 400.
    let (status, body) = send(plain(None), false).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException"))
    );
    let (status, body) = send(
        plain(Some(
            "AWS4-HMAC-SHA256 Credential=AKIDWEIRTEST/20250101/us-east-1/kinesis/aws4_request",
        )),
        false,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("IncompleteSignatureException"))
    );
    let (_, body) = send(plain(Some("Basic dXNlcjpwYXNz")), false).await;
    assert_eq!(
        body["__type"].as_str(),
        Some("IncompleteSignatureException")
    );
}

#[tokio::test]
async fn allow_unsigned_takes_unsigned_calls_only_without_keys() {
    for with_keys in [false, true] {
        let dir = tempfile::tempdir().expect("tmp");
        let mut config = test_config(dir.path());
        config.auth.allow_unsigned = true;
        if with_keys {
            config.auth.keys.push(weir::config::AccessKey {
                access_key_id: KEY_ID.into(),
                secret_access_key: SECRET.into(),
            });
        }
        let t = TestServer::start_with(dir, config).await;
        let req = http::Request::post(t.endpoint())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "Kinesis_20131202.ListStreams")
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("request");
        let (status, body) = send(req, false).await;
        if with_keys {
            assert_eq!(
                (status, body["__type"].as_str()),
                (400, Some("MissingAuthenticationTokenException"))
            );
        } else {
            assert_eq!(status, 200, "{body}");
        }
    }
}

/// A PUT with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: the seed signature from aws-sigv4, each
/// chunk signed in the chain; `tamper` flips a byte of the second chunk after signing.
fn streaming_put(
    endpoint: &str,
    path: &str,
    chunks: &[&[u8]],
    tamper: bool,
) -> http::Request<Full<Bytes>> {
    let host = endpoint.trim_start_matches("http://").to_string();
    let decoded_len = chunks.iter().map(|c| c.len()).sum::<usize>().to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ];
    let identity =
        aws_credential_types::Credentials::new(KEY_ID, SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    let now = SystemTime::now();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "PUT",
        format!("{endpoint}{path}"),
        headers.iter().copied(),
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
    )
    .expect("signable");
    let (instructions, seed) = sign(signable, &params).expect("sign").into_parts();
    let amz_date = instructions
        .headers()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-date"))
        .map(|(_, v)| v.to_string())
        .expect("x-amz-date");
    let date = &amz_date[..8];
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let key = weir_sigv4::signing_key(SECRET, date, "us-east-1", "s3");
    let mut previous = seed;
    let mut body = Vec::new();
    for (i, chunk) in chunks.iter().copied().chain([&b""[..]]).enumerate() {
        let sig = weir_sigv4::chunk_signature(&key, &amz_date, &scope, &previous, chunk);
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        let mut data = chunk.to_vec();
        if tamper && i == 1 {
            data[0] ^= 1;
        }
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\r\n");
        previous = sig;
    }
    let mut req = http::Request::builder()
        .method("PUT")
        .uri(format!("{endpoint}{path}"));
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Full::new(Bytes::from(body))).expect("request");
    instructions.apply_to_request_http1x(&mut req);
    req
}

#[tokio::test]
async fn s3_streaming_chunk_signatures_are_verified() {
    let t = secured().await;
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(t.endpoint())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            KEY_ID, SECRET, None, None, "test",
        ))
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    s3.create_bucket()
        .bucket("sig")
        .send()
        .await
        .expect("signed create bucket");
    let client = Client::builder(TokioExecutor::new()).build_http();
    let chunks: [&[u8]; 2] = [&[b'a'; 8192], b"tail of the object"];
    let resp = client
        .request(streaming_put(&t.endpoint(), "/sig/good", &chunks, false))
        .await
        .expect("response");
    assert_eq!(resp.status(), 200);
    let got = s3
        .get_object()
        .bucket("sig")
        .key("good")
        .send()
        .await
        .expect("get");
    let body = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(body.len(), 8192 + 18);
    assert!(body.ends_with(b"tail of the object"));

    let resp = client
        .request(streaming_put(&t.endpoint(), "/sig/bad", &chunks, true))
        .await
        .expect("response");
    assert_eq!(resp.status(), 403);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("<Code>SignatureDoesNotMatch</Code>"));
    let err = s3
        .head_object()
        .bucket("sig")
        .key("bad")
        .send()
        .await
        .expect_err("not stored");
    assert!(err.into_service_error().is_not_found());
}
