//! Per-second write counters of a shard, for on-demand scaling decisions.

use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;

/// Seconds of history kept.
const SLOTS: usize = 128;

/// Bytes and records written per second over the last `SLOTS` seconds.
#[derive(Debug)]
pub struct WriteRate {
    slots: Mutex<[(i64, u64, u64); SLOTS]>,
    last_write_ms: AtomicI64,
}

impl Default for WriteRate {
    fn default() -> Self {
        WriteRate {
            slots: Mutex::new([(i64::MIN, 0, 0); SLOTS]),
            last_write_ms: AtomicI64::new(i64::MIN),
        }
    }
}

impl WriteRate {
    /// Counts `bytes` in `records` records written at `at_ms`.
    pub fn add(&self, at_ms: i64, bytes: u64, records: u64) {
        let sec = at_ms.div_euclid(1000);
        let mut slots = self.slots.lock();
        let slot = &mut slots[sec.rem_euclid(SLOTS as i64) as usize];
        if slot.0 != sec {
            *slot = (sec, 0, 0);
        }
        slot.1 += bytes;
        slot.2 += records;
        self.last_write_ms.fetch_max(at_ms, Ordering::Relaxed);
    }

    /// Average (bytes/s, records/s) over the `window_ms` ending at `now_ms`.
    pub fn per_second(&self, now_ms: i64, window_ms: i64) -> (f64, f64) {
        let secs = (window_ms / 1000).clamp(1, SLOTS as i64 - 1);
        let now = now_ms.div_euclid(1000);
        let slots = self.slots.lock();
        let (mut bytes, mut records) = (0u64, 0u64);
        for s in slots.iter().filter(|s| s.0 > now - secs && s.0 <= now) {
            bytes += s.1;
            records += s.2;
        }
        (bytes as f64 / secs as f64, records as f64 / secs as f64)
    }

    /// When this shard last saw a write (since the process started).
    pub fn last_write_ms(&self) -> Option<i64> {
        let t = self.last_write_ms.load(Ordering::Relaxed);
        (t != i64::MIN).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn windows_average() {
        let r = super::WriteRate::default();
        r.add(10_000, 1000, 10);
        r.add(10_500, 1000, 10);
        r.add(11_000, 2000, 20);
        let (b, n) = r.per_second(11_999, 2000);
        assert_eq!((b, n), (2000.0, 20.0));
        // Old seconds fall out of the window.
        assert_eq!(r.per_second(20_000, 2000), (0.0, 0.0));
        assert_eq!(r.last_write_ms(), Some(11_000));
        assert_eq!(super::WriteRate::default().last_write_ms(), None);
    }
}
