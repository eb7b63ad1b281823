//! Idempotent producers: ids handed out by InitProducerId, and per partition the sequence
//! numbers of each producer's last five batches, so a retried batch is answered with the offset
//! it was first written at instead of being written twice, and a gap is refused
//! (OUT_OF_ORDER_SEQUENCE_NUMBER). Kept in memory; after a restart a returning producer's state
//! is rebuilt from the partition's recent batches (`produce.rs` `recover`), as Kafka rebuilds
//! it from its log.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::errors;

/// Batches remembered per producer and partition (Kafka's max.in.flight bound for idempotence).
const REMEMBERED: usize = 5;
/// A producer silent this long is forgotten (Kafka's `producer.id.expiration.ms`, one day).
const EXPIRY: Duration = Duration::from_secs(24 * 3600);

struct Seqs {
    epoch: i16,
    /// (first sequence, last sequence, base offset) of the latest batches, oldest first.
    recent: VecDeque<(i32, i32, i64)>,
    used: Instant,
    /// Rebuilt after a restart from a compacted log, where some of its batches' marks may be
    /// gone: the next batch is taken even after a gap (a retry of a batch whose mark is gone
    /// is written again).
    loose: bool,
}

/// What to do with a produced batch.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Append,
    /// Written before at this base offset: answered, not written again.
    Duplicate(i64),
    Refuse(i16),
}

/// A partition's turn for idempotent writes.
type Turn = Arc<tokio::sync::Mutex<()>>;

pub struct Producers {
    /// The first id handed out by this run: ids from here on are new producers.
    first: i64,
    next: AtomicI64,
    seqs: Mutex<HashMap<(String, i32, i64), Seqs>>,
    /// One turn at a time per partition for idempotent writes.
    turns: Mutex<HashMap<(String, i32), Turn>>,
    /// Partitions whose earlier producers have been looked for since the start.
    recovered: Mutex<std::collections::HashSet<(String, i32)>>,
}

/// Kafka's sequence arithmetic: sequences wrap from i32::MAX to 0.
pub fn add_seq(seq: i32, n: i32) -> i32 {
    if seq > i32::MAX - n {
        n - (i32::MAX - seq) - 1
    } else {
        seq + n
    }
}

impl Default for Producers {
    fn default() -> Self {
        // Ids from the start time (ms × 1024): a restarted broker never hands out one again.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Producers {
            first: now << 10,
            next: AtomicI64::new(now << 10),
            seqs: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
            recovered: Mutex::new(std::collections::HashSet::new()),
        }
    }
}

impl Producers {
    /// Waits for the partition's turn: held from the sequence check to the batch remembered.
    pub async fn turn(&self, topic: &str, partition: i32) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .turns
            .lock()
            .entry((topic.to_string(), partition))
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// Whether the partition's log must be read for what producers wrote before this run:
    /// `pid` is from before a restart and the partition has not been read for them yet.
    pub fn needs_recovery(&self, topic: &str, partition: i32, pid: i64) -> bool {
        pid >= 0
            && pid < self.first
            && !self
                .recovered
                .lock()
                .contains(&(topic.to_string(), partition))
    }

    /// Whether `pid` was handed out before this run.
    pub fn predates_this_run(&self, pid: i64) -> bool {
        pid < self.first
    }

    /// Marks what recovery rebuilt for `pid` on a partition as possibly incomplete (the
    /// partition is compacted).
    pub fn loosen(&self, topic: &str, partition: i32, pid: i64) {
        if let Some(s) = self
            .seqs
            .lock()
            .get_mut(&(topic.to_string(), partition, pid))
        {
            s.loose = true;
        }
    }

    /// Notes the partition as read for earlier producers.
    pub fn recovered(&self, topic: &str, partition: i32) {
        self.recovered.lock().insert((topic.to_string(), partition));
    }

    /// A new producer id, epoch 0.
    pub fn allocate(&self) -> i64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// The next epoch of a producer re-initialising (KIP-360), or None when the id is unknown
    /// or its epoch is spent (the caller hands out a new id).
    pub fn bump(&self, pid: i64, epoch: i16) -> Option<i16> {
        let mut seqs = self.seqs.lock();
        let mut known = seqs
            .iter_mut()
            .filter(|((_, _, p), _)| *p == pid)
            .peekable();
        known.peek()?;
        let current = known.map(|(_, s)| s).fold(epoch, |e, s| e.max(s.epoch));
        (current < i16::MAX - 1).then_some(current + 1)
    }

