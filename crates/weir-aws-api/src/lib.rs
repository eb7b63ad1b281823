//! Weir's AWS front door: one HTTP port (HTTP/1.1 and h2c) that routes `X-Amz-Target` requests
//! to per-service handlers, decoding AWS JSON 1.1 or CBOR and encoding the answer the same way.
//!
//! Only this crate knows wire formats; engines are called with Rust types.

pub mod athena;
pub mod auth;
mod aws_json;
mod body;
pub mod error;
pub mod eventstream;
mod fanout;
pub mod firehose;
pub mod glue;
pub mod input;
pub mod kafka;
pub mod kinesis;
pub mod kinesisanalytics;
pub mod kinesisanalyticsv2;
pub mod model;
mod rates;
mod rest_json;
mod routing;
pub mod s3;
mod server;
mod stall;
mod uri;
pub mod value;
mod value_stream;

pub use error::ApiError;
pub use server::{serve, tls_config, ApiConfig, Engines};

/// What a handler may use: the engines, the caller's region and protocol, shared front-door state.
pub struct Ctx {
    pub log: weir_log::Log,
    pub delivery: weir_delivery::Delivery,
    pub catalog: weir_catalog::Catalog,
    pub athena: weir_athena::Athena,
    pub analytics: weir_analytics::Analytics,
    /// Objects: local buckets and mapped ones.
    pub lake: weir_objects::Objects,
    pub crawlers: weir_crawler::Crawlers,
    pub jobs: weir_jobs::Jobs,
    pub region: String,
    pub protocol: value::Protocol,
    pub fanout: std::sync::Arc<fanout::FanOut>,
    /// Control-plane rate limits, when AWS limits are enforced.
    pub rates: Option<std::sync::Arc<rates::RateLimiter>>,
    /// The memory GetRecords answers draw from.
    pub reads: std::sync::Arc<ReadBudget>,
    /// MSK's clusters and configurations (the `kafka` API).
    pub clusters: weir_kafka::Clusters,
}

/// How long a connection may take nothing of an answer before it is closed (`stall.rs`).
pub const SEND_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

/// Bytes that read answers may hold at once, counted in KiB permits. A read takes room for
/// the most it may return, gives back what it did not use, and holds the rest until its answer
/// is sent (GetRecords and SubscribeToShard records, GetObject bodies).
pub struct ReadBudget {
    kib: std::sync::Arc<tokio::sync::Semaphore>,
    total_kib: usize,
}

impl ReadBudget {
    pub fn new(bytes: usize) -> ReadBudget {
        let total_kib = (bytes >> 10).clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        ReadBudget {
            kib: std::sync::Arc::new(tokio::sync::Semaphore::new(total_kib)),
            total_kib,
        }
    }

    /// Waits for room for `bytes` (at most the whole budget); `None` only if the budget was
    /// closed, which Weir never does.
    pub async fn reserve(&self, bytes: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let kib = bytes.div_ceil(1024).clamp(1, self.total_kib);
        let n = u32::try_from(kib).unwrap_or(u32::MAX);
        self.kib.clone().acquire_many_owned(n).await.ok()
    }

    /// Gives back what `held` reserved beyond `used` bytes.
    pub fn settle(held: &mut tokio::sync::OwnedSemaphorePermit, used: usize) {
        let keep = used.div_ceil(1024).max(1);
        if held.num_permits() > keep {
            drop(held.split(held.num_permits() - keep));
        }
    }
}

impl Ctx {
    /// Admits one request against a rate limit (always, when limits are off).
    pub fn admit(&self, key: &str, per_sec: usize) -> bool {
        match &self.rates {
            Some(r) => r.admit(key, per_sec, self.log.now_ms()),
            None => true,
        }
    }
}

/// What a handler answers: a document, or a stream of event-stream messages.
pub enum Reply {
    Doc(value::Value),
    /// A document that holds part of a memory budget until it has been sent.
    Held(value::Value, tokio::sync::OwnedSemaphorePermit),
    Events(tokio::sync::mpsc::Receiver<crate::body::Piece>),
}
