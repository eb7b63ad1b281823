//! Firehose through the AWS SDK for Rust: the control plane, validation, and delivery into
//! Weir's S3 checked byte for byte.

use std::io::Read;

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, ExtendedS3DestinationConfiguration,
    ExtendedS3DestinationUpdate, ProcessingConfiguration, Processor, ProcessorType, Record, Tag,
};
use aws_sdk_firehose::types::{ProcessorParameter, ProcessorParameterName};

use crate::harness::{code, firehose_client, TestServer};
use crate::s3::{make_bucket, s3};

const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

fn destination(
    bucket: &str,
) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
}

fn newline_delimiter() -> ProcessingConfiguration {
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .build()
                .expect("processor"),
        )
        .build()
}

async fn keys(c: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pages = c
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        out.extend(
            p.expect("list")
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    out
}

async fn object(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> (Vec<u8>, Option<String>) {
    let got = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    let enc = got.content_encoding().map(str::to_string);
    (got.body.collect().await.expect("body").to_vec(), enc)
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// Checks `<prefix><name>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>` and returns the prefix.
fn split_key<'a>(key: &'a str, name: &str, version: u32, ext: &str) -> &'a str {
    let rest = key
        .strip_suffix(ext)
        .unwrap_or_else(|| panic!("{key} ends with {ext}"));
    let marker = format!("{name}-{version}-");
    let at = rest
        .rfind(&marker)
        .unwrap_or_else(|| panic!("{key} has {marker}"));
    let tail = &rest[at + marker.len()..];
    let (when, uuid) = tail.split_at(19);
    assert_eq!(when.len(), 19, "{key}");
    assert!(
        when.bytes()
            .enumerate()
            .all(|(i, b)| if [4, 7, 10, 13, 16].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }),
        "{key}"
    );
    let uuid = uuid.strip_prefix('-').unwrap_or_else(|| panic!("{key}"));
    assert_eq!(uuid.len(), 36, "{key}");
    assert_eq!(uuid.matches('-').count(), 4, "{key}");
    &key[..at]
}

