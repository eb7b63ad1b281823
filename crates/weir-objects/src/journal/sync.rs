//! Group commit: each writer notes a generation after its write, and one sync makes every
//! write noted before it durable, so concurrent writers share the sync instead of taking turns.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

/// Generations noted, known durable, and failed for good.
#[derive(Default, Clone, Copy)]
struct State {
    noted: u64,
    durable: u64,
    failed: u64,
}

/// A failed sync fails every generation noted so far for good: a later sync may report success
/// though the pages were dropped. Only a rewrite of the file ([`GroupSync::all_durable`]) makes
/// later generations durable, never a failed one.
#[derive(Default)]
pub(crate) struct GroupSync {
    state: Mutex<State>,
    /// One sync at a time.
    syncing: Mutex<()>,
    /// Wakes async waiters after each sync.
    pub(super) done: tokio::sync::Notify,
    /// An async waiter is syncing on a blocking thread.
    leading: AtomicBool,
}

impl GroupSync {
    pub fn note(&self) -> u64 {
        let mut s = self.state.lock();
        s.noted += 1;
        s.noted
    }

    /// The last generation noted.
    pub fn noted(&self) -> u64 {
        self.state.lock().noted
    }

    /// Returns once generation `generation` is durable, calling `sync` unless a sync since
    /// covered it.
    pub fn sync_through(
        &self,
        generation: u64,
        sync: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        if let Some(r) = self.settled(generation) {
            return r;
        }
        let _one = self.syncing.lock();
        let target = {
            let s = *self.state.lock();
            if let Some(r) = settled(&s, generation) {
                return r;
            }
            s.noted
        };
        let result = sync();
        {
            let mut s = self.state.lock();
            match result {
                Ok(()) => s.durable = s.durable.max(target),
                // Writes noted while the sync ran went to the same file: they fail too.
                Err(_) => s.failed = s.noted,
            }
        }
        self.done.notify_waiters();
        result
    }

    /// Whether generation `generation` is durable (or failed for good), if settled.
    pub(super) fn settled(&self, generation: u64) -> Option<io::Result<()>> {
        settled(&self.state.lock(), generation)
    }

    /// Marks everything noted so far durable (the file was rewritten and synced whole);
    /// generations that failed stay failed.
    pub fn all_durable(&self) {
        {
            let mut s = self.state.lock();
            s.durable = s.noted;
        }
        self.done.notify_waiters();
    }

    /// Makes this waiter the one that syncs, unless another is.
    pub(super) fn try_lead(&self) -> bool {
        !self.leading.swap(true, Ordering::AcqRel)
    }

    /// Ends the lead and wakes the others.
    pub(super) fn end_lead(&self) {
        self.leading.store(false, Ordering::Release);
        self.done.notify_waiters();
    }
}

fn settled(s: &State, generation: u64) -> Option<io::Result<()>> {
    if generation == 0 {
        // Nothing was ever written.
        Some(Ok(()))
    } else if s.failed >= generation {
        Some(Err(io::Error::other("an fsync covering this write failed")))
    } else if s.durable >= generation {
        Some(Ok(()))
    } else {
        None
    }
}
