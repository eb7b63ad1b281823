//! Data plane: put records, shard iterators, get records.

use std::sync::Arc;

use crate::commit::AppendItem;
use crate::error::{LogError, Result};
use crate::hashing::partition_hash;
use crate::iterator::{IteratorToken, ITERATOR_LIFETIME_MS};
use crate::log::{retention_cutoff, Log, State, Stream};
use crate::seqno;
use crate::shard::{ReadLimits, ShardLog};
use crate::types::{
    parse_shard_id, shard_id, IteratorStart, PutEntry, PutOutcome, RecordOut, RecordsOut,
    StreamKey, StreamStatus,
};

/// GetRecords returns at most this many records…
pub const MAX_GET_RECORDS: usize = 10_000;
/// …and at most this many bytes of data.
pub const MAX_GET_BYTES: usize = 10 * 1024 * 1024;

fn decode_token(iterator: &str) -> Result<IteratorToken> {
    IteratorToken::decode(iterator)
        .ok_or_else(|| LogError::InvalidArgument("Invalid ShardIterator.".into()))
}

impl Log {
    /// PutRecord / PutRecords: appends every admitted entry durably, in order per shard, and
    /// returns per entry where it landed, or `LogError::Throughput` for an entry refused by the
    /// shard's limit (only when AWS limits are enforced).
    pub async fn put_records(
        &self,
        key: &StreamKey,
        entries: Vec<PutEntry>,
    ) -> Result<Vec<Result<PutOutcome>>> {
        let now = self.now_ms();
        let enforce = self.inner.config.aws_limits;
        let account = self.inner.config.account_id.clone();
        let (reply, slots, created) = {
            let state = self.inner.state.read();
            let s = self.lookup_active(&state, key)?;
            let max = s.meta.max_record_kib as usize * 1024;
            let single = entries.len() == 1;
            for (i, e) in entries.iter().enumerate() {
                if e.data.len() > max {
                    let at = if single {
                        "data".to_string()
                    } else {
                        format!("records.{}.member.data", i + 1)
                    };
                    return Err(LogError::Validation(format!(
                        "1 validation error detected: Value at '{at}' failed to satisfy constraint: \
                         Member must have length less than or equal to {max}"
                    )));
                }
            }
            // Open shards sorted by starting hash key.
            let mut open: Vec<(u128, u128, u32)> = s
                .meta
                .shards
                .iter()
                .filter(|sm| sm.closed.is_none())
                .map(|sm| {
                    let (start, end) = sm.range();
                    (start, end, sm.index)
                })
                .collect();
            open.sort_unstable();
            let mut items = Vec::with_capacity(entries.len());
            // Per entry: the shard it went to, or the error that refused it.
            let mut slots: Vec<Result<u32>> = Vec::with_capacity(entries.len());
            for e in entries {
                let h = e
                    .explicit_hash_key
                    .unwrap_or_else(|| partition_hash(&e.partition_key));
                let pos = open.partition_point(|(start, _, _)| *start <= h);
                let Some(&(_, end, index)) = pos.checked_sub(1).and_then(|p| open.get(p)) else {
                    return Err(LogError::Internal(format!(
                        "no open shard covers hash key {h}"
                    )));
                };
                if h > end {
                    return Err(LogError::Internal(format!(
                        "no open shard covers hash key {h}"
                    )));
                }
                let shard = s
                    .shards
                    .get(index as usize)
                    .ok_or_else(|| LogError::Internal(format!("shard {index} has no log")))?;
                if enforce
                    && !shard
                        .throttle
                        .try_write(now, e.data.len() + e.partition_key.len())
                {
                    slots.push(Err(LogError::Throughput(format!(
                        "Rate exceeded for shard {} in stream {} under account {account}.",
                        shard_id(index),
                        key.name
                    ))));
                    continue;
                }
                items.push(AppendItem {
                    shard: Arc::clone(shard),
                    partition_key: e.partition_key,
                    attrs: None,
                    data: e.data,
                });
                slots.push(Ok(index));
            }
            // Queued while the state is locked, so a reshard's fence comes after these records.
            let reply = match items.is_empty() {
                true => None,
                false => Some(self.inner.committer.submit(items)?),
            };
            let created: Vec<i64> = s.meta.shards.iter().map(|m| m.created_ms).collect();
            (reply, slots, created)
        };
        let created_of = |index: u32| created.get(index as usize).copied().unwrap_or(0);
        let mut appended = match reply {
            Some(r) => r
                .await
                .map_err(|_| LogError::Internal("commit thread stopped".into()))??
                .into_iter(),
            None => Vec::new().into_iter(),
        };
        slots
            .into_iter()
            .map(|slot| match slot {
                Ok(index) => {
                    let a = appended
                        .next()
                        .ok_or_else(|| LogError::Internal("fewer appends than records".into()))?;
                    Ok(Ok(PutOutcome {
                        shard_id: shard_id(index),
                        sequence_number: seqno::of_record(
                            created_of(index),
                            index,
                            a.offset,
                            a.arrival_ms,
                        ),
                    }))
                }
                Err(e) => Ok(Err(e)),
            })
            .collect()
    }

