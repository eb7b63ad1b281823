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

/// What a request rate is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The account, in one region.
    Account,
    /// One stream (named by StreamName, StreamARN or a consumer's ARN).
    Stream,
}

/// Kinesis control-plane request rates (requests per second) as AWS documents them, with what
/// each is counted over.
pub const KINESIS_TPS: &[(&str, usize, Scope)] = &[
    ("AddTagsToStream", 5, Scope::Account),
    ("CreateStream", 5, Scope::Account),
    ("DecreaseStreamRetentionPeriod", 5, Scope::Account),
    ("DeleteStream", 5, Scope::Account),
    ("DeregisterStreamConsumer", 5, Scope::Stream),
    ("DescribeLimits", 1, Scope::Account),
    ("DescribeStream", 10, Scope::Account),
    ("DescribeStreamConsumer", 20, Scope::Stream),
    ("DescribeStreamSummary", 20, Scope::Account),
    ("DisableEnhancedMonitoring", 5, Scope::Account),
    ("EnableEnhancedMonitoring", 5, Scope::Account),
    ("IncreaseStreamRetentionPeriod", 5, Scope::Account),
    ("ListShards", 1000, Scope::Stream),
    ("ListStreamConsumers", 5, Scope::Stream),
    ("ListStreams", 5, Scope::Account),
    ("ListTagsForStream", 5, Scope::Account),
    ("MergeShards", 5, Scope::Account),
    ("RegisterStreamConsumer", 5, Scope::Account),
    ("RemoveTagsFromStream", 5, Scope::Account),
    ("SplitShard", 5, Scope::Account),
];

/// Spreads bytes over time at a rate per second, allowing one second's worth at once (a token
/// bucket): enhanced fan-out's 2 MiB/s per consumer per shard.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: f64,
    allowance: f64,
    last: std::time::Instant,
}

impl Pacer {
    pub fn new(bytes_per_sec: usize, now: std::time::Instant) -> Pacer {
        Pacer {
            rate: bytes_per_sec as f64,
            allowance: bytes_per_sec as f64,
            last: now,
        }
    }

    /// Takes `bytes` just sent at `now`; answers how long to wait before sending more.
    pub fn after(&mut self, bytes: usize, now: std::time::Instant) -> std::time::Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.allowance = (self.allowance + elapsed * self.rate).min(self.rate) - bytes as f64;
        if self.allowance >= 0.0 {
            return std::time::Duration::ZERO;
        }
        std::time::Duration::from_secs_f64(-self.allowance / self.rate)
    }
}

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

    #[test]
    fn pacer_holds_a_rate_after_a_one_second_burst() {
        use std::time::{Duration, Instant};
        const MIB: usize = 1 << 20;
        let t0 = Instant::now();
        let mut p = super::Pacer::new(2 * MIB, t0);
        assert_eq!(
            p.after(2 * MIB, t0),
            Duration::ZERO,
            "one second's worth at once"
        );
        let wait = p.after(MIB, t0);
        assert_eq!(wait, Duration::from_millis(500));
        // Waiting that long, then sending 2 MiB more, costs a second.
        let t1 = t0 + wait;
        assert_eq!(p.after(2 * MIB, t1), Duration::from_secs(1));
        // Idle time refills at most one second's worth.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(p.after(2 * MIB, t2), Duration::ZERO);
    }
}
