//! A bucket's object journal: every object record in commit order, in one append-only file
//! `o/journal-<generation>.log`, with the bytes of small objects inside their record.
//!
//! A frame is `[u32 len][u32 crc32c][kind u8][u32 json len][json][body]` (little-endian; `len`
//! and the CRC cover everything after the CRC). Kinds: a PUT whose body is in the frame, a PUT
//! whose bytes are in a data file the record names, and a DELETE (the key). The log's order is
//! the truth: replaying it from the start gives the bucket's objects. Appends happen under the
//! bucket lock; a [`GroupSync`] fdatasync then makes every frame written before it durable, so
//! concurrent PUTs share one sync. A frame cut short by a crash (never acknowledged: the sync
//! that acknowledges a frame covers every frame before it) is cut off at open.
//!
//! When more than half of a journal is replaced or deleted records it is rewritten with only the
//! live ones into the next generation (temp file, fsync, rename, directory fsync); readers of
//! the old generation keep their open file. After a failed fsync the file's pages may have been
//! dropped (Linux marks them clean), so the journal is rewritten from memory before the next
//! write instead of being trusted.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::store::{sync_dir, ObjectInfo};

/// Objects up to this size are kept inside their journal record.
pub const INLINE_MAX: usize = 64 * 1024;
/// A journal is compacted once it is larger than this and mostly garbage.
pub(crate) const COMPACT_ABOVE: u64 = 64 * 1024 * 1024;

const PUT_INLINE: u8 = 1;
const PUT_FILE: u8 = 2;
const DELETE: u8 = 3;
/// Frame header: length and CRC.
const HEADER: usize = 8;

/// Where an object's bytes are.
#[derive(Clone)]
pub(crate) enum Body {
    /// In the data file named by the record.
    File,
    /// `size` bytes at `offset` of a journal file.
    Inline { file: Arc<File>, offset: u64 },
}

/// An object as the store holds it.
#[derive(Clone)]
pub(crate) struct Stored {
    pub info: ObjectInfo,
    pub body: Body,
    /// Length of its record in the current journal (0 for none).
    pub frame_len: u64,
}

impl Stored {
    /// An inline object's bytes.
    pub fn read_inline(&self) -> io::Result<Option<Bytes>> {
        match &self.body {
            Body::File => Ok(None),
            Body::Inline { file, offset } => {
                let mut buf = vec![0u8; self.info.size as usize];
                file.read_exact_at(&mut buf, *offset)?;
                Ok(Some(Bytes::from(buf)))
            }
        }
    }
}

/// One record of a journal.
pub(crate) enum Record<'a> {
    /// A PUT; `body` is the object's bytes when they are inline.
    Put {
        info: &'a ObjectInfo,
        body: Option<&'a [u8]>,
    },
    Delete(&'a str),
}

