//! Weir's stream log: durable, sharded, replayable. Plain Rust types in and out; no wire formats.
//!
//! Layout on disk (under the data directory):
//! - `catalog.json`: every stream's metadata, replaced atomically.
//! - `streams/<uid>/shardId-<n>/<base offset>.seg`: a shard's append-only segment files.

pub mod clock;
mod commit;
pub mod compact;
mod consumers;
mod direct;
pub mod error;
pub mod hashing;
pub mod ids;
pub mod iterator;
mod log;
pub mod meta;
pub mod on_demand;
mod rate;
mod records;
mod reshard;
pub mod segment;
pub mod seqno;
pub mod shard;
mod streams;
pub mod throttle;
pub mod types;

pub use clock::{Clock, ManualClock, SystemClock};
pub use compact::{CompactKey, CompactionPolicy, CompactionStats};
pub use consumers::{consumer_name_of, ConsumerInfo, MAX_CONSUMERS_PER_STREAM};
pub use direct::{Partition, ShardEntry, ShardRead, ShardRecord};
pub use error::{LogError, Result};
pub use log::{Log, LogConfig};
pub use meta::{Encryption, StreamMode};
pub use on_demand::OnDemandPolicy;
pub use records::{MAX_GET_BYTES, MAX_GET_RECORDS};
pub use reshard::{ShardCountChange, MAX_SCALINGS_PER_DAY, MAX_SHARDS_PER_STREAM};
pub use streams::{
    MonitoringChange, ALL_METRICS, MAX_RETENTION_HOURS, METRIC_NAMES, MIN_RETENTION_HOURS,
};
pub use types::*;
