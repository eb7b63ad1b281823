//! Fetch: each partition read from its offset as one record batch, waiting up to `max_wait_ms`
//! for `min_bytes` (woken by the shards' durable ends, never polled).

use std::time::Duration;

use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use tokio::sync::watch;

use crate::{errors, records, topics, Broker};

/// The longest a fetch waits, whatever it asks.
const MAX_WAIT: Duration = Duration::from_secs(30);

pub async fn handle(b: &Broker, r: FetchRequest) -> FetchResponse {
    let wait = Duration::from_millis(r.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Watched before reading, so a record landing in between wakes the wait.
    let mut watches: Vec<watch::Receiver<u64>> = Vec::new();
    for t in &r.topics {
        let key = topics::key(b, t.topic.0.as_str());
        for p in &t.partitions {
            if let Ok(w) = b.log.watch_shard(&key, p.partition as u32) {
                watches.push(w);
            }
        }
    }
    loop {
        for w in &mut watches {
            w.borrow_and_update();
        }
        let (out, bytes) = read(b, &r).await;
        let enough = r.min_bytes <= 0 || bytes >= r.min_bytes as usize;
        if enough || tokio::time::Instant::now() >= deadline {
            return out;
        }
        if watches.is_empty() {
            tokio::time::sleep_until(deadline).await;
            return out;
        }
        let changed = async {
            let waits = watches.iter_mut().map(|w| Box::pin(w.changed()));
            let _ = select_first(waits.collect()).await;
        };
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return read(b, &r).await.0;
        }
    }
}

/// Waits for the first of `futures` to finish.
async fn select_first<F: std::future::Future + Unpin>(mut futures: Vec<F>) {
    std::future::poll_fn(|cx| {
        for f in futures.iter_mut() {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// One pass over the partitions asked for; the answer and how many bytes of records it holds.
async fn read(b: &Broker, r: &FetchRequest) -> (FetchResponse, usize) {
    let mut out = FetchResponse::default();
    let mut total = 0usize;
    let budget = if r.max_bytes > 0 {
        r.max_bytes as usize
    } else {
        usize::MAX
    };
    for t in &r.topics {
        let name = t.topic.0.as_str().to_string();
        let key = topics::key(b, &name);
        let mut topic = FetchableTopicResponse::default();
        topic.topic = t.topic.clone();
        for p in &t.partitions {
            let mut d = PartitionData::default();
            d.partition_index = p.partition;
            d.high_watermark = -1;
            d.last_stable_offset = -1;
            d.log_start_offset = -1;
            d.preferred_read_replica = kafka_protocol::messages::BrokerId(-1);
            let index = u32::try_from(p.partition).unwrap_or(u32::MAX);
            let left = budget.saturating_sub(total);
            let max = (p.partition_max_bytes.max(1) as usize).min(left.max(1));
            let (log, k, from) = (b.log.clone(), key.clone(), p.fetch_offset);
            let got = tokio::task::spawn_blocking(move || {
                let (start, end) = log.shard_bounds(&k, index)?;
                if from < 0 || (from as u64) < start || from as u64 > end {
                    return Ok(Err((start, end)));
                }
                log.read_shard(&k, index, from as u64, max).map(Ok)
            })
            .await;
            match got {
                Ok(Ok(Ok(read))) => {
                    d.high_watermark = read.high_watermark as i64;
                    d.last_stable_offset = read.high_watermark as i64;
                    d.log_start_offset = read.log_start as i64;
                    // The first batch is sent whole even past the budget (Kafka's rule), later
                    // ones only within it.
                    if !read.records.is_empty() && (total == 0 || left > 0) {
                        match records::encode(&read.records) {
                            Ok(bytes) => {
                                total += bytes.len();
                                d.records = Some(bytes);
                            }
                            Err(e) => {
                                tracing::warn!(topic = %name, error = %e, "a fetched batch did not encode");
                                d.error_code = errors::UNKNOWN_SERVER_ERROR;
                            }
                        }
                    }
                }
                Ok(Ok(Err((start, end)))) => {
                    d.error_code = errors::OFFSET_OUT_OF_RANGE;
                    d.high_watermark = end as i64;
                    d.last_stable_offset = end as i64;
                    d.log_start_offset = start as i64;
                }
                Ok(Err(e)) => d.error_code = errors::code(&e),
                Err(_) => d.error_code = errors::UNKNOWN_SERVER_ERROR,
            }
            topic.partitions.push(d);
        }
        out.responses.push(topic);
    }
    (out, total)
}
