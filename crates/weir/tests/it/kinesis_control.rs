//! Control-plane actions through the AWS SDK for Rust.

use aws_sdk_kinesis::types::{
    EncryptionType, MetricsName, ShardFilter, ShardFilterType, StreamMode, StreamModeDetails,
};

use crate::harness::{
    code, create_active, kinesis_client, summary, test_config, wait_status, TestServer,
};

#[tokio::test]
async fn create_describe_list_delete() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "alpha", 3).await;
    let d = k
        .describe_stream()
        .stream_name("alpha")
        .send()
        .await
        .expect("describe");
    let d = d.stream_description().expect("description");
    assert_eq!(d.stream_name(), "alpha");
    assert_eq!(
        d.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/alpha"
    );
    assert_eq!(d.retention_period_hours(), 24);
    assert_eq!(d.shards().len(), 3);
    assert!(!d.has_more_shards());
    assert_eq!(d.shards()[0].shard_id(), "shardId-000000000000");
    assert_eq!(
        d.shards()[0]
            .hash_key_range()
            .expect("range")
            .starting_hash_key(),
        "0"
    );
    assert_eq!(
        d.shards()[2]
            .hash_key_range()
            .expect("range")
            .ending_hash_key(),
        "340282366920938463463374607431768211455"
    );
    assert_eq!(
        d.stream_mode_details().expect("mode").stream_mode(),
        &StreamMode::Provisioned
    );

    // DescribeStream pages with Limit / ExclusiveStartShardId.
    let page = k
        .describe_stream()
        .stream_name("alpha")
        .limit(2)
        .send()
        .await
        .expect("page");
    let page = page.stream_description().expect("d");
    assert_eq!(page.shards().len(), 2);
    assert!(page.has_more_shards());
    let rest = k
        .describe_stream()
        .stream_name("alpha")
        .exclusive_start_shard_id("shardId-000000000001")
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.stream_description().expect("d").shards().len(), 1);

    let s = summary(&k, "alpha").await;
    assert_eq!(s.open_shard_count(), 3);
    assert_eq!(s.consumer_count(), Some(0));

    // ListStreams with Limit and NextToken.
    create_active(&k, "beta", 1).await;
    create_active(&k, "gamma", 1).await;
    let first = k.list_streams().limit(2).send().await.expect("list");
    assert_eq!(first.stream_names(), ["alpha", "beta"]);
    assert!(first.has_more_streams());
    assert_eq!(first.stream_summaries().len(), 2);
    let second = k
        .list_streams()
        .next_token(first.next_token().expect("token"))
        .send()
        .await
        .expect("list 2");
    assert_eq!(second.stream_names(), ["gamma"]);
    assert!(!second.has_more_streams());
    let by_name = k
        .list_streams()
        .exclusive_start_stream_name("alpha")
        .send()
        .await
        .expect("list 3");
    assert_eq!(by_name.stream_names(), ["beta", "gamma"]);

    // Streams are scoped by region.
    let west = kinesis_client(&t.endpoint(), "eu-west-1");
    assert!(west
        .list_streams()
        .send()
        .await
        .expect("list")
        .stream_names()
        .is_empty());

    k.delete_stream()
        .stream_name("beta")
        .send()
        .await
        .expect("delete");
    let err = k
        .describe_stream()
        .stream_name("beta")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert_eq!(
        k.list_streams().send().await.expect("list").stream_names(),
        ["alpha", "gamma"]
    );
}

