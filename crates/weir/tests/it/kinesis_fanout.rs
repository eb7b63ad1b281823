//! Enhanced fan-out through the AWS SDK for Rust: consumers and SubscribeToShard.

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    ConsumerStatus, ShardIteratorType, StartingPosition, SubscribeToShardEventStream,
};

use crate::harness::{code, create_active, test_config, TestServer};

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/fan";

async fn register(k: &aws_sdk_kinesis::Client, name: &str) -> String {
    let c = k
        .register_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name(name)
        .send()
        .await
        .expect("register");
    c.consumer().expect("consumer").consumer_arn().to_string()
}

async fn put(k: &aws_sdk_kinesis::Client, data: &str) {
    k.put_record()
        .stream_name("fan")
        .partition_key("p")
        .data(Blob::new(data))
        .send()
        .await
        .expect("put");
}

async fn subscribe(
    k: &aws_sdk_kinesis::Client,
    consumer: &str,
    kind: ShardIteratorType,
) -> aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput {
    k.subscribe_to_shard()
        .consumer_arn(consumer)
        .shard_id("shardId-000000000000")
        .starting_position(
            StartingPosition::builder()
                .r#type(kind)
                .build()
                .expect("position"),
        )
        .send()
        .await
        .expect("subscribe")
}

/// Receives events until `want` records arrived (or the stream ends); returns their data and the
/// last event's child shards.
async fn receive(
    out: &mut aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput,
    want: usize,
) -> (Vec<String>, Vec<String>) {
    let mut got = Vec::new();
    let mut children = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < want {
        let next = tokio::time::timeout_at(deadline, out.event_stream.recv())
            .await
            .expect("event in time");
        match next.expect("a well-formed event") {
            Some(SubscribeToShardEventStream::SubscribeToShardEvent(e)) => {
                assert!(!e.continuation_sequence_number().is_empty());
                for r in e.records() {
                    got.push(String::from_utf8(r.data().as_ref().to_vec()).expect("utf8"));
                }
                children = e
                    .child_shards()
                    .iter()
                    .map(|c| c.shard_id().to_string())
                    .collect();
                if !children.is_empty() {
                    break;
                }
            }
            Some(other) => panic!("unexpected event {other:?}"),
            None => break,
        }
    }
    (got, children)
}

#[tokio::test]
async fn consumers_lifecycle_and_limits() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "fan", 1).await;
    let arn = register(&k, "app").await;
    assert!(arn.starts_with(&format!("{STREAM_ARN}/consumer/app:")));
    let err = k
        .register_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name("app")
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(code(&err), "ResourceInUseException");
    let by_arn = k
        .describe_stream_consumer()
        .consumer_arn(&arn)
        .send()
        .await
        .expect("by arn");
    let d = by_arn.consumer_description().expect("d");
    assert_eq!(d.consumer_status(), &ConsumerStatus::Active);
    assert_eq!(d.stream_arn(), STREAM_ARN);
    let by_name = k
        .describe_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name("app")
        .send()
        .await
        .expect("by name");
    assert_eq!(
        by_name.consumer_description().expect("d").consumer_arn(),
        arn
    );
    for i in 1..20 {
        register(&k, &format!("c{i}")).await;
    }
    let err = k
        .register_stream_consumer()
        .stream_arn(STREAM_ARN)
        .consumer_name("one-too-many")
        .send()
        .await
        .expect_err("21st");
    assert_eq!(code(&err), "LimitExceededException");
    let page = k
        .list_stream_consumers()
        .stream_arn(STREAM_ARN)
        .max_results(15)
        .send()
        .await
        .expect("list");
    assert_eq!(page.consumers().len(), 15);
    let rest = k
        .list_stream_consumers()
        .stream_arn(STREAM_ARN)
        .next_token(page.next_token().expect("token"))
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.consumers().len(), 5);
    assert!(rest.next_token().is_none());
    let s = k
        .describe_stream_summary()
        .stream_name("fan")
        .send()
        .await
        .expect("summary");
    assert_eq!(
        s.stream_description_summary().expect("s").consumer_count(),
        Some(20)
    );

    k.deregister_stream_consumer()
        .consumer_arn(&arn)
        .send()
        .await
        .expect("deregister");
    let err = k
        .describe_stream_consumer()
        .consumer_arn(&arn)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = k
        .delete_stream()
        .stream_name("fan")
        .send()
        .await
        .expect_err("has consumers");
    assert_eq!(code(&err), "ResourceInUseException");
    k.delete_stream()
        .stream_name("fan")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete");
}

#[tokio::test]
async fn subscribe_streams_new_records_as_they_land() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "fan", 1).await;
    let consumer = register(&k, "app").await;
    for i in 0..5 {
        put(&k, &format!("old-{i}")).await;
    }
    let mut sub = subscribe(&k, &consumer, ShardIteratorType::TrimHorizon).await;
    let (got, _) = receive(&mut sub, 5).await;
    assert_eq!(got, (0..5).map(|i| format!("old-{i}")).collect::<Vec<_>>());

    // A second subscription of the same consumer and shard is refused while this one is open.
    let err = k
        .subscribe_to_shard()
        .consumer_arn(&consumer)
        .shard_id("shardId-000000000000")
        .starting_position(
            StartingPosition::builder()
                .r#type(ShardIteratorType::Latest)
                .build()
                .expect("p"),
        )
        .send()
        .await
        .expect_err("second subscription");
    assert_eq!(code(&err), "ResourceInUseException");

    for i in 0..3 {
        put(&k, &format!("new-{i}")).await;
    }
    let (got, _) = receive(&mut sub, 3).await;
    assert_eq!(got, ["new-0", "new-1", "new-2"]);

    // Splitting the shard ends the subscription with ChildShards.
    k.split_shard()
        .stream_name("fan")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .expect("split");
    let (_, children) = receive(&mut sub, usize::MAX).await;
    assert_eq!(children, ["shardId-000000000001", "shardId-000000000002"]);
}

#[tokio::test]
async fn subscriptions_end_after_their_lifetime() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.kinesis.subscription_lifetime_ms = 200;
    let t = TestServer::start_with(dir, config).await;
    let k = t.kinesis();
    create_active(&k, "fan", 1).await;
    let consumer = register(&k, "app").await;
    let mut sub = subscribe(&k, &consumer, ShardIteratorType::Latest).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let next = tokio::time::timeout_at(deadline, sub.event_stream.recv())
            .await
            .expect("ends in time");
        if next.expect("well-formed").is_none() {
            break;
        }
    }
    // The lease is released: subscribing again works.
    subscribe(&k, &consumer, ShardIteratorType::Latest).await;
}
