//! Reading a delivery stream's source: the shards of a `weir_log` stream (the DirectPut intake,
//! or a Kinesis stream), each from its checkpointed position. Resharding is followed: a closed
//! shard read to its end is finished, and a child becomes readable once all its parents are.
//! Kinesis records aggregated by the KPL are split into their user records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Notify;
use weir_log::{IteratorStart, Log, LogError, StreamKey};

use crate::catalog::{Checkpoint, Resume};

/// A record read from the source.
pub struct SourceRecord {
    pub arrival_ms: i64,
    pub data: Bytes,
    pub shard: Arc<str>,
    /// The source record's sequence number (shared by the parts of a KPL aggregate).
    pub sequence_number: Arc<str>,
    pub partition_key: Arc<str>,
    /// The part's place in a KPL aggregate (0 for a plain record).
    pub subsequence: u32,
    /// The last part of its source record: a checkpoint may be taken after it.
    pub boundary: bool,
}

pub struct Reader {
    log: Log,
    key: StreamKey,
    deaggregate: bool,
    /// Whether records carry their own sequence number and partition key (Firehose's do;
    /// a reader that needs neither saves their formatting and copies).
    per_record: bool,
    /// Active shards and where each resumes (`None`: its beginning).
    positions: BTreeMap<String, Option<Resume>>,
    finished: BTreeSet<String>,
    notify: Arc<Notify>,
    watchers: HashMap<String, tokio::task::JoinHandle<()>>,
    /// Where a shard found without a position starts.
    start: Resume,
    /// Threads that read shards at once.
    threads: usize,
    /// Only the shards of this part `(k, n)`: those whose number is `k` modulo `n`.
    part: Option<(u32, u32)>,
    /// The stream's shard count at the last look.
    shards_seen: usize,
    /// The other parts' shards (not checkpointed: a part read with another `n` later takes
    /// what is its own then).
    others: BTreeSet<String>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        for (_, w) in self.watchers.drain() {
            w.abort();
        }
    }
}

impl Reader {
    pub fn new(log: Log, key: StreamKey, deaggregate: bool, from: Checkpoint) -> Reader {
        Reader {
            log,
            key,
            deaggregate,
            per_record: true,
            positions: from.shards.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            finished: from.finished.into_iter().collect(),
            notify: Arc::new(Notify::new()),
            watchers: HashMap::new(),
            start: Resume::TrimHorizon,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            part: None,
            shards_seen: 0,
            others: BTreeSet::new(),
        }
    }

    /// Reads only part `k` of `n` of the shards (a shard's number modulo `n`); the others
    /// count as finished, so their children of this part are read in their turn, and a shard
    /// of this part it has no position for (the parts were cut otherwise before) is read from
    /// where shards found later start.
    pub fn part(mut self, k: u32, n: u32) -> Reader {
        self.part = Some((k, n.max(1)));
        let others: Vec<String> = self
            .positions
            .keys()
            .chain(&self.finished)
            .filter(|s| !self.ours(s))
            .cloned()
            .collect();
        for s in others {
            self.positions.remove(&s);
            self.finished.remove(&s);
            self.others.insert(s);
        }
        self
    }

