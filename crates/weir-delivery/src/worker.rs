//! One worker per delivery stream: reads the source from its checkpoint, buffers, delivers
//! objects, then advances the checkpoint. Flushes at SizeInMBs or IntervalInSeconds (whichever
//! first), or when asked (`Delivery::flush`, for tests and shutdown-free hand-offs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::catalog::{Checkpoint, Resume, StreamMeta};
use crate::compress::compress;
use crate::error::{DeliveryError, Result};
use crate::model::Source;
use crate::prefix::Prefixes;
use crate::source::Reader;
use crate::Delivery;

/// What a delivery stream has delivered since Weir started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records read from the source.
    pub records_in: u64,
    /// Bytes of record data read from the source.
    pub bytes_in: u64,
    /// Records inside delivered objects.
    pub records_delivered: u64,
    /// Objects written.
    pub objects: u64,
    /// Bytes of objects written (after compression).
    pub bytes_out: u64,
    /// Failed attempts to write an object (each retried).
    pub write_errors: u64,
}

#[derive(Default)]
struct Counters {
    records_in: AtomicU64,
    bytes_in: AtomicU64,
    records_delivered: AtomicU64,
    objects: AtomicU64,
    bytes_out: AtomicU64,
    write_errors: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        Stats {
            records_in: self.records_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            records_delivered: self.records_delivered.load(Ordering::Relaxed),
            objects: self.objects.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }
}

/// A running worker.
pub struct Handle {
    stop: watch::Sender<bool>,
    flush: mpsc::UnboundedSender<oneshot::Sender<()>>,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Handle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub fn spawn(delivery: Delivery, uid: u64) -> Handle {
    let (stop, stop_rx) = watch::channel(false);
    let (flush, flush_rx) = mpsc::unbounded_channel();
    let counters = Arc::new(Counters::default());
    let worker = Worker {
        delivery,
        uid,
        stop: stop_rx,
        flush_rx,
        counters: counters.clone(),
        buffer: Buffer::default(),
        in_flight: None,
    };
    let task = tokio::spawn(worker.run());
    Handle {
        stop,
        flush,
        counters,
        task,
    }
}

impl Delivery {
    /// Delivers everything accepted so far now, without waiting for the buffering hints;
    /// returns once it is in the object store.
    pub async fn flush(&self, region: &str, name: &str) -> Result<()> {
        let meta = self.lookup(region, name)?;
        let (tx, rx) = oneshot::channel();
        {
            let workers = self.inner.workers.lock();
            let h = workers.get(&meta.uid).ok_or_else(|| self.not_found(name))?;
            h.flush
                .send(tx)
                .map_err(|_| DeliveryError::Unavailable(format!("{name} is not delivering")))?;
        }
        rx.await
            .map_err(|_| DeliveryError::Unavailable(format!("{name} stopped delivering")))
    }

    /// What a delivery stream has delivered since start.
    pub fn stats(&self, region: &str, name: &str) -> Result<Stats> {
        let meta = self.lookup(region, name)?;
        let workers = self.inner.workers.lock();
        Ok(workers
            .get(&meta.uid)
            .map(|h| h.counters.snapshot())
            .unwrap_or_default())
    }
}

/// Records waiting to be delivered together.
#[derive(Default)]
struct Buffer {
    data: Vec<u8>,
    records: u64,
    /// The oldest record's arrival (names the object and evaluates its prefix).
    first_arrival_ms: Option<i64>,
    /// When the interval hint runs out for this buffer.
    deadline: Option<Instant>,
    /// Where the source stands once this buffer is delivered.
    checkpoint: Option<Checkpoint>,
}

struct Worker {
    delivery: Delivery,
    uid: u64,
    stop: watch::Receiver<bool>,
    flush_rx: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    counters: Arc<Counters>,
    buffer: Buffer,
    /// The object being compressed and written while the next buffer fills (at most one, so
    /// checkpoints advance in order).
    in_flight: Option<tokio::task::JoinHandle<bool>>,
}

impl Worker {
    fn meta(&self) -> Option<StreamMeta> {
        self.delivery.by_uid(self.uid)
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleeps (unless stopped first); false when stopped.
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.stop.changed() => false,
        }
    }

