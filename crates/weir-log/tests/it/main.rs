//! The log engine driven through its public API: streams, records, restart, retention.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on failure

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use weir_log::{
    CreateStream, IteratorStart, Log, LogConfig, LogError, ManualClock, PutEntry, ShardFilter,
    StreamKey, StreamMode, StreamStatus,
};

mod compact;
mod direct;

const T0: i64 = 1_750_000_000_000;

fn config(dir: &std::path::Path) -> LogConfig {
    LogConfig {
        data_dir: dir.to_path_buf(),
        segment_bytes: 64 * 1024,
        create_delay_ms: 500,
        delete_delay_ms: 500,
        ..LogConfig::default()
    }
}

fn open(dir: &std::path::Path, clock: &Arc<ManualClock>) -> Log {
    Log::open(config(dir), clock.clone()).expect("open log")
}

fn key(name: &str) -> StreamKey {
    StreamKey::new("us-east-1", name)
}

fn create(log: &Log, clock: &ManualClock, name: &str, shards: u32) {
    log.create_stream(CreateStream {
        key: key(name),
        shard_count: Some(shards),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: None,
        retention_hours: None,
    })
    .expect("create");
    clock.advance_ms(1000);
}

fn entry(pk: &str, data: &[u8]) -> PutEntry {
    PutEntry {
        partition_key: pk.to_string(),
        explicit_hash_key: None,
        data: Bytes::copy_from_slice(data),
    }
}

fn read_all(log: &Log, name: &str, shard: &str) -> Vec<(String, Vec<u8>)> {
    let mut it = log
        .shard_iterator(&key(name), shard, &IteratorStart::TrimHorizon)
        .expect("iterator");
    let mut out = Vec::new();
    loop {
        let r = log.get_records(&it, Some(1000)).expect("get");
        if r.records.is_empty() {
            break;
        }
        out.extend(
            r.records
                .into_iter()
                .map(|r| (r.sequence_number, r.data.to_vec())),
        );
        it = r.next_iterator.expect("open shard has a next iterator");
    }
    out
}

#[tokio::test]
async fn status_moves_from_creating_to_active() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    log.create_stream(CreateStream {
        key: key("s"),
        shard_count: Some(1),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: None,
        retention_hours: None,
    })
    .expect("create");
    assert_eq!(
        log.describe_stream(&key("s")).expect("d").status,
        StreamStatus::Creating
    );
    let err = log
        .put_all(&key("s"), vec![entry("a", b"x")])
        .await
        .expect_err("creating");
    assert!(matches!(err, LogError::NotFound(_)));
    clock.advance_ms(500);
    assert_eq!(
        log.describe_stream(&key("s")).expect("d").status,
        StreamStatus::Active
    );
    log.put_all(&key("s"), vec![entry("a", b"x")])
        .await
        .expect("put");
}

#[tokio::test]
async fn records_survive_reopen_across_segments() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let mut expected = Vec::new();
    {
        let log = open(dir.path(), &clock);
        create(&log, &clock, "s", 2);
        for batch in 0..40 {
            let entries: Vec<_> = (0..25)
                .map(|i| {
                    entry(
                        &format!("k{i}"),
                        format!("{batch}-{i}-{}", "x".repeat(300)).as_bytes(),
                    )
                })
                .collect();
            let out = log.put_all(&key("s"), entries.clone()).await.expect("put");
            for (e, o) in entries.iter().zip(out) {
                expected.push((o.shard_id, o.sequence_number, e.data.to_vec()));
            }
        }
    }
    let log = open(dir.path(), &clock);
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let want: Vec<_> = expected
            .iter()
            .filter(|(s, _, _)| s == shard)
            .map(|(_, q, d)| (q.clone(), d.clone()))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(read_all(&log, "s", shard), want);
    }
    assert!(
        std::fs::read_dir(dir.path().join("streams"))
            .expect("dir")
            .count()
            == 1,
        "one stream directory"
    );
}

