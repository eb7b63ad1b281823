//! Compaction: a shard's sealed segments rewritten without the records that a newer record with
//! the same key supersedes (Kafka's `cleanup.policy=compact`). The log does not know what a key
//! is: the caller's key function says, per record.
//!
//! - Offsets never change: a compacted segment has gaps, and a read from a removed offset
//!   returns the next record that survived (as Kafka does).
//! - The one commit point is the rename of a complete, fsynced `.cseg` file (its name holds the
//!   range it covers and its generation); the replaced file is removed after. `ShardLog::open`
//!   keeps the newest generation of a range and clears leftovers.
//! - Segments are rewritten oldest first, so no crash leaves an older value whose tombstone is
//!   gone. The active segment is never compacted.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use parking_lot::RwLock;

use crate::error::Result;
use crate::log::Log;
use crate::segment::{self, Segment, StoredRecord};
use crate::shard::{sync_dir, ShardLog};
use crate::types::StreamKey;

/// What compaction may do with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactKey {
    /// A value under this key: removed once a newer record has the same key.
    Key(Bytes),
    /// A deletion of this key: removed like a value, and, once it is the newest record of its
    /// key, after the policy's delete retention.
    Tombstone(Bytes),
    /// Never removed.
    Keep,
}

/// When records may be removed.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    /// A record younger than this is never removed (`min.compaction.lag.ms`).
    pub min_lag_ms: i64,
    /// How long the newest tombstone of a key stays readable (`delete.retention.ms`).
    pub delete_retention_ms: i64,
    /// A pass runs when this share of the sealed bytes has not been through a pass
    /// (`min.cleanable.dirty.ratio`), or when a kept tombstone is due.
    pub min_dirty_ratio: f64,
    /// Keys remembered in one pass (bounds its memory); a log with more is mapped in windows,
    /// one per pass.
    pub max_keys: usize,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactionStats {
    pub segments_rewritten: usize,
    pub records_removed: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Between passes over one shard.
#[derive(Debug, Default)]
pub(crate) struct PassState {
    /// A pass has run since the shard was opened (kept tombstones are known).
    ran: bool,
    /// Segments below this offset have been through a pass (those above are dirty).
    clean_upto: u64,
    /// Where the next pass's key map starts (0: a new round from the first segment).
    cursor: u64,
    /// When the earliest kept tombstone may be removed.
    tombstone_due_ms: Option<i64>,
}

/// Bytes written to a compacted segment at a time.
const WRITE_CHUNK: usize = 1024 * 1024;

type KeyOf<'a> = &'a (dyn Fn(&StoredRecord) -> CompactKey + Sync);

fn digest(k: &[u8]) -> [u8; 16] {
    let mut d = [0u8; 16];
    d.copy_from_slice(&Md5::digest(k));
    d
}

/// Everything a pass needs of a segment, copied under its lock.
struct SegView {
    seg: Arc<RwLock<Segment>>,
    file: Arc<fs::File>,
    path: std::path::PathBuf,
    len: u64,
    base: u64,
    next: u64,
    last_arrival_ms: Option<i64>,
    generation: u32,
}

impl SegView {
    fn of(seg: &Arc<RwLock<Segment>>) -> SegView {
        let s = seg.read();
        SegView {
            seg: Arc::clone(seg),
            file: Arc::clone(&s.file),
            path: s.path.clone(),
            len: s.len,
            base: s.base_offset,
            next: s.next_offset,
            last_arrival_ms: s.last_arrival_ms,
            generation: s.generation,
        }
    }

    /// Calls `each` for every record, in offset order, until it returns false.
    fn scan(&self, each: &mut dyn FnMut(StoredRecord) -> bool) -> io::Result<()> {
        segment::scan(
            &self.file,
            &self.path,
            0,
            0,
            self.len,
            WRITE_CHUNK,
            true,
            each,
        )
    }
}

/// Which records of the mapped range go.
struct Verdict<'a> {
    newest: HashMap<[u8; 16], u64>,
    key_of: KeyOf<'a>,
    /// Records that arrived after this are too young to remove.
    lag_cutoff_ms: i64,
    /// A key's newest tombstone that arrived at or before this is removed.
    tombstone_cutoff_ms: i64,
    /// How long after arrival a tombstone is due.
    tombstone_keep_ms: i64,
}