#[tokio::test]
async fn control_plane() {
    let t = TestServer::start().await;
    let fh = t.firehose();
    let arn = fh
        .create_delivery_stream()
        .delivery_stream_name("events")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("raw/")
                .compression_format(CompressionFormat::Gzip)
                .buffering_hints(
                    BufferingHints::builder()
                        .size_in_mbs(1)
                        .interval_in_seconds(60)
                        .build(),
                )
                .build()
                .expect("config"),
        )
        .tags(
            Tag::builder()
                .key("team")
                .value("data")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create")
        .delivery_stream_arn()
        .expect("arn")
        .to_string();
    assert_eq!(
        arn,
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/events"
    );
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("events")
        .extended_s3_destination_configuration(destination("lake").build().expect("config"))
        .send()
        .await
        .expect_err("exists");
    assert_eq!(code(&e), "ResourceInUseException");

    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("describe");
    let d = d.delivery_stream_description().expect("description");
    assert_eq!(d.delivery_stream_status().as_str(), "ACTIVE");
    assert_eq!(d.delivery_stream_type().as_str(), "DirectPut");
    assert_eq!(d.version_id(), "1");
    assert!(!d.has_more_destinations());
    let dest = &d.destinations()[0];
    assert_eq!(dest.destination_id(), "destinationId-000000000001");
    let ext = dest
        .extended_s3_destination_description()
        .expect("extended");
    assert_eq!(ext.bucket_arn(), "arn:aws:s3:::lake");
    assert_eq!(ext.prefix(), Some("raw/"));
    assert_eq!(ext.compression_format().as_str(), "GZIP");
    assert_eq!(ext.buffering_hints().and_then(|b| b.size_in_mbs()), Some(1));
    assert_eq!(
        ext.buffering_hints().and_then(|b| b.interval_in_seconds()),
        Some(60)
    );
    assert!(dest.s3_destination_description().is_some());

    // UpdateDestination merges, bumps the version, and refuses a stale version.
    fh.update_destination()
        .delivery_stream_name("events")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .prefix("cooked/")
                .build(),
        )
        .send()
        .await
        .expect("update");
    let e = fh
        .update_destination()
        .delivery_stream_name("events")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("x/").build())
        .send()
        .await
        .expect_err("stale");
    assert_eq!(code(&e), "ConcurrentModificationException");
    let e = fh
        .update_destination()
        .delivery_stream_name("events")
        .current_delivery_stream_version_id("2")
        .destination_id("destinationId-000000000009")
        .extended_s3_destination_update(ExtendedS3DestinationUpdate::builder().prefix("x/").build())
        .send()
        .await
        .expect_err("wrong destination");
    assert_eq!(code(&e), "InvalidArgumentException");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("describe");
    let d = d.delivery_stream_description().expect("d");
    assert_eq!(d.version_id(), "2");
    assert!(d.last_update_timestamp().is_some());
    let ext = d.destinations()[0]
        .extended_s3_destination_description()
        .expect("ext");
    assert_eq!(ext.prefix(), Some("cooked/"));
    assert_eq!(
        ext.compression_format().as_str(),
        "GZIP",
        "untouched members stay"
    );

    // Tags.
    fh.tag_delivery_stream()
        .delivery_stream_name("events")
        .tags(
            Tag::builder()
                .key("env")
                .value("test")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("tag");
    let tags = fh
        .list_tags_for_delivery_stream()
        .delivery_stream_name("events")
        .limit(1)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "env");
    assert!(tags.has_more_tags());
    fh.untag_delivery_stream()
        .delivery_stream_name("events")
        .tag_keys("env")
        .send()
        .await
        .expect("untag");
    let tags = fh
        .list_tags_for_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("tags");
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["team"]);

    // Encryption.
    fh.start_delivery_stream_encryption()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("start encryption");
    let put = fh
        .put_record()
        .delivery_stream_name("events")
        .record(
            Record::builder()
                .data(Blob::new("x"))
                .build()
                .expect("record"),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(put.encrypted(), Some(true));
    fh.stop_delivery_stream_encryption()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("stop encryption");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("describe");
    let enc = d
        .delivery_stream_description()
        .and_then(|d| d.delivery_stream_encryption_configuration())
        .expect("encryption");
    assert_eq!(enc.status().map(|s| s.as_str()), Some("DISABLED"));

    // List with paging and a type filter, then delete.
    for n in ["b-stream", "a-stream"] {
        fh.create_delivery_stream()
            .delivery_stream_name(n)
            .extended_s3_destination_configuration(destination("lake").build().expect("config"))
            .send()
            .await
            .expect("create");
    }
    let l = fh
        .list_delivery_streams()
        .limit(2)
        .send()
        .await
        .expect("list");
    assert_eq!(l.delivery_stream_names(), ["a-stream", "b-stream"]);
    assert!(l.has_more_delivery_streams());
    let l = fh
        .list_delivery_streams()
        .exclusive_start_delivery_stream_name("b-stream")
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::DirectPut)
        .send()
        .await
        .expect("list");
    assert_eq!(l.delivery_stream_names(), ["events"]);
    assert!(!l.has_more_delivery_streams());
    fh.delete_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect("delete");
    let e = fh
        .describe_delivery_stream()
        .delivery_stream_name("events")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn validation_and_errors() {
    let t = TestServer::start().await;
    let fh = t.firehose();
    let create = |name: &str, config: ExtendedS3DestinationConfiguration| {
        fh.create_delivery_stream()
            .delivery_stream_name(name)
            .extended_s3_destination_configuration(config)
            .send()
    };
    let e = create("bad name!", destination("lake").build().expect("c"))
        .await
        .expect_err("name");
    assert_eq!(code(&e), "ValidationException");
    let e = create(
        "p",
        destination("lake")
            .prefix("a/!{timestamp:yyyy}/")
            .build()
            .expect("c"),
    )
    .await
    .expect_err("no error prefix");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = create(
        "p",
        destination("lake")
            .prefix("a/")
            .error_output_prefix("e/!{timestamp:yyyy}/")
            .build()
            .expect("c"),
    )
    .await
    .expect_err("error prefix without error-output-type");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = create(
        "p",
        destination("lake")
            .prefix("a/!{firehose:nope}/")
            .error_output_prefix("e/!{firehose:error-output-type}")
            .build()
            .expect("c"),
    )
    .await
    .expect_err("unknown firehose value");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = create(
        "p",
        destination("lake")
            .buffering_hints(BufferingHints::builder().size_in_mbs(129).build())
            .build()
            .expect("c"),
    )
    .await
    .expect_err("buffer too big");
    assert_eq!(code(&e), "ValidationException");
    let e = create(
        "p",
        destination("lake")
            .custom_time_zone("Mars/Olympus")
            .build()
            .expect("c"),
    )
    .await
    .expect_err("zone");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("p")
        .send()
        .await
        .expect_err("no destination");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("p")
        .redshift_destination_configuration(
            aws_sdk_firehose::types::RedshiftDestinationConfiguration::builder()
                .role_arn(ROLE)
                .cluster_jdbcurl("jdbc:redshift://x")
                .copy_command(
                    aws_sdk_firehose::types::CopyCommand::builder()
                        .data_table_name("t")
                        .build()
                        .expect("copy"),
                )
                .s3_configuration(
                    aws_sdk_firehose::types::S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::lake")
                        .build()
                        .expect("s3"),
                )
                .build()
                .expect("redshift"),
        )
        .send()
        .await
        .expect_err("redshift");
    assert_eq!(code(&e), "InvalidArgumentException");

    create("ok", destination("lake").build().expect("c"))
        .await
        .expect("create");
    let e = fh
        .put_record()
        .delivery_stream_name("missing")
        .record(Record::builder().data(Blob::new("x")).build().expect("r"))
        .send()
        .await
        .expect_err("unknown stream");
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = fh
        .put_record()
        .delivery_stream_name("ok")
        .record(
            Record::builder()
                .data(Blob::new(vec![b'x'; 1_024_001]))
                .build()
                .expect("r"),
        )
        .send()
        .await
        .expect_err("oversize");
    assert_eq!(code(&e), "ValidationException");
    let records: Vec<Record> = (0..501)
        .map(|_| Record::builder().data(Blob::new("x")).build().expect("r"))
        .collect();
    let e = fh
        .put_record_batch()
        .delivery_stream_name("ok")
        .set_records(Some(records))
        .send()
        .await
        .expect_err("501");
    assert_eq!(code(&e), "ValidationException");
    let records: Vec<Record> = (0..5)
        .map(|_| {
            Record::builder()
                .data(Blob::new(vec![b'x'; 1_000_000]))
                .build()
                .expect("r")
        })
        .collect();
    let e = fh
        .put_record_batch()
        .delivery_stream_name("ok")
        .set_records(Some(records))
        .send()
        .await
        .expect_err("over 4 MiB");
    assert_eq!(code(&e), "InvalidArgumentException");
    let e = fh
        .update_destination()
        .delivery_stream_name("ok")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .prefix("x/!{timestamp:yyyy}/")
                .build(),
        )
        .send()
        .await
        .expect_err("update makes prefixes invalid");
    assert_eq!(code(&e), "InvalidArgumentException");
}

