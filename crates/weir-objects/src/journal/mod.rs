//! A bucket's object journal: every object record in commit order, in one append-only file
//! `o/journal-<generation>.log`, with the bytes of small objects inside their record (frames:
//! `frame.rs`). The log's order is the truth: replaying it from the start gives the bucket's
//! objects. Appends happen under the bucket's lock; a [`GroupSync`] fdatasync then makes every
//! frame written before it durable, so concurrent PUTs share one sync. A frame cut short by a
//! crash (never acknowledged: the sync that acknowledges a frame covers every frame before it)
//! is cut off at open, and kept aside for inspection.
//!
//! When more than half of a journal is replaced or deleted records it is compacted into the
//! next generation: the live frames are copied (each checked against its CRC) and synced
//! without the bucket's lock; under it only the frames appended meanwhile are copied before the
//! switch (rename, directory fsync). Readers of the old generation keep their open file.
//!
//! After a failed fsync the file's unsynced pages may have been dropped (Linux marks them
//! clean, and a later fsync reports success), so every generation noted so far fails, nothing
//! more is appended or synced there, and before the next write the journal is rewritten: each
//! live frame is copied if its CRC still holds, a data-file record is encoded again from
//! memory, and a small object whose bytes were lost (never acknowledged) is dropped.

mod frame;
mod sync;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

pub(crate) use frame::{encode, Record};
pub(crate) use sync::GroupSync;

use crate::store::{sync_dir, ObjectInfo};
use frame::{intact, replay, Replayed};

/// Objects up to this size are kept inside their journal record.
pub const INLINE_MAX: usize = 64 * 1024;
/// A journal is compacted once it is larger than this and mostly garbage.
pub(crate) const COMPACT_ABOVE: u64 = 64 * 1024 * 1024;

/// Where an object's record is: `len` bytes at `at` of a journal file.
#[derive(Clone)]
pub(crate) struct Frame {
    pub file: Arc<File>,
    pub at: u64,
    pub len: u64,
}

/// An object as the store holds it.
#[derive(Clone)]
pub(crate) struct Stored {
    pub info: ObjectInfo,
    /// Its bytes are at the end of its record (else in the data file the record names).
    pub inline: bool,
    /// Its record (none for a record of the old layout not yet moved into the journal).
    pub frame: Option<Frame>,
}

impl Stored {
    /// An inline object's bytes.
    pub fn read_inline(&self) -> io::Result<Option<Bytes>> {
        match (&self.frame, self.inline) {
            (Some(f), true) => {
                let mut buf = vec![0u8; self.info.size as usize];
                f.file
                    .read_exact_at(&mut buf, f.at + f.len - self.info.size)?;
                Ok(Some(Bytes::from(buf)))
            }
            _ => Ok(None),
        }
    }
}

type Objects = BTreeMap<String, Stored>;

/// The file being appended to.
struct Current {
    generation: u64,
    file: Arc<File>,
    len: u64,
    /// Bytes of records of live objects.
    live: u64,
    /// An fsync or a cut-back failed: nothing more goes to this file.
    broken: bool,
    /// After a failed compaction, the next waits until the journal is this long.
    compact_after: u64,
}

/// A bucket's journal.
pub(crate) struct Journal {
    dir: PathBuf,
    current: Mutex<Current>,
    sync: GroupSync,
    compact_above: u64,
    /// One compaction at a time.
    compacting: Mutex<()>,
    /// Syncs to fail on purpose (tests).
    #[cfg(test)]
    pub(crate) fail_syncs: std::sync::atomic::AtomicUsize,
}

fn journal_name(generation: u64) -> String {
    format!("journal-{generation:016x}.log")
}

fn read_frame(file: &File, at: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, at)?;
    Ok(buf)
}

/// The next generation being written: `journal-<gen>.log.tmp` until [`Staging::finish`].
struct Staging {
    path: PathBuf,
    tmp: PathBuf,
    w: BufWriter<File>,
    len: u64,
}

impl Staging {
    fn create(dir: &Path, generation: u64) -> io::Result<Staging> {
        let path = dir.join(journal_name(generation));
        let tmp = path.with_extension("log.tmp");
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        Ok(Staging {
            path,
            tmp,
            w: BufWriter::with_capacity(1 << 20, f),
            len: 0,
        })
    }

