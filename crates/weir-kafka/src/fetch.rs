//! Fetch: each partition read from its offset as one record batch, waiting up to `max_wait_ms`
//! for `min_bytes` (woken by the shards' durable ends, never polled).

use std::time::Duration;

use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use tokio::sync::watch;

use crate::{errors, records, topics, Broker};

/// The longest a fetch waits, whatever it asks.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// The most record bytes one answer holds, whatever it asks.
const MAX_RESPONSE: usize = 50 * 1024 * 1024;

pub async fn handle(b: &Broker, r: FetchRequest) -> FetchResponse {
    let wait = Duration::from_millis(r.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Watched before reading, so a record landing in between wakes the wait.
    let mut watches: Vec<watch::Receiver<u64>> = Vec::new();
    for t in &r.topics {
        let key = topics::key(b, t.topic.0.as_str());
        for p in &t.partitions {
            let index = u32::try_from(p.partition).unwrap_or(u32::MAX);
            if let Ok(w) = b.log.watch_shard(&key, index) {
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
        // A partition in error is answered at once, as Kafka does.
        let failed = out
            .responses
            .iter()
            .flat_map(|t| &t.partitions)
            .any(|p| p.error_code != errors::NONE);
        if enough || failed || tokio::time::Instant::now() >= deadline {
            return out;
        }
        if watches.is_empty() {
            tokio::time::sleep_until(deadline).await;
            return out;
        }
        let changed = async {
            let waits = watches.iter_mut().map(|w| Box::pin(w.changed()));
            select_first(waits.collect()).await
        };
        match tokio::time::timeout_at(deadline, changed).await {
            Ok(true) => {}
            // A shard gone (its stream deleted), or the time is up: answered as it stands.
            Ok(false) | Err(_) => return read(b, &r).await.0,
        }
    }
}

/// Waits for the first of the watches' changes: true when it is a change, false when its
/// sender is gone.
async fn select_first<F, E>(mut futures: Vec<F>) -> bool
where
    F: std::future::Future<Output = Result<(), E>> + Unpin,
{
    std::future::poll_fn(|cx| {
        for f in futures.iter_mut() {
            if let std::task::Poll::Ready(r) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready(r.is_ok());
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
    let budget = match r.max_bytes {
        n if n > 0 => (n as usize).min(MAX_RESPONSE),
        _ => MAX_RESPONSE,
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
            let max = (p.partition_max_bytes.max(1) as usize)
                .min(weir_log::MAX_GET_BYTES)
                .min(left.max(1));
            let (log, k, from) = (b.log.clone(), key.clone(), p.fetch_offset);
            let got = tokio::task::spawn_blocking(move || {
                let read = log.read_shard(&k, index, u64::try_from(from).unwrap_or(0), max)?;
                let (start, end) = (read.log_start as i64, read.high_watermark as i64);
                match from < start || from > end {
                    true => Ok(Err((start, end))),
                    false => Ok(Ok(read)),
                }
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
                        let log_append = b.topic_configs.log_append_time(&name);
                        let bytes = records::encode(&read.records, log_append);
                        // Past the first batch, only what fits the answer's budget.
                        if total == 0 || bytes.len() <= left {
                            total += bytes.len();
                            d.records = Some(bytes);
                        }
                    }
                }
                Ok(Ok(Err((start, end)))) => {
                    d.error_code = errors::OFFSET_OUT_OF_RANGE;
                    d.high_watermark = end;
                    d.last_stable_offset = end;
                    d.log_start_offset = start;
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
