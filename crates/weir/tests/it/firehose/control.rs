//! The control plane: every action, validation rules, UpdateDestination merge and replace.

use super::endpoint::receiver;
use super::*;

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
    // Each rejected configuration, what it breaks, and the error type AWS answers with.
    let d = || destination("lake");
    let cases = [
        ("bad name!", d(), "ValidationException", "name"),
        (
            "p",
            d().prefix("a/!{timestamp:yyyy}/"),
            "InvalidArgumentException",
            "no error prefix",
        ),
        (
            "p",
            d().prefix("a/").error_output_prefix("e/!{timestamp:yyyy}/"),
            "InvalidArgumentException",
            "error prefix without error-output-type",
        ),
        (
            "p",
            d().prefix("a/!{firehose:nope}/")
                .error_output_prefix("e/!{firehose:error-output-type}"),
            "InvalidArgumentException",
            "unknown firehose value",
        ),
        (
            "p",
            d().buffering_hints(BufferingHints::builder().size_in_mbs(129).build()),
            "ValidationException",
            "buffer too big",
        ),
        (
            "p",
            d().custom_time_zone("Mars/Olympus"),
            "InvalidArgumentException",
            "zone",
        ),
    ];
    for (name, config, want, why) in cases {
        let e = create(name, config.build().expect("c"))
            .await
            .expect_err(why);
        assert_eq!(code(&e), want, "{why}");
    }
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
