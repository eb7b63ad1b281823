//! Intake: PutRecord / PutRecordBatch append to the delivery stream's intake log and answer
//! once the records are durable there.

use bytes::Bytes;

use crate::catalog::{Checkpoint, Resume, StreamMeta};
use crate::error::{DeliveryError, Result};
use crate::model::{Source, Status};
use crate::Delivery;

impl Delivery {
    /// Creates what a new delivery stream reads from.
    pub(crate) async fn prepare_source(&self, meta: &StreamMeta) -> Result<()> {
        match &meta.source {
            Source::DirectPut { .. } => {
                self.inner.intake.create_stream(weir_log::CreateStream {
                    key: Self::intake_key(meta),
                    shard_count: Some(1),
                    mode: weir_log::StreamMode::Provisioned,
                    tags: Default::default(),
                    max_record_kib: None,
                    retention_hours: None,
                })?;
                Ok(())
            }
            Source::KinesisStream { stream_arn, .. } => {
                // Reading starts at LATEST: where each open shard is now.
                let key = self.source_key(stream_arn)?;
                let mut c = Checkpoint::default();
                for (shard, seq) in self.inner.streams.latest_positions(&key)? {
                    c.shards.insert(shard, Resume::At(seq));
                }
                // Closed shards hold only what came before the start: read, as far as this is concerned.
                c.finished = self.inner.streams.closed_shards(&key)?;
                self.inner.files.save_checkpoint(meta.uid, &c)?;
                Ok(())
            }
            Source::Msk { .. } => {
                // Every shard starts at ReadFromTimestamp as the worker finds it (the reader's
                // start), closed parents and later children alike.
                self.source_of(&meta.source)?;
                self.inner
                    .files
                    .save_checkpoint(meta.uid, &Checkpoint::default())?;
                Ok(())
            }
        }
    }

    /// PutRecordBatch (and PutRecord, with one record): each record's RecordId or its error,
    /// and whether the records are stored encrypted (the answer's `Encrypted`).
    pub async fn put_records(
        &self,
        region: &str,
        name: &str,
        records: Vec<Bytes>,
    ) -> Result<(Vec<Result<String>>, bool)> {
        // One look at the catalog per call, without copying the stream's configuration.
        let (key, encrypted, taps) = {
            let now = self.now_ms();
            let state = self.inner.state.read();
            let meta = state
                .get(&(region.to_string(), name.to_string()))
                .filter(|m| !m.is_gone(now))
                .ok_or_else(|| self.not_found(name))?;
            if self.status_of(meta) != Status::Active {
                return Err(self.not_found(name));
            }
            if !matches!(meta.source, Source::DirectPut { .. }) {
                return Err(DeliveryError::InvalidSource(format!(
                    "This operation is not permitted on {} firehose {} under account {}.",
                    meta.source.type_name(),
                    name,
                    self.inner.config.account_id
                )));
            }
            let encrypted = meta.encryption.as_ref().is_some_and(|e| e.enabled);
            (Self::intake_key(meta), encrypted, meta.taps.clone())
        };
        let entries: Vec<weir_log::PutEntry> = records
            .into_iter()
            .map(|data| weir_log::PutEntry {
                partition_key: "p".into(),
                explicit_hash_key: None,
                data,
            })
            .collect();
        let copies: Vec<weir_log::PutEntry> = if taps.is_empty() {
            Vec::new()
        } else {
            entries.clone()
        };
        let out = self.inner.intake.put_records(&key, entries).await?;
        // The stored records go to the taps too, before the answer (so an acknowledged record
        // is in both).
        if !taps.is_empty() {
            let stored: Vec<weir_log::PutEntry> = copies
                .into_iter()
                .zip(&out)
                .filter(|(_, r)| r.is_ok())
                .map(|(e, _)| e)
                .collect();
            for tap in taps {
                // `region:stream` (a bare name: the delivery stream's region).
                let tap_key = match tap.split_once(':') {
                    Some((r, s)) => weir_log::StreamKey::new(r, s),
                    None => weir_log::StreamKey::new(region, &tap),
                };
                // Copies a throttled tap refuses are put again (a few times, then logged).
                let mut pending = stored.clone();
                for attempt in 0..8u32 {
                    if pending.is_empty() {
                        break;
                    }
                    if attempt > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                    }
                    match self
                        .inner
                        .streams
                        .put_records(&tap_key, pending.clone())
                        .await
                    {
                        Ok(results) => {
                            pending = results
                                .into_iter()
                                .zip(pending)
                                .filter(|(r, _)| r.is_err())
                                .map(|(_, e)| e)
                                .collect();
                        }
                        Err(weir_log::LogError::NotFound(_)) => {
                            // Its reader is gone (the application deleted or started afresh).
                            let _ = self.untap(region, name, &tap);
                            pending.clear();
                        }
                        Err(e) => tracing::warn!(error = %e, tap, "records not copied to a tap"),
                    }
                }
                if !pending.is_empty() {
                    tracing::error!(tap, records = pending.len(), "records not copied to a tap");
                }
            }
        }
        let results = out
            .into_iter()
            .map(|r| {
                r.map(|o| o.sequence_number).map_err(|e| {
                    DeliveryError::Unavailable(format!("The record was not stored: {e}"))
                })
            })
            .collect();
        Ok((results, encrypted))
    }
}