    /// Like `put_records`, failing as a whole when any entry was refused (PutRecord; tests).
    pub async fn put_all(
        &self,
        key: &StreamKey,
        entries: Vec<PutEntry>,
    ) -> Result<Vec<PutOutcome>> {
        self.put_records(key, entries).await?.into_iter().collect()
    }

    /// The shard GetShardIterator names, checked in AWS's order: the shard id must read as one,
    /// then the stream and the shard must exist (an unknown or CREATING stream gets the shard's
    /// "does not exist" text, as on AWS). Returns the stream's uid, the shard's log and index.
    fn iterator_shard(&self, key: &StreamKey, shard: &str) -> Result<(u64, Arc<ShardLog>, u32)> {
        let account = &self.inner.config.account_id;
        let index = parse_shard_id(shard).ok_or_else(|| {
            LogError::NotFound(format!(
                "Could not find shard {shard} in stream {} under account {account}.",
                key.name
            ))
        })?;
        let shard_missing = || self.shard_missing(&key.name, index);
        let state = self.inner.state.read();
        let s = self.lookup(&state, key).map_err(|_| shard_missing())?;
        match self.status_of(&s.meta) {
            StreamStatus::Active | StreamStatus::Updating => {}
            _ => return Err(shard_missing()),
        }
        let log = s.live_shard(index).ok_or_else(shard_missing)?;
        Ok((s.meta.uid, log, index))
    }

    /// Checks the shard GetShardIterator names before its starting position is read (AWS's order).
    pub fn check_iterator_shard(&self, key: &StreamKey, shard: &str) -> Result<()> {
        self.iterator_shard(key, shard).map(|_| ())
    }

