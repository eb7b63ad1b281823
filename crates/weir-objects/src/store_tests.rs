//! Tests of the object store: commits, reopening, the journal's recovery and compaction.

use super::*;

fn put(s: &ObjectStore, key: &str, data: &[u8]) -> ObjectInfo {
    s.put_object(
        "bkt",
        key,
        PutObject {
            data: Bytes::copy_from_slice(data),
            ..Default::default()
        },
    )
    .expect("put")
}

/// Concurrent PUTs of the same keys, small (in the journal) and large (data files), sharing
/// syncs: the last commit of each key wins in memory and on disk, and every replaced data file
/// is gone.
#[test]
fn concurrent_puts_commit_together() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Arc::new(ObjectStore::open(dir.path()).expect("open"));
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for round in 0..20u8 {
                    for k in 0..5u8 {
                        // Every third value is larger than the journal keeps inline.
                        let len = if (t + round + k) % 3 == 0 {
                            INLINE_MAX + 7
                        } else {
                            3
                        };
                        let mut data = vec![t; len];
                        data[1] = round;
                        data[2] = k;
                        let put = PutObject {
                            data: Bytes::from(data),
                            ..Default::default()
                        };
                        s.put_object("bkt", &format!("k{k}"), put).expect("put");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let before: Vec<Vec<u8>> = (0..5)
        .map(|k| {
            s.get_object("bkt", &format!("k{k}"), None)
                .expect("get")
                .1
                .to_vec()
        })
        .collect();
    drop(s);
    let s = ObjectStore::open(dir.path()).expect("reopen");
    for (k, data) in before.iter().enumerate() {
        let got = s.get_object("bkt", &format!("k{k}"), None).expect("get");
        assert_eq!(&got.1.to_vec(), data);
    }
    let files = fs::read_dir(dir.path().join("bkt/o"))
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "data"))
        })
        .count();
    let large = before.iter().filter(|d| d.len() > INLINE_MAX).count();
    assert_eq!(
        files, large,
        "one data file per key whose last value is large"
    );
}

#[test]
fn objects_survive_reopen_and_orphans_go() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let s = ObjectStore::open(dir.path()).expect("open");
        s.create_bucket("bkt", "us-east-1").expect("bucket");
        let info = put(&s, "a/b c%.txt", b"hello");
        assert_eq!(info.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
        put(&s, "a/b c%.txt", b"hello again");
        put(&s, "big", &[7u8; INLINE_MAX + 1]);
        put(&s, "big", &[8u8; INLINE_MAX + 1]);
    }
    std::fs::write(dir.path().join("bkt/o/deadbeef-0000.data"), b"orphan").expect("write");
    let s = ObjectStore::open(dir.path()).expect("reopen");
    let (info, data) = s.get_object("bkt", "a/b c%.txt", None).expect("get");
    assert_eq!(&data[..], b"hello again");
    assert_eq!(info.size, 11);
    assert_eq!(
        s.get_object("bkt", "a/b c%.txt", Some((6, 10)))
            .expect("range")
            .1
            .as_ref(),
        b"again"
    );
    let files = std::fs::read_dir(dir.path().join("bkt/o"))
        .expect("dir")
        .count();
    assert_eq!(files, 2, "the journal and the large object's data file");
    let (info, data) = s.get_object("bkt", "big", None).expect("big");
    assert_eq!((info.size, data[0]), (INLINE_MAX as u64 + 1, 8));
}

