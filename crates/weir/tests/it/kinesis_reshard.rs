//! Resharding through the AWS SDK for Rust, with writers running during every reshard.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    PutRecordsRequestEntry, ScalingType, ShardFilter, ShardFilterType, ShardIteratorType,
    StreamMode, StreamModeDetails,
};

use crate::harness::{code, create_active, iterator, summary, wait_status, TestServer};

type Sent = Arc<Mutex<BTreeMap<String, Vec<u32>>>>;

/// Reads the stream as a lineage-aware consumer: a shard only after its parents are done,
/// following ChildShards at each closed shard's end.
async fn read_following_lineage(
    k: &aws_sdk_kinesis::Client,
    stream: &str,
) -> BTreeMap<String, Vec<u32>> {
    let shards = k
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("list")
        .shards()
        .to_vec();
    let mut done: HashSet<String> = HashSet::new();
    let mut per_key: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    while done.len() < shards.len() {
        let ready = shards
            .iter()
            .find(|s| {
                !done.contains(s.shard_id())
                    && s.parent_shard_id()
                        .iter()
                        .chain(s.adjacent_parent_shard_id().iter())
                        .all(|p| done.contains(*p))
            })
            .expect("a shard whose parents are done");
        let mut it = iterator(k, stream, ready.shard_id(), ShardIteratorType::TrimHorizon).await;
        loop {
            let r = k
                .get_records()
                .shard_iterator(&it)
                .send()
                .await
                .expect("get records");
            for rec in r.records() {
                let n = u32::from_be_bytes(rec.data().as_ref().try_into().expect("4 bytes"));
                per_key
                    .entry(rec.partition_key().unwrap_or_default().to_string())
                    .or_default()
                    .push(n);
            }
            match r.next_shard_iterator() {
                Some(next) if !r.records().is_empty() => it = next.to_string(),
                Some(_) => {
                    assert!(ready
                        .sequence_number_range()
                        .expect("range")
                        .ending_sequence_number()
                        .is_none());
                    break;
                }
                None => {
                    let children: Vec<_> = r
                        .child_shards()
                        .iter()
                        .map(|c| c.shard_id().to_string())
                        .collect();
                    assert!(!children.is_empty(), "a closed shard names its children");
                    for c in r.child_shards() {
                        assert!(c.parent_shards().iter().any(|p| p == ready.shard_id()));
                    }
                    break;
                }
            }
        }
        done.insert(ready.shard_id().to_string());
    }
    per_key
}

/// Waits (polling, with a deadline) until the writers have put more records.
async fn wait_for_writes(sent: &Sent) {
    let count = || {
        sent.lock()
            .expect("lock")
            .values()
            .map(Vec::len)
            .sum::<usize>()
    };
    let start = count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count() < start + 60 {
        assert!(
            std::time::Instant::now() < deadline,
            "writers made no progress"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn consumers_following_lineage_read_everything_once_in_order() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "rs", 2).await;
    let sent: Sent = Arc::new(Mutex::new(BTreeMap::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3u32 {
        let (k, sent, stop) = (k.clone(), sent.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let keys: Vec<String> = (0..10).map(|i| format!("w{w}-k{i}")).collect();
                let entries = keys
                    .iter()
                    .enumerate()
                    .map(|(i, pk)| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(pk)
                            .data(Blob::new((n + i as u32).to_be_bytes().to_vec()))
                            .build()
                            .expect("entry")
                    })
                    .collect();
                k.put_records()
                    .stream_name("rs")
                    .set_records(Some(entries))
                    .send()
                    .await
                    .expect("put");
                let mut s = sent.lock().expect("lock");
                for (i, pk) in keys.iter().enumerate() {
                    s.entry(pk.clone()).or_default().push(n + i as u32);
                }
                n += 10;
            }
        }));
    }
    let shard = |i: u32| format!("shardId-{i:012}");
    wait_for_writes(&sent).await;
    k.split_shard()
        .stream_name("rs")
        .shard_to_split(shard(0))
        .new_starting_hash_key((1u128 << 126).to_string())
        .send()
        .await
        .expect("split");
    wait_status(&k, "rs", "ACTIVE").await;
    wait_for_writes(&sent).await;
    k.merge_shards()
        .stream_name("rs")
        .shard_to_merge(shard(2))
        .adjacent_shard_to_merge(shard(3))
        .send()
        .await
        .expect("merge");
    wait_status(&k, "rs", "ACTIVE").await;
    wait_for_writes(&sent).await;
    let up = k
        .update_shard_count()
        .stream_name("rs")
        .target_shard_count(4)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect("scale");
    assert_eq!(
        (up.current_shard_count(), up.target_shard_count()),
        (Some(2), Some(4))
    );
    wait_status(&k, "rs", "ACTIVE").await;
    wait_for_writes(&sent).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer");
    }
    let sent = sent.lock().expect("lock").clone();
    assert!(sent.values().map(Vec::len).sum::<usize>() > 0);
    assert_eq!(read_following_lineage(&k, "rs").await, sent);

    // Lineage as AWS reports it.
    let d = k
        .describe_stream()
        .stream_name("rs")
        .send()
        .await
        .expect("describe");
    let d = d.stream_description().expect("d");
    let parent = &d.shards()[0];
    assert!(parent
        .sequence_number_range()
        .expect("r")
        .ending_sequence_number()
        .is_some());
    assert_eq!(d.shards()[4].parent_shard_id(), Some(shard(2).as_str()));
    assert_eq!(
        d.shards()[4].adjacent_parent_shard_id(),
        Some(shard(3).as_str())
    );
    let latest = ShardFilter::builder()
        .r#type(ShardFilterType::AtLatest)
        .build()
        .expect("f");
    let open = k
        .list_shards()
        .stream_name("rs")
        .shard_filter(latest)
        .send()
        .await
        .expect("ls");
    assert_eq!(open.shards().len(), 4);
    let horizon = ShardFilter::builder()
        .r#type(ShardFilterType::AtTrimHorizon)
        .build()
        .expect("f");
    let first = k
        .list_shards()
        .stream_name("rs")
        .shard_filter(horizon)
        .send()
        .await
        .expect("ls");
    let ids: Vec<_> = first
        .shards()
        .iter()
        .map(|s| s.shard_id().to_string())
        .collect();
    assert_eq!(ids, [shard(0), shard(1)]);

    // Restart keeps the lineage and every record.
    let mut t = t;
    t.restart().await;
    let k = t.kinesis();
    assert_eq!(read_following_lineage(&k, "rs").await, sent);
}

