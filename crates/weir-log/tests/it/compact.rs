//! Compaction of a shard: the newest record of each key stays at its offset, tombstones go
//! after their retention, young records and unkeyed ones stay, a crash's leftovers are settled
//! on open, and Kinesis readers see the same survivors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use weir_log::{CompactKey, CompactionPolicy, Log, ShardEntry, ShardRecord};

use super::{create, key, open, read_all, ManualClock, T0};

/// Keys are partition keys; data "DEL" is a tombstone; keys starting "keep" are never removed.
fn key_of(r: &ShardRecord) -> CompactKey {
    if r.partition_key.starts_with("keep") {
        CompactKey::Keep
    } else if r.data.as_ref() == b"DEL" {
        CompactKey::Tombstone(Bytes::from(r.partition_key.clone()))
    } else {
        CompactKey::Key(Bytes::from(r.partition_key.clone()))
    }
}

fn policy() -> CompactionPolicy {
    CompactionPolicy {
        min_lag_ms: 0,
        delete_retention_ms: 3_600_000,
        min_dirty_ratio: 0.0,
        max_keys: 1 << 20,
    }
}

/// `rounds` values for each of `keys` keys, 300 bytes each (64 KiB segments: several sealed).
async fn fill(log: &Log, rounds: usize, keys: usize) {
    fill_keys(log, rounds, keys, "k").await
}

async fn fill_keys(log: &Log, rounds: usize, keys: usize, prefix: &str) {
    for round in 0..rounds {
        let batch = (0..keys)
            .map(|k| ShardEntry {
                partition_key: format!("{prefix}{k}"),
                data: Bytes::from(format!("{round:>300}")),
                attrs: None,
            })
            .collect();
        log.append_to_shard(&key("c"), 0, batch).await.unwrap();
    }
}

fn all(log: &Log) -> Vec<(u64, String, Bytes)> {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let read = log.read_shard(&key("c"), 0, from, 1 << 20).unwrap();
        let Some(last) = read.records.last() else {
            return out;
        };
        from = last.offset + 1;
        out.extend(
            read.records
                .into_iter()
                .map(|r| (r.offset, r.partition_key, r.data)),
        );
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn newest_per_key(records: &[(u64, String, Bytes)]) -> HashMap<String, Bytes> {
    records
        .iter()
        .map(|(_, k, d)| (k.clone(), d.clone()))
        .collect()
}

#[tokio::test]
async fn the_newest_record_of_each_key_stays_at_its_offset() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "c", 1);
    fill(&log, 6, 100).await;
    let before = all(&log);
    let (_, end) = log.shard_bounds(&key("c"), 0).unwrap();
    clock.advance_ms(1000);
    let stats = log.compact_shard(&key("c"), 0, &policy(), &key_of).unwrap();
    assert!(stats.segments_rewritten > 0 && stats.records_removed > 0);
    assert!(stats.bytes_after < stats.bytes_before);
    let after = all(&log);
    assert_eq!(log.shard_bounds(&key("c"), 0).unwrap().0, 0);
    assert_eq!(
        after.len() as u64,
        before.len() as u64 - stats.records_removed
    );
    // Offsets keep their records; the newest value of every key is there.
    let by_offset: HashMap<u64, _> = before.iter().map(|r| (r.0, r)).collect();
    assert!(after.iter().all(|r| by_offset[&r.0] == r));
    assert!(after.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(newest_per_key(&after), newest_per_key(&before));
    assert_eq!(log.shard_bounds(&key("c"), 0).unwrap().1, end);
    // A read from a removed offset starts at the next survivor.
    let gap = (0..end).find(|o| !by_offset.contains_key(o) || !after.iter().any(|r| r.0 == *o));
    let gap = gap.expect("a removed offset");
    let read = log.read_shard(&key("c"), 0, gap, 1 << 20).unwrap();
    assert!(read.records[0].offset > gap);
    // Kinesis readers see the same survivors.
    let seen = read_all(&log, "c", "shardId-000000000000");
    assert_eq!(seen.len(), after.len());
    // A second pass has nothing more to remove in the same segments.
    let again = log.compact_shard(&key("c"), 0, &policy(), &key_of).unwrap();
    assert_eq!(again.records_removed, 0);
    // Reopened: the same records, and appends go on at the same offset.
    drop(log);
    let log = open(dir.path(), &clock);
    assert_eq!(all(&log), after);
    let (first, _) = log
        .append_to_shard(&key("c"), 0, vec![entry("k1", "new")])
        .await
        .unwrap();
    assert_eq!(first, end);
}

fn entry(k: &str, data: &str) -> ShardEntry {
    ShardEntry {
        partition_key: k.into(),
        data: Bytes::from(data.to_owned()),
        attrs: None,
    }
}