#[tokio::test]
async fn stream_arn_addresses_streams() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "by-arn", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/by-arn";
    let d = k
        .describe_stream_summary()
        .stream_arn(arn)
        .send()
        .await
        .expect("by arn");
    assert_eq!(
        d.stream_description_summary().expect("s").stream_name(),
        "by-arn"
    );
    let put = k
        .put_record()
        .stream_arn(arn)
        .partition_key("k")
        .data(aws_smithy_types::Blob::new("v"))
        .send()
        .await
        .expect("put by arn");
    assert_eq!(put.shard_id(), "shardId-000000000000");
    // KCL lists shards by ARN alone.
    let shards = k
        .list_shards()
        .stream_arn(arn)
        .send()
        .await
        .expect("list by arn");
    assert_eq!(shards.shards().len(), 1);
    let other = "arn:aws:kinesis:us-east-1:000000000000:stream/missing";
    let err = k
        .describe_stream_summary()
        .stream_arn(other)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn list_shards_pages_and_filters() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "many", 5).await;
    let all = k
        .list_shards()
        .stream_name("many")
        .send()
        .await
        .expect("list");
    assert_eq!(all.shards().len(), 5);
    assert!(all.next_token().is_none());
    let p1 = k
        .list_shards()
        .stream_name("many")
        .max_results(2)
        .send()
        .await
        .expect("p1");
    assert_eq!(p1.shards().len(), 2);
    let p2 = k
        .list_shards()
        .next_token(p1.next_token().expect("token"))
        .max_results(2)
        .send()
        .await
        .expect("p2");
    assert_eq!(p2.shards()[0].shard_id(), "shardId-000000000002");
    let p3 = k
        .list_shards()
        .next_token(p2.next_token().expect("token"))
        .send()
        .await
        .expect("p3");
    assert_eq!(p3.shards().len(), 1);
    assert!(p3.next_token().is_none());
    // NextToken together with StreamName is refused.
    let err = k
        .list_shards()
        .stream_name("many")
        .next_token(p1.next_token().expect("token"))
        .send()
        .await
        .expect_err("both");
    assert_eq!(code(&err), "InvalidArgumentException");
    let after = k
        .list_shards()
        .stream_name("many")
        .exclusive_start_shard_id("shardId-000000000003")
        .send()
        .await
        .expect("after");
    assert_eq!(after.shards().len(), 1);
    for (kind, expect) in [
        (ShardFilterType::AtLatest, 5),
        (ShardFilterType::AtTrimHorizon, 5),
        (ShardFilterType::FromTrimHorizon, 5),
    ] {
        let f = ShardFilter::builder()
            .r#type(kind.clone())
            .build()
            .expect("filter");
        let r = k
            .list_shards()
            .stream_name("many")
            .shard_filter(f)
            .send()
            .await
            .expect("filtered");
        assert_eq!(r.shards().len(), expect, "{kind:?}");
    }
    let f = ShardFilter::builder()
        .r#type(ShardFilterType::AfterShardId)
        .shard_id("shardId-000000000001")
        .build()
        .expect("filter");
    let r = k
        .list_shards()
        .stream_name("many")
        .shard_filter(f)
        .send()
        .await
        .expect("after id");
    assert_eq!(r.shards().len(), 3);
    let now = aws_smithy_types::DateTime::from_secs(4_000_000_000);
    for kind in [ShardFilterType::AtTimestamp, ShardFilterType::FromTimestamp] {
        let f = ShardFilter::builder()
            .r#type(kind)
            .timestamp(now)
            .build()
            .expect("filter");
        let r = k
            .list_shards()
            .stream_name("many")
            .shard_filter(f)
            .send()
            .await
            .expect("ts");
        assert_eq!(r.shards().len(), 5);
    }
    let f = ShardFilter::builder()
        .r#type(ShardFilterType::AtTimestamp)
        .build()
        .expect("filter");
    let err = k
        .list_shards()
        .stream_name("many")
        .shard_filter(f)
        .send()
        .await
        .expect_err("no ts");
    assert_eq!(code(&err), "InvalidArgumentException");
}

