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
    let Outcome::Rows(plan) = run(
        &mut s,
        "EXPLAIN INSERT INTO copied SELECT k, 0, 0 FROM events WHERE k <> 'x'",
    )
    .await
    else {
        panic!("no plan")
    };
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(&[plan])
        .unwrap()
        .to_string();
    assert!(plan.contains("events, project=[k]]]"), "{plan}");
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
