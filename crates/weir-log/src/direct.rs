//! A shard by its index, for front doors that name shards themselves (Kafka: a partition is a
//! shard, an offset the record's position in it). Appends are not routed by key hash: they go
//! to the shard named, durably, with consecutive offsets per call; reads start at an offset.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use crate::commit::AppendItem;
use crate::error::{LogError, Result};
use crate::log::{retention_cutoff, Log};
use crate::shard::{ReadLimits, ShardLog};
use crate::types::StreamKey;

/// One shard's state as a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// The shard's index (its id's number).
    pub index: u32,
    /// Closed by a reshard: read-only.
    pub closed: bool,
}

/// A record read from a shard: the record as stored.
pub use crate::segment::StoredRecord as ShardRecord;

/// What a shard read returned.
#[derive(Debug, Clone, Default)]
pub struct ShardRead {
    pub records: Vec<ShardRecord>,
    /// The offset the next appended record gets.
    pub high_watermark: u64,
    /// The first offset still readable (retention applied).
    pub log_start: u64,
}

/// One record to append: its partition key (what Kinesis readers see), data, and attributes a
/// front door keeps beside them (opaque to the log; Kinesis reads ignore them).
#[derive(Debug, Clone)]
pub struct ShardEntry {
    pub partition_key: String,
    pub data: Bytes,
    pub attrs: Option<Bytes>,
}

impl Log {
    /// The stream's shards that have not expired, in index order.
    pub fn partitions(&self, key: &StreamKey) -> Result<Vec<Partition>> {
        let state = self.inner.state.read();
        let s = self.lookup_active(&state, key)?;
        Ok(s.meta
            .shards
            .iter()
            .filter(|m| !m.expired)
            .map(|m| Partition {
                index: m.index,
                closed: m.closed.is_some(),
            })
            .collect())
    }

    /// How many shards the stream has had (it grows with every reshard and added shard: a
    /// reader that saw fewer looks at the stream's shards again), and when the stream was
    /// created (its first shards' creation time; shards added later are younger).
    pub fn shard_count(&self, key: &StreamKey) -> Result<(usize, i64)> {
        let state = self.inner.state.read();
        let meta = &self.lookup(&state, key)?.meta;
        Ok((meta.shards.len(), meta.created_ms))
    }

    /// The live shard `index` of an active stream, with the stream's retention in hours.
    pub(crate) fn shard_at(&self, key: &StreamKey, index: u32) -> Result<(Arc<ShardLog>, u32)> {
        let state = self.inner.state.read();
        let s = self.lookup_active(&state, key)?;
        let missing = || LogError::NotFound(format!("Stream {} has no shard {index}.", key.name));
        let log = s.live_shard(index).ok_or_else(missing)?;
        Ok((log, s.meta.retention_hours))
    }

    /// Appends `entries` to shard `index`, durably, with consecutive offsets; returns the
    /// first one's offset and the records' arrival time. A closed shard refuses writes.
    pub async fn append_to_shard(
        &self,
        key: &StreamKey,
        index: u32,
        entries: Vec<ShardEntry>,
    ) -> Result<(u64, i64)> {
        let reply = {
            let state = self.inner.state.read();
            let s = self.lookup_active(&state, key)?;
            let meta = s.meta.shards.get(index as usize);
            if meta.is_none_or(|m| m.closed.is_some() || m.expired) {
                return Err(LogError::InvalidArgument(format!(
                    "Shard {index} of stream {} is not open for writes.",
                    key.name
                )));
            }
            let max = s.meta.max_record_kib as usize * 1024;
            // Attributes count against the record's size (they share its frame).
            let size = |e: &ShardEntry| e.data.len() + e.attrs.as_ref().map_or(0, |a| a.len());
            if let Some(e) = entries.iter().find(|e| size(e) > max) {
                return Err(LogError::Validation(format!(
                    "A record of {} bytes is larger than the stream's {max}.",
                    size(e)
                )));
            }
            let shard = s
                .shards
                .get(index as usize)
                .ok_or_else(|| LogError::Internal(format!("shard {index} has no log")))?;
            if entries.is_empty() {
                return Ok((shard.next_offset(), self.now_ms()));
            }
            let items = entries
                .into_iter()
                .map(|e| AppendItem {
                    shard: Arc::clone(shard),
                    partition_key: e.partition_key,
                    attrs: e.attrs,
                    data: e.data,
                })
                .collect();
            // Queued under the state lock, as PutRecords', so a reshard's fence comes after.
            self.inner.committer.submit(items)?
        };
        let appended = reply
            .await
            .map_err(|_| LogError::Internal("commit thread stopped".into()))??;
        let first = appended
            .first()
            .ok_or_else(|| LogError::Internal("no record appended".into()))?;
        Ok((first.offset, first.arrival_ms))
    }

    /// Reads shard `index` from offset `from`, at most `max_bytes` of data but at least one
    /// record when there is one; nothing when `from` is outside the log start and the high
    /// watermark (the answer's bounds tell). Blocking file I/O.
    pub fn read_shard(
        &self,
        key: &StreamKey,
        index: u32,
        from: u64,
        max_bytes: usize,
    ) -> Result<ShardRead> {
        let (log, retention_hours) = self.shard_at(key, index)?;
        let cutoff = retention_cutoff(self.now_ms(), retention_hours);
        let log_start = self.log_start(&log, cutoff)?;
        let limits = ReadLimits {
            max_records: crate::MAX_GET_RECORDS,
            max_bytes,
            min_arrival_ms: cutoff,
            keys: true,
        };
        let high_watermark = log.next_offset();
        if from < log_start || from > high_watermark {
            return Ok(ShardRead {
                records: Vec::new(),
                high_watermark,
                log_start,
            });
        }
        Ok(ShardRead {
            records: log.read(from, limits)?.records,
            high_watermark,
            log_start,
        })
    }

    /// The first offset of a shard still within retention.
    fn log_start(&self, log: &ShardLog, cutoff_ms: i64) -> Result<u64> {
        Ok(log.retained_from(cutoff_ms)?.max(log.first_offset()))
    }

    /// Shard `index`'s log start and high watermark.
    pub fn shard_bounds(&self, key: &StreamKey, index: u32) -> Result<(u64, u64)> {
        let (log, retention_hours) = self.shard_at(key, index)?;
        let cutoff = retention_cutoff(self.now_ms(), retention_hours);
        Ok((self.log_start(&log, cutoff)?, log.next_offset()))
    }

    /// The first offset of shard `index` whose record arrived at or after `ms` (the high
    /// watermark when none did).
    pub fn shard_offset_at(&self, key: &StreamKey, index: u32, ms: i64) -> Result<u64> {
        let (log, retention_hours) = self.shard_at(key, index)?;
        let cutoff = retention_cutoff(self.now_ms(), retention_hours);
        Ok(log.offset_at_time(ms.max(cutoff))?)
    }

    /// A receiver that changes when shard `index` gets new durable records.
    pub fn watch_shard(&self, key: &StreamKey, index: u32) -> Result<watch::Receiver<u64>> {
        Ok(self.shard_at(key, index)?.0.watch())
    }
}
