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
pub mod kinesis;
pub mod model;
mod rates;
mod routing;
pub mod s3;
mod server;
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
    pub crawlers: weir_crawler::Crawlers,
    pub jobs: weir_jobs::Jobs,
    pub region: String,
    pub protocol: value::Protocol,
    pub fanout: std::sync::Arc<fanout::FanOut>,
    /// Control-plane rate limits, when AWS limits are enforced.
    pub rates: Option<std::sync::Arc<rates::RateLimiter>>,
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
    Events(tokio::sync::mpsc::Receiver<bytes::Bytes>),
}
