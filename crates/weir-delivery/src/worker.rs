//! One worker per delivery stream: reads the source from its checkpoint, buffers, delivers
//! objects, then advances the checkpoint. Flushes at SizeInMBs or IntervalInSeconds (whichever
//! first), or when asked (`Delivery::flush`, for tests and shutdown-free hand-offs).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::catalog::{Checkpoint, Resume, StreamMeta};
use crate::error::{DeliveryError, Result};
use crate::lambda;
use crate::model::{S3Destination, Source};
use crate::prefix::Prefixes;
use crate::process::{self, Output, Target};
use crate::source::Reader;

/// Objects a delivery stream compresses and writes at once (its checkpoints still advance in
/// order).
const JOBS: usize = 2;

/// Partitions buffered at once per delivery stream; records of further partitions go to the
/// error output.
pub const MAX_ACTIVE_PARTITIONS: usize = 500;
use crate::Delivery;

/// What a delivery stream has taken in and delivered, kept with its checkpoint across
/// restarts. After a crash, records delivered again (at-least-once) are counted again;
/// `records_in` counts each source record once (as of the checkpoint's position).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Records read from the source.
    pub records_in: u64,
    /// Bytes of record data read from the source.
    pub bytes_in: u64,
    /// Records delivered to the destination (inside objects, or taken by an HTTP endpoint).
    pub records_delivered: u64,
    /// Records written to the error output instead.
    pub records_failed: u64,
    /// Records a Lambda processor dropped (result Dropped).
    pub records_dropped: u64,
    /// Source records written to the backup location.
    pub records_backed_up: u64,
    /// Objects written.
    pub objects: u64,
    /// Bytes of objects written (after compression).
    pub bytes_out: u64,
    /// Failed attempts to write an object (each retried).
    pub write_errors: u64,
    /// Bytes of buffers written to spill files (the engine's memory budget was reached).
    pub spilled_bytes: u64,
    /// Records converted to Parquet/ORC (SucceedConversion.Records) and their bytes.
    pub converted_records: u64,
    pub converted_bytes: u64,
    /// Records format conversion failed (FailedConversion.Records), sent to the error output.
    pub conversion_failures: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub records_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub records_delivered: AtomicU64,
    pub records_failed: AtomicU64,
    pub records_dropped: AtomicU64,
    pub records_backed_up: AtomicU64,
    pub objects: AtomicU64,
    pub bytes_out: AtomicU64,
    pub write_errors: AtomicU64,
    pub spilled_bytes: AtomicU64,
    pub converted_records: AtomicU64,
    pub converted_bytes: AtomicU64,
    pub conversion_failures: AtomicU64,
}

