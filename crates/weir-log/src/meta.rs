//! Stream metadata, stored crash-safely as one file replaced atomically
//! (write temp → fdatasync → rename → fsync directory).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::shard::sync_dir;

/// Capacity mode of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMode {
    Provisioned,
    OnDemand,
}

/// Server-side encryption of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `KMS` (the only type AWS offers besides `NONE`).
    pub kind: String,
    pub key_id: String,
}

/// A shard as the catalog records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardMeta {
    pub index: u32,
    /// Decimal u128 (JSON numbers do not hold 128 bits everywhere).
    pub starting_hash_key: String,
    pub ending_hash_key: String,
    #[serde(default)]
    pub parent: Option<u32>,
    #[serde(default)]
    pub adjacent_parent: Option<u32>,
    pub created_ms: i64,
    /// Set when the shard is closed: the offset one past its last record, and when.
    #[serde(default)]
    pub closed: Option<(u64, i64)>,
    /// Set once a closed shard has been closed longer than the retention period (AWS's EXPIRED
    /// state): no longer listed or readable, its files deleted. Children keep naming it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

impl ShardMeta {
    /// The shard's hash-key range, inclusive.
    pub fn range(&self) -> (u128, u128) {
        (
            self.starting_hash_key.parse().unwrap_or(0),
            self.ending_hash_key.parse().unwrap_or(u128::MAX),
        )
    }
}

/// An enhanced fan-out consumer of a stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumerMeta {
    pub name: String,
    pub created_ms: i64,
    /// CREATING until this time, then ACTIVE.
    pub active_at_ms: i64,
    /// Set once deregistered: DELETING until this time, then gone.
    #[serde(default)]
    pub deleted_at_ms: Option<i64>,
}

/// A stream as the catalog records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub uid: u64,
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    /// CREATING until this time, then ACTIVE.
    pub active_at_ms: i64,
    /// UPDATING until this time (encryption changes).
    #[serde(default)]
    pub updating_until_ms: Option<i64>,
    /// Set once DeleteStream was called; the stream disappears at this time.
    #[serde(default)]
    pub deleted_at_ms: Option<i64>,
    pub retention_hours: u32,
    pub mode: StreamMode,
    pub max_record_kib: u32,
    pub shards: Vec<ShardMeta>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub encryption: Option<Encryption>,
    #[serde(default)]
    pub shard_level_metrics: Vec<String>,
    /// Enhanced fan-out consumers.
    #[serde(default)]
    pub consumers: Vec<ConsumerMeta>,
    /// When UpdateShardCount last ran (for its calls-per-24-hours limit).
    #[serde(default)]
    pub scaling_history_ms: Vec<i64>,
    /// When the capacity mode last changed (AWS allows two switches per 24 hours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mode_history_ms: Vec<i64>,
    /// When encryption was last started or stopped (AWS allows 25 per rolling 24 hours each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encryption_history_ms: Vec<(i64, bool)>,
}

/// Everything the catalog file holds.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    pub streams: Vec<StreamMeta>,
}

/// The catalog file.
#[derive(Debug)]
pub struct MetaStore {
    dir: PathBuf,
}

const FILE: &str = "catalog.json";

impl MetaStore {
    pub fn new(dir: &Path) -> MetaStore {
        MetaStore {
            dir: dir.to_path_buf(),
        }
    }

    /// Loads the catalog; an absent file is an empty catalog.
    pub fn load(&self) -> io::Result<Catalog> {
        match fs::read(self.dir.join(FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a valid catalog: {e}",
                        self.dir.join(FILE).display()
                    ),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Catalog {
                format: 1,
                streams: Vec::new(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Replaces the catalog atomically and durably.
    pub fn save(&self, catalog: &Catalog) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(catalog).map_err(io::Error::other)?;
        write_atomic(&self.dir, FILE, &bytes)
    }
}

/// Replaces `dir/name` with `bytes` atomically and durably: a temporary file is written and
/// fsynced, renamed over the old one, and the directory fsynced.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_data()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}