#[tokio::test]
async fn iterator_types_position_correctly() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "s", 1);
    let mut seqs = Vec::new();
    for i in 0..10 {
        clock.advance_ms(10);
        let o = log
            .put_all(&key("s"), vec![entry("k", &[i])])
            .await
            .expect("put");
        seqs.push(o[0].sequence_number.clone());
    }
    let shard = "shardId-000000000000";
    let first = |start: IteratorStart| -> Vec<u8> {
        let it = log.shard_iterator(&key("s"), shard, &start).expect("it");
        let r = log.get_records(&it, None).expect("get");
        r.records.iter().map(|r| r.data[0]).collect()
    };
    assert_eq!(
        first(IteratorStart::AtSequenceNumber(seqs[3].clone())),
        vec![3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(
        first(IteratorStart::AfterSequenceNumber(seqs[3].clone())),
        vec![4, 5, 6, 7, 8, 9]
    );
    assert_eq!(first(IteratorStart::Latest), Vec::<u8>::new());
    assert_eq!(
        first(IteratorStart::AtTimestamp(T0 + 1000 + 75)),
        vec![7, 8, 9]
    );
    // A timestamp in the future is refused (AWS's InvalidArgumentException).
    assert!(matches!(
        log.shard_iterator(
            &key("s"),
            shard,
            &IteratorStart::AtTimestamp(T0 + 10_000_000)
        ),
        Err(LogError::InvalidArgument(_))
    ));
    assert_eq!(first(IteratorStart::TrimHorizon).len(), 10);

    // Iterators expire after five minutes.
    let it = log
        .shard_iterator(&key("s"), shard, &IteratorStart::TrimHorizon)
        .expect("it");
    clock.advance_ms(300_001);
    assert!(matches!(
        log.get_records(&it, None),
        Err(LogError::ExpiredIterator { .. })
    ));
    // A sequence number of another shard is refused.
    create(&log, &clock, "t", 2);
    let o = log
        .put_all(
            &key("t"),
            vec![PutEntry {
                explicit_hash_key: Some(u128::MAX),
                ..entry("k", b"z")
            }],
        )
        .await
        .expect("put");
    assert_eq!(o[0].shard_id, "shardId-000000000001");
    let err = log
        .shard_iterator(
            &key("t"),
            shard,
            &IteratorStart::AtSequenceNumber(o[0].sequence_number.clone()),
        )
        .expect_err("other shard");
    assert!(matches!(err, LogError::InvalidArgument(_)), "{err}");
}

#[tokio::test]
async fn retention_hides_then_deletes_old_segments() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "s", 1);
    for _ in 0..50 {
        log.put_all(&key("s"), vec![entry("k", &[7u8; 4000])])
            .await
            .expect("put");
    }
    clock.advance_ms(23 * 3_600_000);
    for _ in 0..5 {
        log.put_all(&key("s"), vec![entry("k", &[8u8; 4000])])
            .await
            .expect("put");
    }
    assert_eq!(read_all(&log, "s", "shardId-000000000000").len(), 55);
    clock.advance_ms(2 * 3_600_000);
    // The first 50 are past 24 h: unreadable at once, their segments deleted by housekeeping.
    let left = read_all(&log, "s", "shardId-000000000000");
    assert_eq!(left.len(), 5);
    assert!(left.iter().all(|(_, d)| d[0] == 8));
    assert!(log.enforce_retention().expect("trim") >= 1);
    assert_eq!(read_all(&log, "s", "shardId-000000000000").len(), 5);
    // Offsets continue after a reopen even though early segments are gone.
    drop(log);
    let log = open(dir.path(), &clock);
    let o = log
        .put_all(&key("s"), vec![entry("k", b"n")])
        .await
        .expect("put");
    assert_eq!(
        weir_log::seqno::parse(&o[0].sequence_number).map(|p| (p.shard_index, p.position)),
        Some((0, 56))
    );
}