#[tokio::test]
async fn retention_tags_encryption_monitoring_limits() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 2).await;
    // (increase?, hours, expected error code or None)
    let steps = [
        (true, 72, None),
        (true, 48, Some("InvalidArgumentException")),
        (false, 48, None),
        (false, 12, Some("InvalidArgumentException")),
        (true, 8761, Some("InvalidArgumentException")),
        (false, 72, Some("InvalidArgumentException")),
    ];
    for (increase, hours, want) in steps {
        let got = if increase {
            let r = k
                .increase_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(hours)
                .send()
                .await;
            r.err().map(|e| code(&e))
        } else {
            let r = k
                .decrease_stream_retention_period()
                .stream_name("s")
                .retention_period_hours(hours)
                .send()
                .await;
            r.err().map(|e| code(&e))
        };
        assert_eq!(got.as_deref(), want, "increase={increase} hours={hours}");
    }
    let d = summary(&k, "s").await;
    assert_eq!(d.retention_period_hours(), 48);

    // Tags through both APIs.
    k.add_tags_to_stream()
        .stream_name("s")
        .tags("b", "2")
        .tags("a", "1")
        .tags("c", "3")
        .send()
        .await
        .expect("tag");
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
    k.tag_resource()
        .resource_arn(arn)
        .tags("d", "4")
        .send()
        .await
        .expect("tag resource");
    let page = k
        .list_tags_for_stream()
        .stream_name("s")
        .limit(2)
        .send()
        .await
        .expect("list tags");
    let keys: Vec<_> = page.tags().iter().map(|t| t.key().to_string()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert!(page.has_more_tags());
    let rest = k
        .list_tags_for_stream()
        .stream_name("s")
        .exclusive_start_tag_key("b")
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.tags().len(), 2);
    assert!(!rest.has_more_tags());
    k.remove_tags_from_stream()
        .stream_name("s")
        .tag_keys("a")
        .send()
        .await
        .expect("untag");
    k.untag_resource()
        .resource_arn(arn)
        .tag_keys("d")
        .send()
        .await
        .expect("untag resource");
    let all = k
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list resource tags");
    let keys: Vec<_> = all
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        keys,
        [
            ("b".to_string(), "2".to_string()),
            ("c".to_string(), "3".to_string())
        ]
    );

    // Encryption.
    k.start_stream_encryption()
        .stream_name("s")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("encrypt");
    wait_status(&k, "s", "ACTIVE").await;
    let d = k
        .describe_stream()
        .stream_name("s")
        .send()
        .await
        .expect("d");
    let d = d.stream_description().expect("d");
    assert_eq!(d.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(d.key_id(), Some("alias/aws/kinesis"));
    let put = k
        .put_record()
        .stream_name("s")
        .partition_key("p")
        .data(aws_smithy_types::Blob::new("x"))
        .send()
        .await
        .expect("put");
    assert_eq!(put.encryption_type(), Some(&EncryptionType::Kms));
    k.stop_stream_encryption()
        .stream_name("s")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("stop");
    wait_status(&k, "s", "ACTIVE").await;

    // Enhanced monitoring.
    let on = k
        .enable_enhanced_monitoring()
        .stream_name("s")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .shard_level_metrics(MetricsName::OutgoingRecords)
        .send()
        .await
        .expect("enable");
    assert!(on.current_shard_level_metrics().is_empty());
    assert_eq!(on.desired_shard_level_metrics().len(), 2);
    let all = k
        .enable_enhanced_monitoring()
        .stream_name("s")
        .shard_level_metrics(MetricsName::All)
        .send()
        .await
        .expect("all");
    assert_eq!(all.desired_shard_level_metrics().len(), 7);
    let off = k
        .disable_enhanced_monitoring()
        .stream_name("s")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .send()
        .await
        .expect("disable");
    assert_eq!(off.desired_shard_level_metrics().len(), 6);
    let d = k
        .describe_stream()
        .stream_name("s")
        .send()
        .await
        .expect("d");
    assert_eq!(
        d.stream_description().expect("d").enhanced_monitoring()[0]
            .shard_level_metrics()
            .len(),
        6
    );

    let limits = k.describe_limits().send().await.expect("limits");
    assert_eq!(limits.shard_limit(), 500);
    assert_eq!(limits.open_shard_count(), 2);
}