impl Verdict<'_> {
    /// Whether `r` is removed; a kept tombstone that will be due notes when in `due`.
    fn removes(&self, r: &StoredRecord, due: &mut Option<i64>) -> bool {
        let (k, tombstone) = match (self.key_of)(r) {
            CompactKey::Keep => return false,
            CompactKey::Key(k) => (k, false),
            CompactKey::Tombstone(k) => (k, true),
        };
        // A key outside the map is left alone (its newest record is not known).
        let Some(&newest) = self.newest.get(&digest(&k)) else {
            return false;
        };
        if newest > r.offset {
            return r.arrival_ms <= self.lag_cutoff_ms;
        }
        if tombstone {
            if r.arrival_ms <= self.tombstone_cutoff_ms {
                return true;
            }
            let at = r.arrival_ms.saturating_add(self.tombstone_keep_ms);
            *due = Some(due.map_or(at, |d: i64| d.min(at)));
        }
        false
    }
}

impl ShardLog {
    /// One compaction pass at `now_ms` (skipped when another is running or nothing is due).
    ///
    /// The newest offset of each key is mapped over a window of sealed segments holding at most
    /// `max_keys` keys (one segment at least), and every sealed segment up to the window's end is
    /// rewritten against that map; keys outside it are left alone. Each pass moves the window
    /// on, and a pass that reached the last sealed segment starts the next one from the start.
    pub fn compact(
        &self,
        now_ms: i64,
        policy: &CompactionPolicy,
        key_of: KeyOf<'_>,
    ) -> io::Result<CompactionStats> {
        let mut stats = CompactionStats::default();
        let Some(mut state) = self.compacting.try_lock() else {
            return Ok(stats);
        };
        let segs: Vec<SegView> = {
            let all = self.segments.read();
            let sealed = all.len().saturating_sub(1);
            all[..sealed].iter().map(SegView::of).collect()
        };
        let lag_cutoff_ms = now_ms.saturating_sub(policy.min_lag_ms.max(0));
        let old_enough = |s: &SegView| s.last_arrival_ms.is_none_or(|l| l <= lag_cutoff_ms);
        let total: u64 = segs.iter().map(|s| s.len).sum();
        let dirty: u64 = segs
            .iter()
            .filter(|s| s.base >= state.clean_upto && old_enough(s))
            .map(|s| s.len)
            .sum();
        let tombstones_due = !state.ran || state.tombstone_due_ms.is_some_and(|d| d <= now_ms);
        let dirty_enough = dirty > 0 && dirty as f64 >= policy.min_dirty_ratio * total as f64;
        let window_pending = state.cursor > 0;
        if total == 0 || !(dirty_enough || tombstones_due || window_pending) {
            return Ok(stats);
        }
        let first = segs
            .iter()
            .position(|s| s.base >= state.cursor)
            .unwrap_or(0);
        if first == 0 {
            state.tombstone_due_ms = None;
        }
        let mut newest: HashMap<[u8; 16], u64> = HashMap::new();
        let mut end = first;
        for s in &segs[first..] {
            if end > first && newest.len() >= policy.max_keys.max(1) {
                break;
            }
            s.scan(&mut |r| {
                if let CompactKey::Key(k) | CompactKey::Tombstone(k) = key_of(&r) {
                    newest.insert(digest(&k), r.offset);
                }
                true
            })?;
            end += 1;
        }
        let tombstone_keep_ms = policy.delete_retention_ms.max(policy.min_lag_ms).max(0);
        let verdict = Verdict {
            newest,
            key_of,
            lag_cutoff_ms,
            tombstone_cutoff_ms: now_ms.saturating_sub(tombstone_keep_ms),
            tombstone_keep_ms,
        };
        let mut due = None;
        let mut completed = true;
        for s in &segs[..end] {
            let mut removed = 0u64;
            s.scan(&mut |r| {
                if verdict.removes(&r, &mut due) {
                    removed += 1;
                }
                true
            })?;
            if removed == 0 {
                continue;
            }
            let Some(after) = self.rewrite(s, &verdict)? else {
                // Retention removed the segment meanwhile: the next pass looks again.
                completed = false;
                break;
            };
            stats.segments_rewritten += 1;
            stats.records_removed += removed;
            stats.bytes_before += s.len;
            stats.bytes_after += after;
        }
        state.ran = true;
        state.tombstone_due_ms = match (state.tombstone_due_ms, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if !completed {
            return Ok(stats);
        }
        match segs.get(end) {
            Some(next) => state.cursor = next.base,
            None => {
                state.cursor = 0;
                if let Some(s) = segs.iter().rev().find(|s| old_enough(s)) {
                    state.clean_upto = state.clean_upto.max(s.next);
                }
            }
        }
        Ok(stats)
    }

    /// Writes `s` without the records `verdict` removes as the range's next generation and
    /// puts it in the segment's place. Returns its length, or None when `s` was trimmed away
    /// meanwhile (the new file is removed).
    fn rewrite(&self, s: &SegView, verdict: &Verdict) -> io::Result<Option<u64>> {
        let generation = s.generation + 1;
        let name = segment::compacted_file_name(s.base, s.next, generation);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let written = self.write_compacted(s, verdict, &tmp, path.clone(), generation);
        let out = match written {
            Ok(out) => out,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let len = out.len;
        let new = Arc::new(RwLock::new(out));
        // The rename (the commit) and the swap happen together, so a retention trim either
        // removed the segment before (nothing is committed) or removes the new one after.
        let swapped = {
            let mut segs = self.segments.write();
            match segs.iter().position(|x| Arc::ptr_eq(x, &s.seg)) {
                Some(i) => match fs::rename(&tmp, &path) {
                    Ok(()) => {
                        segs[i] = Arc::clone(&new);
                        true
                    }
                    Err(e) => {
                        drop(segs);
                        let _ = fs::remove_file(&tmp);
                        return Err(e);
                    }
                },
                None => false,
            }
        };
        if !swapped {
            fs::remove_file(&tmp)?;
            return Ok(None);
        }
        sync_dir(&self.dir)?;
        new.read().write_index()?;
        for p in [segment::index_path(&s.path), s.path.clone()] {
            match fs::remove_file(&p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        sync_dir(&self.dir)?;
        Ok(Some(len))
    }

    /// The kept records of `s` written to `tmp` and fsynced: the new segment (named `path`).
    fn write_compacted(
        &self,
        s: &SegView,
        verdict: &Verdict,
        tmp: &std::path::Path,
        path: std::path::PathBuf,
        generation: u32,
    ) -> io::Result<Segment> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp)?;
        let mut out = Segment::empty(path, file, s.base);
        out.generation = generation;
        let mut buf = Vec::with_capacity(WRITE_CHUNK + 64 * 1024);
        let mut written = 0u64;
        let mut failed = None;
        let mut ignored = None;
        s.scan(&mut |r| {
            if verdict.removes(&r, &mut ignored) {
                return true;
            }
            let at = buf.len();
            segment::encode_frame(
                &mut buf,
                r.offset,
                r.arrival_ms,
                &r.partition_key,
                r.attrs.as_deref(),
                &r.data,
            );
            let len = (buf.len() - at) as u64;
            out.note_appended(written + at as u64, len, r.offset, r.arrival_ms);
            if buf.len() >= WRITE_CHUNK {
                if let Err(e) = out.file.write_all_at(&buf, written) {
                    failed = Some(e);
                    return false;
                }
                written += buf.len() as u64;
                buf.clear();
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        out.file.write_all_at(&buf, written)?;
        // The range and its newest arrival are the original's, whatever was removed (the
        // first arrival is the first survivor's).
        out.next_offset = s.next;
        out.last_arrival_ms = s.last_arrival_ms;
        out.file.sync_data()?;
        Ok(out)
    }
}

impl Log {
    /// One compaction pass over shard `index` of a stream (see `ShardLog::compact`). Blocking
    /// file I/O.
    pub fn compact_shard(
        &self,
        key: &StreamKey,
        index: u32,
        policy: &CompactionPolicy,
        key_of: KeyOf<'_>,
    ) -> Result<CompactionStats> {
        let (shard, _) = self.shard_at(key, index)?;
        Ok(shard.compact(self.now_ms(), policy, key_of)?)
    }
}