#[tokio::test]
async fn delivered_segments_are_freed_below_a_sequence_number() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "s", 1);
    let mut seqs = Vec::new();
    for i in 0..60u8 {
        let o = log
            .put_all(&key("s"), vec![entry("k", &[i; 4000])])
            .await
            .expect("put");
        seqs.push(o[0].sequence_number.clone());
    }
    let shard = "shardId-000000000000";
    // AT record 30: records 0..29 are done with; segments holding only those go.
    let freed = log
        .trim_delivered(&key("s"), shard, &seqs[30], false)
        .expect("trim");
    assert!(freed >= 1, "64 KiB segments of 4 KB records");
    let left = read_all(&log, "s", shard);
    assert_eq!(left.last().map(|(_, d)| d[0]), Some(59));
    let first = left.first().map(|(_, d)| d[0]).expect("some left");
    assert!(first <= 30, "record 30 is kept (first left: {first})");
    // AFTER the last record: everything but the active segment goes; writing continues.
    log.trim_delivered(&key("s"), shard, &seqs[59], true)
        .expect("trim");
    assert!(read_all(&log, "s", shard).len() < 60 - first as usize);
    let o = log
        .put_all(&key("s"), vec![entry("k", b"n")])
        .await
        .expect("put");
    assert_eq!(
        weir_log::seqno::parse(&o[0].sequence_number).map(|p| (p.shard_index, p.position)),
        Some((0, 61))
    );
    assert!(log
        .trim_delivered(&key("s"), "shardId-000000000009", &seqs[0], true)
        .is_err());
}

#[tokio::test]
async fn control_plane_persists() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    {
        let log = open(dir.path(), &clock);
        create(&log, &clock, "a", 3);
        create(&log, &clock, "b", 1);
        log.increase_retention(&key("a"), 48).expect("retention");
        log.add_tags(&key("a"), BTreeMap::from([("env".into(), "test".into())]))
            .expect("tags");
        assert!(matches!(
            log.decrease_retention(&key("a"), 72),
            Err(LogError::InvalidArgument(_))
        ));
        assert!(matches!(
            log.increase_retention(&key("a"), 9000),
            Err(LogError::InvalidArgument(_))
        ));
        log.delete_stream(&key("b"), false).expect("delete");
        assert_eq!(
            log.describe_stream(&key("b")).expect("d").status,
            StreamStatus::Deleting
        );
    }
    clock.advance_ms(1000);
    let log = open(dir.path(), &clock);
    let a = log.describe_stream(&key("a")).expect("a");
    assert_eq!(a.retention_hours, 48);
    assert_eq!(a.shards.len(), 3);
    assert_eq!(
        log.tags(&key("a"))
            .expect("tags")
            .get("env")
            .map(String::as_str),
        Some("test")
    );
    assert!(matches!(
        log.describe_stream(&key("b")),
        Err(LogError::NotFound(_))
    ));
    assert_eq!(log.limits("us-east-1").open_shard_count, 3);
    let after = log
        .list_shards(
            &key("a"),
            Some(&ShardFilter::AfterShardId("shardId-000000000000".into())),
        )
        .expect("ls");
    assert_eq!(after.len(), 2);
}

#[tokio::test]
async fn shard_limit_is_enforced() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = Log::open(
        LogConfig {
            shard_limit: 4,
            ..config(dir.path())
        },
        clock.clone(),
    )
    .expect("open");
    create(&log, &clock, "a", 3);
    let err = log
        .create_stream(CreateStream {
            key: key("b"),
            shard_count: Some(2),
            mode: StreamMode::Provisioned,
            tags: BTreeMap::new(),
            max_record_kib: None,
            retention_hours: None,
        })
        .expect_err("over limit");
    assert!(matches!(err, LogError::LimitExceeded(_)));
}

#[tokio::test]
async fn orphaned_stream_files_are_removed_at_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    {
        let log = open(dir.path(), &clock);
        create(&log, &clock, "s", 1);
    }
    let orphan = dir.path().join("streams").join("00000000deadbeef");
    std::fs::create_dir_all(orphan.join("shardId-000000000000")).expect("mkdir");
    let log = open(dir.path(), &clock);
    assert!(!orphan.exists());
    assert!(log.describe_stream(&key("s")).is_ok());
}

#[tokio::test]
async fn checkpoints_survive_more_writes_and_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    {
        let log = open(dir.path(), &clock);
        create(&log, &clock, "s", 1);
        for i in 0..300u32 {
            log.put_all(&key("s"), vec![entry("k", &i.to_be_bytes())])
                .await
                .expect("put");
            if i % 50 == 0 {
                log.checkpoint().expect("checkpoint");
            }
        }
    }
    let log = open(dir.path(), &clock);
    let all = read_all(&log, "s", "shardId-000000000000");
    assert_eq!(all.len(), 300);
    for (i, (_, d)) in all.iter().enumerate() {
        assert_eq!(d.as_slice(), (i as u32).to_be_bytes());
    }
}

