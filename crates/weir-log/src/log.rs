//! The stream log: streams, their shards, and the group-commit writer, behind one handle.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::clock::Clock;
use crate::commit::Committer;
use crate::error::{LogError, Result};
use crate::meta::{Catalog, MetaStore, StreamMeta};
use crate::shard::ShardLog;
use crate::types::{StreamKey, StreamStatus};

/// How the log behaves; defaults suit a laptop.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Root directory of the log's files.
    pub data_dir: PathBuf,
    /// Account id used in ARNs and messages.
    pub account_id: String,
    /// A segment file rolls over past this many bytes.
    pub segment_bytes: u64,
    /// How long a new stream stays CREATING.
    pub create_delay_ms: i64,
    /// How long a deleted stream stays DELETING.
    pub delete_delay_ms: i64,
    /// How long an updated stream stays UPDATING.
    pub update_delay_ms: i64,
    /// Open shards allowed per account and region (CreateStream's LimitExceededException).
    pub shard_limit: u32,
    /// On-demand streams allowed per account and region.
    pub on_demand_stream_limit: u32,
    /// How on-demand streams scale.
    pub on_demand: crate::on_demand::OnDemandPolicy,
    /// Enforce AWS's per-shard throughput limits (off by default for local speed).
    pub aws_limits: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            data_dir: PathBuf::from("weir-data"),
            account_id: "000000000000".into(),
            segment_bytes: 128 * 1024 * 1024,
            create_delay_ms: 100,
            delete_delay_ms: 100,
            update_delay_ms: 100,
            shard_limit: 500,
            on_demand_stream_limit: 50,
            on_demand: crate::on_demand::OnDemandPolicy::default(),
            aws_limits: false,
        }
    }
}

pub(crate) struct Stream {
    pub meta: StreamMeta,
    pub shards: Vec<Arc<ShardLog>>,
}

impl Stream {
    /// The log of shard `index`, unless there is no such shard or it has expired.
    pub(crate) fn live_shard(&self, index: u32) -> Option<Arc<ShardLog>> {
        let meta = self.meta.shards.get(index as usize)?;
        (!meta.expired)
            .then(|| self.shards.get(index as usize).cloned())
            .flatten()
    }

    /// The logs of the shards that have not expired.
    fn live_shards(&self) -> impl Iterator<Item = Arc<ShardLog>> + '_ {
        self.meta
            .shards
            .iter()
            .zip(&self.shards)
            .filter(|(sm, _)| !sm.expired)
            .map(|(_, log)| Arc::clone(log))
    }
}

pub(crate) struct State {
    pub streams: BTreeMap<StreamKey, Stream>,
    pub by_uid: HashMap<u64, StreamKey>,
}

/// Handle to the log; cheap to clone.
#[derive(Clone)]
pub struct Log {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: LogConfig,
    pub clock: Arc<dyn Clock>,
    pub state: RwLock<State>,
    /// Serialises catalog writes so the file always holds the latest state.
    pub meta_lock: Mutex<MetaStore>,
    pub committer: Committer,
}

impl Log {
    /// Opens the log under `config.data_dir`, recovering every stream and shard.
    pub fn open(config: LogConfig, clock: Arc<dyn Clock>) -> Result<Log> {
        let streams_dir = config.data_dir.join("streams");
        std::fs::create_dir_all(&streams_dir)?;
        let store = MetaStore::new(&config.data_dir);
        let catalog = store.load()?;
        let mut state = State {
            streams: BTreeMap::new(),
            by_uid: HashMap::new(),
        };
        for meta in catalog.streams {
            let mut shards = Vec::with_capacity(meta.shards.len());
            for sm in &meta.shards {
                let dir = shard_dir(&config.data_dir, meta.uid, sm.index);
                let (shard, truncations) = ShardLog::open(&dir, config.segment_bytes)?;
                if sm.expired {
                    // Expired before a crash could remove all its files: finish the job.
                    shard.destroy()?;
                    shards.push(Arc::new(shard));
                    continue;
                }
                for t in truncations {
                    tracing::warn!(
                        file = %t.path.display(),
                        valid_bytes = t.valid_len,
                        file_bytes = t.file_len,
                        reason = t.reason,
                        "truncated an unacknowledged or corrupt tail of a segment"
                    );
                }
                shards.push(Arc::new(shard));
            }
            let key = StreamKey::new(meta.region.clone(), meta.name.clone());
            state.by_uid.insert(meta.uid, key.clone());
            state.streams.insert(key, Stream { meta, shards });
        }
        remove_orphans(&streams_dir, &state)?;
        let committer = Committer::start(clock.clone())?;
        let log = Log {
            inner: Arc::new(Inner {
                config,
                clock,
                state: RwLock::new(state),
                meta_lock: Mutex::new(store),
                committer,
            }),
        };
        log.purge_deleted()?;
        Ok(log)
    }

