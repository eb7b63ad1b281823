//! The delivery catalog (`delivery/catalog.json`, replaced atomically) and each stream's source
//! checkpoint (`delivery/checkpoints/<uid>.json`, written after each delivered object).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{HttpEndpoint, S3Destination, Source, StreamEncryption};

/// A delivery stream as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamMeta {
    pub uid: u64,
    pub region: String,
    pub name: String,
    pub source: Source,
    pub destination_id: String,
    pub destination: S3Destination,
    #[serde(default)]
    pub http: Option<HttpEndpoint>,
    pub version_id: u64,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
    pub active_at_ms: i64,
    pub deleted_at_ms: Option<i64>,
    pub tags: Vec<(String, String)>,
    pub encryption: Option<StreamEncryption>,
    pub delivery_start_ms: i64,
    /// Streams of the main log (`region:name`) that get a copy of every record put (a Kinesis
    /// Data Analytics application reading the delivery stream).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taps: Vec<String>,
}

impl StreamMeta {
    /// What records are processed and buffered with: the S3 destination, or for an HTTP
    /// endpoint its processors and buffering hints.
    pub fn effective(&self) -> S3Destination {
        match &self.http {
            None => self.destination.clone(),
            Some(h) => self.destination.for_http(h),
        }
    }

    /// Whether its DELETING time is over (it is then gone for every caller).
    pub fn is_gone(&self, now_ms: i64) -> bool {
        self.deleted_at_ms.is_some_and(|t| t <= now_ms)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    pub streams: Vec<StreamMeta>,
}

/// Where reading a source shard resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resume {
    /// At this sequence number (a record not yet delivered).
    At(String),
    /// After this sequence number (everything up to it delivered).
    After(String),
    /// From the shard's oldest record (a shard not read yet).
    TrimHorizon,
    /// From the first record that arrived at or after this time (epoch ms), not read yet.
    AtTimestamp(i64),
}

/// A stream's source positions: shard id → where to resume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub shards: BTreeMap<String, Resume>,
    /// Shards read to their end (closed parents of a resharded source).
    #[serde(default)]
    pub finished: Vec<String>,
    /// Source records (and their bytes) read before this position.
    #[serde(default)]
    pub records_in: u64,
    #[serde(default)]
    pub bytes_in: u64,
    /// The stream's counts when the checkpoint was saved (its in-counts as of the position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<crate::worker::Stats>,
}

pub struct Files {
    dir: PathBuf,
}

impl Files {
    pub fn new(dir: &Path) -> io::Result<Files> {
        std::fs::create_dir_all(dir.join("checkpoints"))?;
        Ok(Files {
            dir: dir.to_path_buf(),
        })
    }

    pub fn load(&self) -> io::Result<Catalog> {
        match std::fs::read(self.dir.join("catalog.json")) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Catalog {
                format: 1,
                streams: Vec::new(),
            }),
            Err(e) => Err(e),
        }
    }

    pub fn save(&self, catalog: &Catalog) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(catalog).map_err(io::Error::other)?;
        weir_log::meta::write_atomic(&self.dir, "catalog.json", &bytes)
    }

    pub fn load_checkpoint(&self, uid: u64) -> io::Result<Option<Checkpoint>> {
        match std::fs::read(
            self.dir
                .join("checkpoints")
                .join(format!("{uid:016x}.json")),
        ) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn save_checkpoint(&self, uid: u64, c: &Checkpoint) -> io::Result<()> {
        let bytes = serde_json::to_vec(c).map_err(io::Error::other)?;
        weir_log::meta::write_atomic(
            &self.dir.join("checkpoints"),
            &format!("{uid:016x}.json"),
            &bytes,
        )
    }

    pub fn remove_checkpoint(&self, uid: u64) -> io::Result<()> {
        match std::fs::remove_file(
            self.dir
                .join("checkpoints")
                .join(format!("{uid:016x}.json")),
        ) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
