//! A shard's log: its segment files, the durable end, reads, and retention trimming.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::watch;

use crate::segment::{self, Segment, StoredRecord, Truncation};

/// Bytes read from a segment file at a time; records of one read share these buffers.
const READ_CHUNK: usize = 1024 * 1024;

/// One shard's append-only log.
#[derive(Debug)]
pub struct ShardLog {
    pub(crate) dir: PathBuf,
    segment_bytes: u64,
    pub(crate) segments: RwLock<Vec<Arc<RwLock<Segment>>>>,
    /// The offset one past the last durable record; readers never see beyond it.
    durable_tx: watch::Sender<u64>,
    /// Recent write rate (on-demand scaling).
    pub writes: crate::rate::WriteRate,
    /// AWS's per-shard limits (consulted only when enforced).
    pub throttle: crate::throttle::ShardThrottle,
    /// Held by a compaction pass; when the next kept tombstone may be removed (None: unknown).
    pub(crate) compacting: parking_lot::Mutex<crate::compact::PassState>,
}

/// Where the commit thread writes the next batch of a shard.
pub struct AppendCursor {
    segment: Arc<RwLock<Segment>>,
    file: Arc<File>,
    pub start_pos: u64,
    pub next_offset: u64,
    pub min_arrival_ms: i64,
}

/// A frame staged in a batch: its position relative to the batch start.
#[derive(Debug, Clone, Copy)]
pub struct StagedFrame {
    pub rel_pos: u64,
    pub len: u64,
    pub offset: u64,
    pub arrival_ms: i64,
}

/// Limits of one read.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    pub max_records: usize,
    pub max_bytes: usize,
    /// Records that arrived before this are skipped (retention, AT_TIMESTAMP).
    pub min_arrival_ms: i64,
    /// Whether records carry their partition keys (empty otherwise).
    pub keys: bool,
}

/// What a read returned.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub records: Vec<StoredRecord>,
    /// Where the next read starts.
    pub next_offset: u64,
}

impl ShardLog {
    /// Opens (or creates) the shard directory and recovers its segments.
    pub fn open(dir: &Path, segment_bytes: u64) -> io::Result<(ShardLog, Vec<Truncation>)> {
        fs::create_dir_all(dir)?;
        let names = settle_files(dir)?;
        let mut segments = Vec::new();
        let mut truncations = Vec::new();
        let last = names.len().saturating_sub(1);
        for (i, (file, name)) in names.into_iter().enumerate() {
            let r = Segment::open_named(&dir.join(file), name)?;
            truncations.extend(r.truncation);
            // A sealed segment that had to be scanned gets its index now.
            if i < last && r.scanned > 0 {
                r.segment.write_index()?;
            }
            segments.push(r.segment);
        }
        // Appends go to an appended segment only: a compacted one's name fixes its range.
        match segments.last() {
            None => {
                segments.push(Segment::create(dir, 0)?);
                sync_dir(dir)?;
            }
            Some(s) if s.generation > 0 => {
                let mut active = Segment::create(dir, s.next_offset)?;
                active.last_arrival_ms = s.last_arrival_ms;
                segments.push(active);
                sync_dir(dir)?;
            }
            Some(_) => {}
        }
        let next = segments.last().map(|s| s.next_offset).unwrap_or(0);
        let (durable_tx, _) = watch::channel(next);
        let log = ShardLog {
            dir: dir.to_path_buf(),
            segment_bytes,
            segments: RwLock::new(
                segments
                    .into_iter()
                    .map(|s| Arc::new(RwLock::new(s)))
                    .collect(),
            ),
            durable_tx,
            writes: crate::rate::WriteRate::default(),
            throttle: crate::throttle::ShardThrottle::default(),
            compacting: Default::default(),
        };
        Ok((log, truncations))
    }

    /// The offset the next appended record gets.
    pub fn next_offset(&self) -> u64 {
        *self.durable_tx.borrow()
    }

