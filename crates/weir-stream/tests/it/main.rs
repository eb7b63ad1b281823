//! The streaming engine driven through Flink SQL sessions over a real Weir log: window
//! semantics against hand-computed answers, stateless queries, restart from a checkpoint.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on failure

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use weir_log::{CreateStream, IteratorStart, Log, LogConfig, PutEntry, StreamKey, StreamMode};
use weir_stream::{Engine, EngineConfig, Outcome, Session};

fn open_log(dir: &Path) -> Log {
    Log::open(
        LogConfig {
            data_dir: dir.join("log"),
            create_delay_ms: 0,
            ..LogConfig::default()
        },
        Arc::new(weir_log::SystemClock),
    )
    .expect("open log")
}

fn engine(dir: &Path, log: &Log) -> Engine {
    Engine::open(
        EngineConfig {
            dir: dir.join("stream"),
            default_region: "us-east-1".into(),
            checkpoint_interval: Duration::from_millis(50),
        },
        log.clone(),
        None,
        None,
    )
    .expect("engine")
}

fn key(name: &str) -> StreamKey {
    StreamKey::new("us-east-1", name)
}

fn create(log: &Log, name: &str, shards: u32) {
    log.create_stream(CreateStream {
        key: key(name),
        shard_count: Some(shards),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: None,
    })
    .expect("create");
}

async fn put(log: &Log, name: &str, pk: &str, rows: &[Value]) {
    let entries = rows
        .iter()
        .map(|r| PutEntry {
            partition_key: pk.into(),
            explicit_hash_key: None,
            data: Bytes::from(r.to_string()),
        })
        .collect();
    log.put_all(&key(name), entries).await.expect("put");
}

/// Every record of every shard of a stream, as JSON.
fn read(log: &Log, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for sh in log.list_shards(&key(name), None).unwrap() {
        let mut it = log
            .shard_iterator(&key(name), &sh.shard_id, &IteratorStart::TrimHorizon)
            .unwrap();
        loop {
            let r = log.get_records(&it, Some(10_000)).unwrap();
            if r.records.is_empty() {
                break;
            }
            for rec in r.records {
                out.push(serde_json::from_slice(&rec.data).unwrap());
            }
            match r.next_iterator {
                Some(n) => it = n,
                None => break,
            }
        }
    }
    out
}