#[test]
fn listing_with_prefix_delimiter_and_pages() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = ObjectStore::open(dir.path()).expect("open");
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    for k in ["a/1", "a/2", "b/1", "b/2/x", "c", "d"] {
        put(&s, k, b"x");
    }
    let req =
        |prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: usize| ListRequest {
            prefix: prefix.into(),
            delimiter: delimiter.map(Into::into),
            after: after.map(Into::into),
            max_keys: max,
        };
    let p = s
        .list("bkt", &req("", Some("/"), None, 1000))
        .expect("list");
    assert_eq!(p.common_prefixes, ["a/", "b/"]);
    assert_eq!(
        p.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        ["c", "d"]
    );
    let p = s.list("bkt", &req("", Some("/"), None, 2)).expect("page 1");
    assert_eq!(
        (p.common_prefixes.len(), p.is_truncated, p.last.as_deref()),
        (2, true, Some("b/"))
    );
    let p = s
        .list("bkt", &req("", Some("/"), Some("b/"), 2))
        .expect("page 2");
    assert_eq!(p.objects.len(), 2);
    assert!(!p.is_truncated);
    let p = s.list("bkt", &req("b/", None, None, 1000)).expect("prefix");
    assert_eq!(p.objects.len(), 2);
    assert!(matches!(
        s.delete_bucket("bkt"),
        Err(ObjectError::BucketNotEmpty(_))
    ));
}

#[test]
fn bucket_names_follow_s3_rules() {
    for ok in ["abc", "my.bucket-1", "a1b"] {
        assert!(valid_bucket_name(ok), "{ok}");
    }
    for bad in [
        "ab",
        "ABC",
        "-abc",
        "abc-",
        "a..b",
        "192.168.1.1",
        "xn--abc",
        "a_b",
    ] {
        assert!(!valid_bucket_name(bad), "{bad}");
    }
}

fn journal_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("bkt/o"))
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("journal-"))
        .collect();
    names.sort();
    names
}

/// A crash mid-append leaves part of a frame: it is cut off at open, everything before it
/// stays, and the journal goes on after it.
#[test]
fn a_torn_journal_tail_is_cut_off() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let s = ObjectStore::open(dir.path()).expect("open");
        s.create_bucket("bkt", "us-east-1").expect("bucket");
        put(&s, "a", b"first");
        put(&s, "b", b"second");
        s.delete_object("bkt", "a").expect("delete");
    }
    let path = dir.path().join("bkt/o").join(&journal_files(dir.path())[0]);
    let whole = fs::metadata(&path).expect("meta").len();
    // Half of a frame for "c", then a frame whose bytes were not all written (bad CRC).
    let frame = journal::encode(&journal::Record::Put {
        info: &ObjectInfo::new("c", 1, "\"x\"".into(), PutObject::default(), String::new()),
        body: Some(b"c"),
    })
    .expect("frame");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(&frame[..frame.len() / 2]).expect("write");
    drop(f);
    let s = ObjectStore::open(dir.path()).expect("reopen");
    assert_eq!(fs::metadata(&path).expect("meta").len(), whole, "tail cut");
    let aside = dir
        .path()
        .join(format!("bkt/journal-cut-0000000000000001-{whole:016x}"));
    assert_eq!(
        fs::read(aside).expect("kept aside"),
        frame[..frame.len() / 2]
    );
    assert!(matches!(
        s.head_object("bkt", "a"),
        Err(ObjectError::NoSuchKey(_))
    ));
    assert!(matches!(
        s.head_object("bkt", "c"),
        Err(ObjectError::NoSuchKey(_))
    ));
    assert_eq!(&s.get_object("bkt", "b", None).expect("b").1[..], b"second");
    put(&s, "c", b"third");
    let mut corrupt = frame.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(&corrupt).expect("write");
    drop(f);
    drop(s);
    let s = ObjectStore::open(dir.path()).expect("reopen");
    assert_eq!(&s.get_object("bkt", "c", None).expect("c").1[..], b"third");
    assert_eq!(
        s.list(
            "bkt",
            &ListRequest {
                max_keys: 10,
                ..Default::default()
            }
        )
        .expect("list")
        .objects
        .len(),
        2
    );
}

