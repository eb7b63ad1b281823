//! `weir bench …`: load generators that measure any endpoint speaking the AWS protocols, and
//! in-process engine benchmarks (`nexmark`).

mod firehose;
mod kda;
mod kinesis;
mod latency;
mod nexmark;
mod reshard;
mod s3;

use clap::Subcommand;

pub use kinesis::KinesisBench;

/// What to benchmark.
#[derive(Subcommand, Debug)]
pub enum BenchTarget {
    /// Kinesis Data Streams: PutRecords ingest, concurrent GetRecords, replay, latency.
    Kinesis(KinesisBench),
    /// Put-to-consumer latency with enhanced fan-out or GetRecords polling.
    Latency(latency::LatencyBench),
    /// Write stalls while a stream holding data is resharded.
    Reshard(reshard::ReshardBench),
    /// S3: PUT/GET throughput by object size, LIST over many keys.
    S3(s3::S3Bench),
    /// Firehose: DirectPut delivery throughput into S3 (GZIP, uncompressed), put-to-object delay.
    Firehose(firehose::FirehoseBench),
    /// Streaming SQL (in process): Nexmark queries over bids in the durable log, and
    /// put-to-window-result latency.
    Nexmark(nexmark::NexmarkBench),
    /// Kinesis Data Analytics SQL applications (in process): the getting-started demo's
    /// filter and tumbling count over ticker records in the durable log.
    Kda(kda::KdaBench),
}

pub async fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Kinesis(b) => kinesis::run(b).await,
        BenchTarget::Latency(b) => latency::run(b).await,
        BenchTarget::Reshard(b) => reshard::run(b).await,
        BenchTarget::S3(b) => s3::run(b).await,
        BenchTarget::Firehose(b) => firehose::run(b).await,
        BenchTarget::Nexmark(b) => nexmark::run(b).await,
        BenchTarget::Kda(b) => kda::run(b).await,
    }
}

/// Percentile of sorted microsecond samples.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Polls DescribeStreamSummary until the stream is ACTIVE; returns its ARN.
pub(crate) async fn wait_active(
    client: &crate::client::JsonClient,
    name: &str,
) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let body = serde_json::json!({"StreamName": name})
            .to_string()
            .into_bytes();
        let d = client.call("DescribeStreamSummary", body).await?;
        let s = &d["StreamDescriptionSummary"];
        if s["StreamStatus"] == "ACTIVE" {
            return Ok(s["StreamARN"].as_str().unwrap_or_default().to_string());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("stream {name} did not become ACTIVE");
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