    /// Wakes every watcher without new records (the shard was closed by a reshard).
    pub fn wake_watchers(&self) {
        self.durable_tx.send_modify(|_| {});
    }

    /// Subscribe to the durable end (changes whenever records become readable).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.durable_tx.subscribe()
    }

    /// The first offset still stored.
    pub fn first_offset(&self) -> u64 {
        self.segments
            .read()
            .first()
            .map(|s| s.read().base_offset)
            .unwrap_or(0)
    }

    /// Arrival time of the newest record, if any is stored.
    pub fn last_arrival_ms(&self) -> Option<i64> {
        let segs = self.segments.read();
        segs.iter().rev().find_map(|s| s.read().last_arrival_ms)
    }

    /// The first offset whose record arrived at or after `ts_ms` (the end if none did).
    pub fn offset_at_time(&self, ts_ms: i64) -> io::Result<u64> {
        let segs: Vec<_> = self.segments.read().clone();
        for seg in segs {
            let v = TimeView::of(&seg, ts_ms);
            // The segment's start, when its first record is already late enough (arrivals only
            // grow): found without reading the file. A compacted segment's first records may be
            // gone; a read from its start finds the first survivor.
            if v.first_arrival_ms.is_some_and(|f| f >= ts_ms) {
                return Ok(v.base);
            }
            if v.last_arrival_ms.is_some_and(|l| l >= ts_ms) {
                let mut found = None;
                v.scan(&mut |r| {
                    if r.arrival_ms >= ts_ms {
                        found = Some(r.offset);
                        false
                    } else {
                        true
                    }
                })?;
                // Compaction may have left no record that late: the next segment has it.
                if let Some(found) = found {
                    return Ok(found);
                }
            }
        }
        Ok(self.next_offset())
    }

    /// The first offset not yet expired by a retention cutoff: one past the last record that
    /// arrived before `cutoff_ms`. Offsets compaction removed count as not expired when their
    /// segment is not, so a reader positioned in such a gap stays in range.
    pub fn retained_from(&self, cutoff_ms: i64) -> io::Result<u64> {
        let segs: Vec<_> = self.segments.read().clone();
        for seg in segs {
            let v = TimeView::of(&seg, cutoff_ms);
            if v.last_arrival_ms.is_some_and(|l| l < cutoff_ms) {
                continue;
            }
            if v.first_arrival_ms.is_none_or(|f| f >= cutoff_ms) {
                return Ok(v.base);
            }
            let mut expired = None;
            v.scan(&mut |r| {
                let old = r.arrival_ms < cutoff_ms;
                if old {
                    expired = Some(r.offset);
                }
                old
            })?;
            return Ok(expired.map_or(v.base, |o| o + 1));
        }
        Ok(self.next_offset())
    }

    /// Reads durable records from `from` on, within `limits`.
    pub fn read(&self, from: u64, limits: ReadLimits) -> io::Result<ReadOutcome> {
        let segs: Vec<_> = self.segments.read().clone();
        let mut out = ReadOutcome {
            records: Vec::new(),
            next_offset: from,
        };
        let mut bytes = 0usize;
        let mut cursor = from;
        for seg in segs {
            let (file, path, pos, len, next, last) = {
                let s = seg.read();
                if s.next_offset <= cursor {
                    continue;
                }
                (
                    s.file.clone(),
                    s.path.clone(),
                    s.seek_offset(cursor),
                    s.len,
                    s.next_offset,
                    s.last_arrival_ms,
                )
            };
            // A whole segment older than the cutoff is skipped without reading it.
            if last.is_some_and(|l| l < limits.min_arrival_ms) {
                cursor = next;
                out.next_offset = next;
                continue;
            }
            let mut full = false;
            segment::scan(
                &file,
                &path,
                cursor,
                pos,
                len,
                limits.max_bytes.min(READ_CHUNK),
                limits.keys,
                &mut |r| {
                    if out.records.len() >= limits.max_records
                        || (bytes + r.data.len() > limits.max_bytes && !out.records.is_empty())
                    {
                        full = true;
                        return false;
                    }
                    cursor = r.offset + 1;
                    if r.arrival_ms >= limits.min_arrival_ms {
                        bytes += r.data.len();
                        out.records.push(r);
                    }
                    true
                },
            )?;
            out.next_offset = cursor.max(out.next_offset);
            if full {
                return Ok(out);
            }
            cursor = cursor.max(next);
            out.next_offset = cursor;
        }
        Ok(out)
    }

    /// Prepares the next append (rolls to a new segment when the active one is full).
    /// Called only by the commit thread.
    pub fn begin_append(&self) -> io::Result<AppendCursor> {
        let active = {
            let segs = self.segments.read();
            segs.last().cloned()
        };
        let active = match active {
            Some(a)
                if {
                    let s = a.read();
                    s.len < self.segment_bytes && s.generation == 0
                } =>
            {
                a
            }
            prev => {
                let (base, last) = match &prev {
                    Some(p) => {
                        let p = p.read();
                        // Sealing: save its index so restarts need not scan it.
                        p.write_index()?;
                        (p.next_offset, p.last_arrival_ms)
                    }
                    None => (self.next_offset(), None),
                };
                let seg = Segment::create(&self.dir, base)?;
                sync_dir(&self.dir)?;
                let mut seg = seg;
                // Carry the arrival floor so arrival times stay monotonic across segments.
                seg.last_arrival_ms = last;
                let seg = Arc::new(RwLock::new(seg));
                self.segments.write().push(seg.clone());
                seg
            }
        };
        let s = active.read();
        Ok(AppendCursor {
            segment: active.clone(),
            file: s.file.clone(),
            start_pos: s.len,
            next_offset: s.next_offset,
            min_arrival_ms: s.last_arrival_ms.unwrap_or(i64::MIN),
        })
    }

    /// Writes a staged batch at the cursor and makes it durable (write + fdatasync).
    pub fn write_durably(cursor: &AppendCursor, buf: &[u8]) -> io::Result<()> {
        let res = cursor
            .file
            .write_all_at(buf, cursor.start_pos)
            .and_then(|()| cursor.file.sync_data());
        if res.is_err() {
            // Leave no partial frame behind; recovery would cut it anyway.
            let _ = cursor.file.set_len(cursor.start_pos);
        }
        res
    }

    /// Makes a durable batch visible to readers.
    pub fn publish(&self, cursor: &AppendCursor, frames: &[StagedFrame]) {
        let mut seg = cursor.segment.write();
        for f in frames {
            seg.note_appended(cursor.start_pos + f.rel_pos, f.len, f.offset, f.arrival_ms);
        }
        if let Some(last) = frames.last() {
            let bytes: u64 = frames.iter().map(|f| f.len).sum();
            self.writes.add(last.arrival_ms, bytes, frames.len() as u64);
        }
        let next = seg.next_offset;
        drop(seg);
        self.durable_tx.send_replace(next);
    }

    /// Saves the active segment's index up to its durable end, so that a restart scans only
    /// what was written after this point.
    pub fn checkpoint(&self) -> io::Result<()> {
        let active = self.segments.read().last().cloned();
        let Some(seg) = active else { return Ok(()) };
        let (path, bytes) = seg.read().index_snapshot();
        segment::write_index_file(&path, &bytes)
    }

    /// Deletes sealed segments whose newest record arrived before `cutoff_ms`.
    /// The active segment always stays, so offsets never restart.
    pub fn trim_before(&self, cutoff_ms: i64) -> io::Result<usize> {
        // A sealed segment without records (compaction removed them all) holds nothing to keep.
        self.trim_front(|last_arrival_ms, _| last_arrival_ms.is_none_or(|l| l < cutoff_ms))
    }

    /// Removes the sealed segments whose records all lie below `offset` (a consumer is done
    /// with them); the active segment stays.
    pub fn trim_below(&self, offset: u64) -> io::Result<usize> {
        self.trim_front(|_, next_offset| next_offset <= offset)
    }

    /// Removes sealed segments from the front while `done(last arrival, next offset)` holds.
    fn trim_front(&self, done: impl Fn(Option<i64>, u64) -> bool) -> io::Result<usize> {
        let mut doomed = Vec::new();
        {
            let mut segs = self.segments.write();
            while segs.len() > 1 {
                let path = {
                    let first = segs[0].read();
                    if !done(first.last_arrival_ms, first.next_offset) {
                        break;
                    }
                    first.path.clone()
                };
                segs.remove(0);
                doomed.push(segment::index_path(&path));
                doomed.push(path);
            }
        }
        for p in &doomed {
            match fs::remove_file(p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        if !doomed.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(doomed.len() / 2)
    }

    /// Removes the shard's files entirely (stream deletion).
    pub fn destroy(&self) -> io::Result<()> {
        self.segments.write().clear();
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// What a lookup by time needs of a segment, copied under its lock (the file is read after).
struct TimeView {
    file: Arc<File>,
    path: PathBuf,
    /// Where to scan from: the indexed record at or before the time.
    pos: u64,
    len: u64,
    base: u64,
    first_arrival_ms: Option<i64>,
    last_arrival_ms: Option<i64>,
}

impl TimeView {
    fn of(seg: &RwLock<Segment>, ts_ms: i64) -> TimeView {
        let s = seg.read();
        TimeView {
            file: s.file.clone(),
            path: s.path.clone(),
            pos: s.seek_time(ts_ms),
            len: s.len,
            base: s.base_offset,
            first_arrival_ms: s.first_arrival_ms,
            last_arrival_ms: s.last_arrival_ms,
        }
    }

    /// Records from `pos` on (keys not read), while `take` says so.
    fn scan(&self, take: &mut dyn FnMut(StoredRecord) -> bool) -> io::Result<()> {
        segment::scan(
            &self.file,
            &self.path,
            0,
            self.pos,
            self.len,
            1 << 20,
            false,
            take,
        )
    }
}

/// Clears what an interrupted compaction left in a shard directory and returns its segment
/// files in offset order. A compacted segment is committed by its rename: the newest generation
/// of a range wins, older generations, temporary files and indexes without their segment go.
fn settle_files(dir: &Path) -> io::Result<Vec<(String, segment::SegmentName)>> {
    let mut files: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    files.sort_unstable();
    let mut doomed: Vec<String> = Vec::new();
    let mut named: Vec<(String, segment::SegmentName)> = Vec::new();
    for f in &files {
        // Temporary files: a compacted segment or an index not yet renamed into place.
        if f.ends_with(".cseg.tmp") || f.ends_with(".idx.tmp") {
            doomed.push(f.clone());
        } else if let Some(n) = segment::parse_segment_name(f) {
            named.push((f.clone(), n));
        }
    }
    named.sort_by_key(|(_, n)| (n.base_offset, n.generation));
    let mut kept: Vec<(String, segment::SegmentName)> = Vec::new();
    for (f, n) in named {
        match kept.last_mut() {
            // The newer generation of a range replaces the older one.
            Some(prev) if prev.1.base_offset == n.base_offset => {
                doomed.push(std::mem::replace(prev, (f, n)).0);
            }
            _ => kept.push((f, n)),
        }
    }
    let wanted: std::collections::HashSet<PathBuf> = kept
        .iter()
        .map(|(f, _)| segment::index_path(Path::new(f)))
        .collect();
    for f in &files {
        let p = Path::new(f);
        if p.extension().is_some_and(|e| e == "idx") && !wanted.contains(p) {
            doomed.push(f.clone());
        }
    }
    for f in &doomed {
        match fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    if !doomed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(kept)
}

/// fsyncs a directory so that a created or removed entry is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