#[tokio::test]
async fn direct_put_is_delivered_gzipped_under_the_evaluated_prefix() {
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("clicks")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("clicks/year=!{timestamp:yyyy}/rand=!{firehose:random-string}/")
                .error_output_prefix("errors/!{firehose:error-output-type}/")
                .compression_format(CompressionFormat::Gzip)
                .processing_configuration(newline_delimiter())
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("create");
    let mut expected = Vec::new();
    for batch in 0..4 {
        let records: Vec<Record> = (0..250)
            .map(|i| {
                let line = format!(
                    "{{\"batch\":{batch},\"i\":{i},\"pad\":\"{}\"}}",
                    "z".repeat(i % 17)
                );
                expected.extend_from_slice(line.as_bytes());
                expected.push(b'\n');
                Record::builder().data(Blob::new(line)).build().expect("r")
            })
            .collect();
        let out = fh
            .put_record_batch()
            .delivery_stream_name("clicks")
            .set_records(Some(records))
            .send()
            .await
            .expect("batch");
        assert_eq!(out.failed_put_count(), 0);
        assert_eq!(out.request_responses().len(), 250);
        assert!(out
            .request_responses()
            .iter()
            .all(|r| r.record_id().is_some()));
    }
    t.flush("clicks").await;
    let found = keys(&s3c, "lake", "").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let prefix = split_key(&found[0], "clicks", 1, ".gz");
    let year = prefix
        .strip_prefix("clicks/year=")
        .and_then(|r| r.split_once("/rand="))
        .expect("prefix shape");
    assert_eq!(year.0.len(), 4);
    assert_eq!(
        year.1.len(),
        12,
        "11 random characters and a slash: {prefix}"
    );
    let (body, encoding) = object(&s3c, "lake", &found[0]).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(gunzip(&body), expected);

    // Nothing more to deliver: a second flush writes no object.
    t.flush("clicks").await;
    assert_eq!(keys(&s3c, "lake", "").await.len(), 1);
}

