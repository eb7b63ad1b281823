//! On-demand capacity: hot shards of ON_DEMAND streams are split, and cold neighbours merged.
//!
//! Each tick looks at every open shard's write rate over `window_ms`. A shard above
//! `split_fraction` of the per-shard write limit (1 MiB/s or 1,000 records/s), whose range is
//! wide enough and which has existed for a whole window, is split at the middle of its hash range.
//! Two adjacent open shards that have both stayed below `merge_fraction` of the limit for
//! `quiet_ms` are merged, never going below `min_shards` open shards. Time comes from the log's
//! clock, so tests drive it without sleeping.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::log::Log;
use crate::meta::StreamMode;
use crate::types::{shard_id, StreamKey, StreamStatus};

/// Per-shard write limits of Kinesis.
pub const SHARD_BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
pub const SHARD_RECORDS_PER_SEC: f64 = 1000.0;

/// How on-demand streams scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnDemandPolicy {
    /// Averaging window of write rates, in milliseconds.
    pub window_ms: i64,
    /// Split a shard writing more than this fraction of its limit.
    pub split_fraction: f64,
    /// Merge neighbours both writing less than this fraction of their limit…
    pub merge_fraction: f64,
    /// …for at least this long, in milliseconds.
    pub quiet_ms: i64,
    /// Never fewer open shards than this (AWS starts on-demand streams with 4).
    pub min_shards: u32,
}

impl Default for OnDemandPolicy {
    fn default() -> Self {
        OnDemandPolicy {
            window_ms: 10_000,
            split_fraction: 1.0,
            merge_fraction: 0.1,
            quiet_ms: 3_600_000,
            min_shards: 4,
        }
    }
}

/// A scaling decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleAction {
    Split {
        stream: StreamKey,
        shard: String,
        at: u128,
    },
    Merge {
        stream: StreamKey,
        shard: String,
        adjacent: String,
    },
}

impl Log {
    /// Decides and performs at most one scaling step per on-demand stream. Returns what it did.
    pub fn autoscale(&self) -> Result<Vec<ScaleAction>> {
        let actions = self.plan_autoscale();
        let mut done = Vec::new();
        for a in actions {
            let r = match &a {
                ScaleAction::Split { stream, shard, at } => {
                    self.split_shard(stream, shard, &at.to_string())
                }
                ScaleAction::Merge {
                    stream,
                    shard,
                    adjacent,
                } => self.merge_shards(stream, shard, adjacent),
            };
            match r {
                Ok(()) => done.push(a),
                Err(e) => {
                    tracing::debug!(error = %e, action = ?a, "on-demand scaling step skipped")
                }
            }
        }
        Ok(done)
    }

    fn plan_autoscale(&self) -> Vec<ScaleAction> {
        let policy = &self.config().on_demand;
        let now = self.now_ms();
        let state = self.inner.state.read();
        let mut out = Vec::new();
        for (key, s) in &state.streams {
            if s.meta.mode != StreamMode::OnDemand
                || self.status_of(&s.meta) != StreamStatus::Active
            {
                continue;
            }
            let mut open: Vec<(u128, u128, u32, f64, i64)> = Vec::new();
            for (sm, log) in s.meta.shards.iter().zip(&s.shards) {
                if sm.closed.is_some() {
                    continue;
                }
                let (bytes, records) = log.writes.per_second(now, policy.window_ms);
                let load = (bytes / SHARD_BYTES_PER_SEC).max(records / SHARD_RECORDS_PER_SEC);
                let (start, end) = sm.range();
                let quiet_since = log
                    .writes
                    .last_write_ms()
                    .unwrap_or(i64::MIN)
                    .max(sm.created_ms);
                open.push((start, end, sm.index, load, quiet_since));
            }
            open.sort_unstable_by_key(|o| o.0);
            let hot = open
                .iter()
                .filter(|o| o.3 > policy.split_fraction)
                .max_by(|a, b| a.3.total_cmp(&b.3));
            if let Some(&(start, end, index, _, _)) = hot {
                let created = s
                    .meta
                    .shards
                    .get(index as usize)
                    .map(|sm| sm.created_ms)
                    .unwrap_or(now);
                if end - start > 2 && now - created >= policy.window_ms {
                    out.push(ScaleAction::Split {
                        stream: key.clone(),
                        shard: shard_id(index),
                        at: start + (end - start) / 2 + 1,
                    });
                    continue;
                }
            }
            if open.len() as u32 > policy.min_shards {
                let cold = |o: &(u128, u128, u32, f64, i64)| {
                    o.3 < policy.merge_fraction && now - o.4 >= policy.quiet_ms
                };
                if let Some(pair) = open.windows(2).find(|w| cold(&w[0]) && cold(&w[1])) {
                    out.push(ScaleAction::Merge {
                        stream: key.clone(),
                        shard: shard_id(pair[0].2),
                        adjacent: shard_id(pair[1].2),
                    });
                }
            }
        }
        out
    }
}