/// Overwrites make a journal mostly garbage: it is rewritten into the next generation with the
/// live records only, reads go on (also of bytes opened before), and a reopen sees the same.
#[test]
fn a_mostly_garbage_journal_is_compacted() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Arc::new(ObjectStore::open_with(dir.path(), 64 * 1024).expect("open"));
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    put(&s, "keep", &[1u8; 1000]);
    put(&s, "big", &[2u8; INLINE_MAX + 10]);
    // A record as a reader holds it, pointing into the first generation.
    let before = s
        .bucket_ref("bkt")
        .expect("bucket")
        .get("keep")
        .expect("keep");
    // Writers overwrite and delete while compactions run under them.
    let writers: Vec<_> = (0..4u32)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..150u32 {
                    let value = format!("value {i:04} {}", "x".repeat(900));
                    put(&s, &format!("hot{t}"), value.as_bytes());
                    put(&s, &format!("gone{t}-{i}"), b"short-lived");
                    s.delete_object("bkt", &format!("gone{t}-{i}"))
                        .expect("delete");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    let files = journal_files(dir.path());
    assert_eq!(files.len(), 1);
    assert_ne!(
        files[0], "journal-0000000000000001.log",
        "compacted into a new generation"
    );
    let len = fs::metadata(dir.path().join("bkt/o").join(&files[0]))
        .expect("meta")
        .len();
    assert!(
        len < 160 * 1024,
        "journal holds about the live records: {len}"
    );
    assert_eq!(
        before.read_inline().expect("read").expect("inline")[..],
        [1u8; 1000]
    );
    let check = |s: &ObjectStore| {
        assert_eq!(
            &s.get_object("bkt", "keep", None).expect("keep").1[..],
            &[1u8; 1000]
        );
        assert_eq!(
            s.get_object("bkt", "big", None).expect("big").1.len(),
            INLINE_MAX + 10
        );
        for t in 0..4 {
            let hot = s
                .get_object("bkt", &format!("hot{t}"), Some((0, 9)))
                .expect("hot")
                .1;
            assert_eq!(&hot[..], b"value 0149");
        }
        let listed = s
            .list(
                "bkt",
                &ListRequest {
                    max_keys: 100,
                    ..Default::default()
                },
            )
            .expect("list");
        assert_eq!(listed.objects.len(), 6, "keep, big and four hot keys");
    };
    check(&s);
    drop(s);
    check(&ObjectStore::open(dir.path()).expect("reopen"));
}

/// A failed fsync fails every write it was to cover for good (a second fsync of the same file
/// proves nothing), and the next write first rewrites the journal into a new generation.
#[test]
fn a_failed_fsync_is_never_acknowledged_later() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = ObjectStore::open(dir.path()).expect("open");
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    put(&s, "a", b"one");
    put(&s, "b", &[3u8; INLINE_MAX + 1]);
    let b = s.bucket_ref("bkt").expect("bucket");
    b.journal
        .fail_syncs
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let failed = s.put_object(
        "bkt",
        "c",
        PutObject {
            data: Bytes::from_static(b"lost?"),
            ..Default::default()
        },
    );
    assert!(
        failed.is_err(),
        "a PUT whose fsync failed is not acknowledged"
    );
    let generation = b.journal.noted();
    assert!(b.journal.sync_through(generation).is_err(), "nor later");
    put(&s, "d", b"four");
    assert_eq!(journal_files(dir.path()), ["journal-0000000000000002.log"]);
    assert!(b.journal.sync_through(generation).is_err(), "still not");
    drop((b, s));
    let s = ObjectStore::open(dir.path()).expect("reopen");
    for (k, len) in [("a", 3), ("b", INLINE_MAX + 1), ("d", 4)] {
        assert_eq!(s.get_object("bkt", k, None).expect(k).1.len(), len);
    }
}

#[test]
fn records_of_the_old_layout_move_into_the_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = dir.path().join("bkt/o");
    fs::create_dir_all(&o).expect("mkdir");
    let info = BucketInfo {
        name: "bkt".into(),
        region: "us-east-1".into(),
        created_ms: 1,
    };
    fs::write(
        dir.path().join("bkt/bucket.json"),
        serde_json::to_vec(&info).expect("json"),
    )
    .expect("write");
    let data_file = format!("{}-0000000000000001.data", key_hash("old/key"));
    fs::write(o.join(&data_file), b"old bytes").expect("data");
    let record = ObjectInfo::new(
        "old/key",
        9,
        "\"e\"".into(),
        PutObject::default(),
        data_file.clone(),
    );
    fs::write(
        o.join(format!("{}.json", key_hash("old/key"))),
        serde_json::to_vec(&record).expect("json"),
    )
    .expect("record");
    for _ in 0..2 {
        let s = ObjectStore::open(dir.path()).expect("open");
        assert_eq!(
            &s.get_object("bkt", "old/key", None).expect("get").1[..],
            b"old bytes"
        );
        let mut names: Vec<String> = fs::read_dir(&o)
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                data_file.clone(),
                "journal-0000000000000002.log".to_string()
            ]
        );
    }
}

