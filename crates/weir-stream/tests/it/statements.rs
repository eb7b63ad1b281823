//! Statements: views, queries without tables, statement sets.

use super::*;

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
