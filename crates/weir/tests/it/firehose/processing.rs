//! Processors: dynamic partitioning (jq, Lambda keys), Lambda transforms as commands and URLs.

use super::*;

#[tokio::test]
async fn dynamic_partitioning_with_jq_and_error_output() {
    use aws_sdk_firehose::types::{DynamicPartitioningConfiguration, RetryOptions};
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    let dp = || {
        DynamicPartitioningConfiguration::builder()
            .enabled(true)
            .retry_options(RetryOptions::builder().duration_in_seconds(300).build())
            .build()
    };
    let config = |size: Option<i32>, query: &str| {
        let mut b = destination("lake")
            .prefix("customer=!{partitionKeyFromQuery:customer}/year=!{timestamp:yyyy}/")
            .error_output_prefix("errors/!{firehose:error-output-type}/")
            .dynamic_partitioning_configuration(dp())
            .processing_configuration(partitioning_processors(query))
            .compression_format(CompressionFormat::Gzip);
        if let Some(s) = size {
            b = b.buffering_hints(BufferingHints::builder().size_in_mbs(s).build());
        }
        b.build().expect("config")
    };
    // Firehose's rules: 64 MB buffers at least, a query that compiles, keys the prefix uses.
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("dp")
        .extended_s3_destination_configuration(config(Some(5), "{customer:.customer}"))
        .send()
        .await
        .expect_err("small buffer");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("dp")
        .extended_s3_destination_configuration(config(None, "{customer: .customer"))
        .send()
        .await
        .expect_err("bad jq");
    assert_eq!(code(&e), "InvalidArgumentException");
    fh.create_delivery_stream()
        .delivery_stream_name("dp")
        .extended_s3_destination_configuration(config(None, "{customer:.customer}"))
        .send()
        .await
        .expect("create");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("dp")
        .send()
        .await
        .expect("describe");
    let ext = d.delivery_stream_description().expect("d").destinations()[0]
        .extended_s3_destination_description()
        .expect("ext")
        .clone();
    assert_eq!(
        ext.buffering_hints().and_then(|b| b.size_in_mbs()),
        Some(64)
    );
    assert_eq!(
        ext.dynamic_partitioning_configuration()
            .and_then(|d| d.enabled()),
        Some(true)
    );

    let records = [
        // Two customers in one record (JSON de-aggregation), then one each.
        r#"{"customer":"a","n":1}{"customer":"b","n":2}"#,
        r#"{"customer":"a","n":3}"#,
        r#"{"customer":"b","n":4}"#,
        "not json at all",
        r#"{"n":5}"#,
        r#"{"customer":7,"n":6}"#,
    ];
    let out = fh
        .put_record_batch()
        .delivery_stream_name("dp")
        .set_records(Some(
            records
                .iter()
                .map(|r| Record::builder().data(Blob::new(*r)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
    assert_eq!(out.failed_put_count(), 0);
    t.flush("dp").await;
    let all = keys(&s3c, "lake", "").await;
    let read = |prefix: &'static str| {
        let found: Vec<String> = all
            .iter()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        let s3c = s3c.clone();
        async move {
            assert_eq!(found.len(), 1, "one object under {prefix}");
            String::from_utf8(gunzip(&object(&s3c, "lake", &found[0]).await.0)).expect("utf8")
        }
    };
    assert_eq!(
        read("customer=a/year=").await,
        "{\"customer\":\"a\",\"n\":1}\n{\"customer\":\"a\",\"n\":3}\n"
    );
    assert_eq!(
        read("customer=b/year=").await,
        "{\"customer\":\"b\",\"n\":2}\n{\"customer\":\"b\",\"n\":4}\n"
    );
    assert_eq!(read("customer=7/").await, "{\"customer\":7,\"n\":6}\n");
    let errors = read("errors/partitioning-failed/").await;
    let failed: Vec<serde_json::Value> = errors
        .lines()
        .map(|l| serde_json::from_str(l).expect("error document"))
        .collect();
    assert_eq!(failed.len(), 2);
    use base64::Engine as _;
    let raw: Vec<String> = failed
        .iter()
        .map(|f| {
            assert_eq!(
                f["errorCode"],
                "DynamicPartitioning.MetadataExtractionFailed"
            );
            assert!(f["arrivalTimestamp"].as_i64().is_some());
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(f["rawData"].as_str().expect("rawData"))
                    .expect("base64"),
            )
            .expect("utf8")
        })
        .collect();
    assert_eq!(raw, ["not json at all", "{\"n\":5}"]);

    // Dynamic partitioning stays on.
    let e = fh
        .update_destination()
        .delivery_stream_name("dp")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .dynamic_partitioning_configuration(
                    DynamicPartitioningConfiguration::builder()
                        .enabled(false)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("cannot disable");
    assert_eq!(code(&e), "InvalidArgumentException");
}

#[tokio::test]
async fn records_past_500_active_partitions_go_to_the_error_output() {
    use aws_sdk_firehose::types::DynamicPartitioningConfiguration;
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("many")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("p=!{partitionKeyFromQuery:p}/")
                .error_output_prefix("err/!{firehose:error-output-type}/")
                .dynamic_partitioning_configuration(
                    DynamicPartitioningConfiguration::builder()
                        .enabled(true)
                        .build(),
                )
                .processing_configuration(partitioning_processors("{p: .p}"))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    for batch in 0..2 {
        let records = (0..300)
            .map(|i| {
                Record::builder()
                    .data(Blob::new(format!("{{\"p\":\"k{}\"}}", batch * 300 + i)))
                    .build()
                    .expect("r")
            })
            .collect();
        fh.put_record_batch()
            .delivery_stream_name("many")
            .set_records(Some(records))
            .send()
            .await
            .expect("batch");
    }
    t.flush("many").await;
    let all = keys(&s3c, "lake", "").await;
    let partitions = all.iter().filter(|k| k.starts_with("p=")).count();
    assert_eq!(partitions, 500);
    let errors: Vec<&String> = all
        .iter()
        .filter(|k| k.starts_with("err/partitioning-failed/"))
        .collect();
    assert_eq!(errors.len(), 1);
    let text =
        String::from_utf8(gunzip_if(&object(&s3c, "lake", errors[0]).await.0)).expect("utf8");
    assert_eq!(text.lines().count(), 100);
}

pub const TRANSFORM: &str = r#"
import base64, json, sys
event = json.load(sys.stdin)
assert event["deliveryStreamArn"].startswith("arn:aws:firehose:us-east-1:")
out = []
for r in event["records"]:
    d = base64.b64decode(r["data"]).decode()
    if d.startswith("drop"):
        out.append({"recordId": r["recordId"], "result": "Dropped"})
    elif d.startswith("fail"):
        out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
    else:
        out.append({"recordId": r["recordId"], "result": "Ok",
                    "data": base64.b64encode(d.upper().encode()).decode(),
                    "metadata": {"partitionKeys": {"kind": d.split(":")[0]}}})
json.dump({"records": out}, sys.stdout)
"#;

pub fn lambda_processor(function: &str, retries: &str) -> Processor {
    Processor::builder()
        .r#type(ProcessorType::Lambda)
        .parameters(param(
            ProcessorParameterName::LambdaArn,
            &format!("arn:aws:lambda:us-east-1:000000000000:function:{function}"),
        ))
        .parameters(param(
            ProcessorParameterName::LambdaNumberOfRetries,
            retries,
        ))
        .build()
        .expect("lambda")
}

#[tokio::test]
async fn lambda_transform_as_a_local_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("transform.py");
    std::fs::write(&script, TRANSFORM).expect("script");
    let mut config = crate::harness::test_config(dir.path());
    for (name, command) in [
        (
            "shout",
            vec!["python3".to_string(), script.display().to_string()],
        ),
        (
            "broken",
            vec![
                "sh".to_string(),
                "-c".to_string(),
                "echo boom >&2; exit 3".to_string(),
            ],
        ),
    ] {
        config
            .functions
            .push(weir_delivery::lambda::FunctionConfig {
                name: name.into(),
                command,
                url: None,
                timeout_ms: 30_000,
            });
    }
    let t = TestServer::start_with(tempfile::tempdir().expect("tmp"), config).await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    let processing =
        |function: &str, retries: &str| then_newline(lambda_processor(function, retries));
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("x")
        .extended_s3_destination_configuration(
            destination("lake")
                .processing_configuration(processing("unknown", "0"))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect_err("unregistered function");
    assert_eq!(code(&e), "InvalidArgumentException");

    // Transformation: Ok records are rewritten, Dropped ones vanish, ProcessingFailed ones
    // become error documents; partitionKeyFromLambda partitions what the function tagged.
    fh.create_delivery_stream()
        .delivery_stream_name("shouting")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("kind=!{partitionKeyFromLambda:kind}/")
                .error_output_prefix("err/!{firehose:error-output-type}/")
                .dynamic_partitioning_configuration(
                    aws_sdk_firehose::types::DynamicPartitioningConfiguration::builder()
                        .enabled(true)
                        .build(),
                )
                .processing_configuration(processing("shout", "2"))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    let lines = ["a:1", "drop:2", "fail:3", "b:4", "a:5"];
    put_batch(&fh, "shouting", lines).await;
    t.flush("shouting").await;
    // Every record is accounted for: delivered, dropped or failed.
    let stats = t
        .server
        .as_ref()
        .expect("running")
        .delivery
        .stats("us-east-1", "shouting")
        .expect("stats");
    assert_eq!(
        (
            stats.records_in,
            stats.records_delivered,
            stats.records_dropped,
            stats.records_failed
        ),
        (5, 3, 1, 1)
    );
    let body = |key: String| {
        let s3c = s3c.clone();
        async move { String::from_utf8(object(&s3c, "lake", &key).await.0).expect("utf8") }
    };
    let a = keys(&s3c, "lake", "kind=a/").await;
    assert_eq!(a.len(), 1);
    assert_eq!(body(a[0].clone()).await, "A:1\nA:5\n");
    let b = keys(&s3c, "lake", "kind=b/").await;
    assert_eq!(body(b[0].clone()).await, "B:4\n");
    let failed = keys(&s3c, "lake", "err/processing-failed/").await;
    assert_eq!(failed.len(), 1);
    let doc: serde_json::Value =
        serde_json::from_str(body(failed[0].clone()).await.trim()).expect("json");
    assert_eq!(doc["errorCode"], "Lambda.ProcessingFailed");
    assert_eq!(
        doc["lambdaArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:shout"
    );
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(doc["rawData"].as_str().expect("raw"))
            .expect("b64"),
        b"fail:3"
    );

    // A function that fails is retried NumberOfRetries times; then every record of the
    // invocation is error output, and nothing is lost.
    fh.create_delivery_stream()
        .delivery_stream_name("broken")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("ok/")
                .processing_configuration(processing("broken", "1"))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    put_batch(&fh, "broken", ["x", "y"]).await;
    t.flush("broken").await;
    assert!(
        keys(&s3c, "lake", "ok/2").await.is_empty(),
        "nothing delivered as transformed"
    );
    let failed = keys(&s3c, "lake", "ok/processing-failed/").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let text = body(failed[0].clone()).await;
    let docs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(docs.len(), 2);
    for d in &docs {
        assert_eq!(d["errorCode"], "Lambda.FunctionError");
        assert_eq!(d["attemptsMade"], 2);
        assert!(d["errorMessage"]
            .as_str()
            .expect("message")
            .contains("boom"));
    }
}

/// A Lambda function behind an HTTP URL: upper-cases every record.
pub async fn upper_casing_function() -> String {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/invoke", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        use base64::Engine as _;
                        let b64 = base64::engine::general_purpose::STANDARD;
                        let body = req.into_body().collect().await.expect("body").to_bytes();
                        let event: serde_json::Value =
                            serde_json::from_slice(&body).expect("event");
                        let records: Vec<serde_json::Value> = event["records"]
                            .as_array()
                            .expect("records")
                            .iter()
                            .map(|r| {
                                let data =
                                    b64.decode(r["data"].as_str().expect("data")).expect("b64");
                                serde_json::json!({
                                    "recordId": r["recordId"],
                                    "result": "Ok",
                                    "data": b64.encode(data.to_ascii_uppercase()),
                                })
                            })
                            .collect();
                        let answer = serde_json::json!({ "records": records }).to_string();
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from(answer)),
                        ))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

#[tokio::test]
async fn lambda_transform_behind_an_http_url() {
    let url = upper_casing_function().await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = crate::harness::test_config(dir.path());
    config
        .functions
        .push(weir_delivery::lambda::FunctionConfig {
            name: "upper".into(),
            command: Vec::new(),
            url: Some(url),
            timeout_ms: 10_000,
        });
    let t = TestServer::start_with(dir, config).await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("up")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("up/")
                .processing_configuration(then_newline(lambda_processor("upper", "0")))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    put_batch(&fh, "up", ["abc", "déf"]).await;
    t.flush("up").await;
    let found = keys(&s3c, "lake", "up/").await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        object(&s3c, "lake", &found[0]).await.0,
        "ABC\nDéF\n".as_bytes()
    );
}

