//! DirectPut delivery into Weir's S3: keys, prefixes, buffering hints, compression, backup,
//! restarts and SIGKILL.

use super::*;

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
    // Delivered intake segments are freed (256 KiB segments in tests; 3 MB went through).
    let intake: u64 = walk(&t.config.data_dir.join("delivery/intake"));
    assert!(
        intake < 1024 * 1024,
        "intake holds {intake} bytes after delivery"
    );
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
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
    let stats = |t: &TestServer| {
        t.server
            .as_ref()
            .expect("running")
            .delivery
            .stats("us-east-1", "durable")
            .expect("stats")
    };
    let before = stats(&t);
    assert_eq!(
        (before.records_in, before.records_delivered, before.objects),
        (10, 10, 1)
    );
    // Delivered records are not delivered again after another restart, and the counts stay.
    t.restart().await;
    t.flush("durable").await;
    assert_eq!(keys(&s3(&t.endpoint()), "lake", "d/").await.len(), 1);
    assert_eq!(stats(&t), before, "statistics survive a restart");
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
    let mut largest_object = 0;
    for k in delivered {
        let (body, _) = object(&s3c, "lake", &k).await;
        let text = String::from_utf8(gunzip(&body)).expect("utf8");
        assert!(text.ends_with('\n'), "whole records only in {k}");
        largest_object = largest_object.max(text.lines().count());
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
    // Only objects stored before their checkpoint was saved are written again: at most the two
    // objects a stream has in flight, at each of the three kills.
    let repeats: u32 = seen.values().map(|n| n - 1).sum();
    let bound = 3 * 2 * largest_object as u32;
    assert!(
        repeats <= bound,
        "re-delivered lines {repeats} exceed the objects in flight ({bound})"
    );
    server.child.kill().expect("kill");
    let _ = server.child.wait();
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
    put_batch(&fh, "b", ["r1", "r2", "r3"]).await;
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
