//! Stages: a stream joined with a window aggregate of itself (Nexmark's q7) runs as parts of
//! one job, the window aggregate's rows passed on through an internal stream.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_joins_the_window_maximum_of_itself() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    create(&log, "bids7", 1);
    create(&log, "q7_out", 1);
    let e = engine(dir.path(), &log);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    run(
        &mut s,
        "CREATE TABLE bid (auction BIGINT, price BIGINT, dateTime TIMESTAMP(3),
            WATERMARK FOR dateTime AS dateTime - INTERVAL '1' SECOND)
         WITH ('connector' = 'kinesis', 'stream' = 'bids7', 'aws.region' = 'us-east-1',
            'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')",
    )
    .await;
    run(
        &mut s,
        "CREATE TABLE q7_out (auction BIGINT, price BIGINT, dateTime TIMESTAMP(3))
         WITH ('connector' = 'kinesis', 'stream' = 'q7_out', 'format' = 'json')",
    )
    .await;
    // Nexmark's q7 as published (its sink's columns cut down).
    let q7 = "INSERT INTO q7_out
         SELECT B.auction, B.price, B.dateTime
         FROM bid B
         JOIN (
           SELECT MAX(B1.price) AS maxprice,
                  TUMBLE_ROWTIME(B1.dateTime, INTERVAL '10' SECOND) AS dateTime
           FROM bid B1
           GROUP BY TUMBLE(B1.dateTime, INTERVAL '10' SECOND)
         ) B1
         ON B.price = B1.maxprice
         WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime";
    // EXPLAIN shows both parts: the join reading the stage's table, the window aggregate.
    let plan = explain(&mut s, q7).await;
    assert!(plan.contains("IntervalJoin"), "{plan}");
    assert!(plan.contains("__weir_stage_0"), "{plan}");
    assert!(plan.contains("TUMBLE(size=[10000 ms])"), "{plan}");
    let Outcome::Job(id) = run(&mut s, q7).await else {
        panic!("no job")
    };
    let bid = |auction: i64, price: i64, t: &str| json!({"auction": auction, "price": price, "dateTime": format!("2026-01-01 00:00:{t}")});
    // Window [0 s, 10 s): greatest price 9 (twice); [10 s, 20 s): 6. The bid at 9.999 s has
    // the second window's greatest price and lies within 10 s before its time (19.999 s).
    put(
        &log,
        "bids7",
        "a",
        &[
            bid(1, 5, "01.000"),
            bid(2, 9, "03.000"),
            bid(3, 9, "07.000"),
            bid(4, 2, "08.000"),
            bid(5, 6, "09.999"),
            bid(6, 4, "12.000"),
            bid(7, 6, "15.000"),
            bid(8, 1, "40.000"),
        ],
    )
    .await;
    let got = wait_for(&log, "q7_out", 4).await;

    let mut rows: Vec<(i64, i64)> = got
        .iter()
        .map(|r| (r["auction"].as_i64().unwrap(), r["price"].as_i64().unwrap()))
        .collect();
    rows.sort();
    assert_eq!(rows, vec![(2, 9), (3, 9), (5, 6), (7, 6)]);
    // One job; its stage stream is the log's.
    let streams: Vec<String> = log
        .list_streams("us-east-1")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        streams.contains(&format!("weir-stage-{id}-0")),
        "{streams:?}"
    );
    assert_eq!(e.jobs().len(), 1);
    // Window [40 s, 50 s) is still open (the watermark is at 46 s): drained, its greatest
    // price (8) reaches the join before the job ends, and the bid with it is written.
    put(
        &log,
        "bids7",
        "a",
        &[bid(9, 3, "45.000"), bid(10, 8, "47.000")],
    )
    .await;
    // Both parts have read all ten bids: the join part counts them and the two stage rows
    // (10 + 2), the window part the bids (10). At 20 only one part may have read the last
    // two, and a drain then closes the window without them.
    until(&e, &id, "the open window's bids read by both parts", |j| {
        j.records_in >= 22
    })
    .await;
    e.stop_job(&id, true).await.unwrap();
    let got = read(&log, "q7_out");
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[4]["auction"], 10);
    // Stopped, the job takes its stage stream with it.
    let stage = StreamKey::new("us-east-1", format!("weir-stage-{id}-0"));
    let status = log.describe_stream(&stage).map(|d| d.status);
    assert!(
        !matches!(status, Ok(weir_log::StreamStatus::Active)),
        "{status:?}"
    );
    e.shutdown().await;
}