#[tokio::test]
async fn size_hint_splits_objects_and_default_prefix_is_the_hour() {
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("bulk")
        .extended_s3_destination_configuration(
            destination("lake")
                .buffering_hints(
                    BufferingHints::builder()
                        .size_in_mbs(1)
                        .interval_in_seconds(900)
                        .build(),
                )
                .file_extension(".bin")
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("create");
    let mut sent = Vec::new();
    for b in 0..3u8 {
        let records: Vec<Record> = (0..4u8)
            .map(|i| {
                let data = vec![b * 4 + i; 250_000];
                sent.extend_from_slice(&data);
                Record::builder().data(Blob::new(data)).build().expect("r")
            })
            .collect();
        fh.put_record_batch()
            .delivery_stream_name("bulk")
            .set_records(Some(records))
            .send()
            .await
            .expect("batch");
    }
    t.flush("bulk").await;
    let mut found = keys(&s3c, "lake", "").await;
    assert!(found.len() >= 3, "1 MiB objects: {found:?}");
    // Objects hold the records in order: sort by the records they start with.
    let mut bodies = Vec::new();
    for k in &found {
        let prefix = split_key(k, "bulk", 1, ".bin");
        let parts: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
        assert_eq!(parts.len(), 4, "yyyy/MM/dd/HH/: {prefix}");
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [4, 2, 2, 2]
        );
        let (body, encoding) = object(&s3c, "lake", k).await;
        assert_eq!(encoding, None);
        bodies.push(body);
    }
    bodies.sort_by_key(|b| b[0]);
    found.sort();
    assert_eq!(bodies.concat(), sent);
}

