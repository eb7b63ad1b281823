//! One buffer's delivery: compressed into an S3 object (retrying until stored), or sent to an
//! HTTP endpoint (failed data, and with AllData every record, written to its S3
//! configuration); then the checkpoint advances.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use tokio::sync::watch;

use crate::catalog::{Checkpoint, StreamMeta};
use crate::conversion::FormatConversion;
use crate::convert;
use crate::http;
use crate::model::{HttpEndpoint, S3Destination};
use crate::prefix::Prefixes;
use crate::process::{self, Target};
use crate::spill::{Body, Store};
use crate::worker::{Buffer, Counters, Origin};
use crate::Delivery;

/// The error-output type of records an HTTP endpoint did not take.
const HTTP_FAILED: &str = "http-endpoint-failed";
/// The error-output type of records format conversion did not take.
const CONVERSION_FAILED: &str = "format-conversion-failed";

/// The `format-conversion-failed` documents of the failed records, one JSON line each.
fn failed_documents(
    records: &[&[u8]],
    origins: &[Origin],
    failed: &[(usize, convert::RecordError)],
    first_arrival: i64,
    now: i64,
    catalog_table: &serde_json::Value,
) -> Vec<u8> {
    let mut docs = Vec::new();
    for (i, e) in failed {
        let raw = records.get(*i).copied().unwrap_or_default();
        let origin = origins.get(*i);
        let doc = serde_json::json!({
            "attemptsMade": 1,
            "arrivalTimestamp": origin.map_or(first_arrival, |o| o.arrival_ms),
            "lastErrorCode": e.code,
            "lastErrorMessage": e.message,
            "attemptEndingTimestamp": now,
            "rawData": base64::engine::general_purpose::STANDARD.encode(raw),
            "sequenceNumber": origin.map(|o| o.sequence_number.to_string()),
            "subSequenceNumber": origin.map(|o| o.subsequence),
            "dataCatalogTable": catalog_table,
        });
        docs.extend_from_slice(doc.to_string().as_bytes());
        docs.push(b'\n');
    }
    docs
}

/// A buffer's records, by their lengths.
fn records_of<'a>(data: &'a [u8], lens: &[u32]) -> Vec<&'a [u8]> {
    let mut records = Vec::with_capacity(lens.len());
    let mut at = 0usize;
    for len in lens {
        let end = (at + *len as usize).min(data.len());
        records.push(&data[at..end]);
        at = end;
    }
    records
}

pub struct Job {
    pub delivery: Delivery,
    pub uid: u64,
    pub stop: watch::Receiver<bool>,
    pub counters: Arc<Counters>,
    pub meta: StreamMeta,
    pub target: Target,
    pub buffer: Buffer,
    pub checkpoint: Checkpoint,
    /// Records an HTTP endpoint did not take, or that format conversion failed (written to
    /// the error output).
    pub failed: u64,
    /// The job before this one: its checkpoint must be saved first.
    pub previous: Option<tokio::task::JoinHandle<bool>>,
    /// Held while the job runs (bounds the jobs of a stream).
    pub _permit: tokio::sync::OwnedSemaphorePermit,
    /// The buffer's share of the engine's delivery budget, held while it is delivered.
    pub _reservation: tokio::sync::OwnedSemaphorePermit,
}