    /// GetShardIterator.
    pub fn shard_iterator(
        &self,
        key: &StreamKey,
        shard: &str,
        start: &IteratorStart,
    ) -> Result<String> {
        let account = &self.inner.config.account_id;
        let (uid, log, index) = self.iterator_shard(key, shard)?;
        let now = self.now_ms();
        if let IteratorStart::AtTimestamp(t) = start {
            if *t > now {
                return Err(LogError::InvalidArgument(format!(
                    "The timestampInMillis parameter cannot be greater than the \
                     currentTimestampInMillis. timestampInMillis: {t}, currentTimestampInMillis: {now}"
                )));
            }
        }
        let seq_position = |seq: &str| -> Result<u64> {
            let parsed = seqno::parse(seq).ok_or_else(|| {
                LogError::InvalidArgument(format!(
                    "StartingSequenceNumber {seq} used in GetShardIterator on shard {} in stream {} \
                     under account {account} is invalid.",
                    shard_id(index),
                    key.name
                ))
            })?;
            if parsed.shard_index != i64::from(index) {
                return Err(LogError::InvalidArgument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a \
                     shard with {}",
                    seqno::shard_name(parsed.shard_index),
                    shard_id(index)
                )));
            }
            Ok(parsed.position)
        };
        // Position p sits after p records: AT it reads offset p-1, AFTER it reads offset p.
        let (offset, min_arrival_ms) = match start {
            IteratorStart::TrimHorizon => (log.first_offset(), i64::MIN),
            IteratorStart::Latest => (log.next_offset(), i64::MIN),
            IteratorStart::AtSequenceNumber(s) => (seq_position(s)?.saturating_sub(1), i64::MIN),
            IteratorStart::AfterSequenceNumber(s) => (seq_position(s)?, i64::MIN),
            IteratorStart::AtTimestamp(t) => (log.offset_at_time(*t)?, *t),
        };
        Ok(IteratorToken {
            stream_name: key.name.clone(),
            stream_uid: uid,
            shard_index: index,
            offset,
            issued_ms: self.now_ms(),
            min_arrival_ms,
        }
        .encode())
    }

    /// Frees the sealed segments of `shard` that hold only records before `sequence_number`
    /// (`inclusive`: up to and including it) — a reader that must never see them again says
    /// so. Returns the segments removed.
    pub fn trim_delivered(
        &self,
        key: &StreamKey,
        shard: &str,
        sequence_number: &str,
        inclusive: bool,
    ) -> Result<usize> {
        let log = {
            let state = self.inner.state.read();
            let s = self.lookup(&state, key)?;
            let index = parse_shard_id(shard)
                .ok_or_else(|| LogError::InvalidArgument(format!("{shard} is not a shard id")))?;
            s.shards
                .get(index as usize)
                .cloned()
                .ok_or_else(|| LogError::NotFound(format!("no shard {shard}")))?
        };
        let position = seqno::parse(sequence_number)
            .ok_or_else(|| {
                LogError::InvalidArgument(format!("{sequence_number} is not a sequence number"))
            })?
            .position;
        // Position p follows offset p-1: AFTER frees offsets below p, AT below p-1.
        let below = if inclusive {
            position
        } else {
            position.saturating_sub(1)
        };
        Ok(log.trim_below(below)?)
    }

    /// For each open shard, the sequence number its next record will get: a LATEST position
    /// that can be stored and later resumed with AT_SEQUENCE_NUMBER.
    pub fn latest_positions(&self, key: &StreamKey) -> Result<Vec<(String, String)>> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        Ok(s.meta
            .shards
            .iter()
            .filter(|m| m.closed.is_none())
            .filter_map(|m| {
                let log = s.shards.get(m.index as usize)?;
                Some((
                    shard_id(m.index),
                    seqno::of_record(m.created_ms, m.index, log.next_offset(), self.now_ms()),
                ))
            })
            .collect())
    }

    /// The shards closed by a reshard and not expired: a reader starting at LATEST counts them
    /// as read (asked after `latest_positions`, a shard closed in between is in one of them).
    pub fn closed_shards(&self, key: &StreamKey) -> Result<Vec<String>> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        Ok(s.meta
            .shards
            .iter()
            .filter(|m| m.closed.is_some() && !m.expired)
            .map(|m| shard_id(m.index))
            .collect())
    }

    /// A receiver that changes whenever the iterator's shard has new durable records (for
    /// pushing records to subscribers as soon as they are durable).
    pub fn watch_iterator_shard(
        &self,
        iterator: &str,
    ) -> Result<tokio::sync::watch::Receiver<u64>> {
        let token = decode_token(iterator)?;
        let state = self.inner.state.read();
        let (_, _, log) = self.token_target(&state, &token)?;
        Ok(log.watch())
    }

    /// The stream and shard log an iterator points at (not a stream being deleted).
    fn token_target<'a>(
        &self,
        state: &'a State,
        token: &IteratorToken,
    ) -> Result<(&'a StreamKey, &'a Stream, Arc<ShardLog>)> {
        // AWS's answer for an iterator whose stream or shard is gone.
        let gone = || self.shard_missing(&token.stream_name, token.shard_index);
        let key = state.by_uid.get(&token.stream_uid).ok_or_else(gone)?;
        let s = state.streams.get(key).ok_or_else(gone)?;
        if self.status_of(&s.meta) == StreamStatus::Deleting {
            return Err(gone());
        }
        let log = s.live_shard(token.shard_index).ok_or_else(gone)?;
        Ok((key, s, log))
    }

    /// GetRecords: reads from an iterator. Blocking file I/O; call it off the async runtime.
    pub fn get_records(&self, iterator: &str, limit: Option<usize>) -> Result<RecordsOut> {
        self.get_records_with(iterator, limit, true)
    }

    /// GetRecords for in-process readers that need only the last record's sequence number
    /// (`every_sequence` false: the others are left empty, their formatting saved, and so
    /// are every record's partition key).
    pub fn get_records_with(
        &self,
        iterator: &str,
        limit: Option<usize>,
        every_sequence: bool,
    ) -> Result<RecordsOut> {
        let token = decode_token(iterator)?;
        let now = self.now_ms();
        // An iterator from the future was not issued here (AWS: invalid).
        if token.issued_ms > now {
            return Err(LogError::InvalidArgument("Invalid ShardIterator.".into()));
        }
        if now.saturating_sub(token.issued_ms) > ITERATOR_LIFETIME_MS {
            return Err(LogError::ExpiredIterator {
                issued_ms: token.issued_ms,
                now_ms: now,
                lifetime_ms: ITERATOR_LIFETIME_MS,
            });
        }
        let (stream_name, log, retention_hours, closed_end, encrypted, children, created_ms) = {
            let state = self.inner.state.read();
            let (key, s, log) = self.token_target(&state, &token)?;
            let meta = s.meta.shards.get(token.shard_index as usize);
            let closed = meta.and_then(|sm| sm.closed.map(|(end, _)| end));
            let created_ms = meta.map_or(0, |sm| sm.created_ms);
            let children = match closed {
                Some(_) => crate::reshard::children_of(&s.meta.shards, token.shard_index),
                None => Vec::new(),
            };
            let encrypted = s.meta.encryption.is_some();
            (
                key.name.clone(),
                log,
                s.meta.retention_hours,
                closed,
                encrypted,
                children,
                created_ms,
            )
        };
        if self.inner.config.aws_limits && !log.throttle.try_read(now) {
            return Err(LogError::Throughput(format!(
                "Rate exceeded for shard {} in stream {stream_name} under account {}.",
                shard_id(token.shard_index),
                self.inner.config.account_id
            )));
        }
        let limits = ReadLimits {
            max_records: limit.unwrap_or(MAX_GET_RECORDS).clamp(1, MAX_GET_RECORDS),
            max_bytes: MAX_GET_BYTES,
            min_arrival_ms: token
                .min_arrival_ms
                .max(retention_cutoff(now, retention_hours)),
            keys: every_sequence,
        };
        let out = log.read(token.offset, limits)?;
        if self.inner.config.aws_limits {
            log.throttle
                .charge_read(now, out.records.iter().map(|r| r.data.len()).sum());
        }
        let tip = log.next_offset();
        let millis_behind_latest = match out.records.last() {
            Some(last) if out.next_offset < tip => (now - last.arrival_ms).max(0),
            _ => 0,
        };
        let at_end = closed_end.is_some_and(|end| out.next_offset >= end);
        let next_iterator = match at_end {
            true => None,
            false => Some(
                IteratorToken {
                    offset: out.next_offset,
                    issued_ms: now,
                    ..token
                }
                .encode(),
            ),
        };
        let shard_index = token.shard_index;
        let last = out.records.len().saturating_sub(1);
        Ok(RecordsOut {
            records: out
                .records
                .into_iter()
                .enumerate()
                .map(|(i, r)| RecordOut {
                    sequence_number: match every_sequence || i == last {
                        true => seqno::of_record(created_ms, shard_index, r.offset, r.arrival_ms),
                        false => String::new(),
                    },
                    arrival_ms: r.arrival_ms,
                    partition_key: r.partition_key,
                    data: r.data,
                })
                .collect(),
            next_iterator,
            child_shards: if at_end { children } else { Vec::new() },
            continuation_sequence_number: seqno::format(
                created_ms,
                token.shard_index,
                out.next_offset,
                now,
            ),
            millis_behind_latest,
            encrypted,
        })
    }
}
