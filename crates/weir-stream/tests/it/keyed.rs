//! Keyed state over cores: joins, OVER aggregations and deduplication split their state by key
//! into parts (`parallelism.default`), answer as one operator would, and restore into another
//! number of parts after a restart; windows that keep rows fire in parts by key.

use super::*;

/// `CREATE TABLE` over a one-shard stream with a watermark one second behind `time`.
fn table(name: &str, cols: &str, time: &str) -> String {
    format!(
        "CREATE TABLE {name} ({cols}, WATERMARK FOR {time} AS {time} - INTERVAL '1' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = '{name}', 'aws.region' = 'us-east-1',
               'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')"
    )
}

/// Sets every job's `parallelism.default` in the engine's saved job list.
fn set_parallelism(dir: &Path, n: usize) {
    let path = dir.join("stream").join("jobs.json");
    let mut specs: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for spec in specs.as_array_mut().unwrap() {
        spec["config"]["parallelism.default"] = json!(n.to_string());
    }
    std::fs::write(&path, serde_json::to_vec(&specs).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_split_by_key_meet_every_pair_and_restore_into_other_parts() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["orders", "shipments", "matched", "paired"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        &table("orders", "id INT, order_time TIMESTAMP(3)", "order_time"),
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
    for sink in ["matched", "paired"] {
        run(
            &mut s,
            &format!(
                "CREATE TABLE {sink} (id INT, order_time TIMESTAMP(3), ship_time TIMESTAMP(3))
                 WITH ('connector' = 'kinesis', 'stream' = '{sink}', 'format' = 'json')"
            ),
        )
        .await;
    }
    run(&mut s, "SET 'parallelism.default' = '4'").await;
    let Outcome::Job(interval) = run(
        &mut s,
        "INSERT INTO matched SELECT o.id, o.order_time, s.ship_time
         FROM orders o, shipments s
         WHERE o.id = s.order_id AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time",
    )
    .await
    else {
        panic!("no job")
    };
    let Outcome::Job(regular) = run(
        &mut s,
        "INSERT INTO paired SELECT o.id, o.order_time, s.ship_time
         FROM orders o JOIN shipments s ON o.id = s.order_id",
    )
    .await
    else {
        panic!("no job")
    };
    until(&e, &interval, "four parts", |j| j.state_parts == 4).await;
    until(&e, &regular, "four parts", |j| j.state_parts == 4).await;
    let at = |minutes: i64| format!("2026-01-01 {:02}:{:02}:00", minutes / 60 % 24, minutes % 60);
    // Forty orders a minute apart; each shipped an hour later, the even ones again five
    // hours later (outside the interval join's bounds).
    let orders: Vec<Value> = (0..40)
        .map(|id| json!({"id": id, "order_time": at(id)}))
        .collect();
    put(&log, "orders", "o", &orders).await;
    let mut ships: Vec<Value> = (0..40)
        .map(|id| json!({"order_id": id, "ship_time": at(id + 60)}))
        .collect();
    ships.extend(
        (0..40)
            .step_by(2)
            .map(|id| json!({"order_id": id, "ship_time": at(id + 300)})),
    );
    put(&log, "shipments", "s", &ships).await;
    until(&e, &interval, "every record read", |j| j.records_in == 100).await;
    until(&e, &regular, "every record read", |j| j.records_in == 100).await;
    let pairs = |name: &str| {
        let mut got: Vec<(i64, String)> = read(&log, name)
            .iter()
            .map(|v| {
                (
                    v["id"].as_i64().unwrap(),
                    v["ship_time"].as_str().unwrap().into(),
                )
            })
            .collect();
        got.sort();
        got
    };
    let want: Vec<(i64, String)> = (0..40).map(|id| (id, at(id + 60))).collect();
    assert_eq!(pairs("matched"), want);
    assert_eq!(pairs("paired").len(), 60);
    e.shutdown().await;
    drop(e);
    // Restarted with three parts: the kept rows are split again by key, and each still meets
    // the rows of its key.
    set_parallelism(dir.path(), 3);
    let e = engine(dir.path(), &log);
    e.start().await;
    until(&e, &regular, "three parts", |j| j.state_parts == 3).await;
    let again: Vec<Value> = (0..40)
        .map(|id| json!({"order_id": id, "ship_time": at(id + 400)}))
        .collect();
    put(&log, "shipments", "s", &again).await;
    let got = wait_for(&log, "paired", 100).await;
    assert_eq!(got.len(), 100);
    let late: std::collections::BTreeSet<i64> = got
        .iter()
        .filter(|v| v["ship_time"].as_str().unwrap() >= at(400).as_str())
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(late, (0..40).collect());
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_and_deduplication_split_by_key_answer_as_one_operator() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["orders", "sums", "clicks", "firsts"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        &table(
            "orders",
            "order_id INT, product STRING, amount INT, order_time TIMESTAMP(3)",
            "order_time",
        ),
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE sums (order_id INT, product STRING, s BIGINT)
         WITH ('connector' = 'kinesis', 'stream' = 'sums', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE clicks (user_id STRING, url STRING, pt AS PROCTIME())
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
    run(&mut s, "SET 'parallelism.default' = '4'").await;
    let Outcome::Job(over) = run(
        &mut s,
        "INSERT INTO sums SELECT order_id, product, SUM(amount) OVER (PARTITION BY product
           ORDER BY order_time RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)
         FROM orders",
    )
    .await
    else {
        panic!("no job")
    };
    let Outcome::Job(dedup) = run(
        &mut s,
        "INSERT INTO firsts SELECT user_id, url FROM (
           SELECT user_id, url, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY pt ASC) AS rn
           FROM clicks) WHERE rn = 1",
    )
    .await
    else {
        panic!("no job")
    };
    until(&e, &over, "four parts", |j| j.state_parts == 4).await;
    until(&e, &dedup, "four parts", |j| j.state_parts == 4).await;
    // Twelve products, ten orders each a minute apart (amount n + 1 for the n-th); then an
    // order two hours on moves the watermark past them all.
    let mut rows = Vec::new();
    for n in 0..10 {
        for p in 0..12 {
            rows.push(json!({"order_id": p * 100 + n, "product": format!("p{p}"),
                "amount": n + 1, "order_time": format!("2026-01-01 00:{n:02}:00")}));
        }
    }
    rows.push(json!({"order_id": 9999, "product": "late", "amount": 1,
        "order_time": "2026-01-01 02:00:00"}));
    put(&log, "orders", "o", &rows).await;
    let got = wait_for(&log, "sums", 120).await;
    assert_eq!(got.len(), 120);
    for v in &got {
        let id = v["order_id"].as_i64().unwrap();
        let (p, n) = (id / 100, id % 100);
        assert_eq!(v["product"], format!("p{p}"));
        assert_eq!(v["s"].as_i64().unwrap(), (n + 1) * (n + 2) / 2, "{v}");
    }
    // Thirty users, three clicks each over three puts: each user's first click only.
    for round in 0..3 {
        let clicks: Vec<Value> = (0..30)
            .map(|u| json!({"user_id": format!("u{u}"), "url": format!("/{round}")}))
            .collect();
        put(&log, "clicks", "c", &clicks).await;
        until(&e, &dedup, "read", |j| j.records_in == 30 * (round + 1)).await;
    }
    let got = read(&log, "firsts");
    assert_eq!(got.len(), 30, "{got:?}");
    let users: std::collections::BTreeSet<&str> =
        got.iter().map(|v| v["user_id"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 30);
    assert!(got.iter().all(|v| v["url"] == "/0"), "{got:?}");
    e.shutdown().await;
    drop(e);
    // Restarted with two parts: the keys seen are split again. A put touching two keys (most
    // parts without work): the old user is still seen, the new one comes through.
    set_parallelism(dir.path(), 2);
    let e = engine(dir.path(), &log);
    e.start().await;
    until(&e, &dedup, "two parts", |j| j.state_parts == 2).await;
    for round in 3..5 {
        let clicks = [
            json!({"user_id": "u7", "url": format!("/{round}")}),
            json!({"user_id": format!("new{round}"), "url": format!("/{round}")}),
        ];
        put(&log, "clicks", "c", &clicks).await;
    }
    let got = wait_for(&log, "firsts", 32).await;
    let new: Vec<(&str, &str)> = got[30..]
        .iter()
        .map(|v| (v["user_id"].as_str().unwrap(), v["url"].as_str().unwrap()))
        .collect();
    assert_eq!(new, vec![("new3", "/3"), ("new4", "/4")], "{got:?}");
    e.shutdown().await;
}

/// A changelog applied: the rows it leaves (sorted).
fn applied(changes: &[(i8, String)]) -> Vec<String> {
    use weir_stream::changelog::{DELETE, UPDATE_BEFORE};
    let mut rows: Vec<String> = Vec::new();
    for (kind, row) in changes {
        // Keys in one order (a JSON object's, sorted).
        let row = &serde_json::from_str::<Value>(row).unwrap().to_string();
        match *kind {
            DELETE | UPDATE_BEFORE => {
                let at = rows.iter().position(|r| r == row);
                let at = at.unwrap_or_else(|| panic!("{row} retracted, never shown: {changes:?}"));
                rows.remove(at);
            }
            _ => rows.push(row.clone()),
        }
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_n_keeps_each_keys_best_rows_and_sends_their_changes() {
    use weir_stream::changelog::{DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE};
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "ShopSales", 2);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    // The Flink docs' Top-N.
    run(
        &mut s,
        "CREATE TABLE ShopSales (product_id STRING, category STRING, product_name STRING,
           sales BIGINT)
         WITH ('connector' = 'kinesis', 'stream' = 'ShopSales', 'aws.region' = 'us-east-1',
               'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    run(&mut s, "SET 'parallelism.default' = '3'").await;
    let numbered = "SELECT * FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY sales DESC) AS row_num
           FROM ShopSales)
         WHERE row_num <= 3";
    let plain = "SELECT product_id, category, product_name, sales FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY sales DESC) AS row_num
           FROM ShopSales)
         WHERE row_num <= 3";
    let plan = explain(&mut s, numbered).await;
    assert!(plan.contains("Rank(strategy=[AppendFastStrategy], rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=3], partitionBy=[category], orderBy=[sales DESC]"), "{plan}");
    let Outcome::Query { rows: ranked, .. } = run(&mut s, numbered).await else {
        panic!("no query")
    };
    let Outcome::Query { rows: kept, .. } = run(&mut s, plain).await else {
        panic!("no query")
    };
    // A rank range not starting at 1: second and third only.
    let ranged = plain.replace("WHERE row_num <= 3", "WHERE row_num > 1 AND row_num <= 3");
    let plan = explain(&mut s, &ranged).await;
    assert!(
        plan.contains("rankRange=[rankStart=2, rankEnd=3]"),
        "{plan}"
    );
    let Outcome::Query { rows: later, .. } = run(&mut s, &ranged).await else {
        panic!("no query")
    };
    // Six categories, twenty products each, their sales in a shuffled order over five puts.
    let mut sales: Vec<(usize, i64)> = Vec::new();
    for c in 0..6 {
        for p in 0..20i64 {
            sales.push((c, (p * 37 + c as i64 * 11) % 101));
        }
    }
    for (k, chunk) in sales.chunks(24).enumerate() {
        let rows: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, (c, v))| {
                json!({"product_id": format!("p{k}-{i}"), "category": format!("c{c}"),
                    "product_name": format!("n{v}"), "sales": v})
            })
            .collect();
        put(&log, "ShopSales", &format!("pk{k}"), &rows).await;
    }
    // What the result must end as: each category's three best (sales differ within one).
    let mut want_plain: Vec<String> = Vec::new();
    let mut want_ranged: Vec<String> = Vec::new();
    let mut want_ranked: Vec<String> = Vec::new();
    for c in 0..6 {
        let mut best: Vec<(i64, String)> = Vec::new();
        for (k, chunk) in sales.chunks(24).enumerate() {
            for (i, (cc, v)) in chunk.iter().enumerate() {
                if *cc == c {
                    best.push((*v, format!("p{k}-{i}")));
                }
            }
        }
        best.sort_by(|a, b| b.cmp(a));
        for (r, (v, id)) in best.iter().take(3).enumerate() {
            let row = json!({"product_id": id, "category": format!("c{c}"),
                "product_name": format!("n{v}"), "sales": v});
            want_plain.push(row.to_string());
            if r > 0 {
                want_ranged.push(row.to_string());
            }
            let mut row = row;
            row["row_num"] = json!(r + 1);
            want_ranked.push(row.to_string());
        }
    }
    want_plain.sort();
    want_ranged.sort();
    want_ranked.sort();
    let (mut got_ranked, mut got_plain, mut got_ranged) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        collected(&ranked, &mut got_ranked);
        collected(&kept, &mut got_plain);
        collected(&later, &mut got_ranged);
        if applied(&got_plain) == want_plain
            && applied(&got_ranked) == want_ranked
            && applied(&got_ranged) == want_ranged
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(applied(&got_plain), want_plain);
    assert_eq!(applied(&got_ranged), want_ranged);
    assert_eq!(applied(&got_ranked), want_ranked);
    // Rows come and go in the plain result; shown ranks move as updates.
    assert!(got_plain.iter().all(|(k, _)| *k == INSERT || *k == DELETE));
    assert!(got_plain.iter().any(|(k, _)| *k == DELETE));
    assert!(got_ranked.iter().any(|(k, _)| *k == UPDATE_BEFORE));
    // Each -U is followed by its +U, of the same category.
    let category = |row: &str| serde_json::from_str::<Value>(row).unwrap()["category"].clone();
    for (i, (kind, row)) in got_ranked.iter().enumerate() {
        if *kind == UPDATE_BEFORE {
            let (next, after) = &got_ranked[i + 1];
            assert_eq!(*next, UPDATE_AFTER, "{got_ranked:?}");
            assert_eq!(category(row), category(after), "{got_ranked:?}");
        }
    }
    let jobs = e.jobs();
    assert!(
        jobs.iter().all(|j| j.state_parts == 3),
        "{:?}",
        jobs.iter().map(|j| j.state_parts).collect::<Vec<_>>()
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outer_joins_send_padded_rows_and_retract_them_when_a_match_comes() {
    use weir_stream::changelog::DELETE;
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "Orders", 1);
    create(&log, "Shipments", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    for (name, cols) in [
        ("Orders", "id INT, item STRING"),
        ("Shipments", "order_id INT, carrier STRING"),
    ] {
        run(
            &mut s,
            &format!(
                "CREATE TABLE {name} ({cols}) WITH ('connector' = 'kinesis', 'stream' = '{name}',
                   'aws.region' = 'us-east-1', 'scan.stream.initpos' = 'TRIM_HORIZON',
                   'format' = 'json')"
            ),
        )
        .await;
    }
    run(&mut s, "SET 'parallelism.default' = '2'").await;
    let left =
        "SELECT o.id, o.item, s.carrier FROM Orders o LEFT JOIN Shipments s ON o.id = s.order_id";
    let full = "SELECT o.id, s.order_id, s.carrier FROM Orders o FULL OUTER JOIN Shipments s ON o.id = s.order_id";
    let plan = explain(&mut s, full).await;
    assert!(
        plan.contains("RegularJoin(joinType=[FullOuterJoin]"),
        "{plan}"
    );
    let Outcome::Query {
        job: lj,
        rows: lrows,
    } = run(&mut s, left).await
    else {
        panic!("no query")
    };
    let Outcome::Query {
        job: fj,
        rows: frows,
    } = run(&mut s, full).await
    else {
        panic!("no query")
    };
    // The left join written as a right one (the preserved side is the plan's right).
    let right =
        "SELECT o.id, o.item, s.carrier FROM Shipments s RIGHT JOIN Orders o ON s.order_id = o.id";
    let Outcome::Query {
        job: rj,
        rows: rrows,
    } = run(&mut s, right).await
    else {
        panic!("no query")
    };
    // Orders 1–3; then shipments of 1 (two), of 4 (no order yet) and one without an order id;
    // then order 4.
    let steps: [(&str, Vec<Value>); 3] = [
        (
            "Orders",
            (1..=3)
                .map(|id| json!({"id": id, "item": format!("i{id}")}))
                .collect(),
        ),
        (
            "Shipments",
            vec![
                json!({"order_id": 1, "carrier": "a"}),
                json!({"order_id": 1, "carrier": "b"}),
                json!({"order_id": 4, "carrier": "c"}),
                json!({"order_id": null, "carrier": "d"}),
            ],
        ),
        ("Orders", vec![json!({"id": 4, "item": "i4"})]),
    ];
    let mut read = 0;
    for (table, rows) in steps {
        read += rows.len() as u64;
        put(&log, table, "k", &rows).await;
        until(&e, &lj, "read", |j| j.records_in == read).await;
        until(&e, &fj, "read", |j| j.records_in == read).await;
        until(&e, &rj, "read", |j| j.records_in == read).await;
    }
    let row = |v: Value| v.to_string();
    let mut want_left = vec![
        row(json!({"id": 1, "item": "i1", "carrier": "a"})),
        row(json!({"id": 1, "item": "i1", "carrier": "b"})),
        row(json!({"id": 2, "item": "i2", "carrier": null})),
        row(json!({"id": 3, "item": "i3", "carrier": null})),
        row(json!({"id": 4, "item": "i4", "carrier": "c"})),
    ];
    want_left.sort();
    let mut want_full = vec![
        row(json!({"id": 1, "order_id": 1, "carrier": "a"})),
        row(json!({"id": 1, "order_id": 1, "carrier": "b"})),
        row(json!({"id": 2, "order_id": null, "carrier": null})),
        row(json!({"id": 3, "order_id": null, "carrier": null})),
        row(json!({"id": 4, "order_id": 4, "carrier": "c"})),
        row(json!({"id": null, "order_id": null, "carrier": "d"})),
    ];
    want_full.sort();
    let (mut got_left, mut got_full, mut got_right) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        collected(&lrows, &mut got_left);
        collected(&frows, &mut got_full);
        collected(&rrows, &mut got_right);
        if applied(&got_left) == want_left
            && applied(&got_full) == want_full
            && applied(&got_right) == want_left
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(applied(&got_left), want_left);
    assert_eq!(applied(&got_full), want_full);
    assert_eq!(applied(&got_right), want_left);
    // Order 1's padded row was sent, then retracted; in the full join, shipment 4's too.
    let retracted = |got: &[(i8, String)]| got.iter().filter(|(k, _)| *k == DELETE).count();
    assert_eq!(retracted(&got_left), 1, "{got_left:?}");
    assert_eq!(retracted(&got_full), 2, "{got_full:?}");
    e.shutdown().await;
}

/// The window join and window Top-N jobs over `lefts` and `rights` (tables made here too),
/// into the streams `wjoined` and `wtop`: their job ids.
pub(super) async fn window_join_and_top(s: &mut Session) -> (String, String) {
    run(s, &table("lefts", "id INT, v INT, ts TIMESTAMP(3)", "ts")).await;
    run(s, &table("rights", "id INT, v INT, ts TIMESTAMP(3)", "ts")).await;
    run(
        s,
        "CREATE TABLE wjoined (id INT, lv INT, rv INT, ws TIMESTAMP(3))
        WITH ('connector' = 'kinesis', 'stream' = 'wjoined', 'format' = 'json')",
    )
    .await;
    run(
        s,
        "CREATE TABLE wtop (ws TIMESTAMP(3), id INT, v INT, rownum BIGINT)
        WITH ('connector' = 'kinesis', 'stream' = 'wtop', 'format' = 'json')",
    )
    .await;
    // Flink's window join: rows of one id in the same window.
    let Outcome::Job(join) = run(
        s,
        "INSERT INTO wjoined SELECT L.id, L.v, R.v, L.window_start
         FROM (SELECT * FROM TABLE(TUMBLE(TABLE lefts, DESCRIPTOR(ts), INTERVAL '10' SECOND))) L
         JOIN (SELECT * FROM TABLE(TUMBLE(TABLE rights, DESCRIPTOR(ts), INTERVAL '10' SECOND))) R
         ON L.id = R.id AND L.window_start = R.window_start AND L.window_end = R.window_end",
    )
    .await
    else {
        panic!("no job")
    };
    // Flink's window Top-N: each id's two greatest values per window.
    let Outcome::Job(top) = run(
        s,
        "INSERT INTO wtop SELECT window_start, id, v, rownum FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, id ORDER BY v DESC)
             AS rownum
           FROM TABLE(TUMBLE(TABLE lefts, DESCRIPTOR(ts), INTERVAL '10' SECOND)))
         WHERE rownum <= 2",
    )
    .await
    else {
        panic!("no job")
    };
    (join, top)
}

