//! A bucket's object records as one append-only journal with group commit. A PUT or DELETE
//! notes its entry under the store's lock (so the journal's order is the map's order), then
//! waits until a write and one fdatasync that cover it are done; concurrent commits share
//! them. Frames are `len u32 LE | crc32c u32 LE | JSON`; replay stops at the first torn or
//! corrupt frame and cuts it off. When the journal has grown well past what is live it is
//! rewritten whole, starting with a `Reset` entry, so records kept one file per key by older
//! versions (loaded before the journal) stop counting and are removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::store::{sync_dir, ObjectInfo};

/// The journal's file name in a bucket's `o/` directory.
pub(crate) const FILE: &str = "records.log";

/// Journals smaller than this are never rewritten.
const COMPACT_MIN_BYTES: u64 = 32 << 20;

/// One change to a bucket's objects.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Entry {
    Put(ObjectInfo),
    Delete(String),
    /// Forget every record loaded so far (the first entry of a rewritten journal).
    Reset,
}

fn frame(entry: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
    let body = serde_json::to_vec(entry).map_err(io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(io::Error::other)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// Entries noted but not yet written, and what is known durable.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    noted: u64,
    durable: u64,
    /// Generations whose write failed (ranges, newest last).
    failed: Vec<(u64, u64)>,
}

pub(crate) struct Journal {
    dir: PathBuf,
    /// The open journal, its length, and whether it can no longer be trusted (a failed write
    /// could not be cut back off); held by whoever writes.
    file: Mutex<(File, u64, bool)>,
    pending: Mutex<Pending>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and returns its entries in order.
    pub(crate) fn open(dir: &Path) -> io::Result<(Journal, Vec<Entry>)> {
        let path = dir.join(FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut entries = Vec::new();
        let mut at = 0usize;
        while let Some(header) = bytes.get(at..at + 8) {
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let Some(body) = bytes.get(at + 8..at + 8 + len) else {
                break;
            };
            if crc32c::crc32c(body) != crc {
                break;
            }
            match serde_json::from_slice::<Entry>(body) {
                Ok(e) => entries.push(e),
                Err(_) => break,
            }
            at += 8 + len;
        }
        if at < bytes.len() {
            tracing::warn!(file = %path.display(), kept = at, dropped = bytes.len() - at,
                "cutting a torn tail off an object journal");
            file.set_len(at as u64)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::Start(at as u64))?;
        let journal = Journal {
            dir: dir.to_path_buf(),
            file: Mutex::new((file, at as u64, false)),
            pending: Mutex::new(Pending::default()),
        };
        Ok((journal, entries))
    }

    /// Notes `entry` to be written; returns its generation for [`Journal::wait`].
    pub(crate) fn note(&self, entry: &Entry) -> io::Result<u64> {
        let mut p = self.pending.lock();
        frame(entry, &mut p.buf)?;
        p.noted += 1;
        Ok(p.noted)
    }

    /// Returns once `generation` is durable, writing and syncing every entry noted so far
    /// unless another caller's write already covered it.
    pub(crate) fn wait(&self, generation: u64) -> io::Result<()> {
        if let Some(done) = self.outcome(generation) {
            return done;
        }
        let mut file = self.file.lock();
        if let Some(done) = self.outcome(generation) {
            return done;
        }
        let (buf, from, target) = {
            let mut p = self.pending.lock();
            (std::mem::take(&mut p.buf), p.durable + 1, p.noted)
        };
        let (f, len, poisoned) = &mut *file;
        let result = if *poisoned {
            Err(io::Error::other(
                "the object journal could not be repaired after a failed write",
            ))
        } else {
            f.write_all(&buf).and_then(|()| f.sync_data())
        };
        let mut p = self.pending.lock();
        p.durable = target;
        match result {
            Ok(()) => {
                *len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut the batch back off, so later entries never follow a torn frame.
                let repaired = f
                    .set_len(*len)
                    .and_then(|()| f.seek(SeekFrom::Start(*len)).map(|_| ()));
                if repaired.is_err() {
                    *poisoned = true;
                }
                p.failed.push((from, target));
                if p.failed.len() > 64 {
                    p.failed.remove(0);
                }
                tracing::error!(error = %e, "object journal write failed; those PUTs and DELETEs are refused");
                Err(e)
            }
        }
    }

    /// `Some` once `generation` was written: Ok, or the error of its failed write.
    fn outcome(&self, generation: u64) -> Option<io::Result<()>> {
        let p = self.pending.lock();
        if p.durable < generation {
            return None;
        }
        if p.failed
            .iter()
            .any(|(a, b)| (*a..=*b).contains(&generation))
        {
            return Some(Err(io::Error::other("the object journal write failed")));
        }
        Some(Ok(()))
    }

    /// Whether the journal has grown past `live` records enough to be rewritten.
    pub(crate) fn wants_rewrite(&self, live: usize) -> bool {
        let len = self.file.lock().1;
        len > COMPACT_MIN_BYTES && len > (live as u64).saturating_mul(2048)
    }

    /// Rewrites the journal as `Reset` followed by one `Put` per live record, then removes
    /// per-key record files of older versions. The caller holds the store's lock, so nothing
    /// is noted meanwhile; every entry noted before is part of `live`, so they count as
    /// written once the new journal is in place.
    pub(crate) fn rewrite<'a>(&self, live: impl Iterator<Item = &'a ObjectInfo>) -> io::Result<()> {
        let mut file = self.file.lock();
        let mut bytes = Vec::new();
        frame(&Entry::Reset, &mut bytes)?;
        for info in live {
            frame(&Entry::Put(info.clone()), &mut bytes)?;
        }
        let path = self.dir.join(FILE);
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_data()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)?;
        let mut f = OpenOptions::new().read(true).write(true).open(&path)?;
        f.seek(SeekFrom::End(0))?;
        *file = (f, bytes.len() as u64, false);
        {
            let mut p = self.pending.lock();
            p.buf.clear();
            p.durable = p.noted;
        }
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(key: &str) -> ObjectInfo {
        serde_json::from_value(serde_json::json!({
            "key": key, "size": 1, "etag": "\"x\"", "last_modified_ms": 0,
            "content_type": null, "metadata": {}, "headers": {}, "data_file": format!("{key}.data"),
        }))
        .expect("info")
    }

    fn keys(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Put(i) => format!("+{}", i.key),
                Entry::Delete(k) => format!("-{k}"),
                Entry::Reset => "reset".into(),
            })
            .collect()
    }

    #[test]
    fn entries_replay_in_order_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let (j, entries) = Journal::open(dir.path()).expect("open");
            assert!(entries.is_empty());
            let a = j.note(&Entry::Put(info("a"))).expect("note");
            let b = j.note(&Entry::Delete("a".into())).expect("note");
            j.wait(b).expect("durable");
            j.wait(a).expect("covered by the same write");
            let c = j.note(&Entry::Put(info("c"))).expect("note");
            j.wait(c).expect("durable");
        }
        // A torn frame at the end (a crash mid-write) is cut off at open.
        let path = dir.path().join(FILE);
        let whole = fs::read(&path).expect("read").len();
        let mut f = OpenOptions::new().append(true).open(&path).expect("append");
        f.write_all(&[200, 0, 0, 0, 1, 2, 3]).expect("torn");
        drop(f);
        let (j, entries) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(keys(&entries), ["+a", "-a", "+c"]);
        assert_eq!(fs::read(&path).expect("read").len(), whole);
        // Appends after the cut replay after what was there.
        let d = j.note(&Entry::Put(info("d"))).expect("note");
        j.wait(d).expect("durable");
        drop(j);
        let (_, entries) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(keys(&entries), ["+a", "-a", "+c", "+d"]);
    }

    #[test]
    fn a_rewrite_keeps_what_is_live_and_drops_old_record_files() {
        let dir = tempfile::tempdir().expect("tmp");
        fs::write(dir.path().join("old.json"), b"{}").expect("legacy record");
        let (j, _) = Journal::open(dir.path()).expect("open");
        for k in ["a", "b", "a"] {
            let g = j.note(&Entry::Put(info(k))).expect("note");
            j.wait(g).expect("durable");
        }
        let pending = j
            .note(&Entry::Put(info("b")))
            .expect("noted before the rewrite");
        let live = [info("a"), info("b")];
        j.rewrite(live.iter()).expect("rewrite");
        j.wait(pending).expect("covered by the rewrite");
        assert!(!dir.path().join("old.json").exists());
        drop(j);
        let (_, entries) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(keys(&entries), ["reset", "+a", "+b"]);
    }
}