    pub fn config(&self) -> &LogConfig {
        &self.inner.config
    }

    /// The log's clock, in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// The ARN of a stream.
    pub fn stream_arn(&self, key: &StreamKey) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            key.region, self.inner.config.account_id, key.name
        )
    }

    pub(crate) fn not_found(&self, key: &StreamKey) -> LogError {
        LogError::NotFound(format!(
            "Stream {} under account {} not found.",
            key.name, self.inner.config.account_id
        ))
    }

    /// Whether a deleted stream's DELETING time is over (it is then gone for every caller,
    /// even before housekeeping removes its files).
    /// AWS's answer for a shard that does not exist, or no longer does (no period).
    pub(crate) fn shard_missing(&self, stream: &str, index: u32) -> LogError {
        LogError::NotFound(format!(
            "Shard {} in stream {stream} under account {} does not exist",
            crate::types::shard_id(index),
            self.inner.config.account_id
        ))
    }

    pub(crate) fn is_gone(&self, meta: &StreamMeta) -> bool {
        meta.deleted_at_ms.is_some_and(|t| t <= self.now_ms())
    }

    /// The stream named `key`, unless it does not exist or is gone.
    pub(crate) fn lookup<'a>(&self, state: &'a State, key: &StreamKey) -> Result<&'a Stream> {
        match state.streams.get(key) {
            Some(s) if !self.is_gone(&s.meta) => Ok(s),
            _ => Err(self.not_found(key)),
        }
    }

    /// The stream named `key` when it takes records (ACTIVE or UPDATING); "not found" while
    /// it is being created or deleted, as AWS answers.
    pub(crate) fn lookup_active<'a>(
        &self,
        state: &'a State,
        key: &StreamKey,
    ) -> Result<&'a Stream> {
        let s = self.lookup(state, key)?;
        match self.status_of(&s.meta) {
            StreamStatus::Active | StreamStatus::Updating => Ok(s),
            _ => Err(self.not_found(key)),
        }
    }

    /// Status of a stream now.
    pub(crate) fn status_of(&self, meta: &StreamMeta) -> StreamStatus {
        let now = self.now_ms();
        if meta.deleted_at_ms.is_some() {
            StreamStatus::Deleting
        } else if now < meta.active_at_ms {
            StreamStatus::Creating
        } else if meta.updating_until_ms.is_some_and(|t| now < t) {
            StreamStatus::Updating
        } else {
            StreamStatus::Active
        }
    }

    /// Writes the catalog as it is in `state`. Call with the meta lock held.
    pub(crate) fn persist(&self, store: &MetaStore, state: &State) -> Result<()> {
        let catalog = Catalog {
            format: 1,
            streams: state.streams.values().map(|s| s.meta.clone()).collect(),
        };
        store.save(&catalog)?;
        Ok(())
    }

    /// Forgets streams whose deletion delay has passed and removes their files.
    pub fn purge_deleted(&self) -> Result<usize> {
        let now = self.now_ms();
        let store = self.inner.meta_lock.lock();
        let removed: Vec<Stream> = {
            let mut state = self.inner.state.write();
            let doomed: Vec<StreamKey> = state
                .streams
                .iter()
                .filter(|(_, s)| s.meta.deleted_at_ms.is_some_and(|t| t <= now))
                .map(|(k, _)| k.clone())
                .collect();
            if doomed.is_empty() {
                return Ok(0);
            }
            let mut removed = Vec::new();
            for k in doomed {
                if let Some(s) = state.streams.remove(&k) {
                    state.by_uid.remove(&s.meta.uid);
                    removed.push(s);
                }
            }
            self.persist(&store, &state)?;
            removed
        };
        drop(store);
        for s in &removed {
            for shard in &s.shards {
                shard.destroy()?;
            }
            let dir = stream_dir(&self.inner.config.data_dir, s.meta.uid);
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e.into());
                }
            }
        }
        Ok(removed.len())
    }

    /// Deletes segments past each stream's retention period. Returns how many were deleted.
    pub fn enforce_retention(&self) -> Result<usize> {
        let now = self.now_ms();
        let work: Vec<(i64, Vec<Arc<ShardLog>>)> = self
            .inner
            .state
            .read()
            .streams
            .values()
            .map(|s| {
                (
                    retention_cutoff(now, s.meta.retention_hours),
                    s.live_shards().collect(),
                )
            })
            .collect();
        let mut n = 0;
        for (cutoff, shards) in work {
            for shard in shards {
                n += shard.trim_before(cutoff)?;
            }
        }
        Ok(n)
    }

    /// Saves every active segment's index (see `ShardLog::checkpoint`).
    pub fn checkpoint(&self) -> Result<()> {
        let shards: Vec<Arc<ShardLog>> = self
            .inner
            .state
            .read()
            .streams
            .values()
            .flat_map(Stream::live_shards)
            .collect();
        for shard in shards {
            shard.checkpoint()?;
        }
        Ok(())
    }

    /// Expires closed shards that have been closed longer than their stream's retention period
    /// (AWS's EXPIRED state: every record in them is past retention). The catalog records the
    /// expiry first, then the files go; a restart in between finishes the removal. Returns how
    /// many shards expired.
    pub fn expire_closed_shards(&self) -> Result<usize> {
        let now = self.now_ms();
        let store = self.inner.meta_lock.lock();
        let doomed: Vec<Arc<ShardLog>> = {
            let mut state = self.inner.state.write();
            let mut doomed = Vec::new();
            for s in state.streams.values_mut() {
                let cutoff = retention_cutoff(now, s.meta.retention_hours);
                for (sm, log) in s.meta.shards.iter_mut().zip(&s.shards) {
                    if !sm.expired && sm.closed.is_some_and(|(_, at)| at <= cutoff) {
                        sm.expired = true;
                        doomed.push(Arc::clone(log));
                    }
                }
            }
            if doomed.is_empty() {
                return Ok(0);
            }
            self.persist(&store, &state)?;
            doomed
        };
        drop(store);
        for log in &doomed {
            log.destroy()?;
        }
        Ok(doomed.len())
    }

    /// Background upkeep: purge deleted streams, enforce retention, checkpoint. Call
    /// periodically, and once at shutdown.
    pub fn housekeeping(&self) {
        if let Err(e) = self.checkpoint() {
            tracing::error!(error = %e, "checkpointing segment indexes failed");
        }
        if let Err(e) = self.purge_deleted() {
            tracing::error!(error = %e, "purging deleted streams failed");
        }
        if let Err(e) = self.enforce_retention() {
            tracing::error!(error = %e, "retention enforcement failed");
        }
        match self.expire_closed_shards() {
            Ok(0) => {}
            Ok(n) => tracing::info!(shards = n, "expired closed shards past retention"),
            Err(e) => tracing::error!(error = %e, "expiring closed shards failed"),
        }
    }
}

/// Removes stream directories the catalog does not know: left by a crash between creating a
/// stream's files and recording it, or between forgetting a stream and removing its files.
fn remove_orphans(streams_dir: &std::path::Path, state: &State) -> Result<()> {
    for entry in std::fs::read_dir(streams_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let known = name
            .to_str()
            .and_then(|n| u64::from_str_radix(n, 16).ok())
            .is_some_and(|uid| state.by_uid.contains_key(&uid));
        if !known {
            tracing::warn!(dir = %entry.path().display(), "removing files of a stream the catalog does not know");
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Records that arrived before this time are past retention.
pub(crate) fn retention_cutoff(now_ms: i64, retention_hours: u32) -> i64 {
    now_ms - i64::from(retention_hours) * 3_600_000
}

pub(crate) fn stream_dir(data_dir: &std::path::Path, uid: u64) -> PathBuf {
    data_dir.join("streams").join(format!("{uid:016x}"))
}

pub(crate) fn shard_dir(data_dir: &std::path::Path, uid: u64, index: u32) -> PathBuf {
    stream_dir(data_dir, uid).join(crate::types::shard_id(index))
}
