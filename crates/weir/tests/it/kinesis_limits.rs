//! `limits = "aws"`: per-shard throughput and control-plane rates, with time injected.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};

use crate::harness::{code, create_active, iterator, test_config, TestServer};

async fn limited_server() -> (TestServer, std::sync::Arc<weir_log::ManualClock>) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.limits = weir::config::Limits::Aws;
    let clock = weir_log::ManualClock::new(1_750_000_000_000);
    (
        TestServer::start_full(dir, config, clock.clone()).await,
        clock,
    )
}

fn batch(n: usize, size: usize) -> Vec<PutRecordsRequestEntry> {
    (0..n)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new(vec![1u8; size]))
                .build()
                .expect("entry")
        })
        .collect()
}

#[tokio::test]
async fn writes_over_a_shards_limit_fail_per_entry() {
    let (t, clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "l", 1).await;
    clock.advance_ms(1000);
    let mut ok = 0;
    let mut throttled = 0;
    for _ in 0..3 {
        let r = k
            .put_records()
            .stream_name("l")
            .set_records(Some(batch(500, 1)))
            .send()
            .await
            .expect("put");
        throttled += r.failed_record_count().unwrap_or(0);
        for e in r.records() {
            match e.error_code() {
                None => ok += 1,
                Some(c) => assert_eq!(c, "ProvisionedThroughputExceededException"),
            }
        }
    }
    // 1,000 records per second per shard (partition keys of 2–4 bytes stay under 1 MiB/s).
    assert_eq!((ok, throttled), (1000, 500));
    let err = k
        .put_record()
        .stream_name("l")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("over the limit");
    assert_eq!(code(&err), "ProvisionedThroughputExceededException");
    clock.advance_ms(1000);
    k.put_record()
        .stream_name("l")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .expect("a second later");
    // 1 MiB/s of bytes: two 600 KiB records in the same second do not both fit.
    clock.advance_ms(1000);
    let r = k
        .put_records()
        .stream_name("l")
        .set_records(Some(batch(2, 600 * 1024)))
        .send()
        .await
        .expect("put");
    assert_eq!(r.failed_record_count(), Some(1));
}

#[tokio::test]
async fn reads_are_limited_per_shard() {
    let (t, clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "l", 1).await;
    for _ in 0..10 {
        clock.advance_ms(1000);
        let r = k
            .put_records()
            .stream_name("l")
            .set_records(Some(batch(1, 1024 * 1024 - 8)))
            .send()
            .await
            .expect("put");
        assert_eq!(r.failed_record_count(), Some(0));
    }
    clock.advance_ms(1000);
    let shard = "shardId-000000000000";
    let mut its = Vec::new();
    for _ in 0..5 {
        its.push(iterator(&k, "l", shard, ShardIteratorType::Latest).await);
        clock.advance_ms(250);
    }
    // GetShardIterator: five per second per shard.
    let err = async {
        for _ in 0..6 {
            k.get_shard_iterator()
                .stream_name("l")
                .shard_id(shard)
                .shard_iterator_type(ShardIteratorType::Latest)
                .send()
                .await?;
        }
        Ok::<_, aws_sdk_kinesis::error::SdkError<_, _>>(())
    }
    .await
    .expect_err("sixth in a second");
    assert_eq!(code(&err), "ProvisionedThroughputExceededException");
    // Five GetRecords calls per second.
    clock.advance_ms(1000);
    for it in &its {
        k.get_records()
            .shard_iterator(it)
            .send()
            .await
            .expect("within 5 calls/s");
    }
    let err = k
        .get_records()
        .shard_iterator(&its[0])
        .send()
        .await
        .expect_err("sixth call");
    assert_eq!(code(&err), "ProvisionedThroughputExceededException");
    // A 10 MiB read blocks the shard's reads for the next 5 seconds.
    clock.advance_ms(1000);
    let from_start = iterator(&k, "l", shard, ShardIteratorType::TrimHorizon).await;
    let r = k
        .get_records()
        .shard_iterator(&from_start)
        .send()
        .await
        .expect("big read");
    assert_eq!(r.records().len(), 10);
    clock.advance_ms(4000);
    let err = k
        .get_records()
        .shard_iterator(&its[1])
        .send()
        .await
        .expect_err("still paying");
    assert_eq!(code(&err), "ProvisionedThroughputExceededException");
    clock.advance_ms(1100);
    k.get_records()
        .shard_iterator(r.next_shard_iterator().expect("next"))
        .send()
        .await
        .expect("paid off");
}

