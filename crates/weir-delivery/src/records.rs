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
                self.inner.files.save_checkpoint(meta.uid, &c)?;
                Ok(())
            }
        }
    }

    /// PutRecordBatch (and PutRecord, with one record): each record's RecordId or its error.
    pub async fn put_records(
        &self,
        region: &str,
        name: &str,
        records: Vec<Bytes>,
    ) -> Result<Vec<Result<String>>> {
        let meta = self.lookup(region, name)?;
        match self.status_of(&meta) {
            Status::Active => {}
            _ => return Err(self.not_found(name)),
        }
        if !matches!(meta.source, Source::DirectPut { .. }) {
            return Err(DeliveryError::InvalidSource(format!(
                "This operation is not permitted on KinesisStreamAsSource firehose {} under \
                 account {}.",
                name, self.inner.config.account_id
            )));
        }
        let entries = records
            .into_iter()
            .map(|data| weir_log::PutEntry {
                partition_key: "p".into(),
                explicit_hash_key: None,
                data,
            })
            .collect();
        let out = self
            .inner
            .intake
            .put_records(&Self::intake_key(&meta), entries)
            .await?;
        Ok(out
            .into_iter()
            .map(|r| {
                r.map(|o| o.sequence_number).map_err(|e| {
                    DeliveryError::Unavailable(format!("The record was not stored: {e}"))
                })
            })
            .collect())
    }
}
