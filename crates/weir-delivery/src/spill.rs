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
}