#[tokio::test]
async fn tombstones_stay_for_their_retention_then_go_with_every_older_value() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "c", 1);
    fill(&log, 2, 100).await;
    let dels = (0..10).map(|k| entry(&format!("k{k}"), "DEL")).collect();
    log.append_to_shard(&key("c"), 0, dels).await.unwrap();
    let keeps = (0..5).map(|k| entry(&format!("keep{k}"), "x")).collect();
    log.append_to_shard(&key("c"), 0, keeps).await.unwrap();
    // Other keys after, so the tombstones' segment is sealed.
    fill_keys(&log, 3, 100, "m").await;
    let c = key("c");
    let dels_of = |log: &Log| all(log).iter().filter(|r| r.2.as_ref() == b"DEL").count();
    log.compact_shard(&c, 0, &policy(), &key_of).unwrap();
    assert_eq!(dels_of(&log), 10);
    // Before the retention: nothing more is due.
    clock.advance_ms(1_000_000);
    let stats = log.compact_shard(&c, 0, &policy(), &key_of).unwrap();
    assert_eq!(stats.records_removed, 0);
    // After it: the tombstones go, and the values they deleted are gone too.
    clock.advance_ms(3_600_000);
    let stats = log.compact_shard(&c, 0, &policy(), &key_of).unwrap();
    assert_eq!(stats.records_removed, 10);
    let after = all(&log);
    assert_eq!(dels_of(&log), 0);
    // Unkeyed records are never removed; keys without a tombstone keep their newest value.
    assert_eq!(after.iter().filter(|r| r.1.starts_with("keep")).count(), 5);
    let first_value_round = |k: &str| {
        after
            .iter()
            .find(|r| r.1 == k)
            .map(|r| r.2.as_ref().trim_ascii().to_vec())
    };
    assert_eq!(first_value_round("k3"), None);
    assert_eq!(first_value_round("k30"), Some(b"1".to_vec()));
}

#[tokio::test]
async fn young_records_stay_and_a_quiet_dirty_ratio_skips_the_pass() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "c", 1);
    fill(&log, 4, 100).await;
    let young = CompactionPolicy {
        min_lag_ms: 60_000,
        ..policy()
    };
    let c = key("c");
    assert_eq!(
        log.compact_shard(&c, 0, &young, &key_of)
            .unwrap()
            .records_removed,
        0
    );
    // Compacted once, the segments are clean: a ratio no dirt reaches skips the next passes.
    clock.advance_ms(120_000);
    assert!(
        log.compact_shard(&c, 0, &young, &key_of)
            .unwrap()
            .records_removed
            > 0
    );
    fill(&log, 1, 10).await;
    let strict = CompactionPolicy {
        min_dirty_ratio: 0.99,
        ..policy()
    };
    assert_eq!(
        log.compact_shard(&c, 0, &strict, &key_of).unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn leftovers_of_an_interrupted_pass_are_settled_on_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "c", 1);
    fill(&log, 6, 100).await;
    let segs = files(dir.path(), ".seg");
    let first = segs[0].clone();
    let saved = std::fs::read(&first).unwrap();
    log.compact_shard(&key("c"), 0, &policy(), &key_of).unwrap();
    let after = all(&log);
    drop(log);
    // A crash after the rename, before the old file went; and a half-written next generation.
    std::fs::write(&first, &saved).unwrap();
    let cseg = files(dir.path(), ".cseg");
    assert!(!cseg.is_empty());
    let tmp = cseg[0].with_extension("tmp.cseg.tmp");
    std::fs::write(&tmp, b"half").unwrap();
    let log = open(dir.path(), &clock);
    assert_eq!(all(&log), after);
    assert!(!first.exists() && !tmp.exists());
    // Retention removes compacted segments like any other.
    clock.advance_ms(25 * 3_600_000);
    log.enforce_retention().unwrap();
    assert!(files(dir.path(), ".cseg").is_empty());
}

#[tokio::test]
async fn more_keys_than_one_pass_maps_are_compacted_window_by_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = ManualClock::new(T0);
    let log = open(dir.path(), &clock);
    create(&log, &clock, "c", 1);
    // 600 keys written twice, 100 at a time (two batches a segment), then a few more.
    for _round in 0..2 {
        for chunk in 0..6 {
            let batch = (0..100)
                .map(|i| entry(&format!("k{}", chunk * 100 + i), &format!("{chunk:>300}")))
                .collect();
            log.append_to_shard(&key("c"), 0, batch).await.unwrap();
        }
    }
    fill_keys(&log, 1, 10, "m").await;
    let before = all(&log);
    let small = CompactionPolicy {
        max_keys: 100,
        ..policy()
    };
    let c = key("c");
    let mut removed = 0;
    let mut passes_removing = 0;
    for _ in 0..12 {
        let stats = log.compact_shard(&c, 0, &small, &key_of).unwrap();
        removed += stats.records_removed;
        passes_removing += usize::from(stats.records_removed > 0);
    }
    let after = all(&log);
    assert_eq!(newest_per_key(&after), newest_per_key(&before));
    assert_eq!(after.len() as u64, before.len() as u64 - removed);
    // Each window removed what its keys superseded: the whole first round is gone.
    assert!(passes_removing > 1, "{passes_removing}");
    assert_eq!(removed, 600);
}