    pub fn check(
        &self,
        topic: &str,
        partition: i32,
        pid: i64,
        epoch: i16,
        first: i32,
        last: i32,
    ) -> Verdict {
        if pid < 0 {
            return Verdict::Append;
        }
        let seqs = self.seqs.lock();
        let Some(s) = seqs.get(&(topic.to_string(), partition, pid)) else {
            return Verdict::Append;
        };
        if epoch < s.epoch {
            return Verdict::Refuse(errors::INVALID_PRODUCER_EPOCH);
        }
        if epoch > s.epoch {
            return match first {
                0 => Verdict::Append,
                _ => Verdict::Refuse(errors::OUT_OF_ORDER_SEQUENCE_NUMBER),
            };
        }
        if let Some((_, _, base)) = s.recent.iter().find(|(f, l, _)| (*f, *l) == (first, last)) {
            return Verdict::Duplicate(*base);
        }
        match s.recent.back() {
            Some((_, l, _)) if add_seq(*l, 1) != first && !s.loose => {
                Verdict::Refuse(errors::OUT_OF_ORDER_SEQUENCE_NUMBER)
            }
            _ => Verdict::Append,
        }
    }

    /// Remembers a batch written at `base`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        topic: &str,
        partition: i32,
        pid: i64,
        epoch: i16,
        first: i32,
        last: i32,
        base: i64,
    ) {
        if pid < 0 {
            return;
        }
        let now = Instant::now();
        let mut seqs = self.seqs.lock();
        let s = seqs
            .entry((topic.to_string(), partition, pid))
            .or_insert_with(|| Seqs {
                epoch,
                recent: VecDeque::new(),
                used: now,
                loose: false,
            });
        s.loose = false;
        if epoch != s.epoch {
            s.epoch = epoch;
            s.recent.clear();
        }
        s.recent.push_back((first, last, base));
        while s.recent.len() > REMEMBERED {
            s.recent.pop_front();
        }
        s.used = now;
        // Forgetting is paid for by the writers, now and then.
        if seqs.len().is_multiple_of(1024) {
            seqs.retain(|_, s| now.duration_since(s.used) < EXPIRY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_answered_and_gaps_refused() {
        let p = Producers::default();
        let id = p.allocate();
        assert_eq!(p.check("t", 0, id, 0, 0, 4), Verdict::Append);
        p.record("t", 0, id, 0, 0, 4, 100);
        // The same batch again: its first offset, not a second copy.
        assert_eq!(p.check("t", 0, id, 0, 0, 4), Verdict::Duplicate(100));
        assert_eq!(p.check("t", 0, id, 0, 5, 5), Verdict::Append);
        assert_eq!(
            p.check("t", 0, id, 0, 7, 9),
            Verdict::Refuse(errors::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        // Another partition is its own sequence.
        assert_eq!(p.check("t", 1, id, 0, 3, 3), Verdict::Append);
        // A fenced epoch, and a new one starting at 0.
        p.record("t", 0, id, 2, 0, 0, 200);
        assert_eq!(
            p.check("t", 0, id, 1, 1, 1),
            Verdict::Refuse(errors::INVALID_PRODUCER_EPOCH)
        );
        assert_eq!(p.bump(id, 2), Some(3));
        assert_eq!(p.bump(id + 1_000, 0), None);
        assert_eq!(add_seq(i32::MAX, 1), 0);
        // Rebuilt from a compacted log: a gap after the recovered batches is taken.
        let old = p.allocate();
        p.record("c", 0, old, 0, 10, 12, 50);
        p.loosen("c", 0, old);
        assert_eq!(p.check("c", 0, old, 0, 10, 12), Verdict::Duplicate(50));
        assert_eq!(p.check("c", 0, old, 0, 20, 20), Verdict::Append);
        p.record("c", 0, old, 0, 20, 20, 60);
        assert_eq!(
            p.check("c", 0, old, 0, 30, 30),
            Verdict::Refuse(errors::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        assert_eq!(add_seq(5, 3), 8);
    }
}
