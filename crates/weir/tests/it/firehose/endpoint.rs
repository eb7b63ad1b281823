//! HTTP endpoint destinations, against a receiver in the test.

use super::*;

/// An HTTP endpoint for Firehose: answers each request with the next status of `script`
/// (200 once it runs out) and keeps what it received.
pub struct Receiver {
    pub url: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<(http::HeaderMap, serde_json::Value)>>>,
}

pub async fn receiver(script: Vec<u16>) -> Receiver {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/ingest", listener.local_addr().expect("addr"));
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(http::HeaderMap, serde_json::Value)>>> =
        Default::default();
    let script = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        script,
    )));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (seen, script) = (seen2.clone(), script.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (seen, script) = (seen.clone(), script.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let raw = body.collect().await.expect("body").to_bytes();
                            let text = if parts
                                .headers
                                .get("content-encoding")
                                .is_some_and(|v| v == "gzip")
                            {
                                gunzip(&raw)
                            } else {
                                raw.to_vec()
                            };
                            let doc: serde_json::Value =
                                serde_json::from_slice(&text).expect("json body");
                            let id = doc["requestId"].clone();
                            seen.lock().expect("lock").push((parts.headers, doc));
                            let status = script.lock().expect("lock").pop_front().unwrap_or(200);
                            let answer = serde_json::json!({"requestId": id, "timestamp": 1});
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(http_body_util::Full::new(bytes::Bytes::from(
                                        answer.to_string(),
                                    )))
                                    .expect("response"),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Receiver { url, seen }
}

pub fn http_destination(
    url: &str,
    retry_s: i32,
    all_data: bool,
) -> aws_sdk_firehose::types::HttpEndpointDestinationConfiguration {
    use aws_sdk_firehose::types::*;
    HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url(url)
                .name("receiver")
                .access_key("secret-key")
                .build()
                .expect("endpoint"),
        )
        .request_configuration(
            HttpEndpointRequestConfiguration::builder()
                .content_encoding(ContentEncoding::Gzip)
                .common_attributes(
                    HttpEndpointCommonAttribute::builder()
                        .attribute_name("env")
                        .attribute_value("test")
                        .build()
                        .expect("attr"),
                )
                .build(),
        )
        .retry_options(
            HttpEndpointRetryOptions::builder()
                .duration_in_seconds(retry_s)
                .build(),
        )
        .s3_backup_mode(if all_data {
            HttpEndpointS3BackupMode::AllData
        } else {
            HttpEndpointS3BackupMode::FailedDataOnly
        })
        .s3_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(ROLE)
                .bucket_arn("arn:aws:s3:::lake")
                .prefix("backup/")
                .build()
                .expect("s3"),
        )
        .build()
}

#[tokio::test]
async fn http_endpoint_destination_request_format_retries_and_failed_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = crate::harness::test_config(dir.path());
    config.firehose.http_backoff_ms = 5;
    let t = TestServer::start_with(dir, config).await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();

    // Fails twice, then takes the batch: the same request id on every attempt.
    let r = receiver(vec![500, 503]).await;
    fh.create_delivery_stream()
        .delivery_stream_name("to-http")
        .http_endpoint_destination_configuration(http_destination(&r.url, 60, false))
        .send()
        .await
        .expect("create");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("to-http")
        .send()
        .await
        .expect("describe");
    let hd = d.delivery_stream_description().expect("d").destinations()[0]
        .http_endpoint_destination_description()
        .expect("http description")
        .clone();
    assert_eq!(
        hd.endpoint_configuration().and_then(|e| e.url()),
        Some(r.url.as_str())
    );
    assert_eq!(
        hd.s3_backup_mode().map(|m| m.as_str()),
        Some("FailedDataOnly")
    );
    let records = ["one", "two", "three"];
    put_batch(&fh, "to-http", records).await;
    t.flush("to-http").await;
    let seen = r.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3, "two failures and a success");
    let ids: Vec<&str> = seen
        .iter()
        .map(|(h, _)| {
            h.get("x-amz-firehose-request-id")
                .and_then(|v| v.to_str().ok())
                .expect("id")
        })
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one request id across retries"
    );
    let (headers, body) = &seen[2];
    assert_eq!(headers["x-amz-firehose-access-key"], "secret-key");
    assert_eq!(headers["x-amz-firehose-protocol-version"], "1.0");
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(
        headers["x-amz-firehose-source-arn"],
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/to-http"
    );
    let attrs: serde_json::Value = serde_json::from_str(
        headers["x-amz-firehose-common-attributes"]
            .to_str()
            .expect("str"),
    )
    .expect("json");
    assert_eq!(attrs["commonAttributes"]["env"], "test");
    assert_eq!(body["requestId"], ids[0]);
    use base64::Engine as _;
    let got: Vec<String> = body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(r["data"].as_str().expect("data"))
                    .expect("b64"),
            )
            .expect("utf8")
        })
        .collect();
    assert_eq!(got, records);
    assert!(
        keys(&s3c, "lake", "").await.is_empty(),
        "nothing failed, nothing backed up"
    );

    // An endpoint that keeps failing: after the retry duration the records are written to
    // the S3 configuration's error output; with AllData every record is also backed up.
    let r = receiver(vec![500; 1000]).await;
    fh.create_delivery_stream()
        .delivery_stream_name("down")
        .http_endpoint_destination_configuration(http_destination(&r.url, 0, true))
        .send()
        .await
        .expect("create");
    put_batch(&fh, "down", records).await;
    t.flush("down").await;
    let failed = keys(&s3c, "lake", "backup/http-endpoint-failed/").await;
    assert_eq!(failed.len(), 1, "{:?}", keys(&s3c, "lake", "").await);
    let text = String::from_utf8(object(&s3c, "lake", &failed[0]).await.0).expect("utf8");
    let raw: Vec<String> = text
        .lines()
        .map(|l| {
            let doc: serde_json::Value = serde_json::from_str(l).expect("json");
            assert_eq!(doc["errorCode"], "HttpEndpoint.DestinationException");
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(doc["rawData"].as_str().expect("raw"))
                    .expect("b64"),
            )
            .expect("utf8")
        })
        .collect();
    assert_eq!(raw, records);
    let backup: Vec<String> = keys(&s3c, "lake", "backup/")
        .await
        .into_iter()
        .filter(|k| !k.starts_with("backup/http-endpoint-failed/"))
        .collect();
    assert_eq!(backup.len(), 1);
    assert_eq!(object(&s3c, "lake", &backup[0]).await.0, b"onetwothree");

    // 413 is permanent: no retry, straight to the error output.
    let r = receiver(vec![413]).await;
    fh.create_delivery_stream()
        .delivery_stream_name("too-big")
        .http_endpoint_destination_configuration(http_destination(&r.url, 3600, false))
        .send()
        .await
        .expect("create");
    fh.put_record()
        .delivery_stream_name("too-big")
        .record(Record::builder().data(Blob::new("x")).build().expect("r"))
        .send()
        .await
        .expect("put");
    t.flush("too-big").await;
    assert_eq!(r.seen.lock().expect("lock").len(), 1);
    assert_eq!(
        keys(&s3c, "lake", "backup/http-endpoint-failed/")
            .await
            .len(),
        2
    );
}