#[tokio::test]
async fn reshard_errors_and_stream_mode() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "e", 2).await;
    let err = k
        .split_shard()
        .stream_name("e")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("0")
        .send()
        .await
        .expect_err("key at the start");
    assert_eq!(code(&err), "InvalidArgumentException");
    let err = k
        .split_shard()
        .stream_name("e")
        .shard_to_split("shardId-000000000009")
        .new_starting_hash_key("5")
        .send()
        .await
        .expect_err("no shard");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = k
        .update_shard_count()
        .stream_name("e")
        .target_shard_count(5)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect_err("more than double");
    assert_eq!(code(&err), "LimitExceededException");
    let err = k
        .merge_shards()
        .stream_name("e")
        .shard_to_merge("shardId-000000000000")
        .adjacent_shard_to_merge("shardId-000000000000")
        .send()
        .await
        .expect_err("not adjacent");
    assert_eq!(code(&err), "InvalidArgumentException");

    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/e";
    k.update_stream_mode()
        .stream_arn(arn)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("m"),
        )
        .send()
        .await
        .expect("to on-demand");
    wait_status(&k, "e", "ACTIVE").await;
    let s = summary(&k, "e").await;
    assert_eq!(
        s.stream_mode_details().expect("m").stream_mode(),
        &StreamMode::OnDemand
    );
    // And back; asking for the mode it already has is refused.
    let to = |mode: StreamMode| {
        k.update_stream_mode()
            .stream_arn(arn)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(mode)
                    .build()
                    .expect("m"),
            )
            .send()
    };
    let err = to(StreamMode::OnDemand)
        .await
        .expect_err("already on-demand");
    assert_eq!(code(&err), "InvalidArgumentException");
    to(StreamMode::Provisioned).await.expect("to provisioned");
    wait_status(&k, "e", "ACTIVE").await;
    let s = summary(&k, "e").await;
    let mode = s.stream_mode_details().expect("m").stream_mode().clone();
    assert_eq!(mode, StreamMode::Provisioned);
}

#[tokio::test]
async fn closed_parents_expire_after_the_retention_period() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = crate::harness::test_config(dir.path());
    config.housekeeping_interval_ms = 10;
    let clock = weir_log::ManualClock::new(1_750_000_000_000);
    let t = TestServer::start_full(dir, config, clock.clone()).await;
    let k = t.kinesis();
    create_active(&k, "ex", 1).await;
    k.split_shard()
        .stream_name("ex")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((1u128 << 127).to_string())
        .send()
        .await
        .expect("split");
    wait_status(&k, "ex", "ACTIVE").await;
    let listed = |k: aws_sdk_kinesis::Client| async move {
        k.list_shards()
            .stream_name("ex")
            .send()
            .await
            .expect("list")
            .shards()
            .iter()
            .map(|s| s.shard_id().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(k.clone()).await.len(), 3);
    // One retention period (24 h) after the close, housekeeping expires the parent.
    clock.advance_ms(24 * 3_600_000 + 1_000);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while listed(k.clone()).await.len() != 2 {
        assert!(std::time::Instant::now() < deadline, "parent never expired");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let err = k
        .get_shard_iterator()
        .stream_name("ex")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let d = k
        .describe_stream()
        .stream_name("ex")
        .send()
        .await
        .expect("describe");
    let shards = d.stream_description().expect("d").shards();
    assert_eq!(shards.len(), 2);
    assert!(shards
        .iter()
        .all(|s| s.parent_shard_id() == Some("shardId-000000000000")));
}