#[tokio::test]
async fn a_deleted_name_is_free_once_deleting_ends() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "s", 1);
    log.put_all(&key("s"), vec![entry("k", b"old")])
        .await
        .expect("put");
    log.delete_stream(&key("s"), false).expect("delete");
    let again = CreateStream {
        key: key("s"),
        shard_count: Some(1),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: None,
        retention_hours: None,
    };
    assert!(matches!(
        log.create_stream(again.clone()),
        Err(LogError::InUse(_))
    ));
    clock.advance_ms(600);
    assert!(matches!(
        log.describe_stream(&key("s")),
        Err(LogError::NotFound(_))
    ));
    assert!(log.list_streams("us-east-1").is_empty());
    log.create_stream(again).expect("name reused");
    clock.advance_ms(1000);
    assert!(read_all(&log, "s", "shardId-000000000000").is_empty());
}

/// Reads a whole stream the way a lineage-aware consumer does: a shard only after its parents
/// are finished. Returns the records per partition key, in read order.
fn read_following_lineage(log: &Log, name: &str) -> BTreeMap<String, Vec<Vec<u8>>> {
    let shards = log.list_shards(&key(name), None).expect("shards");
    let mut done: Vec<String> = Vec::new();
    let mut per_key: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    while done.len() < shards.len() {
        let ready = shards
            .iter()
            .find(|s| {
                !done.contains(&s.shard_id)
                    && s.parent_shard_id
                        .iter()
                        .chain(&s.adjacent_parent_shard_id)
                        .all(|p| done.contains(p))
            })
            .expect("some shard is ready");
        let mut it = log
            .shard_iterator(&key(name), &ready.shard_id, &IteratorStart::TrimHorizon)
            .expect("iterator");
        loop {
            let r = log.get_records(&it, None).expect("get");
            for rec in &r.records {
                per_key
                    .entry(rec.partition_key.clone())
                    .or_default()
                    .push(rec.data.to_vec());
            }
            match r.next_iterator {
                Some(next) if !r.records.is_empty() => it = next,
                Some(_) => break,
                None => {
                    assert!(!ready.is_open(), "only closed shards end");
                    break;
                }
            }
        }
        done.push(ready.shard_id.clone());
    }
    per_key
}

