//! Lanes: a source's shards decoded and staged on several cores at once.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_run_in_lanes_and_each_shards_order_holds() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "events", 4);
    create(&log, "copied", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE events (k STRING, n INT) WITH ('connector' = 'kinesis',
            'stream' = 'events', 'aws.region' = 'us-east-1',
            'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json',
            'json.ignore-parse-errors' = 'true')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE copied (k STRING, n INT, twice INT) WITH ('connector' = 'kinesis',
            'stream' = 'copied', 'format' = 'json')",
    )
    .await;
    // Three lanes over four shards: one lane takes two shards' records.
    run(&mut s, "SET 'parallelism.default' = '3'").await;
    // Twelve keys spread over the shards; each key's rows in order, a bad record among them.
    let keys: Vec<String> = (0..12).map(|k| format!("key-{k}")).collect();
    for n in 0..150 {
        for k in &keys {
            put(&log, "events", k, &[json!({"k": k, "n": n})]).await;
        }
    }
    for k in &keys[..3] {
        let entry = PutEntry {
            partition_key: k.clone(),
            explicit_hash_key: None,
            data: Bytes::from_static(b"{not json"),
        };
        log.put_all(&key("events"), vec![entry]).await.unwrap();
    }
    let shards_used: std::collections::BTreeSet<String> = log
        .list_shards(&key("events"), None)
        .unwrap()
        .into_iter()
        .filter(|sh| {
            let it = log
                .shard_iterator(&key("events"), &sh.shard_id, &IteratorStart::TrimHorizon)
                .unwrap();
            !log.get_records(&it, Some(1)).unwrap().records.is_empty()
        })
        .map(|sh| sh.shard_id)
        .collect();
    assert!(shards_used.len() >= 3, "keys land on {shards_used:?}");
    // Only the columns the query reads are decoded.
    let plan = explain(
        &mut s,
        "INSERT INTO copied SELECT k, 0, 0 FROM events WHERE k <> 'x'",
    )
    .await;
    assert!(plan.contains("events, project=[k]]]"), "{plan}");
    // A watermark on a computed time column: the columns it is computed from are decoded.
    run(
        &mut s,
        "CREATE TABLE epochs (k STRING, e BIGINT, note STRING, ts AS TO_TIMESTAMP_LTZ(e, 3),
            WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = 'events', 'format' = 'json')",
    )
    .await;
    let plan = explain(&mut s, "INSERT INTO copied SELECT k, 0, 0 FROM epochs").await;
    assert!(plan.contains("epochs, project=[k, e]]]"), "{plan}");
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO copied SELECT k, n, n * 2 AS twice FROM events WHERE n >= 0",
    )
    .await
    else {
        panic!("no job")
    };
    let got = wait_for(&log, "copied", 12 * 150).await;
    assert_eq!(got.len(), 12 * 150);
    let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &got {
        assert_eq!(r["twice"], r["n"].as_i64().unwrap() * 2);
        seen.entry(r["k"].as_str().unwrap().to_string())
            .or_default()
            .push(r["n"].as_i64().unwrap());
    }
    for k in &keys {
        assert_eq!(seen[k], (0..150).collect::<Vec<i64>>(), "{k} out of order");
    }
    // The lanes' skipped records are summed.
    until(&e, &id, "three records skipped", |j| j.skipped == 3).await;
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lanes_aggregate_partially_and_windows_total_every_shard() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "ticks", 4);
    create(&log, "tick_totals", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE ticks (k STRING, n INT, note STRING, ts TIMESTAMP(3),
            WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = 'ticks', 'aws.region' = 'us-east-1',
            'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE tick_totals (k STRING, window_end TIMESTAMP(3), c BIGINT, s BIGINT)
         WITH ('connector' = 'kinesis', 'stream' = 'tick_totals', 'format' = 'json')",
    )
    .await;
    run(&mut s, "SET 'parallelism.default' = '2'").await;
    let sql = "INSERT INTO tick_totals SELECT k, window_end, COUNT(*), SUM(n)
         FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY k, window_start, window_end";
    // The note is not read: the lanes decode k, n and ts.
    let plan = explain(&mut s, sql).await;
    assert!(plan.contains("ticks, project=[k, n, ts]]]"), "{plan}");
    assert!(plan.contains("keeps partial aggregates per pane"), "{plan}");
    let Outcome::Job(id) = run(&mut s, sql).await else {
        panic!("no job")
    };
    // Sixteen keys over four shards (a shard without rows would hold the watermark back),
    // each key's times rising by half a second; then a row at 45 s per key closes the
    // windows up to 30 s.
    let keys: Vec<String> = (0..16).map(|k| format!("key-{k}")).collect();
    let entry = |k: &String, row: Value| PutEntry {
        partition_key: k.clone(),
        explicit_hash_key: None,
        data: Bytes::from(row.to_string()),
    };
    for n in 0..60 {
        let ts = format!(
            "2026-01-01 00:00:{:02}.{}",
            n / 2,
            if n % 2 == 0 { 0 } else { 5 }
        );
        let rows = keys
            .iter()
            .map(|k| entry(k, json!({"k": k, "n": n, "note": "x", "ts": ts})))
            .collect();
        log.put_all(&key("ticks"), rows).await.unwrap();
    }
    let closing = keys
        .iter()
        .map(|k| entry(k, json!({"k": k, "n": 1000, "ts": "2026-01-01 00:00:45"})))
        .collect();
    let placed = log.put_all(&key("ticks"), closing).await.unwrap();
    let shards: std::collections::BTreeSet<String> =
        placed.iter().map(|r| r.shard_id.clone()).collect();
    assert_eq!(shards.len(), 4, "keys land on {shards:?}");
    let got = wait_for(&log, "tick_totals", 16 * 3).await;
    // Window [40 s, 50 s) stays open: its states are held (and counted).
    until(&e, &id, "state held", |j| j.state_bytes > 0).await;
    assert_eq!(got.len(), 16 * 3, "{got:?}");
    let mut totals: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in &got {
        let at = (
            r["k"].as_str().unwrap().to_string(),
            r["window_end"].as_str().unwrap().to_string(),
        );
        totals.insert(at, (r["c"].as_i64().unwrap(), r["s"].as_i64().unwrap()));
    }
    for k in &keys {
        for (end, sum) in [("10", 190), ("20", 590), ("30", 990)] {
            let at = (k.clone(), format!("2026-01-01 00:00:{end}"));
            assert_eq!(totals.get(&at), Some(&(20, sum)), "{at:?} in {totals:?}");
        }
    }
    // A row for a window already fired is dropped and counted (in a lane).
    put(
        &log,
        "ticks",
        "key-0",
        &[json!({"k": "key-0", "n": 1, "ts": "2026-01-01 00:00:05"})],
    )
    .await;
    until(&e, &id, "one late row", |j| j.late_dropped == 1).await;
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_aggregates_keep_groups_split_by_key_and_each_keys_changes_in_order() {
    use weir_stream::changelog::{INSERT, UPDATE_AFTER, UPDATE_BEFORE};
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 2);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    // Three parts of the groups, over two shards.
    run(&mut s, "SET 'parallelism.default' = '3'").await;
    let Outcome::Query { rows, .. } =
        run(&mut s, "SELECT item, COUNT(*) AS n FROM bids GROUP BY item").await
    else {
        panic!("no query")
    };
    // Item k gets k + 1 bids, over several puts (several reads, several changes per key).
    let items: Vec<String> = (0..24).map(|k| format!("item-{k}")).collect();
    for round in 0..24 {
        let batch: Vec<Value> = items
            .iter()
            .enumerate()
            .filter(|(k, _)| *k >= round)
            .map(|(_, i)| bid(i, 1.0, "2026-01-01 00:00:01"))
            .collect();
        put(&log, "bids", &format!("pk-{round}"), &batch).await;
    }
    let mut got = Vec::new();
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        collected(&rows, &mut got);
        last.clear();
        for (kind, row) in &got {
            let v: Value = serde_json::from_str(row).unwrap();
            if *kind != UPDATE_BEFORE {
                last.insert(v["item"].as_str().unwrap().into(), v["n"].as_i64().unwrap());
            }
        }
        if (0..24).all(|k| last.get(&items[k]) == Some(&(k as i64 + 1))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (k, item) in items.iter().enumerate() {
        assert_eq!(last.get(item), Some(&(k as i64 + 1)), "{item}");
        // Per key: one insert first, then retract/update pairs whose counts rise.
        let changes: Vec<(i8, i64)> = got
            .iter()
            .map(|(kind, row)| (*kind, serde_json::from_str::<Value>(row).unwrap()))
            .filter(|(_, v)| v["item"] == item.as_str())
            .map(|(kind, v)| (kind, v["n"].as_i64().unwrap()))
            .collect();
        assert_eq!(changes[0].0, INSERT, "{item}: {changes:?}");
        for pair in changes[1..].chunks(2) {
            assert_eq!(pair[0].0, UPDATE_BEFORE, "{item}: {changes:?}");
            assert_eq!(pair[1].0, UPDATE_AFTER, "{item}: {changes:?}");
            assert!(pair[1].1 > pair[0].1, "{item}: {changes:?}");
        }
    }
    e.shutdown().await;
}
