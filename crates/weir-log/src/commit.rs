//! Group commit: one thread takes every pending append, writes each touched shard's frames,
//! fdatasyncs once per shard per batch, and only then acknowledges the writers.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
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
    /// Attributes kept beside the data (Kafka's key, headers, timestamp), opaque here.
    pub attrs: Option<Bytes>,
    pub data: Bytes,
}

/// Where an appended record landed.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    pub offset: u64,
    pub arrival_ms: i64,
}

/// What the commit thread is asked to do, in order.
enum Request {
    /// Append records durably.
    Append(Append),
    /// A fence: answer with the shard's next offset once every append queued before this is
    /// done. Resharding closes a shard at that offset.
    Fence {
        shard: Arc<ShardLog>,
        reply: Sender<u64>,
    },
}

struct Append {
    items: Vec<AppendItem>,
    reply: oneshot::Sender<io::Result<Vec<Appended>>>,
}

/// The answer to a submitted append.
pub type AppendReply = oneshot::Receiver<io::Result<Vec<Appended>>>;

/// Handle to the commit thread. Dropping it lets the thread finish pending work and exit.
pub struct Committer {
    tx: Option<Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

/// A batch stops taking more requests past this many bytes of frames.
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

impl Committer {
    pub fn start(clock: Arc<dyn Clock>) -> io::Result<Committer> {
        // Unbounded: every request has a caller waiting for its answer, so the queue is bounded by
        // the requests in flight; sending never blocks, so callers may hold the state lock.
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("weir-commit".into())
            .spawn(move || run(rx, clock))?;
        Ok(Committer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `items` for appending; the reply resolves once they are fsynced (or failed).
    /// Never blocks, so it may be called with the stream state locked: order in this queue is
    /// the order of appends.
    pub fn submit(&self, items: Vec<AppendItem>) -> io::Result<AppendReply> {
        let (reply, rx) = oneshot::channel();
        self.send(Request::Append(Append { items, reply }))?;
        Ok(rx)
    }

    /// Waits (blocking) until every append queued so far is done and returns `shard`'s next
    /// offset then.
    pub fn fence(&self, shard: Arc<ShardLog>) -> io::Result<u64> {
        let (reply, rx) = mpsc::channel();
        self.send(Request::Fence { shard, reply })?;
        rx.recv()
            .map_err(|_| io::Error::other("commit thread stopped"))
    }

    fn send(&self, req: Request) -> io::Result<()> {
        self.tx
            .as_ref()
            .ok_or_else(|| io::Error::other("log is shutting down"))?
            .send(req)
            .map_err(|_| io::Error::other("commit thread stopped"))
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
    let mut next = rx.recv().ok();
    while let Some(req) = next.take() {
        let first = match req {
            Request::Fence { shard, reply } => {
                let _ = reply.send(shard.next_offset());
                next = rx.recv().ok();
                continue;
            }
            Request::Append(a) => a,
        };
        let mut bytes: usize = first.items.iter().map(|i| i.data.len()).sum();
        let mut batch = vec![first];
        while bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(Request::Append(a)) => {
                    bytes += a.items.iter().map(|i| i.data.len()).sum::<usize>();
                    batch.push(a);
                }
                // A fence waits for this batch; it is handled right after it.
                Ok(fence) => {
                    next = Some(fence);
                    break;
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
        commit_batch(batch, clock.now_ms());
        if next.is_none() {
            next = rx.recv().ok();
        }
    }
}

fn commit_batch(batch: Vec<Append>, now_ms: i64) {
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
                    item.attrs.as_deref(),
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
                (None, Some(f)) => out.push(Appended {
                    offset: f.offset,
                    arrival_ms: f.arrival_ms,
                }),
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