    /// Writes a frame; returns where it starts.
    fn push(&mut self, frame: &[u8]) -> io::Result<u64> {
        self.w.write_all(frame)?;
        self.len += frame.len() as u64;
        Ok(self.len - frame.len() as u64)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.w.flush()?;
        self.w.get_ref().sync_data()
    }

    /// Syncs the file and renames it into place. `Err(true)`: the rename may have happened,
    /// so the old generation must not be written again.
    fn finish(mut self, dir: &Path) -> Result<File, (io::Error, bool)> {
        if let Err(e) = self.sync() {
            self.abandon();
            return Err((e, false));
        }
        if let Err(e) = fs::rename(&self.tmp, &self.path) {
            self.abandon();
            return Err((e, false));
        }
        if let Err(e) = sync_dir(dir) {
            return Err((e, true));
        }
        self.w.into_inner().map_err(|e| (e.into_error(), true))
    }

    fn abandon(self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Points the objects named in `placed` (key, offset, length) at their records in `file`.
fn place(objects: &mut Objects, file: &Arc<File>, placed: Vec<(String, u64, u64)>) {
    for (key, at, len) in placed {
        if let Some(s) = objects.get_mut(&key) {
            s.frame = Some(Frame {
                file: file.clone(),
                at,
                len,
            });
        }
    }
}

/// Ends an async waiter's lead when dropped (also if its blocking task never runs).
struct EndLead(Arc<Journal>);

impl Drop for EndLead {
    fn drop(&mut self) {
        self.0.sync.end_lead();
    }
}

impl Journal {
    /// Opens the newest journal in `dir` (removing older generations and temp files) and
    /// replays it into `objects`; returns it and whether a torn or corrupt tail was cut off
    /// (kept beside the bucket as `journal-cut-<generation>-<offset>`). Creates the first
    /// journal if there is none.
    pub fn open(
        dir: &Path,
        objects: &mut Objects,
        compact_above: u64,
    ) -> io::Result<(Journal, bool)> {
        let mut generations = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(g) = name
                .strip_prefix("journal-")
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|g| u64::from_str_radix(g, 16).ok())
            {
                generations.push(g);
            } else if name.starts_with("journal-") {
                fs::remove_file(&path)?;
            }
        }
        generations.sort_unstable();
        let generation = generations.pop().unwrap_or(1);
        for old in generations {
            fs::remove_file(dir.join(journal_name(old)))?;
        }
        let path = dir.join(journal_name(generation));
        let file = Arc::new(
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?,
        );
        let mut live = 0u64;
        let good = replay(&file, |r| match r {
            Replayed::Put {
                info,
                inline,
                at,
                len,
            } => {
                live += len;
                let stored = Stored {
                    info,
                    inline,
                    frame: Some(Frame {
                        file: file.clone(),
                        at,
                        len,
                    }),
                };
                if let Some(old) = objects.insert(stored.info.key.clone(), stored) {
                    live -= old.frame.map_or(0, |f| f.len);
                }
            }
            Replayed::Delete(key) => {
                if let Some(old) = objects.remove(&key) {
                    live -= old.frame.map_or(0, |f| f.len);
                }
            }
        })?;
        let size = file.metadata()?.len();
        let cut = good < size;
        if cut {
            let tail = read_frame(&file, good, size - good)?;
            let aside = dir
                .parent()
                .unwrap_or(dir)
                .join(format!("journal-cut-{generation:016x}-{good:016x}"));
            fs::write(&aside, &tail)?;
            tracing::warn!(
                journal = %path.display(),
                kept = good,
                cut = size - good,
                aside = %aside.display(),
                "cut off a torn or corrupt journal tail (writes never acknowledged, after a crash)"
            );
            file.set_len(good)?;
            file.sync_all()?;
        }
        sync_dir(dir)?;
        let journal = Journal {
            dir: dir.to_path_buf(),
            current: Mutex::new(Current {
                generation,
                file,
                len: good,
                live,
                broken: false,
                compact_after: 0,
            }),
            sync: GroupSync::default(),
            compact_above,
            compacting: Mutex::new(()),
            #[cfg(test)]
            fail_syncs: Default::default(),
        };
        Ok((journal, cut))
    }

