//! The delivery engine's memory budget. Buffers hold their records in memory until the
//! engine's buffered bytes pass the budget; then the worker that pushed moves its largest
//! buffer to a file under `<data dir>/spill/`, where later records of that buffer go too. A
//! buffer is read back only when it is delivered, and deliveries in flight hold a reservation
//! of their size from a second budget of the same size, waited for when it is spent — so
//! buffered plus delivering bytes stay within twice the budget whatever the hints and the
//! number of partitions. Spill files are never needed for recovery (records are re-read from
//! the source's checkpoint after a restart), so the directory is emptied at open.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::model::Compression;

/// The engine's buffer budget.
pub(crate) struct Budget {
    pub limit: usize,
    /// Bytes buffered in memory across all delivery streams.
    pub used: AtomicUsize,
    /// Reservations of deliveries in flight, in KiB.
    pub deliveries: Arc<tokio::sync::Semaphore>,
    pub dir: PathBuf,
}

impl Budget {
    pub fn new(limit: usize, dir: &Path) -> io::Result<Budget> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        Ok(Budget {
            limit,
            used: AtomicUsize::new(0),
            deliveries: Arc::new(tokio::sync::Semaphore::new((limit / 1024).max(1))),
            dir: dir.to_path_buf(),
        })
    }

    pub fn over(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }

    /// KiB a delivery of `bytes` reserves (at most the whole budget).
    pub fn reservation(&self, bytes: usize) -> u32 {
        (bytes / 1024).clamp(1, (self.limit / 1024).max(1)) as u32
    }
}

/// A buffer's bytes: in memory, or in a spill file.
pub(crate) enum Store {
    Memory(Vec<u8>),
    File {
        path: PathBuf,
        writer: BufWriter<File>,
        len: usize,
    },
}

impl Default for Store {
    fn default() -> Self {
        Store::Memory(Vec::new())
    }
}

impl Store {
    pub fn len(&self) -> usize {
        match self {
            Store::Memory(v) => v.len(),
            Store::File { len, .. } => *len,
        }
    }

    /// Bytes held in memory (the allocation, not only what is used of it).
    pub fn in_memory(&self) -> usize {
        match self {
            Store::Memory(v) => v.capacity(),
            Store::File { .. } => 0,
        }
    }

    /// Appends a record's bytes. In memory, the allocation doubles as it grows but never past
    /// `limit` (the buffer's SizeInMBs) more than the record needs, so a full buffer holds
    /// about its size, not up to twice it.
    pub fn append(&mut self, data: &[u8], limit: usize) -> io::Result<()> {
        match self {
            Store::Memory(v) => {
                let need = v.len() + data.len();
                if need > v.capacity() {
                    let grown = (v.capacity() * 2).max(64 * 1024).min(limit.max(need));
                    v.reserve_exact(grown.max(need) - v.len());
                }
                v.extend_from_slice(data)
            }
            Store::File { writer, len, .. } => {
                writer.write_all(data)?;
                *len += data.len();
            }
        }
        Ok(())
    }

    /// Moves the bytes to a new file at `path`; the bytes freed from memory.
    pub fn spill(&mut self, path: PathBuf) -> io::Result<usize> {
        let Store::Memory(v) = self else {
            return Ok(0);
        };
        let mut writer = BufWriter::with_capacity(64 * 1024, File::create(&path)?);
        writer.write_all(v)?;
        let (len, freed) = (v.len(), v.capacity());
        *self = Store::File { path, writer, len };
        Ok(freed)
    }

    /// The bytes made into an object's body as `format` (a ZIP's entry named `entry`): a
    /// spill file is compressed reading it through once, or — uncompressed — handed over as
    /// it is (the caller removes it once stored). Blocking.
    pub fn into_body(self, format: Compression, entry: &str) -> io::Result<Body> {
        match (self.finish()?, format) {
            (Finished::Memory(v), _) => {
                crate::compress::compress(format, v, entry).map(|b| Body::Bytes(b.into()))
            }
            (Finished::File(path, len), Compression::Uncompressed) => Ok(Body::File(path, len)),
            (Finished::File(path, len), _) => {
                let file = BufReader::with_capacity(256 * 1024, File::open(&path)?);
                let out = crate::compress::compress_from(format, file, len, entry);
                let _ = std::fs::remove_file(&path);
                out.map(|b| Body::Bytes(b.into()))
            }
        }
    }

    /// The bytes, read back from the file (which is removed) when spilled. Blocking.
    pub fn into_vec(self) -> io::Result<Vec<u8>> {
        match self.finish()? {
            Finished::Memory(v) => Ok(v),
            Finished::File(path, len) => {
                let body = crate::compress::compress_from(
                    Compression::Uncompressed,
                    File::open(&path)?,
                    len,
                    "",
                );
                let _ = std::fs::remove_file(&path);
                let out = body?;
                if out.len() != len {
                    return Err(io::Error::other(format!(
                        "spill file {} holds {} bytes, not {len}",
                        path.display(),
                        out.len()
                    )));
                }
                Ok(out)
            }
        }
    }

    /// Drops the bytes (and the spill file).
    pub fn discard(self) {
        if let Store::File { path, writer, .. } = self {
            drop(writer);
            let _ = std::fs::remove_file(path);
        }
    }

    /// The bytes in memory, or the spill file with everything written to it.
    fn finish(self) -> io::Result<Finished> {
        match self {
            Store::Memory(v) => Ok(Finished::Memory(v)),
            Store::File { path, writer, len } => {
                drop(writer.into_inner().map_err(|e| e.into_error())?);
                Ok(Finished::File(path, len))
            }
        }
    }
}

