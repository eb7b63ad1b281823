//! Operators beyond windows: interval and regular joins, OVER aggregations, partial window states, updating aggregates, deduplication.

use super::*;

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
    // Outer joins into a stream (their results update) and outer joins on more than equal
    // columns are refused, naming what they are.
    for (q, want) in [
        ("SELECT o.id, o.item, o.order_time, s.ship_time FROM orders o LEFT JOIN shipments s ON o.id = s.order_id", "doesn't support consuming update and delete changes which is produced by node Join"),
        ("SELECT o.id, o.item, o.order_time, s.ship_time FROM orders o LEFT JOIN shipments s ON o.id = s.order_id AND s.ship_time > o.order_time", "outer join of streams on other than equal columns"),
        ("SELECT o.id, o.item, o.order_time, s.ship_time FROM orders o LEFT JOIN shipments s ON o.id = s.order_id AND s.order_id > 2", "over a filtered table"),
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
        // Keeping the first row by event time, or three rows, updates the result: a stream
        // sink takes no updates (as Flink's).
        (
            "ORDER BY ts ASC) AS rn FROM clicks) WHERE rn = 1",
            "doesn't support consuming update and delete changes which is produced by node Rank",
        ),
        (
            "ORDER BY pt ASC) AS rn FROM clicks) WHERE rn <= 3",
            "doesn't support consuming update and delete changes which is produced by node Rank",
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
    // An aggregate over the first rows (updating, over a stateful operator): refused.
    let err = s
        .execute(
            "SELECT user_id, COUNT(*) FROM (SELECT user_id, url, ROW_NUMBER() OVER
             (PARTITION BY user_id ORDER BY pt ASC) AS rn FROM clicks) WHERE rn = 1
             GROUP BY user_id",
        )
        .await
        .expect_err("aggregate over dedup")
        .to_string();
    assert!(
        err.contains("not supported by Weir's streaming engine yet"),
        "{err}"
    );
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
    // The keys seen are state, and counted.
    until(&e, &id, "keys counted", |j| j.state_bytes > 0).await;
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