/// Encodes a frame.
pub(crate) fn encode(record: &Record) -> io::Result<Vec<u8>> {
    let (kind, json, body) = match record {
        Record::Put { info, body } => (
            if body.is_some() { PUT_INLINE } else { PUT_FILE },
            serde_json::to_vec(info).map_err(io::Error::other)?,
            body.unwrap_or_default(),
        ),
        Record::Delete(key) => (DELETE, key.as_bytes().to_vec(), &[][..]),
    };
    let len = 1 + 4 + json.len() + body.len();
    let mut frame = Vec::with_capacity(HEADER + len);
    frame.extend_from_slice(&(len as u32).to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.push(kind);
    frame.extend_from_slice(&(json.len() as u32).to_le_bytes());
    frame.extend_from_slice(&json);
    frame.extend_from_slice(body);
    let crc = crc32c::crc32c(&frame[HEADER..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

/// A record read back: the record, the offset of its body in the file, and its frame length.
pub(crate) enum Replayed {
    Put {
        info: ObjectInfo,
        inline_at: Option<u64>,
        frame_len: u64,
    },
    Delete(String),
}

/// Reads the frames of `file` in order, passing each to `apply`; returns the length of the
/// whole frames (where a torn or corrupt tail begins).
pub(crate) fn replay(file: &File, mut apply: impl FnMut(Replayed)) -> io::Result<u64> {
    let mut r = io::BufReader::with_capacity(1 << 20, file);
    let mut at = 0u64;
    let mut header = [0u8; HEADER];
    let mut frame = Vec::new();
    loop {
        if !read_full(&mut r, &mut header)? {
            return Ok(at);
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len < 5 {
            return Ok(at);
        }
        frame.resize(len, 0);
        if !read_full(&mut r, &mut frame)? || crc32c::crc32c(&frame) != crc {
            return Ok(at);
        }
        let json_len = u32::from_le_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
        let Some(json) = frame.get(5..5 + json_len) else {
            return Ok(at);
        };
        let frame_len = (HEADER + len) as u64;
        let record = match frame[0] {
            DELETE => Replayed::Delete(String::from_utf8_lossy(json).into_owned()),
            kind @ (PUT_INLINE | PUT_FILE) => {
                let Ok(info) = serde_json::from_slice::<ObjectInfo>(json) else {
                    return Ok(at);
                };
                let inline_at = (kind == PUT_INLINE).then_some(at + (HEADER + 5 + json_len) as u64);
                Replayed::Put {
                    info,
                    inline_at,
                    frame_len,
                }
            }
            _ => return Ok(at),
        };
        apply(record);
        at += frame_len;
    }
}

/// Fills `buf`; false at a clean or torn end of file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Group commit: each writer notes a generation after its write, and one sync makes every
/// write noted before it durable, so concurrent writers share the sync instead of taking turns.
/// A failed sync fails every generation it was to cover for good (a later sync may report
/// success though the pages were dropped), until [`GroupSync::all_durable`] after a rewrite.
#[derive(Default)]
pub(crate) struct GroupSync {
    /// (generations noted, known durable, failed).
    state: Mutex<(u64, u64, u64)>,
    /// One sync at a time.
    syncing: Mutex<()>,
    /// Wakes async waiters after each sync.
    done: tokio::sync::Notify,
    /// An async waiter is syncing on a blocking thread.
    leading: AtomicBool,
}

impl GroupSync {
    pub fn note(&self) -> u64 {
        let mut s = self.state.lock();
        s.0 += 1;
        s.0
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
            let s = self.state.lock();
            if let Some(r) = settled(&s, generation) {
                return r;
            }
            s.0
        };
        let result = sync();
        {
            let mut s = self.state.lock();
            match result {
                Ok(()) => s.1 = s.1.max(target),
                Err(_) => s.2 = s.2.max(target),
            }
        }
        self.done.notify_waiters();
        result
    }

    /// Whether generation `generation` is durable (or failed for good), if settled.
    fn settled(&self, generation: u64) -> Option<io::Result<()>> {
        settled(&self.state.lock(), generation)
    }

    /// Marks everything noted so far durable (the journal was rewritten and synced whole).
    pub fn all_durable(&self) {
        {
            let mut s = self.state.lock();
            s.1 = s.0;
        }
        self.done.notify_waiters();
    }
}

fn settled(s: &(u64, u64, u64), generation: u64) -> Option<io::Result<()>> {
    if s.1 >= generation {
        Some(Ok(()))
    } else if s.2 >= generation {
        Some(Err(io::Error::other(
            "an earlier fsync of this write failed",
        )))
    } else {
        None
    }
}

/// Where a rewrite put an object's record: key, inline body offset, frame length.
type Placed = (String, Option<u64>, u64);

/// The file being appended to.
struct Current {
    generation: u64,
    file: Arc<File>,
    len: u64,
    /// Bytes of records of live objects.
    live: u64,
    /// A sync or a cut-back failed: rewrite before the next append.
    broken: bool,
}

/// A bucket's journal.
pub(crate) struct Journal {
    dir: PathBuf,
    current: Mutex<Current>,
    sync: GroupSync,
    compact_above: u64,
}

fn journal_name(generation: u64) -> String {
    format!("journal-{generation:016x}.log")
}

impl Journal {
    /// Opens the newest journal in `dir` (removing older generations and temp files), replays
    /// it into `objects` and cuts off a torn tail; creates the first one if there is none.
    pub fn open(
        dir: &Path,
        objects: &mut std::collections::BTreeMap<String, Stored>,
        compact_above: u64,
    ) -> io::Result<Journal> {
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
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let file = Arc::new(file);
        let mut live = 0u64;
        let good = replay(&file, |r| match r {
            Replayed::Put {
                info,
                inline_at,
                frame_len,
            } => {
                let body = match inline_at {
                    Some(offset) => Body::Inline {
                        file: file.clone(),
                        offset,
                    },
                    None => Body::File,
                };
                live += frame_len;
                let stored = Stored {
                    info,
                    body,
                    frame_len,
                };
                if let Some(old) = objects.insert(stored.info.key.clone(), stored) {
                    live -= old.frame_len;
                }
            }
            Replayed::Delete(key) => {
                if let Some(old) = objects.remove(&key) {
                    live -= old.frame_len;
                }
            }
        })?;
        let len = file.metadata()?.len();
        if good < len {
            tracing::warn!(
                journal = %path.display(),
                kept = good,
                cut = len - good,
                "cutting off a torn or corrupt journal tail"
            );
            file.set_len(good)?;
            file.sync_all()?;
        }
        sync_dir(dir)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
            current: Mutex::new(Current {
                generation,
                file,
                len: good,
                live,
                broken: false,
            }),
            sync: GroupSync::default(),
            compact_above,
        })
    }

    /// Appends `frame` (call under the bucket lock, with the objects it describes); returns the
    /// file and offset it was written at and the generation to sync through. A write that
    /// fails is cut back off, so the journal never holds a partial frame it goes on after.
    pub fn append(&self, frame: &[u8]) -> io::Result<(Arc<File>, u64, u64)> {
        let mut c = self.current.lock();
        if c.broken {
            return Err(io::Error::other(
                "the journal must be rewritten after a failed write",
            ));
        }
        let offset = c.len;
        if let Err(e) = c.file.write_all_at(frame, offset) {
            if c.file.set_len(offset).is_err() {
                c.broken = true;
            }
            return Err(e);
        }
        c.len += frame.len() as u64;
        Ok((c.file.clone(), offset, self.sync.note()))
    }

    /// Counts `added` bytes of live records and `dropped` bytes that stopped being live.
    pub fn account(&self, added: u64, dropped: u64) {
        let mut c = self.current.lock();
        c.live = (c.live + added).saturating_sub(dropped);
    }

    /// True when the journal needs a rewrite: after a failure, or when mostly garbage.
    pub fn needs_rewrite(&self) -> bool {
        let c = self.current.lock();
        c.broken || (c.len > self.compact_above && c.live * 2 < c.len)
    }

    #[cfg(test)]
    pub fn break_for_test(&self) {
        self.current.lock().broken = true;
    }

    pub fn is_broken(&self) -> bool {
        self.current.lock().broken
    }

    /// Returns once the frame of generation `generation` is durable.
    pub fn sync_through(&self, generation: u64) -> io::Result<()> {
        self.sync.sync_through(generation, || {
            let file = self.current.lock().file.clone();
            let r = file.sync_data();
            if r.is_err() {
                self.current.lock().broken = true;
            }
            r
        })
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
            if !self.sync.leading.swap(true, Ordering::AcqRel) {
                let journal = self.clone();
                return tokio::task::spawn_blocking(move || {
                    let r = journal.sync_through(generation);
                    journal.sync.leading.store(false, Ordering::Release);
                    journal.sync.done.notify_waiters();
                    r
                })
                .await
                .map_err(io::Error::other)?;
            }
            notified.await;
        }
    }

    /// Writes the live `objects` into the next generation and switches to it (call under the
    /// bucket lock). Inline bodies are copied and their locations updated.
    pub fn rewrite(
        &self,
        objects: &mut std::collections::BTreeMap<String, Stored>,
    ) -> io::Result<()> {
        let mut c = self.current.lock();
        let generation = c.generation + 1;
        let path = self.dir.join(journal_name(generation));
        let tmp = path.with_extension("log.tmp");
        let written = (|| -> io::Result<(File, Vec<Placed>, u64)> {
            let f = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            let mut at = 0u64;
            let mut places = Vec::with_capacity(objects.len());
            for s in objects.values() {
                let body = s.read_inline()?;
                let frame = encode(&Record::Put {
                    info: &s.info,
                    body: body.as_deref(),
                })?;
                let inline_at = body.map(|b| at + (frame.len() - b.len()) as u64);
                w.write_all(&frame)?;
                places.push((s.info.key.clone(), inline_at, frame.len() as u64));
                at += frame.len() as u64;
            }
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            Ok((f, places, at))
        })();
        let (file, places, len) = match written {
            Ok(w) => w,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if let Err(e) = fs::rename(&tmp, &path).and_then(|()| sync_dir(&self.dir)) {
            // The new generation may be what a restart finds: nothing more may go to this one.
            c.broken = true;
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let file = Arc::new(file);
        let _ = fs::remove_file(self.dir.join(journal_name(c.generation)));
        for (key, inline_at, frame_len) in places {
            if let Some(s) = objects.get_mut(&key) {
                s.frame_len = frame_len;
                if let Some(offset) = inline_at {
                    s.body = Body::Inline {
                        file: file.clone(),
                        offset,
                    };
                }
            }
        }
        *c = Current {
            generation,
            file,
            len,
            live: len,
            broken: false,
        };
        self.sync.all_durable();
        Ok(())
    }
}