enum Finished {
    Memory(Vec<u8>),
    File(PathBuf, usize),
}

/// An object's bytes: in memory, or a (spill) file of this length.
#[derive(Debug)]
pub(crate) enum Body {
    Bytes(bytes::Bytes),
    File(PathBuf, usize),
}

impl Body {
    pub fn len(&self) -> usize {
        match self {
            Body::Bytes(b) => b.len(),
            Body::File(_, len) => *len,
        }
    }
}

/// The per-record facts of a spilled buffer (each record's length and origin), written after
/// its bytes instead of kept in memory: a buffer of many small records would otherwise hold
/// about 100 bytes per record in memory whatever its bytes' budget. Read back when the buffer
/// is delivered.
pub(crate) struct MetaSpill {
    path: PathBuf,
    /// Taken when the records are read back.
    writer: Option<BufWriter<File>>,
}

/// The file goes with the records however the buffer ends (delivered, discarded, or dropped
/// when its worker stops).
impl Drop for MetaSpill {
    fn drop(&mut self) {
        self.writer = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

impl MetaSpill {
    /// Starts the file at `path` with the records so far (which the caller then drops).
    pub fn create(
        path: PathBuf,
        lens: &[u32],
        origins: &[crate::worker::Origin],
    ) -> io::Result<MetaSpill> {
        let mut m = MetaSpill {
            writer: Some(BufWriter::with_capacity(8 * 1024, File::create(&path)?)),
            path,
        };
        for (len, origin) in lens.iter().zip(origins) {
            m.push(*len, origin)?;
        }
        Ok(m)
    }

    pub fn push(&mut self, len: u32, origin: &crate::worker::Origin) -> io::Result<()> {
        let seq = origin.sequence_number.as_bytes();
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| io::Error::other("the record list was read back"))?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(&origin.arrival_ms.to_le_bytes())?;
        w.write_all(&origin.subsequence.to_le_bytes())?;
        w.write_all(&(seq.len() as u16).to_le_bytes())?;
        w.write_all(seq)
    }

    /// Reads the records back (removing the file). Blocking.
    pub fn read(mut self) -> io::Result<(Vec<u32>, Vec<crate::worker::Origin>)> {
        if let Some(w) = self.writer.take() {
            drop(w.into_inner().map_err(|e| e.into_error())?);
        }
        // The file goes when `self` is dropped.
        let bytes = std::fs::read(&self.path)?;
        let (mut lens, mut origins) = (Vec::new(), Vec::new());
        let mut at = 0;
        let bad = || io::Error::other("a spilled buffer's record list is cut short");
        while at < bytes.len() {
            let head = bytes.get(at..at + 18).ok_or_else(bad)?;
            let n = u16::from_le_bytes([head[16], head[17]]) as usize;
            let seq = bytes.get(at + 18..at + 18 + n).ok_or_else(bad)?;
            lens.push(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
            origins.push(crate::worker::Origin {
                arrival_ms: i64::from_le_bytes(head[4..12].try_into().map_err(|_| bad())?),
                subsequence: u32::from_le_bytes(head[12..16].try_into().map_err(|_| bad())?),
                sequence_number: std::str::from_utf8(seq).map_err(|_| bad())?.into(),
            });
            at += 18 + n;
        }
        Ok((lens, origins))
    }

    /// Drops the records (and the file).
    pub fn discard(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_bytes_come_back_whole() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let budget = Budget::new(4096, &dir.path().join("spill"))?;
        assert_eq!(budget.reservation(100), 1);
        assert_eq!(budget.reservation(1 << 20), 4);
        let mut s = Store::default();
        s.append(b"abc", 100)?;
        assert_eq!(s.in_memory(), 100);
        s.append(&[b'x'; 98], 100)?;
        assert_eq!((s.len(), s.in_memory()), (101, 101));
        let mut s = Store::default();
        s.append(b"abc", 1 << 20)?;
        assert_eq!(s.spill(budget.dir.join("x"))?, 64 * 1024);
        assert_eq!((s.len(), s.in_memory()), (3, 0));
        s.append(b"def", 1 << 20)?;
        let mut t = Store::default();
        t.append(b"x", 8)?;
        t.spill(budget.dir.join("y"))?;
        t.append(b"yz", 8)?;
        let Body::File(path, 3) = t.into_body(Compression::Uncompressed, "e")? else {
            panic!("an uncompressed spill file stays a file");
        };
        assert_eq!(std::fs::read(&path)?, b"xyz");
        assert_eq!(s.into_vec()?, b"abcdef");
        assert!(!budget.dir.join("x").exists());
        Ok(())
    }

    #[test]
    fn spilled_record_lists_come_back() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let origin = |i: u32| crate::worker::Origin {
            arrival_ms: 1_700_000_000_000 + i as i64,
            sequence_number: format!("4959{i:052}").into(),
            subsequence: i,
        };
        let first: Vec<_> = (0..3).map(origin).collect();
        let mut m = MetaSpill::create(dir.path().join("m"), &[10, 20, 30], &first)?;
        m.push(40, &origin(3))?;
        let (lens, origins) = m.read()?;
        assert_eq!(lens, [10, 20, 30, 40]);
        assert_eq!(origins.len(), 4);
        for (i, o) in origins.iter().enumerate() {
            let want = origin(i as u32);
            assert_eq!(
                (o.arrival_ms, &*o.sequence_number, o.subsequence),
                (want.arrival_ms, &*want.sequence_number, want.subsequence)
            );
        }
        assert!(!dir.path().join("m").exists(), "removed once read");
        Ok(())
    }
}