    fn ours(&self, shard: &str) -> bool {
        let Some((k, n)) = self.part else {
            return true;
        };
        let number = shard
            .rsplit('-')
            .next()
            .and_then(|d| d.parse::<u64>().ok())
            .unwrap_or_else(|| {
                shard.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                })
            });
        number % u64::from(n) == u64::from(k)
    }

    /// Reads shards on at most `n` threads at once (the machine's cores by default).
    pub fn threads(mut self, n: usize) -> Reader {
        self.threads = n.max(1);
        self
    }

    /// Shards found without a position (parentless shards at the first look, children of
    /// finished shards) start here instead of at their oldest record.
    pub fn starting_at(mut self, start: Resume) -> Reader {
        self.start = start;
        self
    }

    /// Records without their own sequence number and partition key (empty strings): for a
    /// reader whose consumer uses neither (positions are kept all the same).
    pub fn lean(mut self) -> Reader {
        self.per_record = false;
        self
    }

    /// The stream read.
    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    /// The shards being read (not finished).
    pub fn shards(&self) -> impl Iterator<Item = &String> {
        self.positions.keys()
    }

    /// Where everything read so far ends (what a checkpoint records once it is delivered).
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            // A shard not read yet keeps where it will start, so a restart does not skip it.
            shards: self
                .positions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().unwrap_or_else(|| self.start.clone())))
                .collect(),
            finished: self.finished.iter().cloned().collect(),
            ..Checkpoint::default()
        }
    }

    /// Finds the shards to read (children of finished shards; every parentless shard not
    /// read yet: the stream's first ones, and shards added later without a parent) and
    /// watches each for new records.
    pub fn refresh(&mut self) -> Result<(), LogError> {
        let (seen, created_ms) = self.log.shard_count(&self.key)?;
        let shards = self.log.list_shards(&self.key, None)?;
        let fresh = self.positions.is_empty() && self.finished.is_empty();
        // A parent gone from the stream (expired past the retention period) counts as read.
        let known: BTreeSet<&str> = shards.iter().map(|s| s.shard_id.as_str()).collect();
        for sh in &shards {
            if self.finished.contains(&sh.shard_id) || self.positions.contains_key(&sh.shard_id) {
                continue;
            }
            if !self.ours(&sh.shard_id) {
                self.others.insert(sh.shard_id.clone());
                continue;
            }
            let parents: Vec<&String> = sh
                .parent_shard_id
                .iter()
                .chain(sh.adjacent_parent_shard_id.iter())
                .collect();
            let ready = if parents.is_empty() {
                // A stream's first shards are read when nothing was read yet (a reader that
                // started at LATEST knows the open ones and counts the closed ones as read);
                // shards added later without a parent, whenever they are found.
                fresh || self.part.is_some() || sh.created_ms > created_ms
            } else {
                parents.iter().all(|p| {
                    self.finished.contains(*p)
                        || self.others.contains(*p)
                        || !known.contains(p.as_str())
                })
            };
            if ready {
                self.positions.insert(sh.shard_id.clone(), None);
            }
        }
        self.watchers.retain(|shard, w| {
            let keep = self.positions.contains_key(shard);
            if !keep {
                w.abort();
            }
            keep
        });
        for shard in self.positions.keys() {
            if self.watchers.contains_key(shard) {
                continue;
            }
            let it = self
                .log
                .shard_iterator(&self.key, shard, &IteratorStart::Latest)?;
            let mut rx = self.log.watch_iterator_shard(&it)?;
            let notify = self.notify.clone();
            self.watchers.insert(
                shard.clone(),
                tokio::spawn(async move {
                    while rx.changed().await.is_ok() {
                        notify.notify_one();
                    }
                }),
            );
        }
        // Only a look that went through counts (a failed one is tried again at the next read).
        self.shards_seen = seen;
        Ok(())
    }

    /// Resolves when a watched shard may have new records.
    pub async fn changed(&self) {
        self.notify.notified().await
    }

    /// One GetRecords per active shard (several shards at once); positions move past what is
    /// returned.
    pub async fn read(&mut self) -> Result<Vec<SourceRecord>, LogError> {
        // Shards added since the last look (a reshard wakes the readers of open shards).
        if self.log.shard_count(&self.key)?.0 != self.shards_seen {
            self.refresh()?;
        }
        let plan: Vec<(String, IteratorStart)> = self
            .positions
            .iter()
            .map(|(shard, at)| {
                let start = match at.as_ref().unwrap_or(&self.start) {
                    Resume::TrimHorizon => IteratorStart::TrimHorizon,
                    Resume::AtTimestamp(ms) => IteratorStart::AtTimestamp(*ms),
                    Resume::At(s) => IteratorStart::AtSequenceNumber(s.clone()),
                    Resume::After(s) => IteratorStart::AfterSequenceNumber(s.clone()),
                };
                (shard.clone(), start)
            })
            .collect();
        // The shards are read on up to one thread per core at once, in turns of the
        // shards' order (results come back in that order).
        let per_thread = plan.len().div_ceil(self.threads).max(1);
        let mut turns = Vec::new();
        let mut plan = plan.into_iter().peekable();
        while plan.peek().is_some() {
            let part: Vec<(String, IteratorStart)> = plan.by_ref().take(per_thread).collect();
            let (log, key) = (self.log.clone(), self.key.clone());
            let every = self.per_record;
            turns.push(tokio::task::spawn_blocking(move || {
                part.into_iter()
                    .map(|(shard, start)| {
                        let out = log
                            .shard_iterator(&key, &shard, &start)
                            .and_then(|it| log.get_records_with(&it, None, every));
                        (shard, out)
                    })
                    .collect::<Vec<_>>()
            }));
        }
        let mut results = Vec::new();
        // Spawned, they all run; awaited in order, their results keep the shards' order.
        for turn in turns {
            results.extend(
                turn.await
                    .map_err(|e| LogError::Internal(format!("source reader: {e}")))?,
            );
        }
        let mut records = Vec::new();
        let mut reshaped = false;
        for (shard, out) in results {
            let out = out?;
            let shard_name: Arc<str> = Arc::from(shard.as_str());
            let none: Arc<str> = Arc::from("");
            if let Some(last) = out.records.last() {
                self.positions.insert(
                    shard.clone(),
                    Some(Resume::After(last.sequence_number.clone())),
                );
            }
            for r in out.records {
                let (seq, partition_key): (Arc<str>, Arc<str>) = match self.per_record {
                    true => (
                        Arc::from(r.sequence_number.as_str()),
                        Arc::from(r.partition_key.as_str()),
                    ),
                    false => (none.clone(), none.clone()),
                };
                // Most records are plain: they are taken without a list of parts each.
                if !(self.deaggregate && crate::kpl::may_be_aggregate(&r.data)) {
                    records.push(SourceRecord {
                        arrival_ms: r.arrival_ms,
                        data: r.data,
                        shard: shard_name.clone(),
                        sequence_number: seq,
                        partition_key,
                        subsequence: 0,
                        boundary: true,
                    });
                    continue;
                }
                let parts = crate::kpl::deaggregate(r.data);
                let last = parts.len().saturating_sub(1);
                records.extend(parts.into_iter().enumerate().map(|(i, (data, key))| {
                    SourceRecord {
                        arrival_ms: r.arrival_ms,
                        data,
                        shard: shard_name.clone(),
                        sequence_number: seq.clone(),
                        // A KPL user record has its own key; a plain record, the stream record's.
                        partition_key: key.map_or_else(|| partition_key.clone(), Arc::from),
                        subsequence: i as u32,
                        boundary: i == last,
                    }
                }));
            }
            if out.next_iterator.is_none() {
                self.positions.remove(&shard);
                self.finished.insert(shard);
                reshaped = true;
            }
        }
        if reshaped {
            self.refresh()?;
        }
        Ok(records)
    }
}
