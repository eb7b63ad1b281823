//! Durability: a journal of operations (each frame `len u32 · crc32c u32 · JSON`, fdatasynced
//! before the operation is applied and acknowledged) and a snapshot that the journal is folded
//! into when it grows. Opening loads the snapshot, replays the journal's frames newer than it,
//! and cuts a torn tail.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

const JOURNAL: &str = "journal.log";
const SNAPSHOT: &str = "snapshot.json";
/// The journal is folded into a snapshot beyond this size.
pub const COMPACT_BYTES: u64 = 32 << 20;

pub struct Store {
    dir: PathBuf,
    journal: File,
    journal_len: u64,
}

/// An opened store: the store, the snapshot's state, the last sequence number, and the
/// operations (with their sequence numbers) to replay over the state.
pub type Opened<S, Op> = (Store, S, u64, Vec<(u64, Op)>);

/// One journal frame as stored: the sequence number it was written under and the operation.
#[derive(serde::Serialize, serde::Deserialize)]
struct Frame<Op> {
    seq: u64,
    op: Op,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Snapshot<S> {
    seq: u64,
    state: S,
}

impl Store {
    /// Opens (or creates) the store: the snapshot's state and the operations logged after it.
    pub fn open<S, Op>(dir: &Path) -> io::Result<Opened<S, Op>>
    where
        S: DeserializeOwned + Default,
        Op: DeserializeOwned,
    {
        fs::create_dir_all(dir)?;
        let (state, snap_seq) = match fs::read(dir.join(SNAPSHOT)) {
            Ok(bytes) => {
                let s: Snapshot<S> = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
                (s.state, s.seq)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (S::default(), 0),
            Err(e) => return Err(e),
        };
        let path = dir.join(JOURNAL);
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let mut ops = Vec::new();
        let mut at = 0usize;
        while let Some((op, next)) = read_frame::<Op>(&bytes, at) {
            if op.seq > snap_seq {
                ops.push((op.seq, op.op));
            }
            at = next;
        }
        if at < bytes.len() {
            tracing::warn!(
                kept = at,
                cut = bytes.len() - at,
                "catalog journal had a torn tail; cut"
            );
        }
        let journal = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        journal.set_len(at as u64)?;
        journal.sync_all()?;
        weir_log::shard::sync_dir(dir)?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            journal,
            journal_len: at as u64,
        };
        use std::io::Seek;
        store.journal.seek(io::SeekFrom::Start(at as u64))?;
        let last = ops.last().map_or(snap_seq, |(s, _)| *s);
        Ok((store, state, last, ops))
    }

    /// Appends one operation durably.
    pub fn append<Op: Serialize>(&mut self, seq: u64, op: &Op) -> io::Result<()> {
        let json = serde_json::to_vec(&Frame { seq, op }).map_err(io::Error::other)?;
        let len = u32::try_from(json.len()).map_err(io::Error::other)?;
        let mut frame = Vec::with_capacity(json.len() + 8);
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&crc32c::crc32c(&json).to_le_bytes());
        frame.extend_from_slice(&json);
        if let Err(e) = self
            .journal
            .write_all(&frame)
            .and_then(|_| self.journal.sync_data())
        {
            // Leave no half frame behind the next one.
            let _ = self.journal.set_len(self.journal_len);
            use std::io::Seek;
            let _ = self.journal.seek(io::SeekFrom::Start(self.journal_len));
            return Err(e);
        }
        self.journal_len += frame.len() as u64;
        Ok(())
    }

    pub fn needs_compaction(&self) -> bool {
        self.journal_len > COMPACT_BYTES
    }

    /// Saves `state` (which includes every operation up to `seq`) and empties the journal.
    pub fn compact<S: Serialize>(&mut self, seq: u64, state: &S) -> io::Result<()> {
        let bytes = serde_json::to_vec(&Snapshot { seq, state }).map_err(io::Error::other)?;
        weir_log::meta::write_atomic(&self.dir, SNAPSHOT, &bytes)?;
        self.journal.set_len(0)?;
        self.journal.sync_all()?;
        use std::io::Seek;
        self.journal.seek(io::SeekFrom::Start(0))?;
        self.journal_len = 0;
        Ok(())
    }
}

/// A state whose changes are operations, applied the same way live and on replay.
pub trait Journaled: Serialize + DeserializeOwned + Default {
    type Op: Serialize + DeserializeOwned;
    fn apply(&mut self, op: Self::Op);
}

/// A state kept durable by a [`Store`]: each operation is logged (fsynced), then applied; the
/// journal is folded into a snapshot when it grows.
pub struct Durable<S: Journaled> {
    store: Store,
    state: S,
    seq: u64,
    /// What the state is, for logs.
    what: &'static str,
}

impl<S: Journaled> Durable<S> {
    /// Opens the store in `dir` and replays what was logged since its snapshot.
    pub fn open(dir: &Path, what: &'static str) -> io::Result<Durable<S>> {
        let (store, mut state, seq, ops): Opened<S, S::Op> = Store::open(dir)?;
        let replayed = ops.len();
        for (_, op) in ops {
            state.apply(op);
        }
        if replayed > 0 {
            tracing::info!(replayed, what, "journal replayed");
        }
        Ok(Durable {
            store,
            state,
            seq,
            what,
        })
    }

    pub fn state(&self) -> &S {
        &self.state
    }

    /// Logs `op` durably, then applies it.
    pub fn commit(&mut self, op: S::Op) -> io::Result<()> {
        let seq = self.seq + 1;
        self.store.append(seq, &op)?;
        self.seq = seq;
        self.state.apply(op);
        if self.store.needs_compaction() {
            if let Err(e) = self.store.compact(seq, &self.state) {
                // The journal still holds everything: nothing is lost, the fold is retried later.
                tracing::warn!(error = %e, what = self.what, "snapshot failed");
            }
        }
        Ok(())
    }
}

fn read_frame<Op: DeserializeOwned>(bytes: &[u8], at: usize) -> Option<(Frame<Op>, usize)> {
    let head = bytes.get(at..at + 8)?;
    let len = u32::from_le_bytes(head[0..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[4..8].try_into().ok()?);
    let body = bytes.get(at + 8..at + 8 + len)?;
    if crc32c::crc32c(body) != crc {
        return None;
    }
    let frame = serde_json::from_slice(body).ok()?;
    Some((frame, at + 8 + len))
}