/// Polls the output stream until it holds `n` records (or a deadline passes).
async fn wait_for(log: &Log, name: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = read(log, name);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until `done` holds for the job (or fails at a deadline).
async fn until(e: &Engine, id: &str, what: &str, done: impl Fn(&weir_stream::JobInfo) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(&e.job(id).expect("job")) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn run(s: &mut Session, sql: &str) -> Outcome {
    s.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const BIDS: &str = "CREATE TABLE bids (
    item STRING,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
    'connector' = 'kinesis',
    'stream' = 'bids',
    'aws.region' = 'us-east-1',
    'scan.stream.initpos' = 'TRIM_HORIZON',
    'format' = 'json'
)";

const TOTALS: &str = "CREATE TABLE totals (
    window_start TIMESTAMP(3),
    window_end TIMESTAMP(3),
    item STRING,
    bids BIGINT,
    total DOUBLE
) PARTITIONED BY (item) WITH (
    'connector' = 'kinesis',
    'stream' = 'totals',
    'format' = 'json'
)";

fn bid(item: &str, price: f64, ts: &str) -> Value {
    json!({"item": item, "price": price, "ts": ts})
}

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
    // ROW_NUMBER over the whole stream by event time (its results update) is refused.
    let err = s.execute("INSERT INTO first_bid SELECT ts, item, price FROM (
        SELECT ts, item, price, ROW_NUMBER() OVER (PARTITION BY item ORDER BY ts) AS rownum FROM bids) WHERE rownum = 1")
        .await.expect_err("updating top-n");
    assert!(err.to_string().contains("ordered by event time"), "{err}");
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
            // The watermark passes 00:00:20: every session and window above closes.
            bid("z", 9.0, "2026-01-01 00:00:21"),
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
        row("10", "15", "x", 1, 4.0),
    ];
    let tumbling = vec![
        row("00", "10", "x", 2, 4.0),
        row("00", "10", "y", 1, 2.0),
        row("10", "20", "x", 1, 4.0),
    ];
    for (sink, want) in [
        ("out0", &sessions),
        ("out1", &sessions),
        ("out2", &tumbling),
        ("out3", &sessions),
    ] {
        let mut got = wait_for(&log, sink, want.len()).await;
        got.sort_by_key(|v| (v["window_start"].to_string(), v["item"].to_string()));
        assert_eq!(&got, want, "{sink}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_joins_meet_each_pair_once_within_the_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["orders", "shipments", "matched", "paired"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    let table = |name: &str, cols: &str, time: &str| {
        format!(
            "CREATE TABLE {name} ({cols}, WATERMARK FOR {time} AS {time} - INTERVAL '1' SECOND)
             WITH ('connector' = 'kinesis', 'stream' = '{name}', 'aws.region' = 'us-east-1',
                   'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')"
        )
    };
    run(
        &mut s,
        &table(
            "orders",
            "id INT, item STRING, order_time TIMESTAMP(3)",
            "order_time",
        ),
    )
    .await;
    run(
        &mut s,
        &table(
            "shipments",
            "order_id INT, ship_time TIMESTAMP(3)",
            "ship_time",
        ),
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE matched (id INT, item STRING, order_time TIMESTAMP(3), ship_time TIMESTAMP(3))
         WITH ('connector' = 'kinesis', 'stream' = 'matched', 'format' = 'json')",
    )
    .await;
    // Regular and outer joins of streams are refused, naming what they are.
    for (q, want) in [
        ("SELECT o.id, o.item, o.order_time, s.ship_time FROM orders o LEFT JOIN shipments s ON o.id = s.order_id", "outer join of streams without time bounds"),
        ("SELECT o.id, o.item, o.order_time, s.ship_time FROM orders o LEFT JOIN shipments s ON o.id = s.order_id AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time", "outer interval join"),
    ] {
        let err = s.execute(&format!("INSERT INTO matched {q}")).await.expect_err(q).to_string();
        assert!(err.contains(want), "{q}: {err}");
    }
    // The Flink docs' interval join.
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO matched SELECT o.id, o.item, o.order_time, s.ship_time
         FROM orders o, shipments s
         WHERE o.id = s.order_id AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time",
    )
    .await
    else {
        panic!("no job")
    };
    let order = |id: i32, t: &str| json!({"id": id, "item": format!("i{id}"), "order_time": format!("2026-01-01 {t}")});
    let ship = |id: i32, t: &str| json!({"order_id": id, "ship_time": format!("2026-01-01 {t}")});
    // A regular join (no time bounds): every pair, rows kept (table.exec.state.ttl unset).
    run(
        &mut s,
        "CREATE TABLE paired (id INT, item STRING, order_time TIMESTAMP(3), ship_time TIMESTAMP(3))
         WITH ('connector' = 'kinesis', 'stream' = 'paired', 'format' = 'json')",
    )
    .await;
    let Outcome::Job(regular) = run(
        &mut s,
        "INSERT INTO paired SELECT o.id, o.item, o.order_time, s.ship_time
         FROM orders o JOIN shipments s ON o.id = s.order_id",
    )
    .await
    else {
        panic!("no job")
    };
    // Shipments may be read before or after the orders (no row is late either way): each
    // pair meets once.
    put(
        &log,
        "orders",
        "a",
        &[
            order(1, "00:00:00"),
            order(2, "01:00:00"),
            order(3, "05:00:00"),
        ],
    )
    .await;
    put(
        &log,
        "shipments",
        "a",
        &[
            ship(3, "05:30:00"),
            ship(1, "03:00:00"),
            ship(2, "06:00:00"),
            ship(1, "10:00:00"),
        ],
    )
    .await;
    // A later order meets nothing kept (the shipments above are past its bounds).
    put(&log, "orders", "a", &[order(1, "11:00:00")]).await;
    until(&e, &id, "every record read", |j| j.records_in == 8).await;
    until(&e, &regular, "every record read", |j| j.records_in == 8).await;
    assert_eq!(read(&log, "paired").len(), 6);
    let mut got = read(&log, "matched");
    got.sort_by_key(|v| v["id"].as_i64());
    assert_eq!(
        got,
        vec![
            json!({"id": 1, "item": "i1", "order_time": "2026-01-01 00:00:00", "ship_time": "2026-01-01 03:00:00"}),
            json!({"id": 3, "item": "i3", "order_time": "2026-01-01 05:00:00", "ship_time": "2026-01-01 05:30:00"}),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_windows_emit_each_row_once_the_watermark_passes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["orders", "sums", "sums2", "sums3"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE orders (order_id INT, product STRING, amount INT, order_time TIMESTAMP(3),
           WATERMARK FOR order_time AS order_time - INTERVAL '1' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = 'orders', 'aws.region' = 'us-east-1',
               'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    for sink in ["sums", "sums2", "sums3"] {
        run(
            &mut s,
            &format!(
                "CREATE TABLE {sink} (order_id INT, order_time TIMESTAMP(3), amount INT, s BIGINT)
                 WITH ('connector' = 'kinesis', 'stream' = '{sink}', 'format' = 'json')"
            ),
        )
        .await;
    }
    let err = s
        .execute(
            "INSERT INTO sums SELECT order_id, order_time, amount, SUM(amount) OVER (PARTITION BY
             product ORDER BY order_time) FROM orders",
        )
        .await
        .expect_err("unbounded")
        .to_string();
    assert!(err.contains("UNBOUNDED PRECEDING"), "{err}");
    for (q, want) in [
        // The marker of rows to emit would be lost in the subquery.
        (
            "SELECT order_id, order_time, amount, SUM(amount) OVER (PARTITION BY product ORDER BY
          order_time RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)
          FROM (SELECT order_id, product, amount, order_time FROM orders)",
            "subquery",
        ),
        (
            "SELECT order_id, order_time, amount, ROW_NUMBER() OVER (PARTITION BY product ORDER BY
          order_time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM orders",
            "Top-N over the stream",
        ),
        (
            "SELECT order_id, order_time, amount, SUM(amount) OVER (PARTITION BY product ORDER BY
          order_time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM orders WHERE amount > 1",
            "ROWS of a filtered table",
        ),
    ] {
        let err = s
            .execute(&format!("INSERT INTO sums {q}"))
            .await
            .expect_err(q)
            .to_string();
        assert!(err.contains(want), "{q}: {err}");
    }
    // The Flink docs' OVER aggregation, inline and as a named window.
    run(
        &mut s,
        "INSERT INTO sums SELECT order_id, order_time, amount,
           SUM(amount) OVER (PARTITION BY product ORDER BY order_time
             RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW) AS one_hour_prod_amount_sum
         FROM orders",
    )
    .await;
    run(
        &mut s,
        "INSERT INTO sums2 SELECT order_id, order_time, amount, SUM(amount) OVER w
         FROM orders
         WINDOW w AS (PARTITION BY product ORDER BY order_time
                      RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)",
    )
    .await;
    run(
        &mut s,
        "INSERT INTO sums3 SELECT order_id, order_time, amount, SUM(amount) OVER (PARTITION BY
           product ORDER BY order_time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM orders",
    )
    .await;
    let order = |id: i32, p: &str, amount: i32, t: &str| json!({"order_id": id, "product": p, "amount": amount, "order_time": format!("2026-01-01 {t}")});
    put(
        &log,
        "orders",
        "a",
        &[
            order(1, "p1", 10, "00:00:00"),
            order(2, "p1", 20, "00:30:00"),
            order(3, "p2", 5, "00:40:00"),
            // Moves the watermark to 00:59:59: rows 1–3 are emitted.
            order(4, "p1", 30, "01:00:00"),
        ],
    )
    .await;
    assert_eq!(wait_for(&log, "sums", 3).await.len(), 3);
    put(
        &log,
        "orders",
        "a",
        &[
            // The same time as row 4: each is in the other's frame.
            order(5, "p1", 1, "01:00:00"),
            order(6, "p1", 2, "01:45:00"),
            // Moves the watermark to 02:59:59: rows 4–6 are emitted, row 7 waits.
            order(7, "p2", 7, "03:00:00"),
        ],
    )
    .await;
    let want: Vec<(i64, i64)> = vec![(1, 10), (2, 30), (3, 5), (4, 61), (5, 61), (6, 33)];
    for sink in ["sums", "sums2", "sums3"] {
        wait_for(&log, sink, 6).await;
    }
    for job in e.jobs() {
        until(&e, &job.spec.id, "every record read", |j| j.records_in == 7).await;
    }
    for sink in ["sums", "sums2"] {
        let mut got: Vec<(i64, i64)> = read(&log, sink)
            .iter()
            .map(|v| (v["order_id"].as_i64().unwrap(), v["s"].as_i64().unwrap()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{sink}");
    }
    // ROWS BETWEEN 1 PRECEDING: the row before in its partition (rows 4 and 5 tie in time).
    let mut got: Vec<(i64, i64)> = read(&log, "sums3")
        .iter()
        .map(|v| (v["order_id"].as_i64().unwrap(), v["s"].as_i64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got.len(), 6);
    assert_eq!(got[..3], [(1, 10), (2, 30), (3, 5)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hopping_windows_keep_partial_aggregates_that_merge_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    create(&log, "stats", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(
        &mut s,
        "CREATE TABLE stats (window_start TIMESTAMP(3), window_end TIMESTAMP(3), item STRING,
           n BIGINT, mean DOUBLE, lo DOUBLE, hi DOUBLE, d BIGINT)
         WITH ('connector' = 'kinesis', 'stream' = 'stats', 'format' = 'json')",
    )
    .await;
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO stats SELECT window_start, window_end, item, COUNT(*), AVG(price),
           MIN(price), MAX(price), COUNT(DISTINCT price)
         FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item",
    )
    .await
    else {
        panic!("no job")
    };
    // 40 puts, read in however many batches: a pane's states are merged as they pile up.
    for i in 0..40 {
        let item = if i % 2 == 0 { "x" } else { "y" };
        let ms = i * 250;
        let ts = format!("2026-01-01 00:00:{:02}.{:03}", ms / 1000, ms % 1000);
        put(&log, "bids", "a", &[bid(item, i as f64, &ts)]).await;
    }
    put(&log, "bids", "a", &[bid("z", 0.0, "2026-01-01 00:00:20")]).await;
    until(&e, &id, "every record read", |j| j.records_in == 41).await;
    let mut got = read(&log, "stats");
    got.sort_by_key(|v| (v["window_start"].to_string(), v["item"].to_string()));
    let row = |s: &str, e: &str, item: &str, n: u64, mean: f64, lo: f64, hi: f64| {
        json!({"window_start": format!("2026-01-01 {s}"), "window_end": format!("2026-01-01 {e}"),
               "item": item, "n": n, "mean": mean, "lo": lo, "hi": hi, "d": n})
    };
    assert_eq!(
        got,
        vec![
            json!({"window_start": "2025-12-31 23:59:55", "window_end": "2026-01-01 00:00:05",
                   "item": "x", "n": 10, "mean": 9.0, "lo": 0.0, "hi": 18.0, "d": 10}),
            json!({"window_start": "2025-12-31 23:59:55", "window_end": "2026-01-01 00:00:05",
                   "item": "y", "n": 10, "mean": 10.0, "lo": 1.0, "hi": 19.0, "d": 10}),
            row("00:00:00", "00:00:10", "x", 20, 19.0, 0.0, 38.0),
            row("00:00:00", "00:00:10", "y", 20, 20.0, 1.0, 39.0),
            row("00:00:05", "00:00:15", "x", 10, 29.0, 20.0, 38.0),
            row("00:00:05", "00:00:15", "y", 10, 30.0, 21.0, 39.0),
        ]
    );
}

/// Rows collected so far from an interactive query, as (kind, row as JSON text).
fn collected(rows: &weir_stream::sink::Collector, into: &mut Vec<(i8, String)>) {
    for b in rows.take() {
        let (b, kinds) = weir_stream::changelog::split_kinds(&b);
        let lines = weir_stream::sink::encode_json(&b).unwrap();
        for (l, k) in lines.into_iter().zip(kinds) {
            into.push((k, String::from_utf8(l).unwrap()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_aggregates_send_a_changelog_to_queries() {
    use weir_stream::changelog::{INSERT, UPDATE_AFTER, UPDATE_BEFORE};
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    let Outcome::Query { rows, .. } = run(
        &mut s,
        "SELECT item, COUNT(*) AS n, SUM(price) AS total FROM bids GROUP BY item",
    )
    .await
    else {
        panic!("no query")
    };
    let Outcome::Query { rows: all, .. } = run(&mut s, "SELECT COUNT(*) AS n FROM bids").await
    else {
        panic!("no query")
    };
    // HAVING: a group is shown while it passes, deleted when it stops passing.
    let Outcome::Query { rows: small, .. } = run(
        &mut s,
        "SELECT item, SUM(price) AS total FROM bids GROUP BY item HAVING SUM(price) < 3",
    )
    .await
    else {
        panic!("no query")
    };
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("y", 2.0, "2026-01-01 00:00:02"),
        ],
    )
    .await;
    let (mut got, mut total) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while (got.len() < 2 || total.is_empty()) && Instant::now() < deadline {
        collected(&rows, &mut got);
        collected(&all, &mut total);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            (INSERT, r#"{"item":"x","n":1,"total":1.0}"#.to_string()),
            (INSERT, r#"{"item":"y","n":1,"total":2.0}"#.to_string()),
        ]
    );
    // A changed group is retracted and updated; an unchanged one says nothing.
    put(&log, "bids", "a", &[bid("x", 3.0, "2026-01-01 00:00:03")]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while (got.len() < 4 || total.len() < 3) && Instant::now() < deadline {
        collected(&rows, &mut got);
        collected(&all, &mut total);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        got[2..],
        [
            (
                UPDATE_BEFORE,
                r#"{"item":"x","n":1,"total":1.0}"#.to_string()
            ),
            (
                UPDATE_AFTER,
                r#"{"item":"x","n":2,"total":4.0}"#.to_string()
            ),
        ]
    );
    let mut kept = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while kept.len() < 3 && Instant::now() < deadline {
        collected(&small, &mut kept);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kept[..2].sort();
    assert_eq!(
        kept,
        [
            (INSERT, r#"{"item":"x","total":1.0}"#.to_string()),
            (INSERT, r#"{"item":"y","total":2.0}"#.to_string()),
            (
                weir_stream::changelog::DELETE,
                r#"{"item":"x","total":1.0}"#.to_string()
            ),
        ]
    );
    // A global aggregate: inserted once, then retracted and updated.
    assert_eq!(
        total,
        [
            (INSERT, r#"{"n":2}"#.to_string()),
            (UPDATE_BEFORE, r#"{"n":2}"#.to_string()),
            (UPDATE_AFTER, r#"{"n":3}"#.to_string()),
        ]
    );
    // Sinks that take no updates refuse them, as Flink does; print and blackhole take them.
    run(&mut s, TOTALS).await;
    run(
        &mut s,
        "CREATE TABLE counts (item STRING, n BIGINT) WITH ('connector' = 'blackhole')",
    )
    .await;
    run(
        &mut s,
        "INSERT INTO counts SELECT item, COUNT(*) FROM bids GROUP BY item",
    )
    .await;
    let err = s
        .execute("INSERT INTO totals SELECT item, item, item, COUNT(*), SUM(price) FROM bids GROUP BY item")
        .await
        .expect_err("kinesis takes no updates")
        .to_string();
    assert!(
        err.contains("doesn't support consuming update changes"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_expand_into_the_queries_that_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids", 1);
    create(&log, "totals", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    run(&mut s, TOTALS).await;
    // A view over a view, one of them reading a window.
    run(
        &mut s,
        "CREATE VIEW big_bids AS SELECT item, price * 2 AS price, ts FROM bids WHERE price > 1",
    )
    .await;
    run(
        &mut s,
        "CREATE TEMPORARY VIEW IF NOT EXISTS windowed (ws, we, item, n, total) AS
         SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item",
    )
    .await;
    let err = s
        .execute("CREATE VIEW big_bids AS SELECT 1 FROM bids")
        .await
        .expect_err("exists")
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    let err = s
        .execute("CREATE VIEW broken AS SELECT nope FROM bids")
        .await
        .expect_err("checked")
        .to_string();
    assert!(err.contains("nope"), "{err}");
    match run(&mut s, "SHOW VIEWS").await {
        Outcome::Rows(b) => assert_eq!(b.num_rows(), 2),
        other => panic!("{other:?}"),
    }
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO totals SELECT ws, we, item, n, total FROM windowed WHERE item <> 'z'",
    )
    .await
    else {
        panic!("no job")
    };
    let Outcome::Query { rows, .. } = run(&mut s, "SELECT item, price FROM big_bids").await else {
        panic!("no query")
    };
    put(
        &log,
        "bids",
        "a",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("x", 3.0, "2026-01-01 00:00:02"),
            bid("z", 9.0, "2026-01-01 00:00:21"),
        ],
    )
    .await;
    until(&e, &id, "every record read", |j| j.records_in == 3).await;
    assert_eq!(
        read(&log, "totals"),
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10",
                    "item": "x", "bids": 2, "total": 4.0})
        ]
    );
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < 2 && Instant::now() < deadline {
        collected(&rows, &mut got);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        got.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(),
        [
            r#"{"item":"x","price":6.0}"#,
            r#"{"item":"z","price":18.0}"#
        ]
    );
    // The job keeps its views across a restart.
    assert!(e.job(&id).unwrap().spec.views.contains_key("windowed"));
    // A window over a view (Nexmark's style: views over one table, windows over the views).
    create(&log, "view_totals", 1);
    run(
        &mut s,
        "CREATE TABLE view_totals (window_start TIMESTAMP(3), window_end TIMESTAMP(3),
           item STRING, bids BIGINT, total DOUBLE)
         WITH ('connector' = 'kinesis', 'stream' = 'view_totals', 'format' = 'json')",
    )
    .await;
    let Outcome::Job(over_view) = run(
        &mut s,
        "INSERT INTO view_totals SELECT window_start, window_end, item, COUNT(*), SUM(price)
         FROM TABLE(TUMBLE(TABLE big_bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
         GROUP BY window_start, window_end, item",
    )
    .await
    else {
        panic!("no job")
    };
    until(&e, &over_view, "every record read", |j| j.records_in == 3).await;
    // big_bids doubles prices over 1: x's 3.0 only (6.0), in [0, 10).
    assert_eq!(
        read(&log, "view_totals"),
        vec![
            json!({"window_start": "2026-01-01 00:00:00", "window_end": "2026-01-01 00:00:10",
                    "item": "x", "bids": 1, "total": 6.0})
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_without_tables_run_once_and_finish() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "totals", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, TOTALS).await;
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO totals VALUES
           (TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 00:00:10', 'x', 2, 4.5),
           (TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 00:00:10', 'y', 1, 1.0)",
    )
    .await
    else {
        panic!("no job")
    };
    until(&e, &id, "finished", |j| j.spec.state.as_str() == "FINISHED").await;
    assert_eq!(read(&log, "totals").len(), 2);
    let Outcome::Query { job, rows } = run(&mut s, "SELECT 1 AS one, 'a' AS two").await else {
        panic!("no query")
    };
    until(&e, &job, "finished", |j| {
        j.spec.state.as_str() == "FINISHED"
    })
    .await;
    let mut got = Vec::new();
    collected(&rows, &mut got);
    assert_eq!(got, [(0, r#"{"one":1,"two":"a"}"#.to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_set_runs_its_inserts_as_one_job() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["bids", "a_out", "b_out", "c_out"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, BIDS).await;
    for t in ["a_out", "b_out", "c_out"] {
        run(
            &mut s,
            &format!(
                "CREATE TABLE {t} (item STRING, price DOUBLE)
                 WITH ('connector' = 'kinesis', 'stream' = '{t}', 'format' = 'json')"
            ),
        )
        .await;
    }
    let Outcome::Job(id) = run(
        &mut s,
        "EXECUTE STATEMENT SET BEGIN
           INSERT INTO a_out SELECT item, price FROM bids WHERE price < 2;
           INSERT INTO b_out SELECT item, price FROM bids WHERE price >= 2;
         END;",
    )
    .await
    else {
        panic!("no job")
    };
    // The SQL client's form: statements gathered between BEGIN and END.
    assert!(matches!(
        run(&mut s, "BEGIN STATEMENT SET;").await,
        Outcome::Ok
    ));
    let err = s
        .execute("SELECT 1")
        .await
        .expect_err("in a set")
        .to_string();
    assert!(err.contains("Only 'INSERT' statement is allowed"), "{err}");
    assert!(matches!(
        run(
            &mut s,
            "INSERT INTO c_out SELECT item, price * 10 FROM bids;"
        )
        .await,
        Outcome::Ok
    ));
    let Outcome::Job(other) = run(&mut s, "END;").await else {
        panic!("no job")
    };
    assert_eq!(e.jobs().len(), 2);
    assert!(e
        .job(&id)
        .unwrap()
        .spec
        .name
        .contains("a_out,default_catalog"));
    put(
        &log,
        "bids",
        "k",
        &[
            bid("x", 1.0, "2026-01-01 00:00:01"),
            bid("y", 3.0, "2026-01-01 00:00:02"),
        ],
    )
    .await;
    assert_eq!(
        wait_for(&log, "a_out", 1).await,
        vec![json!({"item": "x", "price": 1.0})]
    );
    assert_eq!(
        wait_for(&log, "b_out", 1).await,
        vec![json!({"item": "y", "price": 3.0})]
    );
    assert_eq!(wait_for(&log, "c_out", 2).await.len(), 2);
    // The set's job counts both parts.
    until(&e, &id, "both parts counted", |j| {
        j.records_in == 4 && j.records_out == 2
    })
    .await;
    e.stop_job(&id, false).await.unwrap();
    e.stop_job(&other, false).await.unwrap();
    assert_eq!(e.job(&id).unwrap().spec.state.as_str(), "CANCELED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_keeps_each_keys_first_row() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "clicks", 1);
    create(&log, "firsts", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE clicks (user_id STRING, url STRING, ts TIMESTAMP(3), pt AS PROCTIME(),
           WATERMARK FOR ts AS ts)
         WITH ('connector' = 'kinesis', 'stream' = 'clicks', 'aws.region' = 'us-east-1',
               'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE firsts (user_id STRING, url STRING)
         WITH ('connector' = 'kinesis', 'stream' = 'firsts', 'format' = 'json')",
    )
    .await;
    for (q, want) in [
        (
            "ORDER BY ts ASC) AS rn FROM clicks) WHERE rn = 1",
            "event time",
        ),
        (
            "ORDER BY pt ASC) AS rn FROM clicks) WHERE rn <= 3",
            "Top-N over the stream",
        ),
        (
            "ORDER BY pt ASC) AS rn FROM clicks WHERE url <> 'x') WHERE rn = 1",
            "Top-N over the stream",
        ),
    ] {
        let sql = format!(
            "INSERT INTO firsts SELECT user_id, url FROM (SELECT user_id, url, ROW_NUMBER() OVER
             (PARTITION BY user_id {q}"
        );
        let err = s.execute(&sql).await.expect_err(q).to_string();
        assert!(err.contains(want), "{q}: {err}");
    }
    let Outcome::Job(id) = run(
        &mut s,
        "INSERT INTO firsts SELECT user_id, url FROM (
           SELECT user_id, url, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY pt ASC) AS rn
           FROM clicks) WHERE rn = 1",
    )
    .await
    else {
        panic!("no job")
    };
    let click = |u: &str, url: &str| json!({"user_id": u, "url": url, "ts": "2026-01-01 00:00:00"});
    put(
        &log,
        "clicks",
        "k",
        &[click("a", "u1"), click("b", "u2"), click("a", "u3")],
    )
    .await;
    until(&e, &id, "read", |j| j.records_in == 3).await;
    put(&log, "clicks", "k", &[click("b", "u4"), click("c", "u5")]).await;
    until(&e, &id, "read", |j| j.records_in == 5).await;
    let mut got: Vec<(String, String)> = read(&log, "firsts")
        .iter()
        .map(|v| {
            (
                v["user_id"].as_str().unwrap().into(),
                v["url"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("a".into(), "u1".into()),
            ("b".into(), "u2".into()),
            ("c".into(), "u5".into())
        ]
    );
}
