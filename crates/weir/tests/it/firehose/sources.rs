//! A Weir Kinesis stream as the source.

use super::*;

/// A delivery stream's source: the Kinesis stream `arn`.
fn from_stream(arn: &str) -> aws_sdk_firehose::types::KinesisStreamSourceConfiguration {
    aws_sdk_firehose::types::KinesisStreamSourceConfiguration::builder()
        .kinesis_stream_arn(arn)
        .role_arn(ROLE)
        .build()
        .expect("source")
}

/// Every object's text under `prefix` of `bucket`, in key order, one after the other.
async fn delivered(s3c: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> String {
    let mut text = String::new();
    for key in keys(s3c, bucket, prefix).await {
        text.push_str(&String::from_utf8(object(s3c, bucket, &key).await.0).expect("utf8"));
    }
    text
}

#[tokio::test]
async fn kinesis_stream_source_from_latest_through_resharding() {
    use aws_sdk_kinesis::primitives::Blob as KBlob;
    let mut t = TestServer::start().await;
    make_bucket(&s3(&t.endpoint()), "lake").await;
    let k = t.kinesis();
    crate::harness::create_active(&k, "clicks", 2).await;
    let put = |data: Vec<u8>, pk: String| {
        let k = k.clone();
        async move {
            k.put_record()
                .stream_name("clicks")
                .partition_key(pk)
                .data(KBlob::new(data))
                .send()
                .await
                .expect("put")
        }
    };
    put(b"before-creation\n".to_vec(), "a".into()).await;
    let arn = crate::harness::summary(&k, "clicks")
        .await
        .stream_arn()
        .to_string();
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("from-stream")
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(from_stream(&arn))
        .extended_s3_destination_configuration(
            destination("lake").prefix("ks/").build().expect("c"),
        )
        .send()
        .await
        .expect("create");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("from-stream")
        .send()
        .await
        .expect("describe");
    let d = d.delivery_stream_description().expect("d");
    assert_eq!(d.delivery_stream_type().as_str(), "KinesisStreamAsSource");
    let src = d
        .source()
        .and_then(|s| s.kinesis_stream_source_description())
        .expect("kinesis source");
    assert_eq!(src.kinesis_stream_arn(), Some(arn.as_str()));
    assert!(src.delivery_start_timestamp().is_some());
    let e = fh
        .put_record()
        .delivery_stream_name("from-stream")
        .record(Record::builder().data(Blob::new("x")).build().expect("r"))
        .send()
        .await
        .expect_err("not DirectPut");
    assert_eq!(code(&e), "InvalidSourceException");

    let mut want = Vec::new();
    for i in 0..40 {
        let line = format!("one-{i}\n");
        want.push(line.clone());
        put(line.into_bytes(), format!("pk-{i}")).await;
    }
    // A KPL aggregate is delivered as its user records.
    let parts: Vec<String> = (0..3).map(|i| format!("kpl-{i}\n")).collect();
    want.extend(parts.iter().cloned());
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    put(kpl_aggregate(&refs), "agg".into()).await;
    // Reshard mid-way: the closed parents are read to their end, then their children.
    k.update_shard_count()
        .stream_name("clicks")
        .target_shard_count(4)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await
        .expect("reshard");
    crate::harness::wait_status(&k, "clicks", "ACTIVE").await;
    for i in 0..40 {
        let line = format!("two-{i}\n");
        want.push(line.clone());
        put(line.into_bytes(), format!("pk-{i}")).await;
    }
    t.flush("from-stream").await;
    let s3c = s3(&t.endpoint());
    let text = delivered(&s3c, "lake", "ks/").await;
    let mut got: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    got.sort();
    want.sort();
    assert_eq!(
        got, want,
        "records since creation, each once, none from before"
    );

    // After a restart nothing is delivered twice, and new records still flow.
    t.restart().await;
    let k = t.kinesis();
    for (pk, line) in [("z", "three\n"), ("y", "four\n")] {
        k.put_record()
            .stream_name("clicks")
            .partition_key(pk)
            .data(KBlob::new(line.as_bytes().to_vec()))
            .send()
            .await
            .expect("put");
    }
    t.flush("from-stream").await;
    let s3c = s3(&t.endpoint());
    let total = delivered(&s3c, "lake", "ks/").await.lines().count();
    assert_eq!(total, want.len() + 2);
}

const WITH_METADATA: &str = r#"
import base64, json, sys
event = json.load(sys.stdin)
source = event["sourceKinesisStreamArn"]
out = []
for r in event["records"]:
    m = r["kinesisRecordMetadata"]
    assert m["shardId"].startswith("shardId-") and m["sequenceNumber"], m
    line = "%s|%s|%s|%s" % (m["partitionKey"], m["subsequenceNumber"],
                            source.rsplit("/", 1)[1], base64.b64decode(r["data"]).decode())
    out.append({"recordId": r["recordId"], "result": "Ok",
                "data": base64.b64encode(line.encode()).decode()})
json.dump({"records": out}, sys.stdout)
"#;

#[tokio::test]
async fn a_lambda_on_a_kinesis_source_sees_record_metadata() {
    use aws_sdk_kinesis::primitives::Blob as KBlob;
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("meta.py");
    std::fs::write(&script, WITH_METADATA).expect("script");
    let mut config = crate::harness::test_config(dir.path());
    config
        .functions
        .push(weir_delivery::lambda::FunctionConfig {
            name: "meta".into(),
            command: vec!["python3".into(), script.display().to_string()],
            url: None,
            timeout_ms: 30_000,
        });
    let t = TestServer::start_with(dir, config).await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let k = t.kinesis();
    crate::harness::create_active(&k, "events", 1).await;
    let arn = crate::harness::summary(&k, "events")
        .await
        .stream_arn()
        .to_string();
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("meta")
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(from_stream(&arn))
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("m/")
                .processing_configuration(
                    ProcessingConfiguration::builder()
                        .enabled(true)
                        .processors(
                            Processor::builder()
                                .r#type(ProcessorType::Lambda)
                                .parameters(param(
                                    ProcessorParameterName::LambdaArn,
                                    "arn:aws:lambda:us-east-1:000000000000:function:meta",
                                ))
                                .build()
                                .expect("lambda"),
                        )
                        .processors(newline_delimiter().processors()[0].clone())
                        .build(),
                )
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    k.put_record()
        .stream_name("events")
        .partition_key("user-7")
        .data(KBlob::new(b"plain".to_vec()))
        .send()
        .await
        .expect("put");
    k.put_record()
        .stream_name("events")
        .partition_key("agg")
        .data(KBlob::new(kpl_aggregate(&[b"first", b"second"])))
        .send()
        .await
        .expect("put");
    t.flush("meta").await;
    let found = keys(&s3c, "lake", "m/").await;
    assert_eq!(found.len(), 1);
    let text = String::from_utf8(object(&s3c, "lake", &found[0]).await.0).expect("utf8");
    assert_eq!(
        text,
        "user-7|0|events|plain\npk|0|events|first\npk|1|events|second\n"
    );
}

#[tokio::test]
async fn kinesis_stream_source_on_a_resharded_stream_starts_after_its_history() {
    use aws_sdk_kinesis::primitives::Blob as KBlob;
    let t = TestServer::start().await;
    make_bucket(&s3(&t.endpoint()), "lake").await;
    let k = t.kinesis();
    crate::harness::create_active(&k, "older", 1).await;
    let put = |line: &str, pk: &str| {
        k.put_record()
            .stream_name("older")
            .partition_key(pk)
            .data(KBlob::new(line.as_bytes().to_vec()))
            .send()
    };
    put("before the reshard\n", "a").await.expect("put");
    k.update_shard_count()
        .stream_name("older")
        .target_shard_count(2)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await
        .expect("reshard");
    crate::harness::wait_status(&k, "older", "ACTIVE").await;
    put("after the reshard\n", "b").await.expect("put");
    let arn = crate::harness::summary(&k, "older")
        .await
        .stream_arn()
        .to_string();
    t.firehose()
        .create_delivery_stream()
        .delivery_stream_name("late-reader")
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(from_stream(&arn))
        .extended_s3_destination_configuration(
            destination("lake").prefix("late/").build().expect("c"),
        )
        .send()
        .await
        .expect("create");
    put("new\n", "c").await.expect("put");
    t.flush("late-reader").await;
    // The closed parent's records (and the open shards' before creation) are not read.
    assert_eq!(
        delivered(&s3(&t.endpoint()), "lake", "late/").await,
        "new\n"
    );
}
