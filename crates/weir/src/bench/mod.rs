//! `weir bench …`: load generators that measure any endpoint speaking the AWS protocols.

mod client;
mod kinesis;
mod latency;
mod reshard;

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
}

pub async fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Kinesis(b) => kinesis::run(b).await,
        BenchTarget::Latency(b) => latency::run(b).await,
        BenchTarget::Reshard(b) => reshard::run(b).await,
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