    async fn run(mut self) {
        self.read_and_deliver().await;
        // Let the object in flight finish (or give up, when stopped) before the worker ends.
        self.settle().await;
    }

    /// Waits for the object in flight; false when it was not stored.
    async fn settle(&mut self) -> bool {
        match self.in_flight.take() {
            Some(h) => h.await.unwrap_or(false),
            None => true,
        }
    }

    async fn read_and_deliver(&mut self) {
        let Some(meta) = self.meta() else { return };
        let files_uid = self.uid;
        let inner = self.delivery.inner.clone();
        let checkpoint = match tokio::task::spawn_blocking(move || {
            inner.files.load_checkpoint(files_uid)
        })
        .await
        {
            Ok(Ok(c)) => c.unwrap_or_default(),
            other => {
                tracing::error!(stream = %meta.name, ?other, "cannot read the delivery checkpoint");
                return;
            }
        };
        let (log, key, deaggregate) = match &meta.source {
            Source::DirectPut { .. } => (
                self.delivery.inner.intake.clone(),
                Delivery::intake_key(&meta),
                false,
            ),
            Source::KinesisStream { stream_arn, .. } => {
                match self.delivery.source_key(stream_arn) {
                    Ok(k) => (self.delivery.inner.streams.clone(), k, true),
                    Err(e) => {
                        tracing::error!(stream = %meta.name, error = %e, "source stream is gone");
                        return;
                    }
                }
            }
        };
        let mut reader = Reader::new(log, key, deaggregate, checkpoint);
        while let Err(e) = reader.refresh() {
            tracing::warn!(stream = %meta.name, error = %e, "source not readable yet");
            if !self.pause(Duration::from_millis(500)).await {
                return;
            }
        }
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        let mut consumed = reader.checkpoint();
        loop {
            if self.stopped() {
                return;
            }
            let records = match reader.read().await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(stream = %meta.name, error = %e, "reading the source failed");
                    if !self.pause(Duration::from_millis(500)).await {
                        return;
                    }
                    continue;
                }
            };
            let caught_up = records.is_empty();
            let Some(current) = self.meta() else { return };
            let limit = current.destination.buffering.size_mb as usize * 1024 * 1024;
            for r in records {
                self.counters.records_in.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .bytes_in
                    .fetch_add(r.data.len() as u64, Ordering::Relaxed);
                self.push(&current, r.arrival_ms, r.data);
                consumed.shards.insert(
                    r.shard.to_string(),
                    Resume::After(r.sequence_number.to_string()),
                );
                // At SizeInMBs, deliver at once — between source records, so the checkpoint
                // taken here covers exactly what the buffer holds.
                if r.boundary
                    && self.buffer.data.len() >= limit
                    && !self.deliver(consumed.clone()).await
                {
                    return;
                }
            }
            // The whole read is in: positions, finished shards and newly readable children.
            consumed = reader.checkpoint();
            let due = self.buffer.deadline.is_some_and(|d| d <= Instant::now());
            let flush_now = due || (caught_up && !waiting.is_empty());
            if flush_now && !self.deliver(consumed.clone()).await {
                return;
            }
            if !caught_up {
                continue;
            }
            if !waiting.is_empty() && !self.settle().await {
                return;
            }
            for w in waiting.drain(..) {
                let _ = w.send(());
            }
            let deadline = self.buffer.deadline;
            tokio::select! {
                _ = reader.changed() => {}
                _ = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                } => {}
                req = self.flush_rx.recv() => {
                    if let Some(tx) = req {
                        waiting.push(tx);
                    }
                }
                _ = self.stop.changed() => return,
            }
        }
    }

    /// Adds a record (after the destination's processors) to the buffer.
    fn push(&mut self, meta: &StreamMeta, arrival_ms: i64, data: Bytes) {
        let b = &mut self.buffer;
        if b.first_arrival_ms.is_none() {
            b.first_arrival_ms = Some(arrival_ms);
            b.deadline = Some(
                Instant::now()
                    + Duration::from_secs(u64::from(meta.destination.buffering.interval_s)),
            );
        }
        b.data.extend_from_slice(&data);
        for p in meta.destination.processors() {
            if p.kind == "AppendDelimiterToRecord" {
                b.data
                    .extend_from_slice(p.parameter("Delimiter").unwrap_or("\n").as_bytes());
            }
        }
        b.records += 1;
    }

    /// Starts writing the buffer as one object (after the previous one is stored). False when
    /// the worker was stopped first.
    async fn deliver(&mut self, checkpoint: Checkpoint) -> bool {
        if self.buffer.first_arrival_ms.is_none() {
            return true;
        }
        self.buffer.checkpoint = Some(checkpoint);
        if !self.settle().await {
            return false;
        }
        let Some(meta) = self.meta() else {
            return false;
        };
        let job = Job {
            delivery: self.delivery.clone(),
            uid: self.uid,
            stop: self.stop.clone(),
            counters: self.counters.clone(),
            meta,
            buffer: std::mem::take(&mut self.buffer),
        };
        self.in_flight = Some(tokio::spawn(job.run()));
        true
    }
}