impl Counters {
    /// Starts from counts saved with a checkpoint.
    fn restore(&self, s: &Stats) {
        self.records_in.store(s.records_in, Ordering::Relaxed);
        self.bytes_in.store(s.bytes_in, Ordering::Relaxed);
        self.records_delivered
            .store(s.records_delivered, Ordering::Relaxed);
        self.records_failed
            .store(s.records_failed, Ordering::Relaxed);
        self.records_dropped
            .store(s.records_dropped, Ordering::Relaxed);
        self.records_backed_up
            .store(s.records_backed_up, Ordering::Relaxed);
        self.objects.store(s.objects, Ordering::Relaxed);
        self.bytes_out.store(s.bytes_out, Ordering::Relaxed);
        self.write_errors.store(s.write_errors, Ordering::Relaxed);
        self.spilled_bytes.store(s.spilled_bytes, Ordering::Relaxed);
        self.converted_records
            .store(s.converted_records, Ordering::Relaxed);
        self.converted_bytes
            .store(s.converted_bytes, Ordering::Relaxed);
        self.conversion_failures
            .store(s.conversion_failures, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            records_in: self.records_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            records_delivered: self.records_delivered.load(Ordering::Relaxed),
            records_failed: self.records_failed.load(Ordering::Relaxed),
            records_dropped: self.records_dropped.load(Ordering::Relaxed),
            records_backed_up: self.records_backed_up.load(Ordering::Relaxed),
            objects: self.objects.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            spilled_bytes: self.spilled_bytes.load(Ordering::Relaxed),
            converted_records: self.converted_records.load(Ordering::Relaxed),
            converted_bytes: self.converted_bytes.load(Ordering::Relaxed),
            conversion_failures: self.conversion_failures.load(Ordering::Relaxed),
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
        buffers: BTreeMap::new(),
        queue: LambdaQueue::default(),
        next_order: 0,
        in_flight: None,
        slots: Arc::new(tokio::sync::Semaphore::new(JOBS)),
        broken: false,
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

/// A record after de-aggregation, with where it came from.
struct Item {
    arrival_ms: i64,
    data: Bytes,
    shard: Arc<str>,
    sequence_number: Arc<str>,
    partition_key: Arc<str>,
    subsequence: u32,
    /// The last record of its source record.
    boundary: bool,
    /// The stream's in-counts (records, bytes) once its source record was read: where a
    /// checkpoint after it stands.
    counted_in: (u64, u64),
}

/// A Lambda processor's buffering hints: BufferSizeInMBs (1 MB by default) and
/// BufferIntervalInSeconds (60 s by default); `None` without a Lambda processor.
fn lambda_hints(dest: &S3Destination) -> Option<(usize, Duration)> {
    let p = dest.processors().iter().find(|p| p.kind == "Lambda")?;
    let size = p
        .parameter("BufferSizeInMBs")
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(1024 * 1024, |mb| (mb * 1024.0 * 1024.0) as usize)
        .max(1);
    let hold = p
        .parameter("BufferIntervalInSeconds")
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(Duration::from_secs(60), |s| {
            Duration::from_secs_f64(s.max(0.0))
        });
    Some((size, hold))
}

/// Records waiting for a Lambda processor: invoked once they reach its BufferSizeInMBs or have
/// waited its BufferIntervalInSeconds (or on a flush), as Firehose buffers before a function.
/// Without a Lambda processor the queue is processed as soon as records are read.
#[derive(Default)]
struct LambdaQueue {
    items: Vec<Item>,
    bytes: usize,
    /// When the queue is due by BufferIntervalInSeconds (set by its first record).
    deadline: Option<Instant>,
    /// Counts like a buffer's for checkpoints: where the source stood before the first item.
    order: u64,
    start: Checkpoint,
}

/// Where a buffered record came from (failed-record documents name it).
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub arrival_ms: i64,
    pub sequence_number: Arc<str>,
    pub subsequence: u32,
}

/// Records waiting to be delivered together (one partition, or one kind of error output).
pub(crate) struct Buffer {
    /// Each record's origin, in order.
    pub origins: Vec<Origin>,
    /// In memory, or spilled to a file past the engine's budget.
    pub data: crate::spill::Store,
    /// Each record's length (an HTTP endpoint gets records one by one).
    pub lens: Vec<u32>,
    /// Once the buffer is spilled, `lens` and `origins` go to a file too.
    pub meta_spill: Option<crate::spill::MetaSpill>,
    pub records: u64,
    /// The oldest record's arrival (names the object and evaluates its prefix).
    pub first_arrival_ms: i64,
    /// When the interval hint runs out for this buffer.
    deadline: Instant,
    /// Creation order: the oldest buffer holds the earliest unsaved source position.
    order: u64,
    /// Where the source stood before this buffer's first record.
    start: Checkpoint,
}

struct Worker {
    delivery: Delivery,
    uid: u64,
    stop: watch::Receiver<bool>,
    flush_rx: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    counters: Arc<Counters>,
    buffers: BTreeMap<Target, Buffer>,
    queue: LambdaQueue,
    next_order: u64,
    /// The newest object being compressed and written while the next buffer fills. Each job
    /// waits for its predecessor before saving its checkpoint, so checkpoints advance in order
    /// and awaiting the newest awaits them all.
    in_flight: Option<tokio::task::JoinHandle<bool>>,
    /// Jobs allowed at once.
    slots: Arc<tokio::sync::Semaphore>,
    /// A record could not be buffered: the worker stops before any checkpoint passes it.
    broken: bool,
}

/// Buffers left when a worker ends give their memory back to the budget, and their spill files
/// go (their records are read again from the checkpoint).
impl Drop for Worker {
    fn drop(&mut self) {
        let budget = &self.delivery.inner.budget;
        for (_, b) in std::mem::take(&mut self.buffers) {
            budget.used.fetch_sub(b.data.in_memory(), Ordering::Relaxed);
            b.data.discard();
        }
    }
}

impl Worker {
    fn meta(&self) -> Option<StreamMeta> {
        self.delivery.by_uid(self.uid)
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Where the source stands, with the records (and bytes) read before it.
    fn position(&self, reader: &Reader) -> Checkpoint {
        Checkpoint {
            records_in: self.counters.records_in.load(Ordering::Relaxed),
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            ..reader.checkpoint()
        }
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
            // KPL aggregation is a Kinesis producers' format: Kafka records are taken whole.
            source => match self.delivery.source_of(source) {
                Ok(k) => {
                    let deaggregate = matches!(source, Source::KinesisStream { .. });
                    (self.delivery.inner.streams.clone(), k, deaggregate)
                }
                Err(e) => {
                    tracing::error!(stream = %meta.name, error = %e, "source stream is gone");
                    return;
                }
            },
        };
        if let Some(stats) = &checkpoint.stats {
            self.counters.restore(stats);
        }
        let mut reader = Reader::new(log, key, deaggregate, checkpoint);
        if let Source::Msk { read_from_ms, .. } = &meta.source {
            reader = reader.starting_at(Resume::AtTimestamp(*read_from_ms));
        }
        while let Err(e) = reader.refresh() {
            tracing::warn!(stream = %meta.name, error = %e, "source not readable yet");
            if !self.pause(Duration::from_millis(500)).await {
                return;
            }
        }
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        let mut consumed = self.position(&reader);
        let mut pending_full: Vec<Target> = Vec::new();
        loop {
            if self.stopped() || self.broken {
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
            let effective = current.effective();
            let dest = &effective;
            let prefixes = match Prefixes::of(dest) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(stream = %meta.name, error = %e, "invalid destination prefixes");
                    return;
                }
            };
            let limit = dest.buffering.size_mb as usize * 1024 * 1024;
            let interval = Duration::from_secs(u64::from(dest.buffering.interval_s));
            let now_ms = self.delivery.now_ms();
            let mut items = Vec::with_capacity(records.len());
            for r in records {
                let len = r.data.len() as u64;
                let counted_in = (
                    self.counters.records_in.fetch_add(1, Ordering::Relaxed) + 1,
                    self.counters.bytes_in.fetch_add(len, Ordering::Relaxed) + len,
                );
                if let Some(b) = dest.backup.as_deref().filter(|_| dest.backup_enabled) {
                    // The backup buffer follows the backup configuration's own hints.
                    let backup = Output {
                        target: Target::Backup,
                        data: r.data.to_vec(),
                    };
                    let (b_limit, b_interval) = (
                        b.buffering.size_mb as usize * 1024 * 1024,
                        Duration::from_secs(u64::from(b.buffering.interval_s)),
                    );
                    let origin = Origin {
                        arrival_ms: r.arrival_ms,
                        sequence_number: r.sequence_number.clone(),
                        subsequence: r.subsequence,
                    };
                    if let Some(target) = self.push(backup, origin, b_interval, &consumed, b_limit)
                    {
                        pending_full.push(target);
                    }
                }
                let parts = process::split(dest, r.data);
                let last = parts.len().saturating_sub(1);
                for (i, data) in parts.into_iter().enumerate() {
                    items.push(Item {
                        arrival_ms: r.arrival_ms,
                        data,
                        shard: r.shard.clone(),
                        sequence_number: r.sequence_number.clone(),
                        partition_key: r.partition_key.clone(),
                        subsequence: r.subsequence,
                        boundary: r.boundary && i == last,
                        counted_in,
                    });
                }
            }
            if !items.is_empty() {
                if self.queue.items.is_empty() {
                    self.next_order += 1;
                    self.queue.order = self.next_order;
                    self.queue.start = consumed.clone();
                    self.queue.deadline = lambda_hints(dest).map(|(_, hold)| Instant::now() + hold);
                }
                self.queue.bytes += items.iter().map(|it| it.data.len()).sum::<usize>();
                self.queue.items.extend(items);
            }
            let queue_due = match lambda_hints(dest) {
                None => true,
                Some((size, _)) => {
                    self.queue.bytes >= size
                        || self.queue.deadline.is_some_and(|d| d <= Instant::now())
                        || (caught_up && !waiting.is_empty())
                }
            };
            if queue_due && !self.queue.items.is_empty() {
                let queued = std::mem::take(&mut self.queue);
                let mut running = queued.start;
                let outputs = self
                    .transform(&current, dest, &prefixes, now_ms, &queued.items)
                    .await;
                for (item, outs) in queued.items.iter().zip(outputs) {
                    for out in outs {
                        let origin = Origin {
                            arrival_ms: item.arrival_ms,
                            sequence_number: item.sequence_number.clone(),
                            subsequence: item.subsequence,
                        };
                        if let Some(target) = self.push(out, origin, interval, &running, limit) {
                            // At SizeInMBs the partition is delivered at the next source-record
                            // boundary (the checkpoint of a delivery must cover whole records).
                            pending_full.push(target);
                        }
                    }
                    if item.boundary {
                        (running.records_in, running.bytes_in) = item.counted_in;
                        running.shards.insert(
                            item.shard.to_string(),
                            Resume::After(item.sequence_number.to_string()),
                        );
                        for target in std::mem::take(&mut pending_full) {
                            if !self.deliver(&target, &running).await {
                                return;
                            }
                        }
                    }
                }
            }
            if self.broken {
                return;
            }
            // The whole read is in: positions, finished shards and newly readable children.
            consumed = self.position(&reader);
            let now = Instant::now();
            let due: Vec<Target> = self
                .buffers
                .iter()
                .filter(|(_, b)| b.deadline <= now || (caught_up && !waiting.is_empty()))
                .map(|(t, _)| t.clone())
                .collect();
            for target in due {
                if !self.deliver(&target, &consumed).await {
                    return;
                }
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
            let deadline = self
                .buffers
                .values()
                .map(|b| b.deadline)
                .chain(self.queue.deadline)
                .min();
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

    /// The processors after de-aggregation: a Lambda (in invocations of at most its
    /// BufferSizeInMBs), then partition keys and delimiters. One list of outputs per item.
    async fn transform(
        &self,
        meta: &StreamMeta,
        dest: &S3Destination,
        prefixes: &Prefixes,
        now_ms: i64,
        items: &[Item],
    ) -> Vec<Vec<Output>> {
        let lambda = dest.processors().iter().find(|p| p.kind == "Lambda");
        let Some(p) = lambda else {
            if !dest.partitioning_enabled() || items.len() < 256 {
                return items
                    .iter()
                    .map(|it| {
                        vec![process::finish(
                            dest,
                            prefixes,
                            it.arrival_ms,
                            now_ms,
                            &it.data,
                            None,
                        )]
                    })
                    .collect();
            }
            // jq over every record is CPU work: off the async threads, in two halves.
            let half = items.len().div_ceil(2);
            let mut tasks = Vec::new();
            for part in items.chunks(half) {
                let inputs: Vec<(i64, Bytes)> = part
                    .iter()
                    .map(|it| (it.arrival_ms, it.data.clone()))
                    .collect();
                let (dest, prefixes) = (dest.clone(), prefixes.clone());
                tasks.push(tokio::task::spawn_blocking(move || {
                    inputs
                        .iter()
                        .map(|(arrival, data)| {
                            vec![process::finish(
                                &dest, &prefixes, *arrival, now_ms, data, None,
                            )]
                        })
                        .collect::<Vec<_>>()
                }));
            }
            let mut out = Vec::with_capacity(items.len());
            for t in tasks {
                match t.await {
                    Ok(part) => out.extend(part),
                    Err(e) => {
                        tracing::error!(error = %e, "partition-key extraction panicked");
                        return items.iter().map(|_| Vec::new()).collect();
                    }
                }
            }
            return out;
        };
        let arn = p.parameter("LambdaArn").unwrap_or_default();
        let retries = p
            .parameter("NumberOfRetries")
            .and_then(|n| n.parse().ok())
            .unwrap_or(3);
        let chunk_bytes = lambda_hints(dest).map_or(1024 * 1024, |(size, _)| size);
        let stream_arn = self.delivery.arn(&meta.region, &meta.name);
        let source_arn = match &meta.source {
            Source::KinesisStream { stream_arn, .. } => Some(stream_arn.as_str()),
            Source::Msk { .. } | Source::DirectPut { .. } => None,
        };
        let function = match lambda::resolve(&self.delivery.inner.config.functions, arn) {
            Ok(f) => Some(f.clone()),
            Err(e) => {
                tracing::warn!(stream = %meta.name, error = %e, "Lambda processor not resolvable");
                None
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut start = 0;
        while start < items.len() {
            let mut end = start;
            let mut size = 0;
            while end < items.len() && (end == start || size + items[end].data.len() <= chunk_bytes)
            {
                size += items[end].data.len();
                end += 1;
            }
            let chunk = &items[start..end];
            let (results, attempts) = match &function {
                Some(f) => {
                    let inputs: Vec<lambda::Input> = chunk
                        .iter()
                        .map(|it| lambda::Input {
                            arrival_ms: it.arrival_ms,
                            data: &it.data,
                            kinesis: source_arn.map(|_| lambda::KinesisMetadata {
                                shard_id: &it.shard,
                                partition_key: &it.partition_key,
                                sequence_number: &it.sequence_number,
                                subsequence_number: it.subsequence,
                            }),
                        })
                        .collect();
                    lambda::transform(f, &stream_arn, source_arn, &meta.region, retries, &inputs)
                        .await
                }
                None => (
                    chunk
                        .iter()
                        .map(|_| lambda::Transformed::Failed {
                            code: "Lambda.ResourceNotFound".into(),
                            message: format!("The Lambda function {arn} is not registered."),
                        })
                        .collect(),
                    1,
                ),
            };
            let ended = self.delivery.now_ms();
            for (it, result) in chunk.iter().zip(results) {
                out.push(match result {
                    lambda::Transformed::Ok {
                        data,
                        partition_keys,
                    } => vec![process::finish(
                        dest,
                        prefixes,
                        it.arrival_ms,
                        now_ms,
                        &data,
                        Some(&partition_keys),
                    )],
                    lambda::Transformed::Dropped => {
                        self.counters
                            .records_dropped
                            .fetch_add(1, Ordering::Relaxed);
                        Vec::new()
                    }
                    lambda::Transformed::Failed { code, message } => vec![process::failed(
                        &process::Failure {
                            kind: process::PROCESSING_FAILED,
                            code: &code,
                            message: &message,
                            attempts,
                            lambda_arn: Some(arn),
                        },
                        it.arrival_ms,
                        ended,
                        &it.data,
                    )],
                });
            }
            start = end;
        }
        out
    }

    /// Adds a processed record to its buffer (a new one starts where the source stands now).
    /// Returns the target when that buffer reached `limit` bytes.
    fn push(
        &mut self,
        out: Output,
        origin: Origin,
        interval: Duration,
        consumed: &Checkpoint,
        limit: usize,
    ) -> Option<Target> {
        let partitions = self
            .buffers
            .keys()
            .filter(|t| matches!(t, Target::Partition(_)))
            .count();
        let out = match &out.target {
            // Past the active-partition limit, records of new partitions are error output.
            Target::Partition(k)
                if !k.is_empty()
                    && partitions >= MAX_ACTIVE_PARTITIONS
                    && !self.buffers.contains_key(&out.target) =>
            {
                process::failed(
                    &process::Failure {
                        kind: process::PARTITIONING_FAILED,
                        code: "DynamicPartitioning.ActivePartitionsLimitExceeded",
                        message: &format!("more than {MAX_ACTIVE_PARTITIONS} active partitions"),
                        attempts: 1,
                        lambda_arn: None,
                    },
                    origin.arrival_ms,
                    self.delivery.now_ms(),
                    &out.data,
                )
            }
            _ => out,
        };
        let arrival_ms = origin.arrival_ms;
        let order = &mut self.next_order;
        let b = self.buffers.entry(out.target.clone()).or_insert_with(|| {
            *order += 1;
            Buffer {
                origins: Vec::new(),
                data: crate::spill::Store::default(),
                lens: Vec::new(),
                meta_spill: None,
                records: 0,
                first_arrival_ms: arrival_ms,
                deadline: Instant::now() + interval,
                order: *order,
                start: consumed.clone(),
            }
        });
        let held = b.data.in_memory();
        let spilled = matches!(b.data, crate::spill::Store::File { .. });
        if let Err(e) = b.data.append(&out.data, limit) {
            // A record that cannot be buffered must not be skipped by a checkpoint: the worker
            // stops, and delivery resumes from the last checkpoint after a restart.
            tracing::error!(error = %e, "writing a spilled buffer failed; delivery stops");
            self.broken = true;
        }
        match b.meta_spill.as_mut() {
            Some(m) => {
                if let Err(e) = m.push(out.data.len() as u32, &origin) {
                    tracing::error!(error = %e, "writing a spilled buffer failed; delivery stops");
                    self.broken = true;
                }
            }
            None => {
                b.lens.push(out.data.len() as u32);
                b.origins.push(origin);
            }
        }
        b.records += 1;
        let full = (b.data.len() >= limit).then_some(out.target);
        let budget = &self.delivery.inner.budget;
        if spilled {
            self.counters
                .spilled_bytes
                .fetch_add(out.data.len() as u64, Ordering::Relaxed);
        } else {
            let grown = b.data.in_memory().saturating_sub(held);
            budget.used.fetch_add(grown, Ordering::Relaxed);
        }
        if budget.over() {
            self.spill_largest();
        }
        full
    }

    /// Moves this stream's largest in-memory buffer to a spill file (the engine is over its
    /// memory budget).
    fn spill_largest(&mut self) {
        let uid = self.uid;
        let budget = &self.delivery.inner.budget;
        let Some(b) = self
            .buffers
            .values_mut()
            .filter(|b| b.data.in_memory() > 0)
            .max_by_key(|b| b.data.in_memory())
        else {
            return;
        };
        let path = budget.dir.join(format!("{uid:016x}-{}", b.order));
        let meta = path.with_extension("meta");
        match b.data.spill(path) {
            Ok(freed) => {
                match crate::spill::MetaSpill::create(meta, &b.lens, &b.origins) {
                    Ok(m) => {
                        b.meta_spill = Some(m);
                        b.lens = Vec::new();
                        b.origins = Vec::new();
                    }
                    // They stay in memory rather than failing delivery.
                    Err(e) => tracing::warn!(error = %e, "spilling a buffer's record list failed"),
                }
                budget.used.fetch_sub(freed, Ordering::Relaxed);
                self.counters
                    .spilled_bytes
                    .fetch_add(freed as u64, Ordering::Relaxed);
            }
            // It stays in memory (over the budget) rather than failing delivery.
            Err(e) => tracing::warn!(error = %e, "spilling a buffer failed"),
        }
    }

    /// Starts writing one buffer as an object (after the previous one is stored). Its
    /// checkpoint is where the oldest remaining buffer started, or where the source stands
    /// when none remains. False when the worker was stopped first.
    async fn deliver(&mut self, target: &Target, consumed: &Checkpoint) -> bool {
        if !self.buffers.contains_key(target) {
            return true;
        }
        // At most JOBS objects are being compressed and written at once.
        let permit = tokio::select! {
            p = self.slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return false,
            },
            _ = self.stop.changed() => return false,
        };
        let Some(meta) = self.meta() else {
            return false;
        };
        // Deliveries in flight hold a share of the budget: wait for it, not for memory.
        let (size, budget) = match self.buffers.get(target) {
            Some(b) => (b.data.len(), self.delivery.inner.budget.deliveries.clone()),
            None => return true,
        };
        let kib = self.delivery.inner.budget.reservation(size);
        let reservation = tokio::select! {
            r = budget.acquire_many_owned(kib) => match r {
                Ok(r) => r,
                Err(_) => return false,
            },
            _ = self.stop.changed() => return false,
        };
        let Some(buffer) = self.buffers.remove(target) else {
            return true;
        };
        self.delivery
            .inner
            .budget
            .used
            .fetch_sub(buffer.data.in_memory(), Ordering::Relaxed);
        // The oldest of the open buffers and the Lambda queue holds the earliest unsaved position.
        let queued =
            (!self.queue.items.is_empty()).then_some((self.queue.order, &self.queue.start));
        let checkpoint = self
            .buffers
            .values()
            .map(|b| (b.order, &b.start))
            .chain(queued)
            .min_by_key(|(order, _)| *order)
            .map_or_else(|| consumed.clone(), |(_, start)| start.clone());
        let job = crate::job::Job {
            delivery: self.delivery.clone(),
            uid: self.uid,
            stop: self.stop.clone(),
            counters: self.counters.clone(),
            meta,
            target: target.clone(),
            buffer,
            checkpoint,
            failed: 0,
            previous: self.in_flight.take(),
            _permit: permit,
            _reservation: reservation,
        };
        self.in_flight = Some(tokio::spawn(job.run()));
        true
    }
}