    /// Appends `frame` (call under the bucket lock, with the objects it describes); returns
    /// where it was written and the generation to sync through. A write that fails is cut back
    /// off, so the journal never holds a partial frame it goes on after.
    pub fn append(&self, frame: &[u8]) -> io::Result<(Frame, u64)> {
        let mut c = self.current.lock();
        if c.broken {
            return Err(io::Error::other(
                "the journal must be rewritten after a failed write",
            ));
        }
        let at = c.len;
        if let Err(e) = c.file.write_all_at(frame, at) {
            if c.file.set_len(at).is_err() {
                c.broken = true;
            }
            return Err(e);
        }
        c.len += frame.len() as u64;
        let written = Frame {
            file: c.file.clone(),
            at,
            len: frame.len() as u64,
        };
        Ok((written, self.sync.note()))
    }

    /// Counts `added` bytes of live records and `dropped` bytes that stopped being live.
    pub fn account(&self, added: u64, dropped: u64) {
        let mut c = self.current.lock();
        c.live = (c.live + added).saturating_sub(dropped);
    }

    /// True when the journal is mostly garbage and large enough to compact.
    pub fn wants_compaction(&self) -> bool {
        let c = self.current.lock();
        self.worth_compacting(&c)
    }

    /// Not broken, large enough, and mostly garbage.
    fn worth_compacting(&self, c: &Current) -> bool {
        !c.broken && c.len > self.compact_above.max(c.compact_after) && c.live * 2 < c.len
    }

    pub fn is_broken(&self) -> bool {
        self.current.lock().broken
    }

    /// The generation of the last frame appended.
    pub fn noted(&self) -> u64 {
        self.sync.noted()
    }

    /// Returns once the frame of generation `generation` is durable.
    pub fn sync_through(&self, generation: u64) -> io::Result<()> {
        self.sync.sync_through(generation, || {
            let file = {
                let c = self.current.lock();
                if c.broken {
                    return Err(io::Error::other(
                        "the journal failed an fsync and is rewritten before the next write",
                    ));
                }
                c.file.clone()
            };
            #[cfg(test)]
            if self
                .fail_syncs
                .fetch_update(
                    std::sync::atomic::Ordering::AcqRel,
                    std::sync::atomic::Ordering::Acquire,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                self.current.lock().broken = true;
                return Err(io::Error::other("injected fsync failure"));
            }
            let r = file.sync_data();
            if r.is_err() {
                self.current.lock().broken = true;
            }
            r
        })
    }

    #[cfg(test)]
    pub fn is_durable(&self, generation: u64) -> bool {
        matches!(self.sync.settled(generation), Some(Ok(())))
    }

    /// Returns once the frame of generation `generation` is durable, without holding a thread:
    /// one waiter at a time syncs on a blocking thread for everyone waiting.
    pub async fn durable(self: Arc<Self>, generation: u64) -> io::Result<()> {
        loop {
            let notified = self.sync.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(r) = self.sync.settled(generation) {
                return r;
            }
            if self.sync.try_lead() {
                let end = EndLead(self.clone());
                return tokio::task::spawn_blocking(move || {
                    let end = end;
                    end.0.sync_through(generation)
                })
                .await
                .map_err(io::Error::other)?;
            }
            notified.await;
        }
    }

    /// Writes the live `objects` into the next generation and switches to it (call under the
    /// bucket lock: after a failed fsync, and to move records of the old layout in). A frame
    /// whose CRC no longer holds was never acknowledged (its fsync failed): a data-file record
    /// is encoded again from memory, a small object whose bytes are gone is dropped.
    pub fn rewrite(&self, objects: &mut Objects) -> io::Result<()> {
        let mut c = self.current.lock();
        let mut st = Staging::create(&self.dir, c.generation + 1)?;
        let mut placed = Vec::with_capacity(objects.len());
        let mut lost = Vec::new();
        let written = (|| -> io::Result<()> {
            for (key, s) in objects.iter() {
                let copy = match &s.frame {
                    Some(f) => Some(read_frame(&f.file, f.at, f.len)?).filter(|b| intact(b)),
                    None => None,
                };
                let bytes = match copy {
                    Some(b) => b,
                    None if !s.inline => encode(&Record::Put {
                        info: &s.info,
                        body: None,
                    })?,
                    None => {
                        lost.push(key.clone());
                        continue;
                    }
                };
                placed.push((key.clone(), st.push(&bytes)?, bytes.len() as u64));
            }
            Ok(())
        })();
        if let Err(e) = written {
            st.abandon();
            return Err(e);
        }
        let len = st.len;
        let file = Arc::new(self.switch(&mut c, st)?);
        place(objects, &file, placed);
        for key in lost {
            tracing::error!(
                key,
                "an object whose write failed is dropped: its bytes were lost"
            );
            objects.remove(&key);
        }
        c.file = file;
        c.len = len;
        c.live = len;
        Ok(())
    }

