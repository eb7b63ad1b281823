//! Windows: tumbling, hopping, cumulating and session windows, window joins and Top-N, late rows, restarts, resharding.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tumbling_window_totals_match_hand_computed_answers() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    create(&log, "totals", 2);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    let out = run(
        &mut s,
        "INSERT INTO totals
         SELECT window_start, window_end, item, COUNT(*) AS bids, SUM(price) AS total
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item;",
    )
    .await;
    let Outcome::Job(id) = out else {
        panic!("expected a job, got {out:?}")
    };
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("y", 2.0, "2026-01-01 00:00:03"),
            bid("x", 3.0, "2026-01-01 00:00:09.999"),
            // Opens [10, 20) and moves the watermark to 00:00:11: [0, 10) fires.
            bid("x", 4.0, "2026-01-01 00:00:12"),
        ],
    )
    .await;
    assert_eq!(wait_for(&log, "totals", 2).await.len(), 2);
    put(
        &log,
        "bids",
        "a",
        &[
            // Late: its window has fired.
            bid("x", 100.0, "2026-01-01 00:00:05"),
            // Within the bound: still counted in [10, 20).
            bid("y", 5.0, "2026-01-01 00:00:11.5"),
            // Moves the watermark past 00:00:20: [10, 20) fires.
            bid("z", 6.0, "2026-01-01 00:00:21.5"),
        ],
    )
    .await;
    let mut got = wait_for(&log, "totals", 4).await;
    got.sort_by_key(|v| (v["window_start"].to_string(), v["item"].to_string()));
    assert_eq!(
        got,
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10", "item": "x", "bids": 2, "total": 4.0}),
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10", "item": "y", "bids": 1, "total": 2.0}),
            json!({"window_start": "2026-01-01 00:00:10", "window_end": "2026-01-01 00:00:20", "item": "x", "bids": 1, "total": 4.0}),
            json!({"window_start": "2026-01-01 00:00:10", "window_end": "2026-01-01 00:00:20", "item": "y", "bids": 1, "total": 5.0}),
        ]
    );
    // Counted once the read is processed (after its results are written): polled.
    until(&e, &id, "every record counted", |j| j.records_in == 7).await;
    let info = e.job(&id).unwrap();
    assert_eq!(info.late_dropped, 1);
    assert_eq!(info.records_out, 4);
    // The partition key is the PARTITIONED BY column.
    let recs = log
        .get_records(
            &log.shard_iterator(
                &key("totals"),
                "shardId-000000000000",
                &IteratorStart::TrimHorizon,
            )
            .unwrap(),
            None,
        )
        .unwrap();
    for r in recs.records {
        let v: Value = serde_json::from_slice(&r.data).unwrap();
        assert_eq!(v["item"].as_str().unwrap(), r.partition_key);
    }
    e.stop_job(&id, false).await.unwrap();
    assert_eq!(e.job(&id).unwrap().spec.state.as_str(), "CANCELED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_query_with_computed_and_metadata_columns() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 2);
    create(&log, "cheap", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE bids (
            item STRING,
            price DOUBLE,
            qty INT,
            cost AS price * qty,
            shard STRING METADATA FROM 'shard-id' VIRTUAL
        ) WITH ('connector' = 'kinesis', 'stream' = 'bids', 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE cheap (item STRING, cost DOUBLE, shard STRING) WITH ('connector' = 'kinesis', 'stream' = 'cheap', 'format' = 'json')",
    )
    .await;
    let id = match run(
        &mut s,
        "INSERT INTO cheap SELECT UPPER(item), cost, shard FROM bids WHERE cost < 10",
    )
    .await
    {
        Outcome::Job(id) => id,
        other => panic!("{other:?}"),
    };
    put(
        &log,
        "bids",
        "k1",
        &[
            json!({"item": "a", "price": 2.5, "qty": 2}),
            json!({"item": "b", "price": 20.0, "qty": 1}),
            json!({"item": "it's", "price": 1.0, "qty": 3, "extra": true}),
        ],
    )
    .await;
    let got = wait_for(&log, "cheap", 2).await;
    let shard = log.list_shards(&key("bids"), None).unwrap();
    let expected_shard = shard
        .iter()
        .find(|s| {
            let h = weir_log::hashing::partition_hash("k1");
            s.starting_hash_key <= h && h <= s.ending_hash_key
        })
        .unwrap()
        .shard_id
        .clone();
    assert_eq!(
        got,
        vec![
            json!({"item": "A", "cost": 5.0, "shard": expected_shard}),
            json!({"item": "IT'S", "cost": 3.0, "shard": expected_shard}),
        ]
    );
    e.stop_job(&id, false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_engine_resumes_jobs_without_losing_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    create(&log, "totals", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    run(
        &mut s,
        "INSERT INTO totals SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item",
    )
    .await;
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("x", 2.0, "2026-01-01 00:00:02"),
        ],
    )
    .await;
    // Wait until the job has read them (its checkpoint holds them in window state).
    let id = e.jobs()[0].spec.id.clone();
    until(&e, &id, "the job did not read its input", |j| {
        j.records_in >= 2 && j.checkpoints > 0
    })
    .await;
    e.shutdown().await;
    drop(e);
    // More rows while Weir is down, then a restart: the window holds rows from both sides.
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 3.0, "2026-01-01 00:00:03"),
            bid("x", 4.0, "2026-01-01 00:00:15"),
        ],
    )
    .await;
    let e = engine(dir.path(), &log);
    e.start().await;
    let got = wait_for(&log, "totals", 1).await;
    assert_eq!(
        got,
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10", "item": "x", "bids": 3, "total": 6.0})
        ]
    );
    assert_eq!(e.jobs()[0].spec.state.as_str(), "RUNNING");
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_checked_as_flink_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    let err = |r: weir_stream::Result<Outcome>| {
        let e = r.expect_err("should fail").to_string();
        eprintln!("{e}");
        e
    };
    assert!(err(s.execute(BIDS).await).contains("already exists in Catalog default_catalog"));
    assert!(err(s
        .execute("CREATE TABLE t (a INT) WITH ('connector' = 'nope')")
        .await)
    .contains("Could not find any factory for identifier 'nope'"));
    assert!(err(s
        .execute("CREATE TABLE t (a INT) WITH ('connector' = 'kinesis', 'stream' = 's', 'format' = 'json', 'bogus' = '1')")
        .await)
    .contains("Unsupported options found for 'kinesis'"));
    assert!(
        err(s.execute("INSERT INTO totals SELECT item FROM bids").await)
            .contains("Different number of columns")
    );
    assert!(err(s
        .execute("INSERT INTO totals SELECT item, item, item, COUNT(*), SUM(price) FROM bids GROUP BY item")
        .await)
    .contains("doesn't support consuming update changes"));
    assert!(
        err(s.execute("INSERT INTO totals SELECT * FROM nowhere").await)
            .contains("Object 'nowhere' not found")
    );
    match run(&mut s, "SHOW TABLES").await {
        Outcome::Rows(b) => assert_eq!(b.num_rows(), 2),
        other => panic!("{other:?}"),
    }
    match run(&mut s, "DESCRIBE bids").await {
        Outcome::Rows(b) => assert_eq!(b.num_rows(), 3),
        other => panic!("{other:?}"),
    }
    run(&mut s, "SET 'table.exec.source.idle-timeout' = '1 s'").await;
    assert_eq!(s.config()["table.exec.source.idle-timeout"], "1 s");
    // EXPLAIN plans (and checks) without starting a job.
    let explained = |o: Outcome| match o {
        Outcome::Rows(b) => {
            assert_eq!(b.schema().field(0).name(), "result");
            let a = b
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .unwrap();
            a.value(0).to_string()
        }
        other => panic!("{other:?}"),
    };
    let text = explained(
        run(
            &mut s,
            "EXPLAIN PLAN FOR INSERT INTO totals SELECT window_start, window_end, item, COUNT(*), SUM(price)
             FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
             GROUP BY window_start, window_end, item",
        )
        .await,
    );
    for part in [
        "== Abstract Syntax Tree ==",
        "== Optimized Physical Plan ==",
        "== Optimized Execution Plan ==",
        "LogicalSink(table=[default_catalog.default_database.totals]",
        "WatermarkAssigner(rowtime=[ts]",
        "TUMBLE(size=[10000 ms])",
        "keeps partial aggregates",
    ] {
        assert!(text.contains(part), "{part} not in {text}");
    }
    let text = explained(
        run(
            &mut s,
            "EXPLAIN CHANGELOG_MODE, ESTIMATED_COST SELECT item FROM bids WHERE price > 1",
        )
        .await,
    );
    assert!(text.contains("Filter"), "{text}");
    assert!(err(s.execute("EXPLAIN SELECT * FROM nowhere").await)
        .contains("Object 'nowhere' not found"));
    assert!(e.jobs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_restarts_from_its_checkpoint_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    run(
        &mut s,
        "SET 'restart-strategy.exponential-delay.initial-backoff' = '20 ms'",
    )
    .await;
    let insert = "INSERT INTO totals SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item";
    let Outcome::Job(id) = run(&mut s, insert).await else {
        panic!()
    };
    // The sink stream does not exist yet: the first window's write fails, the job restarts.
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("x", 2.0, "2026-01-01 00:00:12"),
        ],
    )
    .await;
    until(&e, &id, "the job did not fail", |j| {
        j.spec.state.as_str() == "RESTARTING"
    })
    .await;
    create(&log, "totals", 1);
    let got = wait_for(&log, "totals", 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["bids"], 1);
    assert_eq!(e.job(&id).unwrap().spec.state.as_str(), "RUNNING");
    e.stop_job(&id, false).await.unwrap();

    // With restarts off, the same failure ends the job.
    run(&mut s, "SET 'restart-strategy.type' = 'none'").await;
    run(&mut s, "CREATE TABLE lost (window_start TIMESTAMP(3), window_end TIMESTAMP(3), item STRING, bids BIGINT, total DOUBLE) WITH ('connector' = 'kinesis', 'stream' = 'missing', 'format' = 'json')").await;
    let Outcome::Job(id) = run(&mut s, &insert.replace("INTO totals", "INTO lost")).await else {
        panic!()
    };
    until(&e, &id, "the job did not fail", |j| {
        j.spec.state.as_str() == "FAILED"
    })
    .await;
    assert!(e.job(&id).unwrap().spec.error.unwrap().contains("missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_aggregates_joined_on_their_window_are_computed_per_window() {
    // Nexmark's q5 shape (over tumbling windows): the auctions with the most bids per window.
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "auction_bids", 1);
    create(&log, "hot", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, "CREATE TABLE bid (auction BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
        WITH ('connector' = 'kinesis', 'stream' = 'auction_bids', 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')").await;
    run(
        &mut s,
        "CREATE TABLE hot (auction BIGINT, num BIGINT, starttime TIMESTAMP(3))
        WITH ('connector' = 'kinesis', 'stream' = 'hot', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "INSERT INTO hot
        SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.starttime
        FROM (
            SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
            FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            GROUP BY auction, window_start, window_end
        ) AS AuctionBids
        JOIN (
            SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
            FROM (
                SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
                FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND))
                GROUP BY auction, window_start, window_end
            ) AS CountBids
            GROUP BY CountBids.starttime, CountBids.endtime
        ) AS MaxBids
        ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
           AND AuctionBids.num >= MaxBids.maxn",
    )
    .await;
    let b = |a: i64, s: u32| json!({"auction": a, "ts": format!("2026-01-01 00:00:{s:02}")});
    put(
        &log,
        "auction_bids",
        "k",
        &[
            b(1, 1),
            b(1, 2),
            b(2, 3),
            b(2, 11),
            b(3, 12),
            b(3, 13),
            b(2, 14),
            b(9, 25),
        ],
    )
    .await;
    let mut got = wait_for(&log, "hot", 3).await;
    got.sort_by_key(|v| (v["starttime"].to_string(), v["auction"].as_i64()));
    assert_eq!(
        got,
        vec![
            json!({"auction": 1, "num": 2, "starttime": "2026-01-01 00:00:00"}),
            json!({"auction": 2, "num": 2, "starttime": "2026-01-01 00:00:10"}),
            json!({"auction": 3, "num": 2, "starttime": "2026-01-01 00:00:10"}),
        ]
    );
    // A join not on the window bounds is refused.
    let err = s
        .execute("INSERT INTO hot SELECT a.auction, a.num, a.st FROM
            (SELECT auction, count(*) AS num, window_start AS st FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) a
            JOIN (SELECT auction, count(*) AS num FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) b
            ON a.auction = b.auction")
        .await
        .expect_err("a join of windows on other keys");
    assert!(err.to_string().contains("A join"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tables_union_and_window_join() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["persons", "auctions", "both", "joined"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    let table = |name: &str, stream: &str, cols: &str| {
        format!("CREATE TABLE {name} ({cols}, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
            WITH ('connector' = 'kinesis', 'stream' = '{stream}', 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')")
    };
    run(
        &mut s,
        &table("person", "persons", "id BIGINT, name STRING"),
    )
    .await;
    run(
        &mut s,
        &table("auction", "auctions", "seller BIGINT, item STRING"),
    )
    .await;
    run(&mut s, "CREATE TABLE both_out (who STRING) WITH ('connector' = 'kinesis', 'stream' = 'both', 'format' = 'json')").await;
    run(&mut s, "CREATE TABLE joined (id BIGINT, name STRING, item STRING, starttime TIMESTAMP(3)) WITH ('connector' = 'kinesis', 'stream' = 'joined', 'format' = 'json')").await;
    // UNION ALL of two streams: stateless, each row as it comes.
    run(
        &mut s,
        "INSERT INTO both_out SELECT name FROM person UNION ALL SELECT item FROM auction",
    )
    .await;
    // Nexmark q8's shape: people who opened auctions in the same 10-second window.
    run(
        &mut s,
        "INSERT INTO joined
        SELECT P.id, P.name, A.item, P.starttime FROM (
          SELECT id, name, window_start AS starttime, window_end AS endtime
          FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(ts), INTERVAL '10' SECOND))
          GROUP BY id, name, window_start, window_end
        ) P JOIN (
          SELECT seller, MAX(item) AS item, window_start AS starttime, window_end AS endtime
          FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(ts), INTERVAL '10' SECOND))
          GROUP BY seller, window_start, window_end
        ) A ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime",
    )
    .await;
    let at = |s: u32| format!("2026-01-01 00:00:{s:02}");
    put(
        &log,
        "persons",
        "p",
        &[
            json!({"id": 1, "name": "ann", "ts": at(1)}),
            json!({"id": 2, "name": "bob", "ts": at(2)}),
            json!({"id": 3, "name": "cid", "ts": at(12)}),
            json!({"id": 9, "name": "zed", "ts": at(30)}),
        ],
    )
    .await;
    put(
        &log,
        "auctions",
        "a",
        &[
            json!({"seller": 1, "item": "lamp", "ts": at(5)}),
            // Bob sells in the next window: no match.
            json!({"seller": 2, "item": "desk", "ts": at(11)}),
            json!({"seller": 3, "item": "sofa", "ts": at(15)}),
            json!({"seller": 9, "item": "late", "ts": at(31)}),
        ],
    )
    .await;
    let mut got = wait_for(&log, "joined", 2).await;
    got.sort_by_key(|v| v["id"].as_i64());
    assert_eq!(
        got,
        vec![
            json!({"id": 1, "name": "ann", "item": "lamp", "starttime": at(0)}),
            json!({"id": 3, "name": "cid", "item": "sofa", "starttime": at(10)}),
        ]
    );
    let mut both: Vec<String> = wait_for(&log, "both", 8)
        .await
        .iter()
        .map(|v| v["who"].as_str().unwrap().to_string())
        .collect();
    both.sort();
    assert_eq!(
        both,
        ["ann", "bob", "cid", "desk", "lamp", "late", "sofa", "zed"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_without_rows_hold_the_watermark_until_idle_and_restarts_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 2);
    create(&log, "totals", 1);
    let shards = log.list_shards(&key("bids"), None).unwrap();
    // A partition key for each shard.
    let key_for = |i: usize| {
        (0..1000)
            .map(|n| format!("k{n}"))
            .find(|k| {
                let h = weir_log::hashing::partition_hash(k);
                shards[i].starting_hash_key <= h && h <= shards[i].ending_hash_key
            })
            .unwrap()
    };
    let (k0, k1) = (key_for(0), key_for(1));
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    let insert = "INSERT INTO totals SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item";
    let Outcome::Job(id) = run(&mut s, insert).await else {
        panic!()
    };
    put(
        &log,
        "bids",
        &k0,
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("x", 2.0, "2026-01-01 00:00:25"),
        ],
    )
    .await;
    until(&e, &id, "the job did not read its input", |j| {
        j.records_in >= 2 && j.checkpoints > 0
    })
    .await;
    // Shard 1 has no rows: it holds the watermark back (no idle timeout), nothing fires.
    assert!(read(&log, "totals").is_empty());
    // A restart: shard 1, never read, is still read afterwards (from its first record).
    e.shutdown().await;
    drop(e);
    put(
        &log,
        "bids",
        &k1,
        &[
            bid("x", 3.0, "2026-01-01 00:00:02"),
            bid("y", 4.0, "2026-01-01 00:00:26"),
        ],
    )
    .await;
    let e = engine(dir.path(), &log);
    e.start().await;
    let got = wait_for(&log, "totals", 1).await;
    assert_eq!(
        got,
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10", "item": "x", "bids": 2, "total": 4.0})
        ]
    );
    e.stop_job(&id, true).await.unwrap();
    // Drained: the open windows fired too.
    let got = wait_for(&log, "totals", 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(e.job(&id).unwrap().spec.state.as_str(), "FINISHED");

    // With an idle timeout, a shard without rows stops holding the watermark back.
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, "SET 'table.exec.source.idle-timeout' = '50 ms'").await;
    run(
        &mut s,
        &BIDS
            .replace("TABLE bids", "TABLE bids2")
            .replace("'bids'", "'bids2'"),
    )
    .await;
    create(&log, "bids2", 2);
    create(&log, "totals2", 1);
    run(
        &mut s,
        &TOTALS
            .replace("TABLE totals", "TABLE totals2")
            .replace("'totals'", "'totals2'"),
    )
    .await;
    run(
        &mut s,
        &insert
            .replace("totals", "totals2")
            .replace("TABLE bids", "TABLE bids2"),
    )
    .await;
    put(
        &log,
        "bids2",
        &k0,
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("x", 2.0, "2026-01-01 00:00:25"),
        ],
    )
    .await;
    assert_eq!(wait_for(&log, "totals2", 1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_top_n_and_deduplication_run_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    create(&log, "top", 1);
    create(&log, "first", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, "CREATE TABLE top (window_start TIMESTAMP(3), item STRING, total DOUBLE, rownum BIGINT) WITH ('connector' = 'kinesis', 'stream' = 'top', 'format' = 'json')").await;
    run(&mut s, "CREATE TABLE first_bid (window_start TIMESTAMP(3), item STRING, price DOUBLE) WITH ('connector' = 'kinesis', 'stream' = 'first', 'format' = 'json')").await;
    // Flink's window Top-N: the two items with the highest totals per window.
    run(&mut s, "INSERT INTO top SELECT window_start, item, total, rownum FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY total DESC) AS rownum
        FROM (SELECT window_start, window_end, item, SUM(price) AS total
              FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
              GROUP BY window_start, window_end, item)
      ) WHERE rownum <= 2").await;
    // Flink's window deduplication: the first bid of each window.
    run(&mut s, "INSERT INTO first_bid SELECT window_start, item, price FROM (
        SELECT window_start, item, price, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ts ASC) AS rownum
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      ) WHERE rownum = 1").await;
    put(
        &log,
        "bids",
        "k",
        &[
            bid("a", 1.0, "2026-01-01 00:00:03"),
            bid("b", 5.0, "2026-01-01 00:00:01"),
            bid("c", 2.0, "2026-01-01 00:00:02"),
            bid("a", 3.0, "2026-01-01 00:00:04"),
            bid("z", 9.0, "2026-01-01 00:00:30"),
        ],
    )
    .await;
    let mut got = wait_for(&log, "top", 2).await;
    got.sort_by_key(|v| v["rownum"].as_i64());
    assert_eq!(
        got,
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "item": "b", "total": 5.0, "rownum": 1}),
            json!({"window_start": "2026-01-01 00:00:00", "item": "a", "total": 4.0, "rownum": 2}),
        ]
    );
    assert_eq!(
        wait_for(&log, "first", 1).await,
        vec![json!({"window_start": "2026-01-01 00:00:00", "item": "b", "price": 5.0}),]
    );
    // ROW_NUMBER over the whole stream by event time updates its results: a stream sink
    // refuses them.
    let err = s.execute("INSERT INTO first_bid SELECT ts, item, price FROM (
        SELECT ts, item, price, ROW_NUMBER() OVER (PARTITION BY item ORDER BY ts) AS rownum FROM bids) WHERE rownum = 1")
        .await.expect_err("updating top-n");
    assert!(
        err.to_string()
            .contains("doesn't support consuming update and delete changes"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_spanning_a_reshard_counts_parent_and_children_with_distinct_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(
        LogConfig {
            data_dir: dir.path().join("log"),
            create_delay_ms: 0,
            update_delay_ms: 0,
            ..LogConfig::default()
        },
        Arc::new(weir_log::SystemClock),
    )
    .unwrap();
    create(&log, "bids", 1);
    create(&log, "stats", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, "CREATE TABLE stats (window_start TIMESTAMP(3), n BIGINT, items BIGINT, approx_items BIGINT)
        WITH ('connector' = 'kinesis', 'stream' = 'stats', 'format' = 'json')").await;
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO stats
        SELECT window_start, COUNT(*), COUNT(DISTINCT item), approx_distinct(item)
        FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY window_start, window_end",
    )
    .await
    else {
        panic!()
    };
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("y", 1.0, "2026-01-01 00:00:02"),
        ],
    )
    .await;
    until(&e, &id, "the job did not read its input", |j| {
        j.records_in >= 2
    })
    .await;
    // Mid-window, the shard splits in two; the parent is read to its end, then its children.
    log.split_shard(
        &key("bids"),
        "shardId-000000000000",
        &(1u128 << 127).to_string(),
    )
    .unwrap();
    let children: Vec<_> = log
        .list_shards(&key("bids"), None)
        .unwrap()
        .into_iter()
        .filter(|s| s.parent_shard_id.is_some())
        .collect();
    assert_eq!(children.len(), 2);
    let key_for = |i: usize| {
        (0..1000)
            .map(|n| format!("k{n}"))
            .find(|k| {
                let h = weir_log::hashing::partition_hash(k);
                children[i].starting_hash_key <= h && h <= children[i].ending_hash_key
            })
            .unwrap()
    };
    put(
        &log,
        "bids",
        &key_for(0),
        &[
            bid("x", 1.0, "2026-01-01 00:00:05"),
            bid("z", 1.0, "2026-01-01 00:00:30"),
        ],
    )
    .await;
    put(
        &log,
        "bids",
        &key_for(1),
        &[
            bid("w", 1.0, "2026-01-01 00:00:06"),
            bid("z", 1.0, "2026-01-01 00:00:31"),
        ],
    )
    .await;
    let got = wait_for(&log, "stats", 1).await;
    assert_eq!(
        got,
        vec![json!({"window_start": "2026-01-01 00:00:00", "n": 4, "items": 3, "approx_items": 3})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_windows_and_group_window_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    let queries = [
        // Flink's SESSION window TVF, per item.
        "SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(SESSION(TABLE bids PARTITION BY item, DESCRIPTOR(ts), INTERVAL '5' SECOND))
         GROUP BY window_start, window_end, item",
        // The group window syntax: a SESSION per group key.
        "SELECT SESSION_START(ts, INTERVAL '5' SECOND), SESSION_END(ts, INTERVAL '5' SECOND),
                item, COUNT(*), SUM(price)
         FROM bids GROUP BY SESSION(ts, INTERVAL '5' SECOND), item",
        "SELECT TUMBLE_START(ts, INTERVAL '10' SECOND), TUMBLE_END(ts, INTERVAL '10' SECOND),
                item, COUNT(*), SUM(price)
         FROM bids GROUP BY item, TUMBLE(ts, INTERVAL '10' SECOND)",
        // Without PARTITION BY, sessions are still per GROUP BY key (a keyed operator).
        "SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(SESSION(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND))
         GROUP BY window_start, window_end, item",
        // KDA's stagger windows: each opens with its partition's first row and closes the
        // interval after it, however close the next row comes.
        "SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(STAGGER(TABLE bids PARTITION BY item, DESCRIPTOR(ts), INTERVAL '5' SECOND))
         GROUP BY window_start, window_end, item",
    ];
    for (i, q) in queries.iter().enumerate() {
        let sink = format!("out{i}");
        create(&log, &sink, 1);
        run(
            &mut s,
            &TOTALS
                .replace("totals", &sink)
                .replace("'stream' = 'totals'", &format!("'stream' = '{sink}'")),
        )
        .await;
        let Outcome::Job(_) = run(&mut s, &format!("INSERT INTO {sink} {q}")).await else {
            panic!("{q}: no job")
        };
    }
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("y", 2.0, "2026-01-01 00:00:02"),
            bid("x", 3.0, "2026-01-01 00:00:03"),
            bid("x", 4.0, "2026-01-01 00:00:10"),
            // Within a session's gap of x's last row, past the stagger window of its first.
            bid("x", 5.0, "2026-01-01 00:00:12"),
            bid("x", 6.0, "2026-01-01 00:00:16"),
            // The watermark passes 00:00:30: every session and window above closes.
            bid("z", 9.0, "2026-01-01 00:00:31"),
        ],
    )
    .await;
    let row = |s: &str, e: &str, item: &str, n: u64, t: f64| {
        json!({"window_start": format!("2026-01-01 00:00:{s}"),
               "window_end": format!("2026-01-01 00:00:{e}"),
               "item": item, "bids": n, "total": t})
    };
    let sessions = vec![
        row("01", "08", "x", 2, 4.0),
        row("02", "07", "y", 1, 2.0),
        row("10", "21", "x", 3, 15.0),
    ];
    let tumbling = vec![
        row("00", "10", "x", 2, 4.0),
        row("00", "10", "y", 1, 2.0),
        row("10", "20", "x", 3, 15.0),
    ];
    let stagger = vec![
        row("01", "06", "x", 2, 4.0),
        row("02", "07", "y", 1, 2.0),
        row("10", "15", "x", 2, 9.0),
        row("16", "21", "x", 1, 6.0),
    ];
    for (sink, want) in [
        ("out0", &sessions),
        ("out1", &sessions),
        ("out2", &tumbling),
        ("out3", &sessions),
        ("out4", &stagger),
    ] {
        let mut got = wait_for(&log, sink, want.len()).await;
        got.sort_by_key(|v| (v["window_start"].to_string(), v["item"].to_string()));
        assert_eq!(&got, want, "{sink}");
    }
}