#[tokio::test]
async fn shard_limit_and_creating_status() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.kinesis.shard_limit = 3;
    config.kinesis.create_delay_ms = 60_000;
    let t = TestServer::start_with(dir, config).await;
    let k = t.kinesis();
    k.create_stream()
        .stream_name("slow")
        .shard_count(2)
        .send()
        .await
        .expect("create");
    let s = summary(&k, "slow").await;
    assert_eq!(s.stream_status().as_str(), "CREATING");
    let err = k
        .put_record()
        .stream_name("slow")
        .partition_key("k")
        .data(aws_smithy_types::Blob::new("x"))
        .send()
        .await
        .expect_err("not active");
    assert_eq!(code(&err), "ResourceNotFoundException");
    // While CREATING, AWS says the shard does not exist.
    let err = k
        .get_shard_iterator()
        .stream_name("slow")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::Latest)
        .send()
        .await
        .expect_err("creating");
    assert_eq!(
        aws_sdk_kinesis::error::ProvideErrorMetadata::message(&err),
        Some("Shard shardId-000000000000 in stream slow under account 000000000000 does not exist")
    );
    let err = k
        .create_stream()
        .stream_name("other")
        .shard_count(2)
        .send()
        .await
        .expect_err("limit");
    assert_eq!(code(&err), "LimitExceededException");
    let msg = err
        .as_service_error()
        .and_then(|e| aws_sdk_kinesis::error::ProvideErrorMetadata::message(e))
        .unwrap_or("")
        .to_string();
    assert!(msg.contains("shard limit"), "{msg}");
    let err = k
        .create_stream()
        .stream_name("slow")
        .shard_count(1)
        .send()
        .await
        .expect_err("dup");
    assert_eq!(code(&err), "ResourceInUseException");
    // On-demand streams start with four shards.
    let t2 = TestServer::start().await;
    let k2 = t2.kinesis();
    k2.create_stream()
        .stream_name("od")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("m"),
        )
        .send()
        .await
        .expect("on demand");
    wait_status(&k2, "od", "ACTIVE").await;
    let s = summary(&k2, "od").await;
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(
        s.stream_mode_details().expect("m").stream_mode(),
        &StreamMode::OnDemand
    );
}

#[tokio::test]
async fn stream_id_and_creation_time_tell_incarnations_apart() {
    let clock = weir_log::ManualClock::new(1_750_000_000_000);
    let t = TestServer::start_with_clock(clock.clone()).await;
    let k = t.kinesis();
    create_active(&k, "again", 1).await;
    let first = summary(&k, "again").await;
    let id = first.stream_id().expect("StreamId").to_string();
    let (head, tail) = id.split_once('-').expect("dash");
    assert!(
        head.len() == 20
            && tail.len() == 3
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{id}"
    );
    let created = *first.stream_creation_timestamp();
    k.list_shards()
        .stream_name("again")
        .stream_creation_timestamp(created)
        .send()
        .await
        .expect("matching creation time");

    k.delete_stream()
        .stream_name("again")
        .send()
        .await
        .expect("delete");
    clock.advance_ms(5_000);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while k
        .create_stream()
        .stream_name("again")
        .shard_count(1)
        .send()
        .await
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline, "never re-created");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    crate::harness::wait_status(&k, "again", "ACTIVE").await;
    let second = summary(&k, "again").await;
    assert_ne!(second.stream_id(), Some(id.as_str()));
    let err = k
        .list_shards()
        .stream_name("again")
        .stream_creation_timestamp(created)
        .send()
        .await
        .expect_err("the earlier stream");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let page = k
        .list_shards()
        .stream_name("again")
        .max_results(1)
        .send()
        .await
        .expect("list");
    assert!(page.next_token().is_none());
    // A NextToken names its stream already.
    create_active(&k, "two", 2).await;
    let page = k
        .list_shards()
        .stream_name("two")
        .max_results(1)
        .send()
        .await
        .expect("page");
    let err = k
        .list_shards()
        .next_token(page.next_token().expect("token"))
        .stream_creation_timestamp(created)
        .send()
        .await
        .expect_err("token and time");
    assert_eq!(code(&err), "InvalidArgumentException");
}