    /// Compacts the journal if it is still mostly garbage: copies the live frames into the
    /// next generation and syncs them without the bucket lock, then under it copies what was
    /// appended meanwhile and switches. A frame failing its CRC stops the compaction (the
    /// journal is kept as it is, and the next try waits until it has grown).
    pub fn compact(&self, objects: &RwLock<Objects>) -> io::Result<()> {
        let Some(_one) = self.compacting.try_lock() else {
            return Ok(());
        };
        let (generation, from, old, mut sources) = {
            let objs = objects.read();
            let c = self.current.lock();
            if !self.worth_compacting(&c) {
                return Ok(());
            }
            let sources: Vec<(u64, u64)> = objs
                .values()
                .filter_map(|s| s.frame.as_ref())
                .filter(|f| Arc::ptr_eq(&f.file, &c.file))
                .map(|f| (f.at, f.len))
                .collect();
            (c.generation, c.len, c.file.clone(), sources)
        };
        sources.sort_unstable();
        let mut st = Staging::create(&self.dir, generation + 1)?;
        let mut moved = Vec::with_capacity(sources.len());
        let copied = (|| -> io::Result<()> {
            for &(at, len) in &sources {
                let bytes = read_frame(&old, at, len)?;
                if !intact(&bytes) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("journal frame at {at} fails its CRC"),
                    ));
                }
                moved.push((at, st.push(&bytes)?));
            }
            st.sync()
        })();
        if let Err(e) = copied {
            st.abandon();
            let mut c = self.current.lock();
            c.compact_after = c.len + self.compact_above / 4;
            return Err(e);
        }
        let mut objs = objects.write();
        let mut c = self.current.lock();
        if c.generation != generation || c.broken {
            st.abandon();
            return Ok(());
        }
        let tail_at = st.len;
        let switched = (|| -> io::Result<Vec<(String, u64, u64)>> {
            if c.len > from {
                st.push(&read_frame(&c.file, from, c.len - from)?)?;
            }
            // Records not in this journal (of the old layout) are written from memory.
            let mut extra = Vec::new();
            for (key, s) in objs.iter() {
                if !s.inline && !s.frame.as_ref().is_some_and(|f| Arc::ptr_eq(&f.file, &old)) {
                    let bytes = encode(&Record::Put {
                        info: &s.info,
                        body: None,
                    })?;
                    extra.push((key.clone(), st.push(&bytes)?, bytes.len() as u64));
                }
            }
            Ok(extra)
        })();
        let extra = match switched {
            Ok(extra) => extra,
            Err(e) => {
                st.abandon();
                c.compact_after = c.len + self.compact_above / 4;
                return Err(e);
            }
        };
        let len = st.len;
        let file = Arc::new(self.switch(&mut c, st)?);
        for s in objs.values_mut() {
            if let Some(f) = s.frame.as_mut().filter(|f| Arc::ptr_eq(&f.file, &old)) {
                f.at = if f.at >= from {
                    f.at - from + tail_at
                } else {
                    match moved.binary_search_by_key(&f.at, |m| m.0) {
                        Ok(i) => moved[i].1,
                        // Not live when the copy started, yet older than it: cannot be.
                        Err(_) => f.at,
                    }
                };
                f.file = file.clone();
            }
        }
        place(&mut objs, &file, extra);
        c.live = objs
            .values()
            .filter_map(|s| s.frame.as_ref())
            .map(|f| f.len)
            .sum();
        c.file = file;
        c.len = len;
        Ok(())
    }

    /// Renames the staged generation into place and makes it current (the caller sets its
    /// file, length and live bytes); everything noted so far is durable in it.
    fn switch(&self, c: &mut Current, st: Staging) -> io::Result<File> {
        let file = match st.finish(&self.dir) {
            Ok(f) => f,
            Err((e, renamed)) => {
                // A restart may find the new generation: nothing more may go to this one.
                c.broken |= renamed;
                return Err(e);
            }
        };
        let _ = fs::remove_file(self.dir.join(journal_name(c.generation)));
        c.generation += 1;
        c.broken = false;
        c.compact_after = 0;
        self.sync.all_durable();
        Ok(file)
    }
}
