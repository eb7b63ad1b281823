//! Resharding: SplitShard, MergeShards, UpdateShardCount, and shards added without closing any
//! (the Kafka door's CreatePartitions).
//!
//! A reshard closes parent shards and opens children in one catalog change. The cut is exact:
//! the change holds the stream state locked (so no new append can be routed), then fences each
//! parent through the commit queue (so every append routed before is durable), and closes the
//! parent at its next offset. Nothing is copied, so writes pause only for the fences.

use std::sync::Arc;

use crate::error::{LogError, Result};
use crate::hashing::even_ranges;
use crate::log::{shard_dir, stream_dir, Log, Stream};
use crate::meta::ShardMeta;
use crate::shard::{sync_dir, ShardLog};
use crate::types::{parse_shard_id, shard_id, StreamKey, StreamStatus};

/// UpdateShardCount calls allowed per stream in a rolling 24 hours.
pub const MAX_SCALINGS_PER_DAY: usize = 10;
/// Most shards one stream may have open.
pub const MAX_SHARDS_PER_STREAM: u32 = 10_000;
const DAY_MS: i64 = 24 * 3_600_000;

/// One step of a reshard plan.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Close the shard, open [start, at-1] and [at, end].
    Split { shard: u32, at: u128 },
    /// Close both, open their union (`a` is the parent, `b` the adjacent parent).
    Merge { a: u32, b: u32 },
    /// The shard keeps [start, at-1] and stays open; a new shard without parent gets [at, end].
    Carve { shard: u32, at: u128 },
}

/// How a reshard shows on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Announce {
    /// UPDATING for the update delay (SplitShard, MergeShards).
    Updating,
    /// UPDATING, and counted against the daily UpdateShardCount allowance.
    Scaling,
    /// Nothing: shards added while the stream stays ACTIVE.
    Quiet,
    /// Nothing at all: the request is checked (state, plan, limits), not carried out.
    Check,
}

/// What UpdateShardCount reports.
#[derive(Debug, Clone, Copy)]
pub struct ShardCountChange {
    pub current: u32,
    pub target: u32,
}

impl Log {
    /// SplitShard.
    pub fn split_shard(
        &self,
        key: &StreamKey,
        shard: &str,
        new_starting_hash_key: &str,
    ) -> Result<()> {
        self.reshard(key, Announce::Updating, |log, stream| {
            let sm = log.open_shard(key, stream, shard)?;
            let (start, end) = sm.range();
            // A decimal beyond 128 bits is out of every shard's range.
            let at = new_starting_hash_key
                .parse::<u128>()
                .ok()
                .filter(|at| *at > start.saturating_add(1) && *at < end);
            let Some(at) = at else {
                return Err(LogError::InvalidArgument(format!(
                    "NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {} in \
                     stream {} under account {} is not both greater than one plus the shard's \
                     StartingHashKey {start} and less than the shard's EndingHashKey {end}.",
                    shard_id(sm.index),
                    key.name,
                    log.config().account_id
                )));
            };
            Ok(vec![Step::Split {
                shard: sm.index,
                at,
            }])
        })
    }

    /// MergeShards.
    pub fn merge_shards(&self, key: &StreamKey, shard: &str, adjacent: &str) -> Result<()> {
        self.reshard(key, Announce::Updating, |log, stream| {
            let a = log.open_shard(key, stream, shard)?;
            let b = log.open_shard(key, stream, adjacent)?;
            let (ra, rb) = (a.range(), b.range());
            // AWS takes the pair in order: the adjacent shard's range must follow the shard's.
            if ra.1.checked_add(1) != Some(rb.0) {
                return Err(LogError::InvalidArgument(format!(
                    "Shards {} and {} in stream {} under account {} are not an adjacent \
                     pair of shards eligible for merging",
                    shard_id(a.index),
                    shard_id(b.index),
                    key.name,
                    log.config().account_id
                )));
            }
            Ok(vec![Step::Merge {
                a: a.index,
                b: b.index,
            }])
        })
    }

