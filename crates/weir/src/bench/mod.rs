//! `weir bench …`: load generators that measure any endpoint speaking the AWS protocols.

mod client;
mod kinesis;

use clap::Subcommand;

pub use kinesis::KinesisBench;

/// What to benchmark.
#[derive(Subcommand, Debug)]
pub enum BenchTarget {
    /// Kinesis Data Streams: PutRecords ingest, concurrent GetRecords, replay, latency.
    Kinesis(KinesisBench),
}

pub async fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Kinesis(b) => kinesis::run(b).await,
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