#[tokio::test]
async fn control_plane_rates() {
    let (t, _clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "l", 1).await;
    let mut results = Vec::new();
    for _ in 0..11 {
        results.push(
            k.describe_stream()
                .stream_name("l")
                .send()
                .await
                .map_err(|e| code(&e)),
        );
    }
    assert!(
        results[..10].iter().all(|r| r.is_ok()),
        "ten per second per account"
    );
    assert_eq!(
        results[10].as_ref().err().map(String::as_str),
        Some("LimitExceededException")
    );
}

#[tokio::test]
async fn consumer_and_list_shards_rates_count_per_stream() {
    let (t, _clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "a", 1).await;
    create_active(&k, "b", 1).await;
    let arn = |s: &str| format!("arn:aws:kinesis:us-east-1:000000000000:stream/{s}");
    let list = |s: String| {
        let k = k.clone();
        async move {
            k.list_stream_consumers()
                .stream_arn(s)
                .send()
                .await
                .map_err(|e| {
                    (
                        code(&e),
                        aws_sdk_kinesis::error::ProvideErrorMetadata::message(&e)
                            .unwrap_or("")
                            .to_string(),
                    )
                })
        }
    };
    for _ in 0..5 {
        list(arn("a")).await.expect("five per second per stream");
    }
    let (kind, message) = list(arn("a")).await.expect_err("sixth on the same stream");
    assert_eq!(kind, "LimitExceededException");
    assert_eq!(
        message,
        "Rate exceeded for stream a under account 000000000000."
    );
    // Another stream has its own allowance.
    list(arn("b")).await.expect("another stream");
    // ListShards: 1,000 per second per stream.
    let list_shards = |name: &'static str| {
        let k = k.clone();
        async move {
            k.list_shards()
                .stream_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code(&e))
        }
    };
    for _ in 0..1000 {
        list_shards("a").await.expect("within the stream's rate");
    }
    assert_eq!(
        list_shards("a").await,
        Err("LimitExceededException".to_string())
    );
    list_shards("b").await.expect("another stream");
}

#[tokio::test]
async fn capacity_mode_switches_twice_a_day() {
    use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails};
    let (t, clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "m", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/m";
    let switch = |mode: StreamMode| {
        let k = k.clone();
        async move {
            let r = k
                .update_stream_mode()
                .stream_arn(arn)
                .stream_mode_details(
                    StreamModeDetails::builder()
                        .stream_mode(mode)
                        .build()
                        .expect("d"),
                )
                .send()
                .await
                .map_err(|e| code(&e));
            crate::harness::wait_status(&k, "m", "ACTIVE").await;
            r
        }
    };
    switch(StreamMode::OnDemand).await.expect("first");
    switch(StreamMode::Provisioned).await.expect("second");
    assert_eq!(
        switch(StreamMode::OnDemand).await.expect_err("third"),
        "LimitExceededException"
    );
    clock.advance_ms(24 * 3_600_000);
    switch(StreamMode::OnDemand).await.expect("a day later");
}

#[tokio::test]
async fn encryption_changes_25_a_day() {
    use aws_sdk_kinesis::types::EncryptionType;
    let (t, clock) = limited_server().await;
    let k = t.kinesis();
    create_active(&k, "e", 1).await;
    let mut last = Ok(());
    let mut done = 0;
    for _ in 0..26 {
        last = k
            .start_stream_encryption()
            .stream_name("e")
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/aws/kinesis")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code(&e));
        // A second apart (control-plane rates), all within 24 hours.
        clock.advance_ms(1_000);
        if last.is_err() {
            break;
        }
        done += 1;
    }
    assert_eq!(done, 25);
    assert_eq!(last, Err("LimitExceededException".to_string()));
}
