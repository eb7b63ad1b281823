//! The Kinesis load generator: many producers and consumers against any Kinesis endpoint,
//! checking that every record comes back exactly once and in order per shard.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::json;
use std::sync::Mutex;

use super::{percentile, wait_active};
use crate::client::{AwsError, JsonClient};

/// Options of `weir bench kinesis`.
#[derive(Args, Debug, Clone)]
pub struct KinesisBench {
    /// Endpoint URL of the Kinesis API.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Shards of the benchmark stream.
    #[arg(long, default_value_t = 4)]
    pub shards: u32,
    /// Concurrent producers.
    #[arg(long, default_value_t = 16)]
    pub producers: usize,
    /// PutRecords calls per producer.
    #[arg(long, default_value_t = 100)]
    pub batches: usize,
    /// Records per PutRecords call.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Bytes of data per record.
    #[arg(long, default_value_t = 1024)]
    pub record_size: usize,
    /// Sequential PutRecords calls of the moderate-load latency phase.
    #[arg(long, default_value_t = 500)]
    pub latency_calls: usize,
    /// Records per call in the latency phase.
    #[arg(long, default_value_t = 100)]
    pub latency_batch: usize,
    /// Leave the benchmark stream in place (for start-up measurements on a full data dir).
    #[arg(long)]
    pub keep: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

/// Which records a consumer saw: per producer, the last sequence seen per shard and a count.
#[derive(Default)]
struct Seen {
    per_producer: HashMap<u32, Vec<bool>>,
    duplicates: u64,
    out_of_order: u64,
}

pub async fn run(opts: KinesisBench) -> anyhow::Result<()> {
    let client = JsonClient::new(&opts.endpoint, "Kinesis_20131202")?;
    let deadline = Instant::now() + Duration::from_secs(opts.timeout_secs);
    let name = format!("weir-bench-{:08x}", rand::random::<u32>());
    client
        .call(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": opts.shards})
                .to_string()
                .into_bytes(),
        )
        .await?;
    wait_active(&client, &name).await?;
    let shard_ids = list_shards(&client, &name).await?;
    let total = (opts.producers * opts.batches * opts.batch_size) as u64;
    let bytes_total = total * opts.record_size as u64;
    println!(
        "endpoint {}  stream {name}  shards {}  producers {}  records {total} x {} B",
        opts.endpoint, opts.shards, opts.producers, opts.record_size
    );

    // Phase 1: concurrent ingest and tail-reading consumers.
    let consumed = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut consumers = Vec::new();
    for shard in &shard_ids {
        consumers.push(tokio::spawn(consume(
            client.clone(),
            name.clone(),
            shard.clone(),
            total,
            consumed.clone(),
            Some(seen.clone()),
            deadline,
        )));
    }
    let started = Instant::now();
    let mut producers = Vec::new();
    for p in 0..opts.producers {
        producers.push(tokio::spawn(produce(
            client.clone(),
            name.clone(),
            p as u32,
            opts.clone(),
        )));
    }
    let mut latencies = Vec::new();
    for p in producers {
        latencies.extend(p.await??);
    }
    let ingest = started.elapsed();
    for c in consumers {
        c.await??;
    }
    let end_to_end = started.elapsed();
    latencies.sort_unstable();
    let (missing, duplicates, out_of_order) = {
        let seen = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let missing: u64 = seen
            .per_producer
            .values()
            .map(|v| v.iter().filter(|s| !**s).count() as u64)
            .sum::<u64>()
            + (opts.producers as u64 - seen.per_producer.len() as u64)
                * (opts.batches * opts.batch_size) as u64;
        (missing, seen.duplicates, seen.out_of_order)
    };
    println!(
        "ingest      {:>10.0} records/s  {:>8.1} MB/s  PutRecords p50 {:.2} ms  p99 {:.2} ms  ({} calls)",
        total as f64 / ingest.as_secs_f64(),
        bytes_total as f64 / ingest.as_secs_f64() / 1e6,
        percentile(&latencies, 0.50) as f64 / 1000.0,
        percentile(&latencies, 0.99) as f64 / 1000.0,
        latencies.len()
    );
    println!(
        "tail read   all {} records consumed {:.2} s after the first put; missing {missing}, duplicates {}, out of order {}",
        consumed.load(Ordering::Relaxed),
        end_to_end.as_secs_f64(),
        duplicates,
        out_of_order
    );
    if missing > 0 || duplicates > 0 || out_of_order > 0 {
        bail!("verification failed");
    }

    // Phase 2: replay everything from TRIM_HORIZON, one consumer per shard.
    let replayed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut readers = Vec::new();
    for shard in &shard_ids {
        readers.push(tokio::spawn(consume(
            client.clone(),
            name.clone(),
            shard.clone(),
            total,
            replayed.clone(),
            None,
            deadline,
        )));
    }
    for r in readers {
        r.await??;
    }
    let replay = started.elapsed();
    println!(
        "replay      {:>10.0} records/s  {:>8.1} MB/s  (GetRecords from TRIM_HORIZON, {} consumers)",
        total as f64 / replay.as_secs_f64(),
        bytes_total as f64 / replay.as_secs_f64() / 1e6,
        shard_ids.len()
    );

    // Phase 3: one producer at a moderate rate, sequential calls.
    let mut lat = Vec::with_capacity(opts.latency_calls);
    let payload = base64_simd::STANDARD.encode_to_string(vec![b'x'; opts.record_size]);
    for i in 0..opts.latency_calls {
        let records: Vec<_> = (0..opts.latency_batch)
            .map(|j| json!({"Data": payload, "PartitionKey": format!("lat-{i}-{j}")}))
            .collect();
        let body = json!({"StreamName": name, "Records": records})
            .to_string()
            .into_bytes();
        let t = Instant::now();
        client.call("PutRecords", body).await?;
        lat.push(t.elapsed().as_micros() as u64);
    }
    lat.sort_unstable();
    println!(
        "latency     PutRecords of {} x {} B, one caller: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        opts.latency_batch,
        opts.record_size,
        percentile(&lat, 0.50) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    if !opts.keep {
        let body = json!({"StreamName": name}).to_string().into_bytes();
        client.call("DeleteStream", body).await?;
    }
    Ok(())
}

async fn list_shards(client: &JsonClient, name: &str) -> anyhow::Result<Vec<String>> {
    let v = client
        .call(
            "DescribeStream",
            json!({"StreamName": name}).to_string().into_bytes(),
        )
        .await?;
    let shards = v["StreamDescription"]["Shards"]
        .as_array()
        .context("DescribeStream returned no shards")?
        .iter()
        .filter_map(|s| s["ShardId"].as_str().map(str::to_string))
        .collect();
    Ok(shards)
}

/// Record payload: producer id (4 bytes) and sequence (8 bytes), then filler.
fn payload(producer: u32, seq: u64, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size.max(12));
    v.extend_from_slice(&producer.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.resize(size.max(12), b'.');
    v
}

/// A PutRecords body written by hand: the generator must not be the bottleneck it measures.
fn put_records_body(
    stream: &str,
    producer: u32,
    first_seq: u64,
    count: usize,
    size: usize,
) -> Vec<u8> {
    let per = base64_simd::STANDARD.encoded_length(size.max(12)) + 48;
    let mut body = String::with_capacity(64 + count * per);
    body.push_str("{\"StreamName\":\"");
    body.push_str(stream);
    body.push_str("\",\"Records\":[");
    for i in 0..count {
        let seq = first_seq + i as u64;
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"Data\":\"");
        body.push_str(&base64_simd::STANDARD.encode_to_string(payload(producer, seq, size)));
        body.push_str("\",\"PartitionKey\":\"p");
        body.push_str(&format!("{producer}-{}", seq % 97));
        body.push_str("\"}");
    }
    body.push_str("]}");
    body.into_bytes()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsOut {
    #[serde(default)]
    failed_record_count: u64,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsOut {
    records: Vec<RecordOut>,
    next_shard_iterator: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordOut {
    data: String,
}

async fn produce(
    client: JsonClient,
    name: String,
    producer: u32,
    opts: KinesisBench,
) -> anyhow::Result<Vec<u64>> {
    let mut latencies = Vec::with_capacity(opts.batches);
    for batch in 0..opts.batches {
        let first = (batch * opts.batch_size) as u64;
        let body = put_records_body(&name, producer, first, opts.batch_size, opts.record_size);
        let t = Instant::now();
        let raw = loop {
            match client.call_raw("PutRecords", body.clone()).await {
                Ok(v) => break v,
                Err(e)
                    if e.downcast_ref::<AwsError>()
                        .is_some_and(|a| a.code.contains("Throughput")) =>
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(e) => return Err(e),
            }
        };
        latencies.push(t.elapsed().as_micros() as u64);
        let out: PutRecordsOut = serde_json::from_slice(&raw).context("PutRecords answer")?;
        if out.failed_record_count > 0 {
            bail!("PutRecords reported failed records; this load generator does not retry them");
        }
    }
    Ok(latencies)
}

async fn consume(
    client: JsonClient,
    name: String,
    shard: String,
    total: u64,
    counter: Arc<AtomicU64>,
    seen: Option<Arc<Mutex<Seen>>>,
    deadline: Instant,
) -> anyhow::Result<()> {
    let v = client
        .call(
            "GetShardIterator",
            json!({"StreamName": name, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})
                .to_string()
                .into_bytes(),
        )
        .await?;
    let mut iterator = v["ShardIterator"]
        .as_str()
        .context("no iterator")?
        .to_string();
    let mut last_seq: HashMap<u32, u64> = HashMap::new();
    while counter.load(Ordering::Relaxed) < total {
        if Instant::now() > deadline {
            bail!("timed out reading {shard}");
        }
        let body = format!("{{\"ShardIterator\":\"{iterator}\",\"Limit\":10000}}").into_bytes();
        let raw = match client.call_raw("GetRecords", body).await {
            Ok(v) => v,
            Err(e)
                if e.downcast_ref::<AwsError>()
                    .is_some_and(|a| a.code.contains("Throughput")) =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let out: GetRecordsOut = serde_json::from_slice(&raw).context("GetRecords answer")?;
        let n = out.records.len();
        if let Some(seen) = &seen {
            let mut guard = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            let seen = &mut *guard;
            for r in &out.records {
                let data = base64_simd::STANDARD
                    .decode_to_vec(r.data.as_bytes())
                    .context("record data")?;
                if data.len() < 12 {
                    continue;
                }
                let producer = u32::from_be_bytes(data[0..4].try_into()?);
                let seq = u64::from_be_bytes(data[4..12].try_into()?);
                if last_seq.get(&producer).is_some_and(|&l| l >= seq) {
                    seen.out_of_order += 1;
                }
                last_seq.insert(producer, seq);
                let slots = seen.per_producer.entry(producer).or_default();
                if slots.len() <= seq as usize {
                    slots.resize(seq as usize + 1, false);
                }
                if slots[seq as usize] {
                    seen.duplicates += 1;
                }
                slots[seq as usize] = true;
            }
        }
        counter.fetch_add(n as u64, Ordering::Relaxed);
        match out.next_shard_iterator {
            Some(next) => iterator = next,
            None => break,
        }
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok(())
}
