//! The memory budget of all streaming jobs' operator state (`[flink] state_memory_mb`, a
//! quarter of Weir's memory budget by default). Each job reports what its operators hold after
//! every round of its loop; while all jobs together hold more than the budget, the reporting
//! job moves window panes to spill files (the panes whose windows fire last first) until the
//! total is back under it, with an eighth of the budget to spare so that spilling does not
//! start again at the next batch. State that cannot spill (join rows, Top-N lists, OVER rows,
//! deduplication keys, session windows, updating aggregates) is counted and reported; a job
//! whose own state passes the budget once nothing more can spill says so in the log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::Result;
use crate::window::WindowState;

#[derive(Debug)]
pub struct StateBudget {
    limit: usize,
    held: AtomicUsize,
}

impl StateBudget {
    /// A budget of `limit` bytes (0: no limit).
    pub fn new(limit: usize) -> Arc<StateBudget> {
        Arc::new(StateBudget {
            limit,
            held: AtomicUsize::new(0),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What all jobs hold now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

/// One job's share of the accounting; what it reported is given back when it is dropped.
#[derive(Debug)]
pub struct Account {
    budget: Option<Arc<StateBudget>>,
    reported: usize,
    warned: bool,
}

impl Account {
    pub fn new(budget: Option<Arc<StateBudget>>) -> Account {
        Account {
            budget,
            reported: 0,
            warned: false,
        }
    }

    /// Bytes in memory a restored window may hold before it spills (the whole budget when
    /// nothing else holds any).
    pub fn restore_cap(&self) -> usize {
        match &self.budget {
            Some(b) if b.limit > 0 => b.limit.saturating_sub(b.held()),
            _ => usize::MAX,
        }
    }

    /// Reports that the job's operators hold `held` bytes; spills windows while all jobs hold
    /// more than the budget. Returns what the job holds in memory afterwards.
    pub fn settle(&mut self, held: usize, windows: &mut [&mut WindowState]) -> Result<usize> {
        let Some(budget) = self.budget.clone().filter(|b| b.limit > 0) else {
            return Ok(held);
        };
        let total = self.report(&budget, held);
        if total <= budget.limit {
            return Ok(held);
        }
        let mut want = total - budget.limit + budget.limit / 8;
        // Panes smaller than this stay in memory (a 64th of the budget, at most 64 KiB).
        let least = (budget.limit / 64).min(64 << 10);
        let mut freed = 0;
        for w in windows.iter_mut() {
            if want == 0 {
                break;
            }
            let f = w.spill(want, least)?;
            freed += f;
            want = want.saturating_sub(f);
        }
        let now = held.saturating_sub(freed);
        self.report(&budget, now);
        if freed > 0 {
            tracing::debug!(freed, held = now, "streaming job spilled window panes");
        }
        if now > budget.limit && !std::mem::replace(&mut self.warned, true) {
            tracing::warn!(
                held = now,
                limit = budget.limit,
                "a streaming job's operator state holds more than the streaming state budget \
                 ([flink] state_memory_mb) and none of it can be spilled (join rows, Top-N \
                 lists, OVER rows, deduplication keys, session windows or updating aggregates); \
                 set table.exec.state.ttl or raise the budget"
            );
        }
        Ok(now)
    }

    /// Replaces the job's last report by `held`; all jobs' total afterwards.
    fn report(&mut self, budget: &StateBudget, held: usize) -> usize {
        let before = std::mem::replace(&mut self.reported, held);
        if held >= before {
            budget.held.fetch_add(held - before, Ordering::Relaxed) + (held - before)
        } else {
            budget.held.fetch_sub(before - held, Ordering::Relaxed) - (before - held)
        }
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        if let Some(b) = self.budget.as_ref() {
            b.held.fetch_sub(self.reported, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_report_their_jobs_share_and_give_it_back() {
        let budget = StateBudget::new(1_000);
        let (mut a, mut b) = (
            Account::new(Some(budget.clone())),
            Account::new(Some(budget.clone())),
        );
        assert_eq!(a.settle(400, &mut []).unwrap(), 400);
        assert_eq!(b.settle(500, &mut []).unwrap(), 500);
        assert_eq!(budget.held(), 900);
        assert_eq!(a.restore_cap(), 100);
        // Over the budget with nothing to spill: what it holds is still counted, once.
        assert_eq!(a.settle(700, &mut []).unwrap(), 700);
        assert_eq!(budget.held(), 1_200);
        // Warned about only when the job's own state passes the budget.
        assert!(!a.warned);
        assert_eq!(a.settle(1_500, &mut []).unwrap(), 1_500);
        assert!(a.warned);
        assert_eq!(a.settle(100, &mut []).unwrap(), 100);
        assert_eq!(budget.held(), 600);
        drop(b);
        assert_eq!(budget.held(), 100);
        drop(a);
        assert_eq!(budget.held(), 0);
        // No budget: nothing counted.
        let mut free = Account::new(None);
        assert_eq!(free.settle(5, &mut []).unwrap(), 5);
        assert_eq!(free.restore_cap(), usize::MAX);
    }
}