/// Writes one line per invocation (how many records it got) to the file named by its argument,
/// and returns every record as `<data>:<records in this invocation>`.
const COUNTING: &str = r#"
import base64, json, sys
event = json.load(sys.stdin)
n = len(event["records"])
with open(sys.argv[1], "a") as log:
    log.write(f"{n}\n")
out = [{"recordId": r["recordId"], "result": "Ok",
        "data": base64.b64encode(base64.b64decode(r["data"]) + f":{n}".encode()).decode()}
       for r in event["records"]]
json.dump({"records": out}, sys.stdout)
"#;

#[tokio::test]
async fn a_lambda_is_invoked_when_its_buffer_fills_or_its_interval_ends() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("count.py");
    std::fs::write(&script, COUNTING).expect("script");
    let calls = dir.path().join("calls.log");
    let mut config = crate::harness::test_config(dir.path());
    config
        .functions
        .push(weir_delivery::lambda::FunctionConfig {
            name: "count".into(),
            command: vec![
                "python3".to_string(),
                script.display().to_string(),
                calls.display().to_string(),
            ],
            url: None,
            timeout_ms: 30_000,
        });
    let t = TestServer::start_with(tempfile::tempdir().expect("tmp"), config).await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    // Holds records up to 900 s or 0.2 MB before invoking the function.
    let lambda = Processor::builder()
        .r#type(ProcessorType::Lambda)
        .parameters(param(
            ProcessorParameterName::LambdaArn,
            "arn:aws:lambda:us-east-1:000000000000:function:count",
        ))
        .parameters(param(
            ProcessorParameterName::BufferIntervalInSeconds,
            "900",
        ))
        .parameters(param(ProcessorParameterName::BufferSizeInMb, "0.2"))
        .build()
        .expect("lambda");
    fh.create_delivery_stream()
        .delivery_stream_name("held")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("held/")
                .processing_configuration(then_newline(lambda))
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    let server = t.server.as_ref().expect("running");
    let read_in = |n: u64| {
        let delivery = server.delivery.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while delivery
                .stats("us-east-1", "held")
                .expect("stats")
                .records_in
                < n
            {
                assert!(std::time::Instant::now() < deadline, "records never read");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let invocations = || std::fs::read_to_string(&calls).unwrap_or_default();
    // Three small records, each read on its own: held together, one invocation on the flush.
    for (i, r) in ["a", "b", "c"].into_iter().enumerate() {
        put_batch(&fh, "held", [r]).await;
        read_in(i as u64 + 1).await;
    }
    assert_eq!(
        invocations(),
        "",
        "nothing invoked before the buffer is due"
    );
    t.flush("held").await;
    assert_eq!(invocations(), "3\n");
    let objects = keys(&s3c, "lake", "held/").await;
    assert_eq!(objects.len(), 1);
    let text = String::from_utf8(object(&s3c, "lake", &objects[0]).await.0).expect("utf8");
    assert_eq!(text, "a:3\nb:3\nc:3\n");
    // Past BufferSizeInMBs the function is invoked without a flush, each invocation at most
    // BufferSizeInMBs (so the two 150 KB records go one by one).
    let big = "x".repeat(150_000);
    put_batch(&fh, "held", [big.as_str()]).await;
    read_in(4).await;
    put_batch(&fh, "held", [big.as_str()]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while invocations() != "3\n1\n1\n" {
        assert!(std::time::Instant::now() < deadline, "{:?}", invocations());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
