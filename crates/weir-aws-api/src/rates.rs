//! Control-plane request rates, enforced when AWS limits are configured: a sliding one-second
//! window per (action, scope).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Counts requests per key over the last second.
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl RateLimiter {
    /// Admits one request for `key` at `now_ms` if fewer than `per_sec` were admitted in the
    /// second before.
    pub fn admit(&self, key: &str, per_sec: usize, now_ms: i64) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        let w = windows.entry(key.to_string()).or_default();
        while w.front().is_some_and(|t| now_ms - *t >= 1000) {
            w.pop_front();
        }
        if w.len() >= per_sec {
            return false;
        }
        w.push_back(now_ms);
        true
    }
}

/// Kinesis control-plane actions limited per account (and region), in requests per second,
/// as AWS documents them. Stream-scoped limits of the consumer actions are applied per region
/// too, which is stricter than AWS when one account has many streams.
pub const KINESIS_ACCOUNT_TPS: &[(&str, usize)] = &[
    ("AddTagsToStream", 5),
    ("CreateStream", 5),
    ("DecreaseStreamRetentionPeriod", 5),
    ("DeleteStream", 5),
    ("DeregisterStreamConsumer", 5),
    ("DescribeLimits", 1),
    ("DescribeStream", 10),
    ("DescribeStreamConsumer", 20),
    ("DescribeStreamSummary", 20),
    ("IncreaseStreamRetentionPeriod", 5),
    ("ListStreamConsumers", 5),
    ("ListStreams", 5),
    ("ListTagsForStream", 5),
    ("MergeShards", 5),
    ("RegisterStreamConsumer", 5),
    ("RemoveTagsFromStream", 5),
    ("SplitShard", 5),
];

#[cfg(test)]
mod tests {
    #[test]
    fn sliding_window() {
        let r = super::RateLimiter::default();
        for t in 0..5 {
            assert!(r.admit("a", 5, t));
        }
        assert!(!r.admit("a", 5, 999));
        assert!(r.admit("b", 5, 999), "keys are independent");
        assert!(r.admit("a", 5, 1000));
    }
}
