//! `weir bench kda`: Kinesis Data Analytics SQL applications (in process) — the stock-ticker
//! records of AWS's getting-started demo written into a stream, then the guide's applications
//! (a filter, a tumbling count per ticker), RANDOM_CUT_FOREST, HOTSPOTS and the log parsers
//! (REGEX_LOG_PARSE, W3C_LOG_PARSE over lines made of the records' fields) started from
//! TRIM_HORIZON through the control plane, each timed until its output stream holds every
//! result.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use clap::Args;
use rand::{Rng, SeedableRng};
use weir_analytics::model::{
    DestinationSchema, Input, Output, RecordColumn, RecordFormat, SourceSchema, Target,
};
use weir_analytics::{Analytics, NewApplication, StartingPosition, Status};
use weir_log::{IteratorStart, Log, PutEntry};

use super::nexmark::{cpu_seconds, create_sharded, key, open_engine, open_log, tempfile_dir};

/// Options of `weir bench kda`.
#[derive(Args, Debug, Clone)]
pub struct KdaBench {
    /// Ticker records written before the applications run.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Applications to run (comma-separated: filter, count, rcf, regex, w3c, hotspots).
    #[arg(long, default_value = "filter,count")]
    pub apps: String,
}

const TICKERS: [(&str, &str); 8] = [
    ("AMZN", "TECHNOLOGY"),
    ("MSFT", "TECHNOLOGY"),
    ("INTC", "TECHNOLOGY"),
    ("XOM", "ENERGY"),
    ("CVX", "ENERGY"),
    ("WFC", "FINANCIAL"),
    ("JPM", "FINANCIAL"),
    ("PFE", "HEALTHCARE"),
];

const FILTER: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker_symbol VARCHAR(4), sector VARCHAR(12), change DOUBLE, price DOUBLE);
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM ticker_symbol, sector, change, price FROM \"SOURCE_SQL_STREAM_001\"
WHERE sector SIMILAR TO '%TECH%';";

const COUNT: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker_symbol VARCHAR(4), ticker_symbol_count INTEGER);
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM ticker_symbol, COUNT(*) AS ticker_symbol_count FROM \"SOURCE_SQL_STREAM_001\"
GROUP BY ticker_symbol, STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '1' SECOND);";

const RCF: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker_symbol VARCHAR(4), anomaly_score DOUBLE);
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM ticker_symbol, ANOMALY_SCORE
FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM \"SOURCE_SQL_STREAM_001\")));";

