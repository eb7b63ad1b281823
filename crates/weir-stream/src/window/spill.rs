//! Window panes moved out of memory when the streaming jobs' state passes its budget
//! (`[flink] state_memory_mb`): a pane's batches are written to a file of the job's spill
//! directory as an Arrow IPC stream and read back when a window that spans the pane fires, when
//! a checkpoint is saved (one batch at a time) or never (the pane expires and its file is
//! removed). Spill files are never needed for recovery — a checkpoint holds the panes' rows
//! themselves — so a job empties its spill directory when it starts.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;

use crate::error::Result;

/// A job's spill directory (`<job>/spill`).
#[derive(Debug)]
pub struct SpillDir {
    dir: PathBuf,
    next: AtomicU64,
}

impl SpillDir {
    /// The directory, emptied (what a previous run left there is of no use).
    pub fn open(dir: PathBuf) -> io::Result<SpillDir> {
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fs::create_dir_all(&dir)?;
        Ok(SpillDir {
            dir,
            next: AtomicU64::new(0),
        })
    }

    /// Writes batches (all of one schema, at least one) to a new file.
    pub fn write(&self, batches: &[RecordBatch]) -> Result<Spilled> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("pane-{n}.arrow"));
        let spilled = Spilled {
            path,
            rows: batches.iter().map(RecordBatch::num_rows).sum(),
            bytes: batches.iter().map(RecordBatch::get_array_memory_size).sum(),
        };
        let Some(first) = batches.first().filter(|_| spilled.rows > 0) else {
            return Ok(spilled);
        };
        let f = File::create(&spilled.path)?;
        let mut w = arrow_ipc::writer::StreamWriter::try_new(BufWriter::new(f), &first.schema())?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
        w.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        Ok(spilled)
    }
}

/// A spilled piece of a pane; its file is removed when it is dropped.
#[derive(Debug)]
pub struct Spilled {
    path: PathBuf,
    rows: usize,
    /// What its batches held in memory.
    pub bytes: usize,
}

impl Spilled {
    /// Its batches, one at a time (the file stays readable through an open reader even once
    /// the piece is dropped).
    pub fn open(&self) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
        if self.rows == 0 {
            return Ok(Box::new(std::iter::empty()));
        }
        let f = File::open(&self.path)?;
        let reader = arrow_ipc::reader::StreamReader::try_new(BufReader::new(f), None)?;
        Ok(Box::new(reader.map(|b| b.map_err(Into::into))))
    }

    /// Its batches, its file opened only when the first is taken (one open file at a time
    /// for a checkpoint going through many pieces); the file stays while the iterator holds
    /// the piece.
    pub fn lazy(self: Arc<Self>) -> Box<dyn Iterator<Item = Result<RecordBatch>> + Send> {
        Box::new(std::iter::once(self).flat_map(|p| match p.open() {
            Ok(b) => b,
            Err(e) => Box::new(std::iter::once(Err(e))),
        }))
    }

    /// All its batches.
    pub fn read(&self) -> Result<Vec<RecordBatch>> {
        self.open()?.collect()
    }
}

impl Drop for Spilled {
    fn drop(&mut self) {
        if self.rows > 0 {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    #[test]
    fn spilled_batches_read_back_and_their_file_goes_with_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SpillDir::open(tmp.path().join("spill")).unwrap();
        let b = RecordBatch::try_from_iter([(
            "a",
            Arc::new(Int64Array::from(vec![1, 2, 3])) as Arc<dyn datafusion::arrow::array::Array>,
        )])
        .unwrap();
        let s = dir.write(&[b.clone(), b.slice(1, 2)]).unwrap();
        let back = s.read().unwrap();
        assert_eq!(back, vec![b.clone(), b.slice(1, 2)]);
        let mut open = s.open().unwrap();
        let path = s.path.clone();
        drop(s);
        assert!(!path.exists());
        assert_eq!(open.next().unwrap().unwrap(), b);
        // Reopening empties the directory.
        let _again = dir.write(&[b]).unwrap();
        SpillDir::open(tmp.path().join("spill")).unwrap();
        assert_eq!(fs::read_dir(tmp.path().join("spill")).unwrap().count(), 0);
    }
}