/// Second `s` of the test day.
pub(super) fn at(s: i64) -> String {
    format!("2026-01-01 00:00:{s:02}")
}

/// Window `w`'s rows of ids `ids`: three left rows and two right rows per id.
pub(super) fn window_rows(w: i64, ids: std::ops::Range<i64>) -> (Vec<Value>, Vec<Value>) {
    let (mut lefts, mut rights) = (Vec::new(), Vec::new());
    for id in ids {
        for k in 0..3i64 {
            lefts.push(json!({"id": id, "v": (id * 7 + k * 5 + w) % 23, "ts": at(w * 10 + k)}));
        }
        for k in 0..2i64 {
            rights.push(json!({"id": id, "v": 100 + id + k, "ts": at(w * 10 + 4 + k)}));
        }
    }
    (lefts, rights)
}

/// Puts rows into `lefts` and `rights`.
pub(super) async fn put_rows(log: &Log, (lefts, rights): (Vec<Value>, Vec<Value>)) {
    put(log, "lefts", "l", &lefts).await;
    put(log, "rights", "r", &rights).await;
}

/// Puts rows past windows 0 and 1 (the watermark moves on, both fire), then waits for the
/// window join's and Top-N's whole answers over those windows of ids 0..20 and compares them
/// with the hand-computed ones.
pub(super) async fn check_window_answers(log: &Log) {
    put(
        log,
        "lefts",
        "l",
        &[json!({"id": 99, "v": 0, "ts": at(45)})],
    )
    .await;
    put(
        log,
        "rights",
        "r",
        &[json!({"id": 99, "v": 0, "ts": at(45)})],
    )
    .await;
    let (mut want_join, mut want_top) = (Vec::new(), Vec::new());
    for w in 0..2i64 {
        for id in 0..20i64 {
            let mut vs: Vec<i64> = (0..3).map(|k| (id * 7 + k * 5 + w) % 23).collect();
            for lv in &vs {
                for k in 0..2 {
                    want_join.push(
                        json!({"id": id, "lv": lv, "rv": 100 + id + k, "ws": at(w * 10)})
                            .to_string(),
                    );
                }
            }
            vs.sort_by(|a, b| b.cmp(a));
            for (r, v) in vs.iter().take(2).enumerate() {
                want_top
                    .push(json!({"ws": at(w * 10), "id": id, "v": v, "rownum": r + 1}).to_string());
            }
        }
    }
    want_join.sort();
    want_top.sort();
    let sorted = |rows: Vec<Value>| {
        let mut rows: Vec<String> = rows.iter().map(Value::to_string).collect();
        rows.sort();
        rows
    };
    assert_eq!(
        sorted(wait_for(log, "wjoined", want_join.len()).await),
        want_join
    );
    assert_eq!(
        sorted(wait_for(log, "wtop", want_top.len()).await),
        want_top
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_joins_and_top_n_fire_in_parts_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["lefts", "rights", "wjoined", "wtop"] {
        create(&log, s, 1);
    }
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, "SET 'parallelism.default' = '3'").await;
    let (join, top) = window_join_and_top(&mut s).await;
    until(&e, &join, "three parts", |j| j.state_parts == 3).await;
    until(&e, &top, "three parts", |j| j.state_parts == 3).await;
    // Twenty ids; in each of two windows, three left rows and two right rows per id.
    for w in 0..2 {
        put_rows(&log, window_rows(w, 0..20)).await;
    }
    check_window_answers(&log).await;
}