// The log parsers over lines made of each record's fields.
const REGEX: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker_symbol VARCHAR(4), sector VARCHAR(16));
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM T.R.COLUMN1, T.R.COLUMN2 FROM (SELECT STREAM
  REGEX_LOG_PARSE(ticker_symbol || ' ' || sector || ' ' || CAST(price AS VARCHAR(16)), '(\\w+) (\\w+) .*') AS R
  FROM \"SOURCE_SQL_STREAM_001\") AS T;";

const W3C: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (host VARCHAR(16), request VARCHAR(64), status VARCHAR(4));
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM T.W.COLUMN1, T.W.COLUMN5, T.W.COLUMN6 FROM (SELECT STREAM
  W3C_LOG_PARSE('192.168.1.1 - ' || ticker_symbol || ' [24/May/2004:22:01:02 -0700] \"GET /' || sector || ' HTTP/1.1\" 200 ' || CAST(CAST(price AS INTEGER) AS VARCHAR(8)), 'COMMON') AS W
  FROM \"SOURCE_SQL_STREAM_001\") AS T;";

const HOTSPOTS: &str = "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (change DOUBLE, price DOUBLE, HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
SELECT STREAM \"CHANGE\", \"PRICE\", \"HOTSPOTS_RESULT\"
FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM \"CHANGE\", \"PRICE\" FROM \"SOURCE_SQL_STREAM_001\"), 1000, 20.0, 17));";

fn arn(name: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:000000000000:stream/{name}")
}

fn application(name: &str, code: &str, out: &str) -> NewApplication {
    let column = |n: &str, t: &str| RecordColumn {
        name: n.into(),
        mapping: Some(format!("$.{n}")),
        sql_type: t.into(),
    };
    NewApplication {
        name: name.into(),
        code: Some(code.into()),
        runtime: "SQL-1_0".into(),
        inputs: vec![Input {
            input_id: String::new(),
            name_prefix: "SOURCE_SQL_STREAM".into(),
            input_processing_configuration: None,
            kinesis_streams_input: Some(Target {
                resource_arn: arn("kda-bench-in"),
                role_arn: None,
            }),
            kinesis_firehose_input: None,
            input_parallelism: None,
            input_schema: SourceSchema {
                record_format: RecordFormat {
                    record_format_type: "JSON".into(),
                    mapping_parameters: None,
                },
                record_encoding: Some("UTF-8".into()),
                record_columns: vec![
                    column("TICKER_SYMBOL", "VARCHAR(4)"),
                    column("SECTOR", "VARCHAR(16)"),
                    column("CHANGE", "REAL"),
                    column("PRICE", "REAL"),
                ],
            },
            starting_position: None,
        }],
        outputs: vec![Output {
            output_id: String::new(),
            name: "DESTINATION_SQL_STREAM".into(),
            kinesis_streams_output: Some(Target {
                resource_arn: arn(out),
                role_arn: None,
            }),
            kinesis_firehose_output: None,
            lambda_output: None,
            destination_schema: DestinationSchema {
                record_format_type: "JSON".into(),
            },
        }],
        ..NewApplication::default()
    }
}

/// Reads what is new in a one-shard stream; returns the records and where to go on.
fn read_new(log: &Log, stream: &str, iterator: &mut String) -> anyhow::Result<Vec<Bytes>> {
    let out = log
        .get_records_with(iterator, Some(10_000), false)
        .with_context(|| stream.to_string())?;
    if let Some(next) = out.next_iterator {
        *iterator = next;
    }
    Ok(out.records.into_iter().map(|r| r.data).collect())
}

pub async fn run(b: KdaBench) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let log = open_log(&dir)?;
    create_sharded(&log, "kda-bench-in", 1)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut tech = 0usize;
    let mut left = b.records;
    while left > 0 {
        let n = left.min(500);
        let entries: Vec<PutEntry> = (0..n)
            .map(|_| {
                let (ticker, sector) = TICKERS[rng.gen_range(0..TICKERS.len())];
                tech += usize::from(sector == "TECHNOLOGY");
                let data = format!(
                    "{{\"TICKER_SYMBOL\":\"{ticker}\",\"SECTOR\":\"{sector}\",\"CHANGE\":{:.2},\"PRICE\":{:.2}}}",
                    rng.gen_range(-5.0..5.0f64),
                    rng.gen_range(10.0..500.0f64)
                );
                PutEntry {
                    partition_key: ticker.to_string(),
                    explicit_hash_key: None,
                    data: Bytes::from(data),
                }
            })
            .collect();
        log.put_all(&key("kda-bench-in"), entries).await?;
        left -= n;
    }
    let engine = open_engine(&dir, &log)?;
    let runner: Arc<dyn weir_analytics::Runner> =
        Arc::new(weir_stream::kda::KdaRunner::new(engine.clone()));
    let analytics = Analytics::open(&dir.join("analytics"), "000000000000", Some(runner))?;
    println!(
        "| application | records in | seconds | records/s | records per CPU second | rows out |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for name in b.apps.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let code = match name {
            "filter" => FILTER,
            "count" => COUNT,
            "rcf" => RCF,
            "regex" => REGEX,
            "w3c" => W3C,
            "hotspots" => HOTSPOTS,
            other => {
                bail!("unknown application {other} (filter, count, rcf, regex, w3c, hotspots)")
            }
        };
        let out = format!("kda-bench-{name}");
        create_sharded(&log, &out, 1)?;
        analytics.create("us-east-1", application(name, code, &out))?;
        let shard = log.list_shards(&key(&out), None)?[0].shard_id.clone();
        let mut iterator = log.shard_iterator(&key(&out), &shard, &IteratorStart::TrimHorizon)?;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        analytics
            .start(
                "us-east-1",
                name,
                &[("1.1".to_string(), StartingPosition::TrimHorizon)],
            )
            .await?;
        // Done when every result is out: the filter's rows; the counts adding up.
        let (mut rows, mut counted, mut parsed) = (0usize, 0usize, 0usize);
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            for r in read_new(&log, &out, &mut iterator)? {
                rows += 1;
                if matches!(name, "count" | "regex" | "w3c") {
                    let v: serde_json::Value = serde_json::from_slice(&r)?;
                    counted += v["TICKER_SYMBOL_COUNT"].as_u64().unwrap_or(0) as usize;
                    // A parser's line always matches: its first field is set.
                    let first = ["TICKER_SYMBOL", "HOST"].iter().any(|k| v[k].is_string());
                    parsed += usize::from(first);
                }
            }
            let done = match name {
                "filter" => rows >= tech,
                "rcf" | "regex" | "w3c" | "hotspots" => rows >= b.records,
                _ => counted >= b.records,
            };
            if done {
                break;
            }
            if Instant::now() > deadline {
                bail!("{name}: {rows} rows out after 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = t0.elapsed().as_secs_f64();
        if matches!(name, "regex" | "w3c") && parsed != rows {
            bail!("{name}: {} of {rows} lines did not parse", rows - parsed);
        }
        let cpu = cpu_seconds() - cpu0;
        println!(
            "| {name} | {} | {secs:.2} | {:.0} | {:.0} | {rows} |",
            b.records,
            b.records as f64 / secs,
            b.records as f64 / cpu.max(1e-9)
        );
        analytics.stop("us-east-1", name)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while analytics.describe("us-east-1", name)?.status != Status::Ready {
            if Instant::now() > deadline {
                bail!("{name} did not stop");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    engine.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