    /// UpdateShardCount with UNIFORM_SCALING: splits and merges until the open shards are exactly
    /// `target` even ranges.
    pub fn update_shard_count(&self, key: &StreamKey, target: u32) -> Result<ShardCountChange> {
        let now = self.now_ms();
        let mut current = 0;
        self.reshard(key, Announce::Scaling, |log, stream| {
            current = crate::streams::open_shard_count(&stream.meta.shards);
            let limit = |msg: String| Err(LogError::LimitExceeded(msg));
            if target > current.saturating_mul(2) {
                return limit(format!(
                    "UpdateShardCount cannot scale up over double the current open shard count. \
                     Current open shard count: {current}, target shard count: {target}."
                ));
            }
            if target < current.div_ceil(2) {
                return limit(format!(
                    "UpdateShardCount cannot scale down below half the current open shard count. \
                     Current open shard count: {current}, target shard count: {target}."
                ));
            }
            if target > MAX_SHARDS_PER_STREAM {
                return limit(format!(
                    "UpdateShardCount cannot scale a stream above {MAX_SHARDS_PER_STREAM} shards."
                ));
            }
            let recent = stream
                .meta
                .scaling_history_ms
                .iter()
                .filter(|t| now - **t < DAY_MS)
                .count();
            if recent >= MAX_SCALINGS_PER_DAY {
                return limit(format!(
                    "Stream {} under account {} has already been scaled {recent} times in the last \
                     24 hours; UpdateShardCount allows {MAX_SCALINGS_PER_DAY}.",
                    key.name,
                    log.config().account_id
                ));
            }
            Ok(uniform_plan(&stream.meta.shards, target))
        })?;
        Ok(ShardCountChange { current, target })
    }

    /// Adds `n` open shards and closes none (Kafka's CreatePartitions: existing partitions keep
    /// their records and stay writable). Each new shard, without parent, takes the upper half
    /// of the hash range of the open shard whose range is widest; that shard keeps the lower
    /// half. Records already stored stay where they are (a key's records before and after may
    /// then lie in two shards, as a Kafka key's do when partitions are added).
    /// With `validate_only`, the request is checked as it would be, and nothing changes.
    pub fn add_shards(&self, key: &StreamKey, n: u32, validate_only: bool) -> Result<()> {
        let announce = match validate_only {
            true => Announce::Check,
            false => Announce::Quiet,
        };
        self.reshard(key, announce, |_, stream| {
            let open = crate::streams::open_shard_count(&stream.meta.shards);
            if open.saturating_add(n) > MAX_SHARDS_PER_STREAM {
                return Err(LogError::LimitExceeded(format!(
                    "A stream has at most {MAX_SHARDS_PER_STREAM} open shards."
                )));
            }
            carve_plan(&stream.meta.shards, n)
        })
    }

    /// The open shard named `shard`, or AWS's error for a missing or closed one.
    fn open_shard<'a>(
        &self,
        key: &StreamKey,
        stream: &'a Stream,
        shard: &str,
    ) -> Result<&'a ShardMeta> {
        let account = &self.config().account_id;
        let name = parse_shard_id(shard).map_or_else(|| shard.to_string(), shard_id);
        let sm = parse_shard_id(shard)
            .and_then(|i| stream.meta.shards.get(i as usize))
            .filter(|sm| !sm.expired)
            .ok_or_else(|| {
                LogError::NotFound(format!(
                    "Could not find shard {name} in stream {} under account {account}.",
                    key.name
                ))
            })?;
        if sm.closed.is_some() {
            return Err(LogError::InUse(format!(
                "Shard {shard} in stream {} under account {account} has already been merged or split, \
                 and thus is not eligible for merging or splitting.",
                key.name
            )));
        }
        Ok(sm)
    }

    /// Plans with `plan`, then fences, closes and opens shards and persists the catalog.
    fn reshard<F>(&self, key: &StreamKey, announce: Announce, plan: F) -> Result<()>
    where
        F: FnOnce(&Log, &Stream) -> Result<Vec<Step>>,
    {
        let cfg = self.config().clone();
        let now = self.now_ms();
        let store = self.inner.meta_lock.lock();
        let mut state = self.inner.state.write();
        let stream = self.lookup(&state, key)?;
        let status = self.status_of(&stream.meta);
        if status != StreamStatus::Active {
            return Err(LogError::InUse(format!(
                "Stream {} under account {} not ACTIVE, instead in state {}",
                key.name,
                cfg.account_id,
                status.as_str()
            )));
        }
        let steps = plan(self, stream)?;
        let mut shards = stream.meta.shards.clone();
        let mut logs = stream.shards.clone();
        let before_open = crate::streams::open_shard_count(&shards);
        for step in &steps {
            apply(&mut shards, *step, now);
        }
        let after_open = crate::streams::open_shard_count(&shards);
        let others: u32 = state
            .streams
            .iter()
            .filter(|(k, _)| k.region == key.region && *k != key)
            .map(|(_, s)| crate::streams::open_shard_count(&s.meta.shards))
            .sum();
        if after_open > before_open && others + after_open > cfg.shard_limit {
            return Err(LogError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard \
                 count for the account: {}. Limit: {}. Number of additional shards that would have \
                 resulted from this request: {}.",
                cfg.account_id,
                key.region,
                others + before_open,
                cfg.shard_limit,
                after_open - before_open
            )));
        }
        if announce == Announce::Check {
            return Ok(());
        }
        // Fence every shard this closes: its end is the offset after every routed append.
        let uid = stream.meta.uid;
        for (i, sm) in shards.iter_mut().enumerate() {
            let was_open = stream
                .meta
                .shards
                .get(i)
                .is_some_and(|old| old.closed.is_none());
            if let (true, Some(closed)) = (was_open, sm.closed.as_mut()) {
                let log: Arc<ShardLog> = logs
                    .get(i)
                    .cloned()
                    .ok_or_else(|| LogError::Internal(format!("shard {i} has no log")))?;
                closed.0 = self.inner.committer.fence(log)?;
            }
        }
        // Open a log for every new shard (children that this plan also closes stay empty).
        for sm in shards.iter().skip(logs.len()) {
            let (log, _) =
                ShardLog::open(&shard_dir(&cfg.data_dir, uid, sm.index), cfg.segment_bytes)?;
            logs.push(Arc::new(log));
        }
        sync_dir(&stream_dir(&cfg.data_dir, uid))?;
        let stream = state
            .streams
            .get_mut(key)
            .ok_or_else(|| LogError::Internal("stream vanished during reshard".into()))?;
        let before = stream.meta.clone();
        stream.meta.shards = shards;
        if announce == Announce::Updating || announce == Announce::Scaling {
            stream.meta.updating_until_ms = Some(now + cfg.update_delay_ms);
        }
        if announce == Announce::Scaling {
            stream.meta.scaling_history_ms.retain(|t| now - *t < DAY_MS);
            stream.meta.scaling_history_ms.push(now);
        }
        let old_logs = std::mem::replace(&mut stream.shards, logs);
        if let Err(e) = self.persist(&store, &state) {
            if let Some(s) = state.streams.get_mut(key) {
                s.meta = before;
                s.shards = old_logs;
            }
            return Err(e);
        }
        // Subscribers waiting on a parent learn at once that it has ended; readers of open
        // shards, that shards were added (they look at the stream's shards again).
        if let Some(s) = state.streams.get(key) {
            for (sm, log) in s.meta.shards.iter().zip(&s.shards) {
                if sm.closed.is_none_or(|(_, at)| at == now) {
                    log.wake_watchers();
                }
            }
        }
        Ok(())
    }
}

