//! Shards addressed by index (the Kafka front door's partitions): appends with consecutive
//! offsets, reads from an offset, the same records seen through Kinesis iterators.

use bytes::Bytes;
use weir_log::{LogError, ShardEntry};

use super::{create, key, open, read_all, ManualClock, T0};

fn entries(n: usize, tag: &str) -> Vec<ShardEntry> {
    (0..n)
        .map(|i| ShardEntry {
            partition_key: format!("{tag}-{i}"),
            data: Bytes::from(format!("{tag} {i}")),
            attrs: None,
        })
        .collect()
}

#[tokio::test]
async fn appends_go_to_the_shard_named_with_consecutive_offsets() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "t", 2);
    let k = key("t");
    assert_eq!(
        log.append_to_shard(&k, 1, entries(3, "a")).await.unwrap().0,
        0
    );
    assert_eq!(
        log.append_to_shard(&k, 1, entries(2, "b")).await.unwrap().0,
        3
    );
    let read = log.read_shard(&k, 1, 0, 1 << 20).unwrap();
    assert_eq!(
        read.records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!((read.high_watermark, read.log_start), (5, 0));
    assert_eq!(read.records[3].partition_key, "b-0");
    // From an offset; at least one record even past the byte limit.
    let read = log.read_shard(&k, 1, 3, 1).unwrap();
    assert_eq!(read.records.len(), 1);
    assert_eq!(read.records[0].data, Bytes::from("b 0"));
    // The other shard has nothing; Kinesis readers see the same records in order.
    assert_eq!(log.shard_bounds(&k, 0).unwrap(), (0, 0));
    let seen = read_all(&log, "t", "shardId-000000000001");
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[4].1, b"b 1".to_vec());
    // Unknown shards and streams.
    assert!(matches!(
        log.append_to_shard(&k, 7, entries(1, "c")).await,
        Err(LogError::InvalidArgument(_))
    ));
    assert!(matches!(
        log.read_shard(&key("nope"), 0, 0, 100),
        Err(LogError::NotFound(_))
    ));
    // Durable: a reopened log goes on from the next offset.
    drop(log);
    let log = open(dir.path(), &clock);
    assert_eq!(
        log.append_to_shard(&k, 1, entries(1, "c")).await.unwrap().0,
        5
    );
    assert_eq!(log.shard_offset_at(&k, 1, T0 + 1_000_000).unwrap(), 6);
    // A closed (split) shard is read-only.
    log.split_shard(
        &k,
        "shardId-000000000001",
        &((1u128 << 127) + (1u128 << 126)).to_string(),
    )
    .expect("split");
    clock.advance_ms(1000);
    let parts = log.partitions(&k).unwrap();
    assert!(parts.iter().any(|p| p.index == 1 && p.closed));
    assert!(matches!(
        log.append_to_shard(&k, 1, entries(1, "d")).await,
        Err(LogError::InvalidArgument(_))
    ));
    assert_eq!(log.read_shard(&k, 1, 0, 1 << 20).unwrap().records.len(), 6);
}

#[tokio::test]
async fn attributes_are_kept_beside_the_data_and_kinesis_reads_ignore_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "a", 1);
    let k = key("a");
    let mut batch = entries(3, "x");
    batch[1].attrs = Some(Bytes::from_static(b"\x00headers"));
    batch[2].attrs = Some(Bytes::new());
    log.append_to_shard(&k, 0, batch).await.unwrap();
    // Read back after a reopen: from the frames on disk.
    drop(log);
    let log = open(dir.path(), &clock);
    let read = log.read_shard(&k, 0, 0, 1 << 20).unwrap();
    let got: Vec<_> = read
        .records
        .iter()
        .map(|r| (r.data.clone(), r.attrs.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Bytes::from("x 0"), None),
            (Bytes::from("x 1"), Some(Bytes::from_static(b"\x00headers"))),
            (Bytes::from("x 2"), Some(Bytes::new())),
        ]
    );
    let seen = read_all(&log, "a", "shardId-000000000000");
    assert_eq!(
        seen.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        vec![b"x 0".to_vec(), b"x 1".to_vec(), b"x 2".to_vec()]
    );
}

#[tokio::test]
async fn added_shards_take_writes_and_the_old_ones_stay_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "g", 1);
    let k = key("g");
    log.append_to_shard(&k, 0, entries(2, "a")).await.unwrap();
    // Checked only: nothing changes; past the limit of one stream: refused.
    log.add_shards(&k, 2, true).unwrap();
    assert_eq!(log.partitions(&k).unwrap().len(), 1);
    assert!(matches!(
        log.add_shards(&k, 20_000, true),
        Err(LogError::LimitExceeded(_))
    ));
    log.add_shards(&k, 2, false).unwrap();
    let parts = log.partitions(&k).unwrap();
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| !p.closed));
    // The stream stays ACTIVE (no reshard delay), and every shard takes writes.
    let info = log.describe_stream(&k).unwrap();
    assert_eq!(info.status, weir_log::StreamStatus::Active);
    assert!(info.shards.iter().all(|s| s.parent_shard_id.is_none()));
    for i in 0..3 {
        log.append_to_shard(&k, i, entries(1, "b")).await.unwrap();
    }
    assert_eq!(log.read_shard(&k, 0, 0, 1 << 20).unwrap().records.len(), 3);
    // Kinesis routing follows the new ranges: the highest hash key is in the last carved shard.
    let put = log
        .put_records(
            &k,
            vec![weir_log::PutEntry {
                partition_key: "x".into(),
                explicit_hash_key: Some(u128::MAX),
                data: Bytes::from_static(b"top"),
            }],
        )
        .await
        .unwrap();
    let landed = put[0].as_ref().unwrap().shard_id.clone();
    let top = info
        .shards
        .iter()
        .max_by_key(|s| s.ending_hash_key)
        .unwrap()
        .shard_id
        .clone();
    assert_eq!(landed, top);
    // Listed as of the trim horizon (KCL's first look), the shards still cover every key.
    let at_horizon = log
        .list_shards(&k, Some(&weir_log::ShardFilter::AtTrimHorizon))
        .unwrap();
    assert_eq!(at_horizon.len(), 3);
    // Reopened: the same shards.
    drop(log);
    let log = open(dir.path(), &clock);
    assert_eq!(log.partitions(&k).unwrap().len(), 3);
}
