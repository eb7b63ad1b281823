//! `weir bench latency`: put-to-consumer latency, with enhanced fan-out (SubscribeToShard) and
//! with GetRecords polling, against any Kinesis endpoint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::{percentile, wait_active};
use crate::client::JsonClient;

/// How the consumer reads.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// SubscribeToShard pushes records (enhanced fan-out).
    Efo,
    /// GetRecords in a loop.
    Poll,
}

/// Options of `weir bench latency`.
#[derive(Args, Debug, Clone)]
pub struct LatencyBench {
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    #[arg(long, value_enum, default_value_t = Mode::Efo)]
    pub mode: Mode,
    /// Records to time.
    #[arg(long, default_value_t = 500)]
    pub records: usize,
    /// Pause between puts, in milliseconds (a moderate, steady rate).
    #[arg(long, default_value_t = 5)]
    pub interval_ms: u64,
    /// Polling: pause after an empty GetRecords, in milliseconds.
    #[arg(long, default_value_t = 1)]
    pub poll_idle_ms: u64,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Latency in microseconds of a record whose data starts with its put time in nanoseconds.
fn latency_us(data_b64: &str) -> Option<u64> {
    let data = base64_simd::STANDARD
        .decode_to_vec(data_b64.as_bytes())
        .ok()?;
    let sent = u64::from_be_bytes(data.get(0..8)?.try_into().ok()?);
    Some(now_nanos().saturating_sub(sent) / 1000)
}

pub async fn run(opts: LatencyBench) -> anyhow::Result<()> {
    let client = JsonClient::new(&opts.endpoint, "Kinesis_20131202")?;
    let name = format!("weir-latency-{:08x}", rand::random::<u32>());
    client
        .call(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": 1})
                .to_string()
                .into_bytes(),
        )
        .await?;
    let arn = wait_active(&client, &name).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = match opts.mode {
        Mode::Efo => tokio::spawn(subscribe(client.clone(), arn, tx, ready_tx)),
        Mode::Poll => tokio::spawn(poll(
            client.clone(),
            name.clone(),
            opts.poll_idle_ms,
            tx,
            ready_tx,
        )),
    };
    if ready_rx.await.is_err() {
        let why = match reader.await {
            Ok(Err(e)) => e.to_string(),
            other => format!("{other:?}"),
        };
        bail!("the consumer did not start: {why}");
    }
    for _ in 0..opts.records {
        let mut data = now_nanos().to_be_bytes().to_vec();
        data.resize(100, b'.');
        let body = json!({"StreamName": name, "PartitionKey": "k", "Data": base64_simd::STANDARD.encode_to_string(&data)});
        client
            .call("PutRecord", body.to_string().into_bytes())
            .await?;
        tokio::time::sleep(Duration::from_millis(opts.interval_ms)).await;
    }
    let mut lat = Vec::with_capacity(opts.records);
    while lat.len() < opts.records {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(us)) => lat.push(us),
            _ => bail!(
                "only {} of {} records reached the consumer",
                lat.len(),
                opts.records
            ),
        }
    }
    reader.abort();
    lat.sort_unstable();
    println!(
        "put -> {} latency over {} records: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        match opts.mode {
            Mode::Efo => "SubscribeToShard",
            Mode::Poll => "GetRecords polling",
        },
        lat.len(),
        percentile(&lat, 0.50) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    client
        .call(
            "DeleteStream",
            json!({"StreamName": name, "EnforceConsumerDeletion": true})
                .to_string()
                .into_bytes(),
        )
        .await?;
    Ok(())
}

async fn subscribe(
    client: JsonClient,
    stream_arn: String,
    tx: mpsc::UnboundedSender<u64>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let c = client
        .call(
            "RegisterStreamConsumer",
            json!({"StreamARN": stream_arn, "ConsumerName": "bench"})
                .to_string()
                .into_bytes(),
        )
        .await?;
    let consumer = c["Consumer"]["ConsumerARN"]
        .as_str()
        .context("consumer ARN")?
        .to_string();
    loop {
        let d = client
            .call(
                "DescribeStreamConsumer",
                json!({"ConsumerARN": consumer}).to_string().into_bytes(),
            )
            .await?;
        if d["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = json!({"ConsumerARN": consumer, "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "LATEST"}});
    let resp = client
        .call_streaming("SubscribeToShard", body.to_string().into_bytes())
        .await?;
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let mut ready = Some(ready);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            buf.extend_from_slice(&data);
        }
        while let Some(msg) = weir_aws_api::eventstream::decode(&buf) {
            buf.drain(..msg.used);
            if msg.header(":event-type") == Some("initial-response") {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                continue;
            }
            let event: serde_json::Value = serde_json::from_slice(&msg.payload)?;
            for r in event["Records"].as_array().into_iter().flatten() {
                if let Some(us) = r["Data"].as_str().and_then(latency_us) {
                    let _ = tx.send(us);
                }
            }
        }
    }
    Ok(())
}

async fn poll(
    client: JsonClient,
    name: String,
    idle_ms: u64,
    tx: mpsc::UnboundedSender<u64>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let it = client
        .call(
            "GetShardIterator",
            json!({"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"}).to_string().into_bytes(),
        )
        .await?;
    let mut iterator = it["ShardIterator"]
        .as_str()
        .context("iterator")?
        .to_string();
    let _ = ready.send(());
    loop {
        let r = client
            .call(
                "GetRecords",
                json!({"ShardIterator": iterator}).to_string().into_bytes(),
            )
            .await?;
        let records = r["Records"].as_array().cloned().unwrap_or_default();
        for rec in &records {
            if let Some(us) = rec["Data"].as_str().and_then(latency_us) {
                let _ = tx.send(us);
            }
        }
        iterator = r["NextShardIterator"]
            .as_str()
            .context("next iterator")?
            .to_string();
        if records.is_empty() {
            tokio::time::sleep(Duration::from_millis(idle_ms)).await;
        }
    }
}
