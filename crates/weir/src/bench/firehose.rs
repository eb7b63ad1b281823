//! `weir bench firehose`: delivery throughput of 1 KiB JSON records from DirectPut into S3
//! objects (GZIP and uncompressed, with dynamic partitioning, converted to Parquet, from a
//! Kinesis stream), and the delay from put to object visible.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::Bytes;
use clap::Args;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::s3::{send, Http};
use crate::client::JsonClient;

/// Options of `weir bench firehose`.
#[derive(Args, Debug, Clone)]
pub struct FirehoseBench {
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Records per throughput run.
    #[arg(long, default_value_t = 400_000)]
    pub records: usize,
    /// Bytes per JSON record.
    #[arg(long, default_value_t = 1024)]
    pub record_size: usize,
    /// Concurrent PutRecordBatch callers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// BufferingHints SizeInMBs of the throughput runs.
    #[arg(long, default_value_t = 64)]
    pub buffer_mb: u32,
    /// Put-to-visible samples.
    #[arg(long, default_value_t = 10)]
    pub latency_samples: usize,
    /// IntervalInSeconds of the latency run.
    #[arg(long, default_value_t = 1)]
    pub latency_interval_s: u32,
    /// Only the DirectPut runs (for emulators without dynamic partitioning or stream sources).
    #[arg(long)]
    pub skip_weir_only: bool,
}

/// The ExtendedS3DestinationConfiguration of a run: prefix `<name>/`, newline delimiters.
fn s3_config(
    name: &str,
    bucket: &str,
    compression: &str,
    size_mb: u32,
    interval_s: u32,
) -> serde_json::Value {
    serde_json::json!({
        "RoleARN": "arn:aws:iam::000000000000:role/bench",
        "BucketARN": format!("arn:aws:s3:::{bucket}"),
        "Prefix": format!("{name}/"),
        "CompressionFormat": compression,
        "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval_s},
        "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "AppendDelimiterToRecord"}]},
    })
}