impl Job {
    pub async fn run(mut self) -> bool {
        let prefixes = match Prefixes::of(&self.meta.destination) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(stream = %self.meta.name, error = %e, "invalid destination prefixes");
                return false;
            }
        };
        let records = self.buffer.records;
        let first_arrival = self.buffer.first_arrival_ms;
        let dest = self.meta.destination.clone();
        let delivered = match (self.meta.http.clone(), self.target.clone()) {
            // An endpoint gets its batches one after another, in order.
            (Some(h), Target::Partition(_)) => {
                if !self.previous_done().await {
                    return false;
                }
                self.send_to_endpoint(&h, &prefixes).await
            }
            (_, target) => {
                // Backups go to the backup location, under its own prefix.
                let (dest, prefixes) = match &target {
                    Target::Backup => {
                        let Some(backup) = dest.backup.as_deref() else {
                            return false;
                        };
                        match Prefixes::of(backup) {
                            Ok(p) => (backup.clone(), p),
                            Err(e) => {
                                tracing::error!(stream = %self.meta.name, error = %e, "invalid backup prefixes");
                                return false;
                            }
                        }
                    }
                    _ => (dest, prefixes),
                };
                let prefix = match &target {
                    Target::Partition(keys) => prefixes.delivered(first_arrival, keys),
                    Target::Error(kind) => prefixes.failed(first_arrival, kind),
                    Target::Backup => prefixes.delivered(first_arrival, &Default::default()),
                };
                match (&target, dest.conversion()) {
                    (Target::Partition(_), Some(conv)) => {
                        let conv = conv.clone();
                        let Some(data) = self.load().await else {
                            return false;
                        };
                        self.store_converted(&dest, &prefixes, &prefix, data, &conv)
                            .await
                    }
                    // Compressed straight from a spill file when the buffer was spilled.
                    _ => {
                        let data = std::mem::take(&mut self.buffer.data);
                        if let Some(m) = self.buffer.meta_spill.take() {
                            m.discard();
                        }
                        self.store(&dest, &prefixes, &prefix, data).await
                    }
                }
            }
        };
        // Objects may be written in any order; checkpoints are saved in order.
        if !delivered || !self.previous_done().await {
            return false;
        }
        let counter = match &self.target {
            Target::Backup => &self.counters.records_backed_up,
            Target::Error(_) => &self.counters.records_failed,
            Target::Partition(_) => &self.counters.records_delivered,
        };
        counter.fetch_add(records - self.failed, Ordering::Relaxed);
        self.counters
            .records_failed
            .fetch_add(self.failed, Ordering::Relaxed);
        let mut c = std::mem::take(&mut self.checkpoint);
        // The counts go with the position, so they survive a restart.
        c.stats = Some(crate::worker::Stats {
            records_in: c.records_in,
            bytes_in: c.bytes_in,
            ..self.counters.snapshot()
        });
        let inner = self.delivery.inner.clone();
        let uid = self.uid;
        // With the checkpoint saved, intake segments below it are never read again.
        let intake = matches!(self.meta.source, crate::model::Source::DirectPut { .. })
            .then(|| Delivery::intake_key(&self.meta));
        match tokio::task::spawn_blocking(move || {
            inner.files.save_checkpoint(uid, &c)?;
            if let Some(key) = intake {
                for (shard, at) in &c.shards {
                    let (seq, inclusive) = match at {
                        crate::catalog::Resume::After(s) => (s, true),
                        crate::catalog::Resume::At(s) => (s, false),
                        // Nothing of this shard delivered yet: nothing to free.
                        crate::catalog::Resume::TrimHorizon
                        | crate::catalog::Resume::AtTimestamp(_) => continue,
                    };
                    if let Err(e) = inner.intake.trim_delivered(&key, shard, seq, inclusive) {
                        tracing::warn!(error = %e, "freeing delivered intake segments failed");
                    }
                }
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        {
            Ok(Ok(())) => true,
            other => {
                tracing::error!(stream = %self.meta.name, ?other, "saving the checkpoint failed");
                false
            }
        }
    }

    /// The buffer's bytes (read back from its spill file when it was spilled).
    async fn load(&mut self) -> Option<Vec<u8>> {
        let store = std::mem::take(&mut self.buffer.data);
        let meta = self.buffer.meta_spill.take();
        let loaded = tokio::task::spawn_blocking(move || {
            let data = store.into_vec()?;
            Ok::<_, std::io::Error>((data, meta.map(|m| m.read()).transpose()?))
        });
        match loaded.await {
            Ok(Ok((data, meta))) => {
                if let Some((lens, origins)) = meta {
                    self.buffer.lens.extend(lens);
                    self.buffer.origins.extend(origins);
                }
                Some(data)
            }
            other => {
                tracing::error!(stream = %self.meta.name, ?other, "reading a spilled buffer failed");
                None
            }
        }
    }

    /// Waits for the previous job; false when it did not save its checkpoint.
    async fn previous_done(&mut self) -> bool {
        match self.previous.take() {
            Some(p) => p.await.unwrap_or(false),
            None => true,
        }
    }

    /// Sends the buffer's records to the endpoint in requests of at most 10,000; what it does
    /// not take goes to the S3 configuration's error output, and with AllData every record
    /// is also written under its prefix.
    async fn send_to_endpoint(&mut self, h: &HttpEndpoint, prefixes: &Prefixes) -> bool {
        let client = match self.delivery.http_client() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(stream = %self.meta.name, error = %e, "no HTTP client");
                return false;
            }
        };
        let Some(data) = self.load().await else {
            return false;
        };
        let records = records_of(&data, &self.buffer.lens);
        let arn = self.delivery.arn(&self.meta.region, &self.meta.name);
        let backoff = Duration::from_millis(self.delivery.inner.config.http_backoff_ms);
        let first_arrival = self.buffer.first_arrival_ms;
        let mut failed_docs = Vec::new();
        for chunk in records.chunks(http::MAX_RECORDS_PER_REQUEST) {
            match http::send(&client, h, &arn, chunk, backoff, &mut self.stop).await {
                http::Outcome::Delivered => {
                    self.counters.objects.fetch_add(1, Ordering::Relaxed);
                }
                http::Outcome::Stopped => return false,
                http::Outcome::Failed {
                    code,
                    message,
                    attempts,
                } => {
                    let now = self.delivery.now_ms();
                    let failure = process::Failure {
                        kind: HTTP_FAILED,
                        code: &code,
                        message: &message,
                        attempts,
                        lambda_arn: None,
                    };
                    for r in chunk {
                        let doc = process::failed(&failure, first_arrival, now, r);
                        failed_docs.extend_from_slice(&doc.data);
                    }
                    self.failed += chunk.len() as u64;
                }
            }
        }
        if !failed_docs.is_empty() {
            let prefix = prefixes.failed(first_arrival, HTTP_FAILED);
            let dest = self.meta.destination.clone();
            if !self
                .store(&dest, prefixes, &prefix, Store::Memory(failed_docs))
                .await
            {
                return false;
            }
        }
        if h.backup_all {
            let prefix = prefixes.delivered(first_arrival, &Default::default());
            let raw: Vec<u8> = records.concat();
            let dest = self.meta.destination.clone();
            if !self
                .store(&dest, prefixes, &prefix, Store::Memory(raw))
                .await
            {
                return false;
            }
        }
        true
    }

    /// Converts the buffer's JSON records into one Parquet or ORC object of the Glue table's
    /// columns under `prefix`; records that do not fit go to the error output as
    /// `format-conversion-failed` documents. False when the worker was stopped first.
    async fn store_converted(
        &mut self,
        dest: &S3Destination,
        prefixes: &Prefixes,
        prefix: &str,
        data: Vec<u8>,
        conv: &FormatConversion,
    ) -> bool {
        let schema = conv.schema.clone().unwrap_or_default();
        let account = self.delivery.inner.config.account_id.clone();
        let table = convert::TableRef::of(&schema, &account, &self.meta.region);
        let catalog_table = table.document();
        let plan = table.plan(&self.delivery.inner.tables, conv);
        let lens = std::mem::take(&mut self.buffer.lens);
        let origins = std::mem::take(&mut self.buffer.origins);
        let first_arrival = self.buffer.first_arrival_ms;
        let now = self.delivery.now_ms();
        let done = tokio::task::spawn_blocking(move || {
            let records = records_of(&data, &lens);
            // Without a usable table, or when the writer fails, every record fails and is kept
            // in the error output.
            let (outcome, extension) = match &plan {
                // A conversion that panics fails the buffer into the error output rather than
                // stopping delivery (the same buffer would panic again after a restart).
                Ok(plan) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    convert::convert(plan, records.iter().copied())
                })) {
                    Ok(Ok(outcome)) => (outcome, plan.extension()),
                    Ok(Err(e)) => (
                        convert::Outcome::all_failed(records.len(), convert::writer_error(e)),
                        "",
                    ),
                    Err(_) => (
                        convert::Outcome::all_failed(
                            records.len(),
                            convert::writer_error("the converter failed".into()),
                        ),
                        "",
                    ),
                },
                Err(e) => (convert::Outcome::all_failed(records.len(), e.clone()), ""),
            };
            let docs = failed_documents(
                &records,
                &origins,
                &outcome.failed,
                first_arrival,
                now,
                &catalog_table,
            );
            (outcome, extension, docs)
        })
        .await;
        let (outcome, extension, docs) = match done {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(stream = %self.meta.name, error = %e, "format conversion failed");
                return false;
            }
        };
        if let Some(object) = outcome.object {
            let ext = dest
                .file_extension
                .as_deref()
                .filter(|e| !e.is_empty())
                .unwrap_or(extension);
            let name =
                prefixes.object_name(&self.meta.name, self.meta.version_id, first_arrival, ext);
            let key = format!("{prefix}{name}");
            if !self
                .put(dest, &key, &Body::Bytes(Bytes::from(object)), None)
                .await
            {
                return false;
            }
        }
        if !docs.is_empty() {
            // Error documents are JSON lines: no FileExtension meant for the converted objects.
            let plain = S3Destination {
                file_extension: None,
                ..dest.clone()
            };
            let failed = prefixes.failed(first_arrival, CONVERSION_FAILED);
            if !self
                .store(&plain, prefixes, &failed, Store::Memory(docs))
                .await
            {
                return false;
            }
        }
        // Counted once both objects are stored (a stop before re-delivers the buffer).
        self.failed += outcome.failed.len() as u64;
        for (counter, n) in [
            (&self.counters.converted_records, outcome.records),
            (&self.counters.converted_bytes, outcome.bytes),
            (
                &self.counters.conversion_failures,
                outcome.failed.len() as u64,
            ),
        ] {
            counter.fetch_add(n, Ordering::Relaxed);
        }
        true
    }

    /// Compresses `data` and writes it as one object under `prefix`, retrying until it is
    /// stored. False when the worker was stopped first.
    async fn store(
        &mut self,
        dest: &S3Destination,
        prefixes: &Prefixes,
        prefix: &str,
        data: Store,
    ) -> bool {
        let meta = &self.meta;
        let first_arrival = self.buffer.first_arrival_ms;
        let ext = dest.extension().to_string();
        let name = prefixes.object_name(&meta.name, meta.version_id, first_arrival, &ext);
        let key = format!("{prefix}{name}");
        let entry = name.strip_suffix(ext.as_str()).unwrap_or(&name).to_string();
        let format = dest.compression;
        let body = match tokio::task::spawn_blocking(move || data.into_body(format, &entry)).await {
            Ok(Ok(b)) => b,
            other => {
                tracing::error!(stream = %meta.name, ?other, "compressing an object failed");
                return false;
            }
        };
        let stored = self.put(dest, &key, &body, format.content_encoding()).await;
        if let Body::File(path, _) = &body {
            let _ = std::fs::remove_file(path);
        }
        stored
    }

    /// Writes one object, retrying until it is stored. False when the worker was stopped
    /// first.
    async fn put(
        &mut self,
        dest: &S3Destination,
        key: &str,
        body: &Body,
        content_encoding: Option<&str>,
    ) -> bool {
        let meta = &self.meta;
        let mut headers = std::collections::BTreeMap::new();
        if let Some(enc) = content_encoding {
            headers.insert("content-encoding".to_string(), enc.to_string());
        }
        let put = weir_objects::PutObject {
            data: match body {
                Body::Bytes(b) => b.clone(),
                Body::File(..) => Bytes::new(),
            },
            content_type: Some("application/octet-stream".into()),
            metadata: Default::default(),
            headers,
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            let objects = &self.delivery.inner.objects;
            let stored = match body {
                Body::Bytes(_) => objects.put(dest.bucket(), key, put.clone()).await,
                Body::File(path, _) => {
                    objects
                        .put_file(dest.bucket(), key, path, put.clone())
                        .await
                }
            };
            match stored {
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
        true
    }
}