/// Applies one step to the shard list: parents closed (end offset filled in by the fence),
/// children appended with the next indexes.
fn apply(shards: &mut Vec<ShardMeta>, step: Step, now: i64) {
    let child =
        |index: usize, start: u128, end: u128, parent: u32, adjacent: Option<u32>| ShardMeta {
            index: index as u32,
            starting_hash_key: start.to_string(),
            ending_hash_key: end.to_string(),
            parent: Some(parent),
            adjacent_parent: adjacent,
            created_ms: now,
            closed: None,
            expired: false,
        };
    match step {
        Step::Split { shard, at } => {
            let Some(sm) = shards.get_mut(shard as usize) else {
                return;
            };
            let (start, end) = sm.range();
            sm.closed = Some((0, now));
            let n = shards.len();
            shards.push(child(n, start, at - 1, shard, None));
            shards.push(child(n + 1, at, end, shard, None));
        }
        Step::Merge { a, b } => {
            let (Some(sa), Some(sb)) = (shards.get(a as usize), shards.get(b as usize)) else {
                return;
            };
            let (ra, rb) = (sa.range(), sb.range());
            let (start, end) = (ra.0.min(rb.0), ra.1.max(rb.1));
            for i in [a, b] {
                if let Some(sm) = shards.get_mut(i as usize) {
                    sm.closed = Some((0, now));
                }
            }
            let n = shards.len();
            shards.push(child(n, start, end, a, Some(b)));
        }
        Step::Carve { shard, at } => {
            let Some(sm) = shards.get_mut(shard as usize) else {
                return;
            };
            let (_, end) = sm.range();
            sm.ending_hash_key = (at - 1).to_string();
            let n = shards.len();
            let mut added = child(n, at, end, shard, None);
            added.parent = None;
            shards.push(added);
        }
    }
}

/// `n` carves, widest open range first (ties: the lower index), as `apply` numbers the new
/// shards: a heap of ranges, so a large request plans in n log n.
fn carve_plan(shards: &[ShardMeta], n: u32) -> Result<Vec<Step>> {
    use std::cmp::Reverse;
    let mut heap: std::collections::BinaryHeap<(u128, Reverse<u32>, u128)> = shards
        .iter()
        .filter(|s| s.closed.is_none())
        .map(|s| {
            let (start, end) = s.range();
            (end - start, Reverse(s.index), start)
        })
        .collect();
    let first_new = shards.len() as u32;
    let mut steps = Vec::with_capacity(n as usize);
    for next in (first_new..).take(n as usize) {
        let Some((width, Reverse(shard), start)) = heap.pop().filter(|(w, _, _)| *w > 0) else {
            return Err(LogError::LimitExceeded(
                "No open shard has a hash key range wide enough to share.".into(),
            ));
        };
        let at = start + width / 2 + 1;
        steps.push(Step::Carve { shard, at });
        heap.push((at - 1 - start, Reverse(shard), start));
        heap.push((start + width - at, Reverse(next), at));
    }
    Ok(steps)
}