/// Small PUTs waiting for durability without a thread each, many at once and mixed with
/// blocking ones: every one answered is there after a reopen, with the last value per key.
#[test]
fn async_small_puts_share_syncs() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Arc::new(ObjectStore::open(dir.path()).expect("open"));
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..32u32 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..20u32 {
                    let put = PutObject {
                        data: Bytes::from(format!("{t}/{i}")),
                        ..Default::default()
                    };
                    s.put_object_async("bkt", &format!("k{t}"), put)
                        .await
                        .expect("put");
                }
            }));
        }
        let blocking = {
            let s = s.clone();
            tokio::task::spawn_blocking(move || {
                for i in 0..20u32 {
                    put(&s, "blocking", format!("b{i}").as_bytes());
                }
            })
        };
        for t in tasks {
            t.await.expect("task");
        }
        blocking.await.expect("blocking");
    });
    let b = s.bucket_ref("bkt").expect("bucket");
    assert!(
        b.journal.is_durable(b.journal.noted()),
        "every answered PUT was synced"
    );
    drop(b);
    drop(s);
    let s = ObjectStore::open(dir.path()).expect("reopen");
    for t in 0..32u32 {
        let got = s.get_object("bkt", &format!("k{t}"), None).expect("get").1;
        assert_eq!(&got[..], format!("{t}/19").as_bytes());
    }
    assert_eq!(
        &s.get_object("bkt", "blocking", None).expect("get").1[..],
        b"b19"
    );
}

/// The records' memory has a limit: a PUT of a new key beyond it is refused, overwrites that
/// do not grow and deletes pass, and a delete makes room again; nothing refused is stored.
#[test]
fn the_object_index_stays_within_its_limit() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = ObjectStore::open(dir.path()).expect("open");
    s.create_bucket("bkt", "us-east-1").expect("bucket");
    s.set_index_limit(16 * 1024);
    let mut stored = 0;
    let refused = loop {
        let put = PutObject {
            data: Bytes::from_static(b"x"),
            ..Default::default()
        };
        match s.put_object("bkt", &format!("key-{stored:04}"), put) {
            Ok(_) => stored += 1,
            Err(e) => break e,
        }
        assert!(stored < 1000, "never refused");
    };
    assert!(
        matches!(refused, ObjectError::IndexFull(16384)),
        "{refused:?}"
    );
    assert!(stored > 10, "only {stored} stored");
    assert!(s.index_bytes() <= 16 * 1024);
    let all = |s: &ObjectStore| {
        s.list(
            "bkt",
            &ListRequest {
                max_keys: 10_000,
                ..Default::default()
            },
        )
        .expect("list")
        .objects
        .len()
    };
    assert_eq!(all(&s), stored, "the refused PUT stored nothing");
    let big = PutObject {
        data: Bytes::from(vec![7u8; INLINE_MAX + 1]),
        ..Default::default()
    };
    assert!(matches!(
        s.put_object("bkt", "big-new-key", big),
        Err(ObjectError::IndexFull(_))
    ));
    let data_files = fs::read_dir(dir.path().join("bkt/o"))
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "data"))
        })
        .count();
    assert_eq!(data_files, 0, "a refused large PUT wrote no data file");
    put(&s, "key-0000", b"same size, new bytes");
    s.delete_object("bkt", "key-0001").expect("delete");
    put(&s, "another", b"fits again");
    drop(s);
    let s = ObjectStore::open(dir.path()).expect("reopen");
    assert_eq!(all(&s), stored);
}