#[tokio::test]
async fn accepted_records_survive_a_restart_before_delivery() {
    let mut t = TestServer::start().await;
    make_bucket(&s3(&t.endpoint()), "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("durable")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("d/")
                .processing_configuration(newline_delimiter())
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("create");
    for i in 0..10 {
        fh.put_record()
            .delivery_stream_name("durable")
            .record(
                Record::builder()
                    .data(Blob::new(format!("r{i}")))
                    .build()
                    .expect("r"),
            )
            .send()
            .await
            .expect("put");
    }
    t.restart().await;
    t.flush("durable").await;
    let s3c = s3(&t.endpoint());
    let found = keys(&s3c, "lake", "d/").await;
    assert_eq!(found.len(), 1);
    let (body, _) = object(&s3c, "lake", &found[0]).await;
    let want: String = (0..10).map(|i| format!("r{i}\n")).collect();
    assert_eq!(String::from_utf8(body).expect("utf8"), want);
    // Delivered records are not delivered again after another restart.
    t.restart().await;
    t.flush("durable").await;
    assert_eq!(keys(&s3(&t.endpoint()), "lake", "d/").await.len(), 1);
}

/// Asks a (child-process) server to deliver a delivery stream's buffers now.
async fn flush_over_http(endpoint: &str, name: &str) {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let req = http::Request::post(format!("{endpoint}/_weir/firehose/us-east-1/{name}/flush"))
        .body(Full::new(bytes::Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("flush");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

/// `kill -9` while records are being put and delivered: after restarts, every acknowledged
/// record is in the bucket, every delivered line is a record that was sent, and re-delivery is
/// bounded by what was in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_delivery_loses_no_record() {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use crate::crash::spawn_server;

    let dir = tempfile::tempdir().expect("tmp");
    let mut server = spawn_server(dir.path());
    make_bucket(&s3(&server.endpoint), "lake").await;
    let fh = firehose_client(&server.endpoint);
    fh.create_delivery_stream()
        .delivery_stream_name("crashy")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("c/")
                .buffering_hints(
                    BufferingHints::builder()
                        .interval_in_seconds(0)
                        .size_in_mbs(1)
                        .build(),
                )
                .compression_format(CompressionFormat::Gzip)
                .processing_configuration(newline_delimiter())
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("create");
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut sent = HashSet::new();
    for cycle in 0..3u32 {
        let fh = firehose_client(&server.endpoint);
        let mut writers = Vec::new();
        for w in 0..4u32 {
            let fh = fh.clone();
            let acked = acked.clone();
            writers.push(tokio::spawn(async move {
                let mut tried = Vec::new();
                for n in 0u32.. {
                    let lines: Vec<String> = (0..50u32)
                        .map(|i| {
                            format!(
                                "c{cycle}-w{w}-n{n}-i{i}-{}",
                                "p".repeat((i * 13 % 200) as usize)
                            )
                        })
                        .collect();
                    tried.extend(lines.iter().cloned());
                    let records = lines
                        .iter()
                        .map(|l| {
                            Record::builder()
                                .data(Blob::new(l.clone()))
                                .build()
                                .expect("r")
                        })
                        .collect();
                    match fh
                        .put_record_batch()
                        .delivery_stream_name("crashy")
                        .set_records(Some(records))
                        .send()
                        .await
                    {
                        Ok(out) if out.failed_put_count() == 0 => {
                            acked.lock().expect("lock").extend(lines);
                        }
                        _ => return tried,
                    }
                }
                tried
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            100 + rand::random::<u64>() % 300,
        ))
        .await;
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        for w in writers {
            sent.extend(w.await.expect("writer"));
        }
        server = spawn_server(dir.path());
    }
    flush_over_http(&server.endpoint, "crashy").await;
    let s3c = s3(&server.endpoint);
    let mut seen: HashMap<String, u32> = HashMap::new();
    let delivered = keys(&s3c, "lake", "c/").await;
    assert!(delivered.len() > 1, "delivery happened between the kills");
    for k in delivered {
        let (body, _) = object(&s3c, "lake", &k).await;
        let text = String::from_utf8(gunzip(&body)).expect("utf8");
        assert!(text.ends_with('\n'), "whole records only in {k}");
        for line in text.lines() {
            assert!(
                sent.contains(line),
                "delivered line was never sent: {line:.60}"
            );
            *seen.entry(line.to_string()).or_default() += 1;
        }
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(!acked.is_empty(), "some records were acknowledged");
    for a in &acked {
        assert!(seen.contains_key(a), "acknowledged record lost: {a:.60}");
    }
    let duplicated = seen.values().filter(|n| **n > 1).count();
    assert!(
        duplicated <= 3 * 10_000,
        "re-delivery is bounded by the batches in flight: {duplicated}"
    );
    server.child.kill().expect("kill");
    let _ = server.child.wait();
}

/// A KPL aggregate: magic, protobuf AggregatedRecord, MD5 of the protobuf.
fn kpl_aggregate(records: &[&[u8]]) -> Vec<u8> {
    use md5::Digest as _;
    fn ld(field: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3) | 2];
        let mut n = bytes.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(bytes);
        v
    }
    let mut body = ld(1, b"pk");
    for r in records {
        let mut rec = vec![0x08, 0x00];
        rec.extend(ld(3, r));
        body.extend(ld(3, &rec));
    }
    let mut out = vec![0xF3, 0x89, 0x9A, 0xC2];
    out.extend_from_slice(&body);
    out.extend_from_slice(&md5::Md5::digest(&body));
    out
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
        .kinesis_stream_source_configuration(
            aws_sdk_firehose::types::KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn(&arn)
                .role_arn(ROLE)
                .build()
                .expect("source"),
        )
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
    let mut got = Vec::new();
    for key in keys(&s3c, "lake", "ks/").await {
        let (body, _) = object(&s3c, "lake", &key).await;
        got.extend(
            String::from_utf8(body)
                .expect("utf8")
                .lines()
                .map(|l| format!("{l}\n")),
        );
    }
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
    let mut total = 0;
    for key in keys(&s3c, "lake", "ks/").await {
        total += String::from_utf8(object(&s3c, "lake", &key).await.0)
            .expect("utf8")
            .lines()
            .count();
    }
    assert_eq!(total, want.len() + 2);
}

fn param(name: ProcessorParameterName, value: &str) -> ProcessorParameter {
    ProcessorParameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .build()
        .expect("parameter")
}

fn partitioning_processors(query: &str) -> ProcessingConfiguration {
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::RecordDeAggregation)
                .parameters(param(ProcessorParameterName::SubRecordType, "JSON"))
                .build()
                .expect("p"),
        )
        .processors(
            Processor::builder()
                .r#type(ProcessorType::MetadataExtraction)
                .parameters(param(
                    ProcessorParameterName::MetadataExtractionQuery,
                    query,
                ))
                .parameters(param(ProcessorParameterName::JsonParsingEngine, "JQ-1.6"))
                .build()
                .expect("p"),
        )
        .processors(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .build()
                .expect("p"),
        )
        .build()
}

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

const TRANSFORM: &str = r#"
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

fn lambda_processor(function: &str, retries: &str) -> Processor {
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
    let processing = |function: &str, retries: &str| {
        ProcessingConfiguration::builder()
            .enabled(true)
            .processors(lambda_processor(function, retries))
            .processors(
                Processor::builder()
                    .r#type(ProcessorType::AppendDelimiterToRecord)
                    .build()
                    .expect("p"),
            )
            .build()
    };
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
    fh.put_record_batch()
        .delivery_stream_name("shouting")
        .set_records(Some(
            lines
                .iter()
                .map(|l| Record::builder().data(Blob::new(*l)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
    t.flush("shouting").await;
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
    fh.put_record_batch()
        .delivery_stream_name("broken")
        .set_records(Some(
            ["x", "y"]
                .iter()
                .map(|l| Record::builder().data(Blob::new(*l)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
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

/// An HTTP endpoint for Firehose: answers each request with the next status of `script`
/// (200 once it runs out) and keeps what it received.
struct Receiver {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(http::HeaderMap, serde_json::Value)>>>,
}

async fn receiver(script: Vec<u16>) -> Receiver {
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

fn http_destination(
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
    fh.put_record_batch()
        .delivery_stream_name("to-http")
        .set_records(Some(
            records
                .iter()
                .map(|d| Record::builder().data(Blob::new(*d)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
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
    fh.put_record_batch()
        .delivery_stream_name("down")
        .set_records(Some(
            records
                .iter()
                .map(|d| Record::builder().data(Blob::new(*d)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
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

#[tokio::test]
async fn source_record_backup() {
    use aws_sdk_firehose::types::{S3BackupMode, S3DestinationConfiguration, S3DestinationUpdate};
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    let e = fh
        .create_delivery_stream()
        .delivery_stream_name("b")
        .extended_s3_destination_configuration(
            destination("lake")
                .s3_backup_mode(S3BackupMode::Enabled)
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect_err("backup without configuration");
    assert_eq!(code(&e), "InvalidArgumentException");
    fh.create_delivery_stream()
        .delivery_stream_name("b")
        .extended_s3_destination_configuration(
            destination("lake")
                .prefix("main/")
                .compression_format(CompressionFormat::Gzip)
                .processing_configuration(newline_delimiter())
                .s3_backup_mode(S3BackupMode::Enabled)
                .s3_backup_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::lake")
                        .prefix("raw/")
                        .build()
                        .expect("backup"),
                )
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name("b")
        .send()
        .await
        .expect("describe");
    let ext = d.delivery_stream_description().expect("d").destinations()[0]
        .extended_s3_destination_description()
        .expect("ext")
        .clone();
    assert_eq!(ext.s3_backup_mode().map(|m| m.as_str()), Some("Enabled"));
    assert_eq!(
        ext.s3_backup_description().and_then(|b| b.prefix()),
        Some("raw/")
    );
    fh.put_record_batch()
        .delivery_stream_name("b")
        .set_records(Some(
            ["r1", "r2", "r3"]
                .iter()
                .map(|d| Record::builder().data(Blob::new(*d)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
    t.flush("b").await;
    let main = keys(&s3c, "lake", "main/").await;
    assert_eq!(
        gunzip(&object(&s3c, "lake", &main[0]).await.0),
        b"r1\nr2\nr3\n"
    );
    let raw = keys(&s3c, "lake", "raw/").await;
    assert_eq!(raw.len(), 1);
    split_key(&raw[0], "b", 1, "");
    assert_eq!(object(&s3c, "lake", &raw[0]).await.0, b"r1r2r3");
    let e = fh
        .update_destination()
        .delivery_stream_name("b")
        .current_delivery_stream_version_id("1")
        .destination_id("destinationId-000000000001")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .s3_backup_mode(S3BackupMode::Disabled)
                .s3_backup_update(S3DestinationUpdate::builder().prefix("x/").build())
                .build(),
        )
        .send()
        .await
        .expect_err("cannot disable backup");
    assert_eq!(code(&e), "InvalidArgumentException");
}

#[tokio::test]
async fn every_compression_format_reads_back() {
    let t = TestServer::start().await;
    let s3c = s3(&t.endpoint());
    make_bucket(&s3c, "lake").await;
    let fh = t.firehose();
    let payload: Vec<String> = (0..2000)
        .map(|i| format!("{{\"i\":{i},\"s\":\"{}\"}}", "v".repeat(i % 50)))
        .collect();
    let want: Vec<u8> = payload
        .iter()
        .flat_map(|p| format!("{p}\n").into_bytes())
        .collect();
    for (name, format, ext) in [
        ("plain", CompressionFormat::Uncompressed, ""),
        ("gz", CompressionFormat::Gzip, ".gz"),
        ("zip", CompressionFormat::Zip, ".zip"),
        ("snappy", CompressionFormat::Snappy, ".snappy"),
        ("hadoop", CompressionFormat::HadoopSnappy, ".snappy"),
    ] {
        fh.create_delivery_stream()
            .delivery_stream_name(name)
            .extended_s3_destination_configuration(
                destination("lake")
                    .prefix(format!("{name}/"))
                    .compression_format(format)
                    .processing_configuration(newline_delimiter())
                    .build()
                    .expect("c"),
            )
            .send()
            .await
            .expect("create");
        for chunk in payload.chunks(500) {
            fh.put_record_batch()
                .delivery_stream_name(name)
                .set_records(Some(
                    chunk
                        .iter()
                        .map(|p| {
                            Record::builder()
                                .data(Blob::new(p.clone()))
                                .build()
                                .expect("r")
                        })
                        .collect(),
                ))
                .send()
                .await
                .expect("batch");
        }
        t.flush(name).await;
        let found = keys(&s3c, "lake", &format!("{name}/")).await;
        assert_eq!(found.len(), 1, "{name}");
        split_key(&found[0], name, 1, ext);
        let (body, _) = object(&s3c, "lake", &found[0]).await;
        let back = match name {
            "plain" => body,
            "gz" => gunzip(&body),
            "zip" => {
                // One deflated entry: local header, then the data.
                let csize = u32::from_le_bytes([body[18], body[19], body[20], body[21]]) as usize;
                let name_len = u16::from_le_bytes([body[26], body[27]]) as usize;
                let start = 30 + name_len;
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(&body[start..start + csize])
                    .read_to_end(&mut out)
                    .expect("inflate");
                out
            }
            "snappy" => {
                let mut out = Vec::new();
                snap::read::FrameDecoder::new(&body[..])
                    .read_to_end(&mut out)
                    .expect("snappy");
                out
            }
            _ => {
                let mut out = Vec::new();
                let mut at = 0;
                while at < body.len() {
                    let clen =
                        u32::from_be_bytes(body[at + 4..at + 8].try_into().expect("4")) as usize;
                    out.extend(
                        snap::raw::Decoder::new()
                            .decompress_vec(&body[at + 8..at + 8 + clen])
                            .expect("block"),
                    );
                    at += 8 + clen;
                }
                out
            }
        };
        assert_eq!(back, want, "{name}");
    }
}

/// A Lambda function behind an HTTP URL: upper-cases every record.
async fn upper_casing_function() -> String {
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
                .processing_configuration(
                    ProcessingConfiguration::builder()
                        .enabled(true)
                        .processors(lambda_processor("upper", "0"))
                        .processors(
                            Processor::builder()
                                .r#type(ProcessorType::AppendDelimiterToRecord)
                                .build()
                                .expect("p"),
                        )
                        .build(),
                )
                .build()
                .expect("c"),
        )
        .send()
        .await
        .expect("create");
    fh.put_record_batch()
        .delivery_stream_name("up")
        .set_records(Some(
            ["abc", "déf"]
                .iter()
                .map(|d| Record::builder().data(Blob::new(*d)).build().expect("r"))
                .collect(),
        ))
        .send()
        .await
        .expect("batch");
    t.flush("up").await;
    let found = keys(&s3c, "lake", "up/").await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        object(&s3c, "lake", &found[0]).await.0,
        "ABC\nDéF\n".as_bytes()
    );
}

#[tokio::test]
async fn update_destination_of_another_type_replaces_it() {
    use aws_sdk_firehose::types::{
        HttpEndpointConfiguration, HttpEndpointDestinationUpdate, S3DestinationUpdate,
    };
    let t = TestServer::start().await;
    make_bucket(&s3(&t.endpoint()), "lake").await;
    let fh = t.firehose();
    fh.create_delivery_stream()
        .delivery_stream_name("switch")
        .extended_s3_destination_configuration(destination("lake").build().expect("c"))
        .send()
        .await
        .expect("create");
    let update = |version: &str| {
        fh.update_destination()
            .delivery_stream_name("switch")
            .current_delivery_stream_version_id(version)
            .destination_id("destinationId-000000000001")
    };
    let e = update("1")
        .http_endpoint_destination_update(
            HttpEndpointDestinationUpdate::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("http://127.0.0.1:9/x")
                        .build()
                        .expect("e"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("a replacement needs its S3 configuration");
    assert_eq!(code(&e), "InvalidArgumentException");
    let r = receiver(vec![]).await;
    update("1")
        .http_endpoint_destination_update(
            HttpEndpointDestinationUpdate::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url(&r.url)
                        .build()
                        .expect("e"),
                )
                .s3_update(
                    S3DestinationUpdate::builder()
                        .role_arn(ROLE)
                        .bucket_arn("arn:aws:s3:::lake")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("replace with an HTTP endpoint");
    let describe = || async {
        fh.describe_delivery_stream()
            .delivery_stream_name("switch")
            .send()
            .await
            .expect("describe")
            .delivery_stream_description()
            .expect("d")
            .clone()
    };
    let d = describe().await;
    assert_eq!(d.version_id(), "2");
    assert!(d.destinations()[0]
        .http_endpoint_destination_description()
        .is_some());
    assert!(d.destinations()[0]
        .extended_s3_destination_description()
        .is_none());
    fh.put_record()
        .delivery_stream_name("switch")
        .record(
            Record::builder()
                .data(Blob::new("to http"))
                .build()
                .expect("r"),
        )
        .send()
        .await
        .expect("put");
    t.flush("switch").await;
    assert_eq!(r.seen.lock().expect("lock").len(), 1);
    update("2")
        .extended_s3_destination_update(
            ExtendedS3DestinationUpdate::builder()
                .role_arn(ROLE)
                .bucket_arn("arn:aws:s3:::lake")
                .prefix("back/")
                .build(),
        )
        .send()
        .await
        .expect("replace with S3");
    let d = describe().await;
    assert_eq!(d.version_id(), "3");
    let ext = d.destinations()[0]
        .extended_s3_destination_description()
        .expect("s3 again");
    assert_eq!(ext.prefix(), Some("back/"));
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

fn gunzip_if(b: &[u8]) -> Vec<u8> {
    if b.starts_with(&[0x1f, 0x8b]) {
        gunzip(b)
    } else {
        b.to_vec()
    }
}