/// Splits at every target boundary inside an open shard, then merges neighbours that lie in the
/// same target range until each target range is one shard.
fn uniform_plan(shards: &[ShardMeta], target: u32) -> Vec<Step> {
    let mut sim = shards.to_vec();
    let mut steps = Vec::new();
    let targets = even_ranges(target);
    for &(boundary, _) in targets.iter().skip(1) {
        let hit = sim
            .iter()
            .find(|s| s.closed.is_none() && s.range().0 < boundary && boundary <= s.range().1)
            .map(|s| s.index);
        if let Some(shard) = hit {
            let step = Step::Split {
                shard,
                at: boundary,
            };
            apply(&mut sim, step, 0);
            steps.push(step);
        }
    }
    for &(start, end) in &targets {
        loop {
            let mut inside: Vec<(u128, u32)> = sim
                .iter()
                .filter(|s| s.closed.is_none() && s.range().0 >= start && s.range().1 <= end)
                .map(|s| (s.range().0, s.index))
                .collect();
            if inside.len() < 2 {
                break;
            }
            inside.sort_unstable();
            let step = Step::Merge {
                a: inside[0].1,
                b: inside[1].1,
            };
            apply(&mut sim, step, 0);
            steps.push(step);
        }
    }
    steps
}

/// The children of shard `index` (for GetRecords' ChildShards at a closed shard's end).
pub(crate) fn children_of(shards: &[ShardMeta], index: u32) -> Vec<crate::types::ChildShard> {
    shards
        .iter()
        .filter(|s| s.parent == Some(index) || s.adjacent_parent == Some(index))
        .map(|s| {
            let (start, end) = s.range();
            crate::types::ChildShard {
                shard_id: shard_id(s.index),
                parent_shards: s
                    .parent
                    .into_iter()
                    .chain(s.adjacent_parent)
                    .map(shard_id)
                    .collect(),
                starting_hash_key: start,
                ending_hash_key: end,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(n: u32) -> Vec<ShardMeta> {
        even_ranges(n)
            .into_iter()
            .enumerate()
            .map(|(i, (s, e))| ShardMeta {
                index: i as u32,
                starting_hash_key: s.to_string(),
                ending_hash_key: e.to_string(),
                parent: None,
                adjacent_parent: None,
                created_ms: 0,
                closed: None,
                expired: false,
            })
            .collect()
    }

    #[test]
    fn carving_adds_open_shards_that_still_cover_every_hash_key() {
        for (from, add) in [(1, 1), (1, 4), (3, 2), (2, 7)] {
            let mut sim = fresh(from);
            for step in carve_plan(&sim.clone(), add).unwrap() {
                apply(&mut sim, step, 1);
            }
            assert_eq!(sim.len() as u32, from + add);
            // Halving the widest each time: no range is more than twice another.
            let widths: Vec<u128> = sim.iter().map(|s| s.range().1 - s.range().0).collect();
            let (lo, hi) = (widths.iter().min().unwrap(), widths.iter().max().unwrap());
            assert!(*hi / 2 <= *lo + 1, "{from}+{add}: {widths:?}");
            assert!(sim.iter().all(|s| s.closed.is_none()));
            assert!(sim[from as usize..].iter().all(|s| s.parent.is_none()));
            let mut ranges: Vec<(u128, u128)> = sim.iter().map(ShardMeta::range).collect();
            ranges.sort_unstable();
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges.last().unwrap().1, u128::MAX);
            assert!(
                ranges.windows(2).all(|w| w[0].1 + 1 == w[1].0),
                "{from}+{add}"
            );
        }
    }

    #[test]
    fn uniform_plans_end_at_even_ranges() {
        for (from, to) in [
            (1, 2),
            (2, 1),
            (3, 5),
            (5, 3),
            (4, 8),
            (8, 4),
            (3, 2),
            (7, 13),
            (6, 6),
        ] {
            let mut sim = fresh(from);
            for step in uniform_plan(&sim.clone(), to) {
                apply(&mut sim, step, 1);
            }
            let mut open: Vec<(u128, u128)> = sim
                .iter()
                .filter(|s| s.closed.is_none())
                .map(ShardMeta::range)
                .collect();
            open.sort_unstable();
            assert_eq!(open, even_ranges(to), "{from} -> {to}");
            // Every child names at most two parents, and every closed shard has children.
            for s in sim.iter().filter(|s| s.closed.is_some()) {
                assert!(
                    !children_of(&sim, s.index).is_empty(),
                    "{from} -> {to}: orphaned {}",
                    s.index
                );
            }
        }
    }
}