/// One object: compress, write (retrying until stored), then advance the checkpoint.
struct Job {
    delivery: Delivery,
    uid: u64,
    stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
    meta: StreamMeta,
    buffer: Buffer,
}

impl Job {
    async fn run(mut self) -> bool {
        let meta = &self.meta;
        let Some(first_arrival) = self.buffer.first_arrival_ms else {
            return true;
        };
        let dest = &meta.destination;
        let prefixes = match Prefixes::of(dest) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(stream = %meta.name, error = %e, "invalid destination prefixes");
                return false;
            }
        };
        let ext = dest.extension().to_string();
        let name = prefixes.object_name(&meta.name, meta.version_id, first_arrival, &ext);
        let key = format!(
            "{}{name}",
            prefixes.delivered(first_arrival, &Default::default())
        );
        let entry = name.strip_suffix(ext.as_str()).unwrap_or(&name).to_string();
        let format = dest.compression;
        let records = self.buffer.records;
        let data = std::mem::take(&mut self.buffer.data);
        let body = match tokio::task::spawn_blocking(move || compress(format, data, &entry)).await {
            Ok(Ok(b)) => Bytes::from(b),
            other => {
                tracing::error!(stream = %meta.name, ?other, "compressing an object failed");
                return false;
            }
        };
        let mut headers = std::collections::BTreeMap::new();
        if let Some(enc) = format.content_encoding() {
            headers.insert("content-encoding".to_string(), enc.to_string());
        }
        let put = weir_objects::PutObject {
            data: body.clone(),
            content_type: Some("application/octet-stream".into()),
            metadata: Default::default(),
            headers,
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            match self
                .delivery
                .inner
                .objects
                .put(dest.bucket(), &key, put.clone())
                .await
            {
                Ok(_) => break,
                Err(e) => {
                    self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(stream = %meta.name, bucket = dest.bucket(), key = %key,
                        error = %e, "delivery failed; retrying");
                    let stopped = tokio::select! {
                        _ = tokio::time::sleep(backoff) => false,
                        _ = self.stop.changed() => true,
                    };
                    if stopped {
                        return false;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        self.counters.objects.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_out
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        self.counters
            .records_delivered
            .fetch_add(records, Ordering::Relaxed);
        if let Some(c) = self.buffer.checkpoint.take() {
            let inner = self.delivery.inner.clone();
            let uid = self.uid;
            match tokio::task::spawn_blocking(move || inner.files.save_checkpoint(uid, &c)).await {
                Ok(Ok(())) => {}
                other => {
                    tracing::error!(stream = %meta.name, ?other, "saving the checkpoint failed");
                    return false;
                }
            }
        }
        true
    }
}