#[tokio::test]
async fn split_merge_and_rescale_keep_order_per_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "r", 2);
    let mut sent: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut counter = 0u32;
    let mut put_some = |log: Log| {
        let batch: Vec<PutEntry> = (0..40)
            .map(|i| {
                counter += 1;
                entry(&format!("key-{}", i % 9), &counter.to_be_bytes())
            })
            .collect();
        for e in &batch {
            sent.entry(e.partition_key.clone())
                .or_default()
                .push(e.data.to_vec());
        }
        async move { log.put_all(&key("r"), batch).await.expect("put") }
    };
    put_some(log.clone()).await;
    let half = 1u128 << 127;
    log.split_shard(&key("r"), "shardId-000000000000", &(half / 2).to_string())
        .expect("split");
    assert_eq!(
        log.describe_stream(&key("r")).expect("d").status,
        StreamStatus::Updating
    );
    assert!(matches!(
        log.split_shard(&key("r"), "shardId-000000000001", &(half + 7).to_string()),
        Err(LogError::InUse(_))
    ));
    clock.advance_ms(1000);
    put_some(log.clone()).await;
    // The parent is closed with an ending sequence number; children name it.
    let d = log.describe_stream(&key("r")).expect("d");
    assert_eq!(d.shards.len(), 4);
    assert!(d.shards[0].ending_sequence_number.is_some());
    assert_eq!(
        d.shards[2].parent_shard_id.as_deref(),
        Some("shardId-000000000000")
    );
    assert_eq!(d.open_shard_count(), 3);
    assert!(matches!(
        log.split_shard(&key("r"), "shardId-000000000000", "5"),
        Err(LogError::InUse(_))
    ));
    assert!(matches!(
        log.split_shard(&key("r"), "shardId-000000000001", &half.to_string()),
        Err(LogError::InvalidArgument(_))
    ));
    assert!(matches!(
        log.merge_shards(&key("r"), "shardId-000000000002", "shardId-000000000001"),
        Err(LogError::InvalidArgument(_))
    ));
    log.merge_shards(&key("r"), "shardId-000000000002", "shardId-000000000003")
        .expect("merge");
    clock.advance_ms(1000);
    put_some(log.clone()).await;
    let change = log.update_shard_count(&key("r"), 4).expect("scale up");
    assert_eq!((change.current, change.target), (2, 4));
    clock.advance_ms(1000);
    put_some(log.clone()).await;
    assert!(matches!(
        log.update_shard_count(&key("r"), 9),
        Err(LogError::LimitExceeded(_))
    ));
    log.update_shard_count(&key("r"), 3).expect("scale down");
    clock.advance_ms(1000);
    put_some(log.clone()).await;
    assert_eq!(
        log.describe_stream(&key("r"))
            .expect("d")
            .open_shard_count(),
        3
    );

    // GetRecords at a closed shard's end: no next iterator, and its children.
    let it = log
        .shard_iterator(&key("r"), "shardId-000000000000", &IteratorStart::Latest)
        .expect("it");
    let end = log.get_records(&it, None).expect("get");
    assert!(end.next_iterator.is_none());
    let children: Vec<_> = end
        .child_shards
        .iter()
        .map(|c| c.shard_id.as_str())
        .collect();
    assert_eq!(children, ["shardId-000000000002", "shardId-000000000003"]);

    assert_eq!(read_following_lineage(&log, "r"), sent);
    // Lineage survives a restart.
    drop(log);
    let log = open(dir.path(), &clock);
    assert_eq!(read_following_lineage(&log, "r"), sent);
    let latest = log
        .list_shards(&key("r"), Some(&ShardFilter::AtLatest))
        .expect("latest");
    assert_eq!(latest.len(), 3);
}

#[tokio::test]
async fn update_shard_count_is_rate_limited() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "r", 1);
    for i in 0..10 {
        let target = if i % 2 == 0 { 2 } else { 1 };
        log.update_shard_count(&key("r"), target).expect("scale");
        clock.advance_ms(1000);
    }
    assert!(matches!(
        log.update_shard_count(&key("r"), 2),
        Err(LogError::LimitExceeded(_))
    ));
    clock.advance_ms(24 * 3_600_000);
    log.update_shard_count(&key("r"), 2).expect("a day later");
}

#[tokio::test]
async fn on_demand_streams_split_hot_shards_and_merge_cold_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    log.create_stream(CreateStream {
        key: key("od"),
        shard_count: None,
        mode: StreamMode::OnDemand,
        tags: BTreeMap::new(),
        max_record_kib: None,
        retention_hours: None,
    })
    .expect("create");
    clock.advance_ms(20_000);
    assert!(
        log.autoscale().expect("tick").is_empty(),
        "an idle new stream does not scale"
    );
    // One hot partition key: 12 MiB within the 10-second window is 1.2 MiB/s on its shard.
    let hot = entry("hot-key", &[0u8; 1024 * 1024]);
    for _ in 0..12 {
        log.put_all(&key("od"), vec![hot.clone()])
            .await
            .expect("put");
    }
    let actions = log.autoscale().expect("tick");
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert!(matches!(
        actions[0],
        weir_log::on_demand::ScaleAction::Split { .. }
    ));
    clock.advance_ms(1000);
    assert_eq!(
        log.describe_stream(&key("od"))
            .expect("d")
            .open_shard_count(),
        5
    );
    // Once everything has been quiet long enough, neighbours merge back down to four.
    clock.advance_ms(3_600_000 + 20_000);
    let mut merges = 0;
    for _ in 0..5 {
        merges += log.autoscale().expect("tick").len();
        clock.advance_ms(1000);
    }
    assert_eq!(merges, 1);
    assert_eq!(
        log.describe_stream(&key("od"))
            .expect("d")
            .open_shard_count(),
        4
    );
    // Provisioned streams are never scaled.
    create(&log, &clock, "p", 1);
    for _ in 0..12 {
        log.put_all(&key("p"), vec![hot.clone()])
            .await
            .expect("put");
    }
    clock.advance_ms(10_000);
    assert!(log.autoscale().expect("tick").is_empty());
}

