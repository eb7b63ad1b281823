//! `weir bench reshard`: how long writes stall while a stream holding data is resharded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::{percentile, wait_active};
use crate::client::JsonClient;

/// Options of `weir bench reshard`.
#[derive(Args, Debug, Clone)]
pub struct ReshardBench {
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Megabytes written into the stream before resharding.
    #[arg(long, default_value_t = 1024)]
    pub fill_mb: usize,
}

pub async fn run(opts: ReshardBench) -> anyhow::Result<()> {
    let client = JsonClient::new(&opts.endpoint, "Kinesis_20131202")?;
    let name = format!("weir-reshard-{:08x}", rand::random::<u32>());
    client
        .call(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": 2})
                .to_string()
                .into_bytes(),
        )
        .await?;
    wait_active(&client, &name).await?;
    // Fill: 500 records of 4 KiB per call from 4 writers.
    let payload = base64_simd::STANDARD.encode_to_string(vec![b'f'; 4096]);
    let calls = opts.fill_mb * 1024 * 1024 / (500 * 4096);
    let started = Instant::now();
    let mut fillers = Vec::new();
    for w in 0..4 {
        let (client, name, payload) = (client.clone(), name.clone(), payload.clone());
        fillers.push(tokio::spawn(async move {
            for c in (w..calls).step_by(4) {
                let records: Vec<_> = (0..500)
                    .map(|i| json!({"Data": payload, "PartitionKey": format!("{c}-{i}")}))
                    .collect();
                client
                    .call(
                        "PutRecords",
                        json!({"StreamName": name, "Records": records})
                            .to_string()
                            .into_bytes(),
                    )
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for f in fillers {
        f.await??;
    }
    println!(
        "filled {} MB in {:.1} s",
        opts.fill_mb,
        started.elapsed().as_secs_f64()
    );

    // A steady writer measures every PutRecord while the stream is resharded.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, name, stop) = (client.clone(), name.clone(), stop.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            let data = base64_simd::STANDARD.encode_to_string(vec![b'w'; 1024]);
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                client
                    .call(
                        "PutRecord",
                        json!({"StreamName": name, "PartitionKey": format!("w{i}"), "Data": data})
                            .to_string()
                            .into_bytes(),
                    )
                    .await?;
                lat.push(t.elapsed().as_micros() as u64);
                i += 1;
            }
            Ok::<_, anyhow::Error>(lat)
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    client
        .call(
            "UpdateShardCount",
            json!({"StreamName": name, "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"})
                .to_string()
                .into_bytes(),
        )
        .await?;
    let reshard_ms = t.elapsed().as_secs_f64() * 1000.0;
    wait_active(&client, &name).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let mut lat = writer.await??;
    lat.sort_unstable();
    println!(
        "UpdateShardCount 2 -> 4 on {} MB took {:.1} ms; PutRecord during it ({} calls): p50 {:.2} ms  p99 {:.2} ms  max (longest stall) {:.2} ms",
        opts.fill_mb,
        reshard_ms,
        lat.len(),
        percentile(&lat, 0.5) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    client
        .call(
            "DeleteStream",
            json!({"StreamName": name}).to_string().into_bytes(),
        )
        .await?;
    Ok(())
}
