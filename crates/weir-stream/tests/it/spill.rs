//! Window panes past the state budget move to spill files and still fire as if kept in memory,
//! through a restart from a checkpoint too.

use super::*;

fn table(name: &str) -> String {
    format!(
        "CREATE TABLE {name} (id INT, v INT, ts TIMESTAMP(3),
           WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = '{name}', 'aws.region' = 'us-east-1',
               'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')"
    )
}

fn at(s: i64) -> String {
    format!("2026-01-01 00:00:{s:02}")
}

/// Window `w`'s rows of ids `ids`: three left rows and two right rows per id.
fn rows_of(w: i64, ids: std::ops::Range<i64>) -> (Vec<Value>, Vec<Value>) {
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

async fn put_rows(log: &Log, (lefts, rights): (Vec<Value>, Vec<Value>)) {
    put(log, "lefts", "l", &lefts).await;
    put(log, "rights", "r", &rights).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_panes_spill_past_the_state_budget_and_fire_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["lefts", "rights", "wjoined", "wtop"] {
        create(&log, s, 1);
    }
    // A budget of one byte: every pane moves to a spill file as soon as it is kept.
    let e = engine_with(dir.path(), &log, 1);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(&mut s, &table("lefts")).await;
    run(&mut s, &table("rights")).await;
    run(
        &mut s,
        "CREATE TABLE wjoined (id INT, lv INT, rv INT, ws TIMESTAMP(3))
        WITH ('connector' = 'kinesis', 'stream' = 'wjoined', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE wtop (ws TIMESTAMP(3), id INT, v INT, rownum BIGINT)
        WITH ('connector' = 'kinesis', 'stream' = 'wtop', 'format' = 'json')",
    )
    .await;
    let Outcome::Job(join) = run(
        &mut s,
        "INSERT INTO wjoined SELECT L.id, L.v, R.v, L.window_start
         FROM (SELECT * FROM TABLE(TUMBLE(TABLE lefts, DESCRIPTOR(ts), INTERVAL '10' SECOND))) L
         JOIN (SELECT * FROM TABLE(TUMBLE(TABLE rights, DESCRIPTOR(ts), INTERVAL '10' SECOND))) R
         ON L.id = R.id AND L.window_start = R.window_start AND L.window_end = R.window_end",
    )
    .await
    else {
        panic!("no job")
    };
    let Outcome::Job(top) = run(
        &mut s,
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
    // The first window's rows in two puts: the second lands in panes already spilled.
    put_rows(&log, rows_of(0, 0..10)).await;
    until(&e, &join, "spilled", |j| j.spilled_bytes > 0).await;
    until(&e, &top, "spilled", |j| j.spilled_bytes > 0).await;
    put_rows(&log, rows_of(0, 10..20)).await;
    until(&e, &join, "all read", |j| j.records_in == 100).await;
    until(&e, &top, "all read", |j| j.records_in == 60).await;
    for id in [&join, &top] {
        until(&e, id, "in memory: nothing", |j| j.state_bytes == 0).await;
    }
    let spill = dir
        .path()
        .join("stream")
        .join("jobs")
        .join(&join)
        .join("spill");
    assert!(std::fs::read_dir(&spill).unwrap().count() > 0);
    // Shutting down saves a last checkpoint: every first-window row in it.
    e.shutdown().await;
    drop(e);
    // Restarted: the checkpoint's panes are read back into spill files, not into memory.
    let e = engine_with(dir.path(), &log, 1);
    e.start().await;
    until(&e, &join, "spilled again", |j| j.spilled_bytes > 0).await;
    put_rows(&log, rows_of(1, 0..20)).await;
    // Rows past both windows move the watermark on.
    put(
        &log,
        "lefts",
        "l",
        &[json!({"id": 99, "v": 0, "ts": at(45)})],
    )
    .await;
    put(
        &log,
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
    // Exactly the answer: nothing lost, nothing twice (the restart resumed where the
    // checkpoint stood, after every first-window row).
    assert_eq!(
        sorted(wait_for(&log, "wjoined", want_join.len()).await),
        want_join
    );
    assert_eq!(
        sorted(wait_for(&log, "wtop", want_top.len()).await),
        want_top
    );
    e.shutdown().await;
}
