//! AWS's per-shard throughput limits, enforced when configured: writes 1 MiB/s and 1,000
//! records/s (token buckets holding one second's worth), reads 5 GetRecords calls/s and 2 MiB/s,
//! where a read's bytes are paid for afterwards: after a 10 MiB read, calls in the next 5 seconds
//! are refused.

use std::collections::VecDeque;

use parking_lot::Mutex;

pub const WRITE_BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
pub const WRITE_RECORDS_PER_SEC: f64 = 1000.0;
pub const READ_BYTES_PER_SEC: f64 = 2.0 * 1024.0 * 1024.0;
pub const READ_CALLS_PER_SEC: usize = 5;

#[derive(Debug)]
struct State {
    /// Write allowance left (bytes, records) as of `refilled_ms`.
    bytes: f64,
    records: f64,
    refilled_ms: i64,
    /// Times of the GetRecords calls in the last second.
    calls: VecDeque<i64>,
    /// Reads are refused until this time (bytes already read, paid at 2 MiB/s).
    read_blocked_until_ms: i64,
}

/// One shard's limits.
#[derive(Debug)]
pub struct ShardThrottle {
    state: Mutex<State>,
}

impl Default for ShardThrottle {
    fn default() -> Self {
        ShardThrottle {
            state: Mutex::new(State {
                bytes: WRITE_BYTES_PER_SEC,
                records: WRITE_RECORDS_PER_SEC,
                refilled_ms: i64::MIN,
                calls: VecDeque::new(),
                read_blocked_until_ms: i64::MIN,
            }),
        }
    }
}

impl ShardThrottle {
    /// Takes the allowance for one record of `bytes` bytes; false when the shard is over its limit.
    pub fn try_write(&self, now_ms: i64, bytes: usize) -> bool {
        let mut s = self.state.lock();
        if s.refilled_ms != i64::MIN {
            let secs = (now_ms - s.refilled_ms).max(0) as f64 / 1000.0;
            s.bytes = (s.bytes + secs * WRITE_BYTES_PER_SEC).min(WRITE_BYTES_PER_SEC);
            s.records = (s.records + secs * WRITE_RECORDS_PER_SEC).min(WRITE_RECORDS_PER_SEC);
        }
        s.refilled_ms = now_ms;
        let b = bytes as f64;
        if s.bytes < b || s.records < 1.0 {
            return false;
        }
        s.bytes -= b;
        s.records -= 1.0;
        true
    }

    /// Admits a GetRecords call now; false when over 5 calls/s or still paying for past reads.
    pub fn try_read(&self, now_ms: i64) -> bool {
        let mut s = self.state.lock();
        while s.calls.front().is_some_and(|t| now_ms - *t >= 1000) {
            s.calls.pop_front();
        }
        if s.calls.len() >= READ_CALLS_PER_SEC || now_ms < s.read_blocked_until_ms {
            return false;
        }
        s.calls.push_back(now_ms);
        true
    }

    /// Charges `bytes` read by an admitted call.
    pub fn charge_read(&self, now_ms: i64, bytes: usize) {
        let mut s = self.state.lock();
        let cost = (bytes as f64 / READ_BYTES_PER_SEC * 1000.0) as i64;
        s.read_blocked_until_ms = s.read_blocked_until_ms.max(now_ms) + cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_refill_over_time() {
        let t = ShardThrottle::default();
        for _ in 0..1000 {
            assert!(t.try_write(0, 10));
        }
        assert!(!t.try_write(0, 10), "1,001st record in a second");
        assert!(t.try_write(1, 10), "a millisecond refills one record");
        let big = ShardThrottle::default();
        assert!(big.try_write(0, 1024 * 1024));
        assert!(!big.try_write(0, 1));
        assert!(big.try_write(500, 512 * 1024));
    }

    #[test]
    fn reads_are_limited_by_calls_and_bytes() {
        let t = ShardThrottle::default();
        for i in 0..5 {
            assert!(t.try_read(i));
        }
        assert!(!t.try_read(10), "sixth call in a second");
        assert!(t.try_read(1000));
        t.charge_read(1000, 10 * 1024 * 1024);
        assert!(!t.try_read(5999), "within 5 s of a 10 MiB read");
        assert!(t.try_read(6000));
    }
}