#[tokio::test]
async fn closed_shards_expire_after_retention_and_stay_gone_after_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "x", 1);
    log.put_all(&key("x"), vec![entry("k", b"old")])
        .await
        .expect("put");
    log.split_shard(
        &key("x"),
        "shardId-000000000000",
        &(u128::MAX / 2).to_string(),
    )
    .expect("split");
    clock.advance_ms(1000);
    log.put_all(&key("x"), vec![entry("k", b"new")])
        .await
        .expect("put");
    // The stream's one directory holds a directory per shard.
    let shard_dirs = |_: &Log| {
        let stream = std::fs::read_dir(dir.path().join("streams"))
            .expect("streams")
            .next()
            .expect("one stream")
            .expect("entry")
            .path();
        std::fs::read_dir(stream).expect("dir").count()
    };
    assert_eq!(shard_dirs(&log), 3);

    // Within retention the closed parent is listed and readable.
    clock.advance_ms(23 * 3_600_000);
    assert_eq!(log.expire_closed_shards().expect("expire"), 0);
    assert_eq!(log.list_shards(&key("x"), None).expect("list").len(), 3);
    let it = log
        .shard_iterator(
            &key("x"),
            "shardId-000000000000",
            &IteratorStart::TrimHorizon,
        )
        .expect("iterator");
    assert_eq!(log.get_records(&it, None).expect("get").records.len(), 1);

    // Closed longer than the retention period: gone from listings, reads and disk.
    clock.advance_ms(3_600_000);
    assert_eq!(log.expire_closed_shards().expect("expire"), 1);
    let shards = log.list_shards(&key("x"), None).expect("list");
    assert_eq!(
        shards
            .iter()
            .map(|s| s.shard_id.as_str())
            .collect::<Vec<_>>(),
        ["shardId-000000000001", "shardId-000000000002"]
    );
    assert!(shards
        .iter()
        .all(|s| s.parent_shard_id.as_deref() == Some("shardId-000000000000")));
    assert_eq!(log.describe_stream(&key("x")).expect("d").shards.len(), 2);
    let err = log
        .shard_iterator(
            &key("x"),
            "shardId-000000000000",
            &IteratorStart::TrimHorizon,
        )
        .expect_err("expired");
    assert!(
        matches!(&err, LogError::NotFound(m) if m == "Shard shardId-000000000000 in stream x under account 000000000000 does not exist"),
        "{err}"
    );
    assert!(matches!(
        log.list_shards(&key("x"), Some(&ShardFilter::AtTrimHorizon)),
        Ok(s) if s.len() == 2
    ));
    assert_eq!(shard_dirs(&log), 2);
    log.housekeeping();

    // A crash after the catalog recorded the expiry but before the files went: the restart
    // removes them.
    let stream = std::fs::read_dir(dir.path().join("streams"))
        .expect("streams")
        .next()
        .expect("one stream")
        .expect("entry")
        .path();
    let leftover = stream.join("shardId-000000000000");
    std::fs::create_dir_all(&leftover).expect("dir");
    std::fs::write(leftover.join("00000000000000000000.seg"), b"stale").expect("file");
    assert_eq!(shard_dirs(&log), 3);

    // After a restart: still expired, its files gone, the children still readable.
    drop(log);
    let log = open(dir.path(), &clock);
    assert_eq!(log.list_shards(&key("x"), None).expect("list").len(), 2);
    let child = log.list_shards(&key("x"), None).expect("list")[1]
        .shard_id
        .clone();
    let parent_gone = log
        .shard_iterator(&key("x"), "shardId-000000000000", &IteratorStart::Latest)
        .is_err();
    assert!(parent_gone);
    assert_eq!(shard_dirs(&log), 2);
    assert_eq!(read_all(&log, "x", &child).len(), 1);
}
