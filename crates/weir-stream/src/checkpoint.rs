//! A job's files under `<data>/stream/jobs/<id>/`: `checkpoint.json` (source positions, the
//! watermark, counts, and the names of the state files it goes with), `state-<n>-<i>.arrow`
//! (a source's window state as an Arrow IPC stream) and `sink-<n>.arrow` (the rows the filesystem sink
//! commits as files with this checkpoint). The state file is written and synced first, then the
//! checkpoint replaces the previous one atomically (temporary file, fsync, rename, directory
//! fsync), then the older state file is removed: a crash at any point leaves a checkpoint and
//! the state it names.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};
use weir_delivery::Checkpoint;

use crate::error::{Result, StreamError};

/// State batches, read or made one at a time (a checkpoint's state is written and read back
/// without holding all of it at once).
pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// Batches held in memory, as `Batches`.
pub fn batches(v: Vec<RecordBatch>) -> Batches {
    Box::new(v.into_iter().map(Ok))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub number: u64,
    pub saved_ms: i64,
    /// Per source table: where reading resumes.
    pub positions: BTreeMap<String, Checkpoint>,
    pub watermark: i64,
    /// Per source table, per shard: the shard's watermark.
    #[serde(default)]
    pub shard_watermarks: BTreeMap<String, BTreeMap<String, i64>>,
    pub records_in: u64,
    pub records_out: u64,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    #[serde(flatten)]
    meta: Meta,
    /// Per source table: its window state's file (none when it keeps no state).
    #[serde(default)]
    state: BTreeMap<String, String>,
    /// The filesystem sink's rows this checkpoint commits.
    #[serde(default)]
    sink: Option<String>,
}

/// A checkpoint read back.
pub struct Saved {
    pub meta: Meta,
    /// Per source table: its operator state, read from its file as it is taken.
    pub state: BTreeMap<String, Batches>,
    /// Rows the checkpoint commits to files (written again after a restart: same names).
    pub sink: Vec<RecordBatch>,
}

#[derive(Clone)]
pub struct JobFiles {
    dir: PathBuf,
}

impl JobFiles {
    pub fn new(dir: PathBuf) -> io::Result<JobFiles> {
        fs::create_dir_all(&dir)?;
        Ok(JobFiles { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files of part `k` of a statement set's job (part 0: the job's own).
    pub fn part(&self, k: usize) -> io::Result<JobFiles> {
        match k {
            0 => Ok(self.clone()),
            k => JobFiles::new(self.dir.join(format!("part-{k}"))),
        }
    }

    pub fn load(&self) -> Result<Option<Saved>> {
        let text = match fs::read(self.dir.join("checkpoint.json")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let on_disk: OnDisk = serde_json::from_slice(&text)
            .map_err(|e| StreamError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        let mut state = BTreeMap::new();
        for (table, file) in &on_disk.state {
            state.insert(table.clone(), self.open_batches(file)?);
        }
        Ok(Some(Saved {
            state,
            sink: self.read_batches(on_disk.sink.as_deref())?,
            meta: on_disk.meta,
        }))
    }

    fn read_batches(&self, name: Option<&str>) -> Result<Vec<RecordBatch>> {
        match name {
            Some(name) => self.open_batches(name)?.collect(),
            None => Ok(Vec::new()),
        }
    }

    /// A state file's batches, read as they are taken (the open file stays readable when a
    /// later checkpoint removes it).
    fn open_batches(&self, name: &str) -> Result<Batches> {
        let f = File::open(self.dir.join(name))?;
        let reader = arrow_ipc::reader::StreamReader::try_new(io::BufReader::new(f), None)?;
        Ok(Box::new(reader.map(|b| b.map_err(Into::into))))
    }

    /// Writes batches as an Arrow IPC stream file, synced; its name, or none for no batches.
    fn write_batches(
        &self,
        name: String,
        batches: impl IntoIterator<Item = Result<RecordBatch>>,
    ) -> Result<Option<String>> {
        let mut batches = batches.into_iter();
        let Some(first) = batches.next().transpose()? else {
            return Ok(None);
        };
        let f = File::create(self.dir.join(&name))?;
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new(io::BufWriter::new(f), &first.schema())?;
        w.write(&first)?;
        for b in batches {
            w.write(&b?)?;
        }
        w.finish()?;
        let f = w.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(Some(name))
    }

    pub fn save(
        &self,
        meta: Meta,
        state: BTreeMap<String, Batches>,
        sink: &[RecordBatch],
    ) -> Result<()> {
        let mut state_names = BTreeMap::new();
        for (i, (table, batches)) in state.into_iter().enumerate() {
            let name = format!("state-{}-{i}.arrow", meta.number);
            if let Some(n) = self.write_batches(name, batches)? {
                state_names.insert(table.clone(), n);
            }
        }
        let sink_name = self.write_batches(
            format!("sink-{}.arrow", meta.number),
            sink.iter().cloned().map(Ok),
        )?;
        let body = serde_json::to_vec(&OnDisk {
            meta,
            state: state_names.clone(),
            sink: sink_name.clone(),
        })
        .map_err(|e| StreamError::Io(io::Error::other(e)))?;
        weir_log::meta::write_atomic(&self.dir, "checkpoint.json", &body)?;
        // Older state files are no longer named by the checkpoint.
        for entry in fs::read_dir(&self.dir)?.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            let named = state_names.values().any(|s| s == &n) || Some(&n) == sink_name.as_ref();
            if (n.starts_with("state-") || n.starts_with("sink-")) && !named {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}