/// Creates a delivery stream from a CreateDeliveryStream body and waits until it is ACTIVE.
async fn create(fh: &JsonClient, name: &str, body: serde_json::Value) -> anyhow::Result<()> {
    fh.call("CreateDeliveryStream", body.to_string().into_bytes())
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = fh
            .call(
                "DescribeDeliveryStream",
                serde_json::json!({"DeliveryStreamName": name})
                    .to_string()
                    .into_bytes(),
            )
            .await?;
        if d["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{name} did not become ACTIVE");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One throughput run: how records get in, and the delivery stream they go through.
struct Scenario {
    label: &'static str,
    name: String,
    create: serde_json::Value,
    /// Records are put into this Kinesis stream (the delivery stream's source) instead.
    kinesis: Option<String>,
}

/// Objects (key, size) under `prefix`, all pages.
async fn list(http: &Http, base: &str, prefix: &str) -> anyhow::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{base}?list-type=2&prefix={prefix}");
        if let Some(t) = &token {
            url.push_str(&format!(
                "&continuation-token={}",
                weir_sigv4::uri_encode(t, true)
            ));
        }
        let body = send(http, "GET", url, Bytes::new()).await?;
        let text = String::from_utf8_lossy(&body);
        let keys = weir_objects::xml_values(&text, "Key");
        let sizes = weir_objects::xml_values(&text, "Size");
        out.extend(
            keys.into_iter()
                .zip(sizes.iter().map(|s| s.parse().unwrap_or(0))),
        );
        token = weir_objects::xml_values(&text, "NextContinuationToken").pop();
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn throughput(
    opts: &FirehoseBench,
    fh: &JsonClient,
    kinesis: &JsonClient,
    http: &Http,
    base: &str,
    run: Scenario,
) -> anyhow::Result<()> {
    let name = run.name.clone();
    create(fh, &name, run.create.clone()).await?;
    let per_batch = 500.min((4 * 1024 * 1024) / (opts.record_size + 1)).max(1);
    let batches = opts.records.div_ceil(per_batch);
    // Pre-encode the request bodies so the generator measures Weir, not itself.
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..batches)
            .map(|b| {
                let records: Vec<serde_json::Value> = (b * per_batch
                    ..((b + 1) * per_batch).min(opts.records))
                    .map(|i| {
                        serde_json::json!({
                            "Data": base64_simd::STANDARD.encode_to_string(weir_delivery::sample::event(i, opts.record_size)),
                            "PartitionKey": format!("pk-{i}"),
                        })
                    })
                    .collect();
                match &run.kinesis {
                    Some(stream) => serde_json::json!({"StreamName": stream, "Records": records}),
                    None => serde_json::json!({"DeliveryStreamName": name, "Records": records}),
                }
                .to_string()
                .into_bytes()
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let (client, action, failed) = match run.kinesis {
        Some(_) => (kinesis.clone(), "PutRecords", "FailedRecordCount"),
        None => (fh.clone(), "PutRecordBatch", "FailedPutCount"),
    };
    for _ in 0..opts.concurrency {
        let (client, next, bodies) = (client.clone(), next.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let out = client.call(action, body.clone()).await?;
                if out[failed].as_u64() != Some(0) {
                    bail!("records failed: {out}");
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let accepted = started.elapsed().as_secs_f64();
    // Deliver what is still buffered (Weir's hook; an emulator without one is taken to have
    // written its objects while accepting), and account for every byte.
    let endpoint = fh.endpoint().trim_end_matches('/').to_string();
    if let Err(e) = send(
        http,
        "POST",
        format!("{endpoint}/_weir/firehose/us-east-1/{name}/flush"),
        Bytes::new(),
    )
    .await
    {
        tracing::debug!(error = %e, "no flush hook");
        println!("  (no flush hook: objects counted as written when accepted)");
    }
    let delivered = started.elapsed().as_secs_f64();
    let objects = list(http, base, &format!("{name}/")).await?;
    let stored: u64 = objects.iter().map(|(_, s)| s).sum();
    let raw = (opts.records * (opts.record_size + 1)) as f64;
    let label = run.label;
    println!(
        "{label:>24}: {} records of {} B: accepted in {accepted:.2}s ({:.0} records/s), \
         delivered in {delivered:.2}s: {:.0} records/s, {:.1} MB/s of records; {} objects, \
         {:.1} MB stored",
        opts.records,
        opts.record_size,
        opts.records as f64 / accepted,
        opts.records as f64 / delivered,
        raw / delivered / 1e6,
        objects.len(),
        stored as f64 / 1e6
    );
    Ok(())
}

/// Put one record, then poll the listing until its object is there.
async fn delay(
    opts: &FirehoseBench,
    fh: &JsonClient,
    http: &Http,
    base: &str,
    bucket: &str,
) -> anyhow::Result<()> {
    let name = &format!("{bucket}-latency");
    create(
        fh,
        name,
        serde_json::json!({
            "DeliveryStreamName": name,
            "ExtendedS3DestinationConfiguration": s3_config(name, bucket, "GZIP", 1, opts.latency_interval_s),
        }),
    )
    .await?;
    let mut samples = Vec::new();
    for i in 0..opts.latency_samples {
        let before = list(http, base, &format!("{name}/")).await?.len();
        let body = serde_json::json!({
            "DeliveryStreamName": name,
            "Record": {"Data": base64_simd::STANDARD.encode_to_string(weir_delivery::sample::event(i, opts.record_size))}
        });
        let t0 = Instant::now();
        fh.call("PutRecord", body.to_string().into_bytes()).await?;
        loop {
            if list(http, base, &format!("{name}/")).await?.len() > before {
                break;
            }
            if t0.elapsed() > Duration::from_secs(u64::from(opts.latency_interval_s) + 30) {
                bail!("no object appeared");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(t0.elapsed().as_millis() as u64);
    }
    samples.sort_unstable();
    println!(
        "put -> object visible with IntervalInSeconds={}: median {} ms, max {} ms (over the \
         interval: median {} ms, max {} ms; {} samples)",
        opts.latency_interval_s,
        super::percentile(&samples, 0.5),
        samples.last().copied().unwrap_or(0),
        super::percentile(&samples, 0.5).saturating_sub(u64::from(opts.latency_interval_s) * 1000),
        samples
            .last()
            .copied()
            .unwrap_or(0)
            .saturating_sub(u64::from(opts.latency_interval_s) * 1000),
        samples.len()
    );
    Ok(())
}

pub async fn run(opts: FirehoseBench) -> anyhow::Result<()> {
    let fh = JsonClient::new(&opts.endpoint, "Firehose_20150804")?;
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .build_http();
    let bucket = format!("weir-fh-bench-{:08x}", rand::random::<u32>());
    let base = format!("{}/{bucket}", opts.endpoint.trim_end_matches('/'));
    send(&http, "PUT", base.clone(), Bytes::new()).await?;
    println!("endpoint {}  bucket {bucket}", opts.endpoint);
    let kinesis = JsonClient::new(&opts.endpoint, "Kinesis_20131202")?;
    let mb = opts.buffer_mb;
    let mut runs = Vec::new();
    for (label, compression) in [
        ("DirectPut GZIP", "GZIP"),
        ("DirectPut UNCOMPRESSED", "UNCOMPRESSED"),
    ] {
        let name = format!("{bucket}-{}", compression.to_lowercase());
        runs.push(Scenario {
            label,
            create: serde_json::json!({
                "DeliveryStreamName": name,
                "ExtendedS3DestinationConfiguration": s3_config(&name, &bucket, compression, mb, 900),
            }),
            name,
            kinesis: None,
        });
    }
    if !opts.skip_weir_only {
        // Dynamic partitioning: a jq query puts each event in one of 16 partitions.
        let name = format!("{bucket}-dp");
        let mut config = s3_config(&name, &bucket, "GZIP", mb.max(64), 900);
        config["Prefix"] = format!("{name}/bucket=!{{partitionKeyFromQuery:bucket}}/").into();
        config["ErrorOutputPrefix"] =
            format!("{name}/errors/!{{firehose:error-output-type}}/").into();
        config["DynamicPartitioningConfiguration"] = serde_json::json!({"Enabled": true});
        config["ProcessingConfiguration"] = serde_json::json!({"Enabled": true, "Processors": [
            {"Type": "MetadataExtraction", "Parameters": [
                {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{bucket: (.user_id % 16 | tostring)}"},
                {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
            {"Type": "AppendDelimiterToRecord"}]});
        runs.push(Scenario {
            label: "DirectPut GZIP + dyn. part.",
            create: serde_json::json!({"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": config}),
            name,
            kinesis: None,
        });
        // Record format conversion: the events into Snappy Parquet of a Glue table's columns.
        let glue = JsonClient::new(&opts.endpoint, "AWSGlue")?;
        let db = format!("bench_{}", bucket.replace('-', "_"));
        glue.call(
            "CreateDatabase",
            serde_json::json!({"DatabaseInput": {"Name": db}})
                .to_string()
                .into_bytes(),
        )
        .await?;
        let columns: Vec<serde_json::Value> = weir_delivery::sample::EVENT_COLUMNS
            .iter()
            .map(|(n, t)| serde_json::json!({"Name": n, "Type": t}))
            .collect();
        glue.call(
            "CreateTable",
            serde_json::json!({"DatabaseName": db, "TableInput": {"Name": "events",
                "StorageDescriptor": {"Columns": columns, "Location": format!("s3://{bucket}/conv/")}}})
            .to_string()
            .into_bytes(),
        )
        .await?;
        let name = format!("{bucket}-parquet");
        let mut config = s3_config(&name, &bucket, "UNCOMPRESSED", mb.max(64), 900);
        config["DataFormatConversionConfiguration"] = serde_json::json!({
            "SchemaConfiguration": {"RoleARN": "arn:aws:iam::000000000000:role/bench",
                "DatabaseName": db, "TableName": "events"},
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
        });
        runs.push(Scenario {
            label: "DirectPut → Snappy Parquet",
            create: serde_json::json!({"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": config}),
            name,
            kinesis: None,
        });
        // A Kinesis stream of 4 shards as the source.
        let stream = format!("{bucket}-source");
        kinesis
            .call(
                "CreateStream",
                serde_json::json!({"StreamName": stream, "ShardCount": 4})
                    .to_string()
                    .into_bytes(),
            )
            .await?;
        let arn = super::wait_active(&kinesis, &stream).await?;
        let name = format!("{bucket}-ks");
        runs.push(Scenario {
            label: "Kinesis stream GZIP",
            create: serde_json::json!({
                "DeliveryStreamName": name,
                "DeliveryStreamType": "KinesisStreamAsSource",
                "KinesisStreamSourceConfiguration": {"KinesisStreamARN": arn, "RoleARN": "arn:aws:iam::000000000000:role/bench"},
                "ExtendedS3DestinationConfiguration": s3_config(&name, &bucket, "GZIP", mb, 900),
            }),
            name,
            kinesis: Some(stream),
        });
    }
    for run in runs {
        throughput(&opts, &fh, &kinesis, &http, &base, run).await?;
    }
    if opts.latency_samples > 0 {
        delay(&opts, &fh, &http, &base, &bucket).await?;
    }
    Ok(())
}
