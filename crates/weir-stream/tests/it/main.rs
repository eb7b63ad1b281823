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
    engine_with(dir, log, 0)
}

/// An engine whose jobs' operator state may hold `state_memory_bytes` (0: no limit).
fn engine_with(dir: &Path, log: &Log, state_memory_bytes: usize) -> Engine {
    Engine::open(
        EngineConfig {
            dir: dir.join("stream"),
            default_region: "us-east-1".into(),
            checkpoint_interval: Duration::from_millis(50),
            state_memory_bytes,
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
        retention_hours: None,
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

/// `EXPLAIN <statement>`'s text.
async fn explain(s: &mut Session, statement: &str) -> String {
    let Outcome::Rows(plan) = run(s, &format!("EXPLAIN {statement}")).await else {
        panic!("no plan for {statement}")
    };
    datafusion::arrow::util::pretty::pretty_format_batches(&[plan])
        .unwrap()
        .to_string()
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

mod keyed;
mod operators;
mod parallel;
mod spill;
mod stages;
mod statements;
mod windows;
