//! The engine's public vocabulary: what front doors pass in and get back.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::meta::{Encryption, StreamMode};

/// Names a stream: region plus name (ARNs are resolved to this by the front door).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub region: String,
    pub name: String,
}

impl StreamKey {
    pub fn new(region: impl Into<String>, name: impl Into<String>) -> Self {
        StreamKey {
            region: region.into(),
            name: name.into(),
        }
    }
}

/// Lifecycle state of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }
}

/// What CreateStream asks for.
#[derive(Debug, Clone)]
pub struct CreateStream {
    pub key: StreamKey,
    pub shard_count: Option<u32>,
    pub mode: StreamMode,
    pub tags: BTreeMap<String, String>,
    pub max_record_kib: Option<u32>,
    /// Hours records are kept (Kinesis's 24 when None; the Kafka door asks Kafka's 168).
    pub retention_hours: Option<u32>,
}

/// A shard as described to clients.
#[derive(Debug, Clone)]
pub struct ShardInfo {
    pub shard_id: String,
    pub index: u32,
    pub starting_hash_key: u128,
    pub ending_hash_key: u128,
    pub parent_shard_id: Option<String>,
    pub adjacent_parent_shard_id: Option<String>,
    pub starting_sequence_number: String,
    pub ending_sequence_number: Option<String>,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
}

impl ShardInfo {
    pub fn is_open(&self) -> bool {
        self.ending_sequence_number.is_none()
    }
}

/// A stream as described to clients.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub name: String,
    /// AWS's StreamId (`[a-z0-9]{20}-[a-z0-9]{3}`), derived from the stream's identity.
    pub stream_id: String,
    pub arn: String,
    pub status: StreamStatus,
    pub mode: StreamMode,
    pub created_ms: i64,
    pub retention_hours: u32,
    pub shards: Vec<ShardInfo>,
    pub encryption: Option<Encryption>,
    pub shard_level_metrics: Vec<String>,
    pub max_record_kib: u32,
    pub consumer_count: u32,
}

/// The StreamId of a stream: stable for its life, different for a stream re-created under the
/// same name (derived from its uid and creation time; nothing is stored).
pub fn stream_id(uid: u64, created_ms: i64) -> String {
    fn mix(mut z: u64) -> u64 {
        // splitmix64's finaliser.
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut words = [
        mix(uid),
        mix(uid ^ created_ms as u64),
        mix(created_ms as u64),
    ];
    let mut out = String::with_capacity(24);
    for i in 0..23 {
        if i == 20 {
            out.push('-');
        }
        let w = &mut words[i % 3];
        out.push(char::from(DIGITS[(*w % 36) as usize]));
        *w /= 36;
    }
    out
}

impl StreamInfo {
    pub fn open_shard_count(&self) -> usize {
        self.shards.iter().filter(|s| s.is_open()).count()
    }
}

/// One record to put.
#[derive(Debug, Clone)]
pub struct PutEntry {
    pub partition_key: String,
    pub explicit_hash_key: Option<u128>,
    pub data: Bytes,
}

/// Where a put record landed.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    pub shard_id: String,
    pub sequence_number: String,
}

/// Where a shard iterator starts.
#[derive(Debug, Clone)]
pub enum IteratorStart {
    AtSequenceNumber(String),
    AfterSequenceNumber(String),
    TrimHorizon,
    Latest,
    AtTimestamp(i64),
}

/// A record as read.
#[derive(Debug, Clone)]
pub struct RecordOut {
    pub sequence_number: String,
    pub arrival_ms: i64,
    pub partition_key: String,
    pub data: Bytes,
}

/// A child of a closed shard, as GetRecords reports it at the parent's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    pub shard_id: String,
    pub parent_shards: Vec<String>,
    pub starting_hash_key: u128,
    pub ending_hash_key: u128,
}

/// What GetRecords returns.
#[derive(Debug, Clone)]
pub struct RecordsOut {
    pub records: Vec<RecordOut>,
    /// `None` once a closed shard has been read to its end.
    pub next_iterator: Option<String>,
    /// Set (with `next_iterator` None) when a closed shard has been read to its end.
    pub child_shards: Vec<ChildShard>,
    /// Where reading continues, as a sequence number to use with AFTER_SEQUENCE_NUMBER.
    pub continuation_sequence_number: String,
    pub millis_behind_latest: i64,
    pub encrypted: bool,
}

/// Account-level limits and usage (DescribeLimits).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub shard_limit: u32,
    pub open_shard_count: u32,
    pub on_demand_stream_count: u32,
    pub on_demand_stream_count_limit: u32,
}

/// Which shards ListShards returns.
#[derive(Debug, Clone)]
pub enum ShardFilter {
    AfterShardId(String),
    AtTrimHorizon,
    FromTrimHorizon,
    AtLatest,
    AtTimestamp(i64),
    FromTimestamp(i64),
}

/// Formats a shard id as AWS does.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// Parses `shardId-000000000007` (or a bare number, as AWS tolerates) into 7.
pub fn parse_shard_id(s: &str) -> Option<u32> {
    // As AWS reads a shard id: the text after the first hyphen (or all of it), which must be
    // a decimal index of at most 2^31 - 1 (`shardId-5`, `shard-5` and `5` all name shard 5).
    let digits = match s.split('-').nth(1) {
        Some(d) if !d.is_empty() => d,
        _ => s,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let n: u64 = significant.parse().unwrap_or(0);
    (n <= i32::MAX as u64).then_some(n as u32)
}
