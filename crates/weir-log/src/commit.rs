//! Group commit: one thread takes every pending append, writes each touched shard's frames,
//! fdatasyncs once per shard per batch, and only then acknowledges the writers.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::segment::encode_frame;
use crate::shard::{AppendCursor, ShardLog, StagedFrame};

/// One record to append to one shard.
pub struct AppendItem {
    pub shard: Arc<ShardLog>,
    pub partition_key: String,
    pub data: Bytes,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    pub offset: u64,
}

struct Request {
    items: Vec<AppendItem>,
    reply: oneshot::Sender<io::Result<Vec<Appended>>>,
}

/// Handle to the commit thread. Dropping it lets the thread finish pending work and exit.
pub struct Committer {
    tx: Option<SyncSender<Request>>,
    thread: Option<JoinHandle<()>>,
}

/// A batch stops taking more requests past this many bytes of frames.
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

impl Committer {
    pub fn start(clock: Arc<dyn Clock>) -> io::Result<Committer> {
        let (tx, rx) = mpsc::sync_channel::<Request>(4096);
        let thread = std::thread::Builder::new()
            .name("weir-commit".into())
            .spawn(move || run(rx, clock))?;
        Ok(Committer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Appends `items` durably; resolves once they are fsynced (or failed).
    pub async fn append(&self, items: Vec<AppendItem>) -> io::Result<Vec<Appended>> {
        let (reply, rx) = oneshot::channel();
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| io::Error::other("log is shutting down"))?
            .clone();
        // The channel is bounded; a full queue means back-pressure, so wait off the runtime.
        let req = Request { items, reply };
        match tx.try_send(req) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(req)) => {
                tokio::task::spawn_blocking(move || tx.send(req))
                    .await
                    .map_err(|e| io::Error::other(e.to_string()))?
                    .map_err(|_| io::Error::other("commit thread stopped"))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(io::Error::other("commit thread stopped"));
            }
        }
        rx.await
            .map_err(|_| io::Error::other("commit thread stopped"))?
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct ShardBatch {
    shard: Arc<ShardLog>,
    cursor: Option<AppendCursor>,
    buf: Vec<u8>,
    frames: Vec<StagedFrame>,
    error: Option<io::ErrorKind>,
}

fn run(rx: Receiver<Request>, clock: Arc<dyn Clock>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut bytes: usize = batch[0].items.iter().map(|i| i.data.len()).sum();
        while bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(req) => {
                    bytes += req.items.iter().map(|i| i.data.len()).sum::<usize>();
                    batch.push(req);
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
        commit_batch(batch, clock.now_ms());
    }
}

fn commit_batch(batch: Vec<Request>, now_ms: i64) {
    let mut shards: Vec<ShardBatch> = Vec::new();
    let mut slot_of: HashMap<*const ShardLog, usize> = HashMap::new();
    // For each request, for each item: (shard slot, index of the frame in that slot).
    let mut placements: Vec<Vec<(usize, usize)>> = Vec::with_capacity(batch.len());
    for req in &batch {
        let mut placed = Vec::with_capacity(req.items.len());
        for item in &req.items {
            let key = Arc::as_ptr(&item.shard);
            let slot = *slot_of.entry(key).or_insert_with(|| {
                let cursor = item.shard.begin_append();
                let (cursor, error) = match cursor {
                    Ok(c) => (Some(c), None),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot open a segment for append");
                        (None, Some(e.kind()))
                    }
                };
                shards.push(ShardBatch {
                    shard: item.shard.clone(),
                    cursor,
                    buf: Vec::new(),
                    frames: Vec::new(),
                    error,
                });
                shards.len() - 1
            });
            let sb = &mut shards[slot];
            if let Some(cursor) = &sb.cursor {
                let offset = cursor.next_offset + sb.frames.len() as u64;
                let arrival_ms = now_ms.max(cursor.min_arrival_ms);
                let rel_pos = sb.buf.len() as u64;
                encode_frame(
                    &mut sb.buf,
                    offset,
                    arrival_ms,
                    &item.partition_key,
                    &item.data,
                );
                sb.frames.push(StagedFrame {
                    rel_pos,
                    len: sb.buf.len() as u64 - rel_pos,
                    offset,
                    arrival_ms,
                });
            }
            placed.push((slot, sb.frames.len().saturating_sub(1)));
        }
        placements.push(placed);
    }

    sync_all(&mut shards);

    for sb in &shards {
        if let (Some(cursor), None) = (&sb.cursor, sb.error) {
            sb.shard.publish(cursor, &sb.frames);
        }
    }
    for (req, placed) in batch.into_iter().zip(placements) {
        let mut out = Vec::with_capacity(placed.len());
        let mut failed = None;
        for (slot, idx) in placed {
            let sb = &shards[slot];
            match (sb.error, sb.frames.get(idx)) {
                (None, Some(f)) => out.push(Appended { offset: f.offset }),
                (Some(kind), _) => failed = Some(kind),
                (None, None) => failed = Some(io::ErrorKind::Other),
            }
        }
        let result = match failed {
            Some(kind) => Err(io::Error::new(kind, "the log could not store the records")),
            None => Ok(out),
        };
        let _ = req.reply.send(result);
    }
}

/// Writes and fdatasyncs every touched shard; several shards sync in parallel.
fn sync_all(shards: &mut [ShardBatch]) {
    let work = |sb: &mut ShardBatch| {
        if let (Some(cursor), None) = (&sb.cursor, sb.error) {
            if let Err(e) = ShardLog::write_durably(cursor, &sb.buf) {
                tracing::error!(error = %e, "append failed; batch rejected");
                sb.error = Some(e.kind());
            }
        }
    };
    if shards.len() <= 1 {
        shards.iter_mut().for_each(work);
        return;
    }
    std::thread::scope(|scope| {
        let mut iter = shards.iter_mut();
        let first = iter.next();
        for sb in iter {
            scope.spawn(move || work(sb));
        }
        if let Some(sb) = first {
            work(sb);
        }
    });
}
