//! The engine's dealings with other services' resources: its internal streams (stage
//! streams, KDA's in-application streams), Firehose taps and registered functions.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Engine;
use crate::error::{Result, StreamError};

impl Engine {
    /// An internal stream between a job's parts (one shard, in the default region), made if
    /// it does not exist, once it is ACTIVE.
    pub(crate) async fn internal_stream(&self, name: &str) -> Result<()> {
        let key = weir_log::StreamKey::new(&self.inner.config.default_region, name);
        let log = &self.inner.log;
        if log.describe_stream(&key).is_err() {
            log.create_stream(weir_log::CreateStream {
                key: key.clone(),
                shard_count: Some(1),
                mode: weir_log::StreamMode::Provisioned,
                tags: BTreeMap::new(),
                max_record_kib: None,
                retention_hours: None,
            })
            .map_err(|e| StreamError::Validation(format!("stage stream {name}: {e}")))?;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let info = log
                .describe_stream(&key)
                .map_err(|e| StreamError::Validation(format!("stage stream {name}: {e}")))?;
            if info.status == weir_log::StreamStatus::Active {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(StreamError::Validation(format!(
                    "stage stream {name} did not become active"
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Copies every record put to Firehose delivery stream `name` to internal stream `tap`
    /// (a KDA application reading the delivery stream).
    pub fn tap_firehose(&self, region: &str, name: &str, tap: &str) -> Result<()> {
        let delivery = self.inner.delivery.as_ref().ok_or_else(|| {
            StreamError::Validation("No Firehose delivery streams are served".into())
        })?;
        let tap = format!("{}:{tap}", self.inner.config.default_region);
        delivery
            .tap(region, name, &tap)
            .map_err(|e| StreamError::Validation(e.to_string()))
    }

    /// Refuses a Firehose delivery stream that cannot be read (unknown, or reading a Kinesis
    /// stream itself).
    pub fn check_firehose(&self, region: &str, name: &str) -> Result<()> {
        let delivery = self.inner.delivery.as_ref().ok_or_else(|| {
            StreamError::Validation("No Firehose delivery streams are served".into())
        })?;
        let info = delivery
            .describe(region, name)
            .map_err(|e| StreamError::Validation(e.to_string()))?;
        if !matches!(info.source, weir_delivery::Source::DirectPut { .. }) {
            return Err(StreamError::Unsupported(format!(
                "Firehose {name} reads a stream ({}): make that stream the input",
                info.source.type_name()
            )));
        }
        Ok(())
    }

    /// Refuses a function (a Lambda ARN or name) not registered in Weir's config.
    pub fn check_function(&self, arn: &str) -> Result<()> {
        let delivery = self
            .inner
            .delivery
            .as_ref()
            .ok_or_else(|| StreamError::Validation("No functions are registered".into()))?;
        delivery
            .function(arn)
            .map(drop)
            .map_err(StreamError::Validation)
    }

    /// Deletes the default region's streams whose names start with `prefix`.
    pub(crate) fn drop_internal_streams(&self, prefix: &str) {
        let region = &self.inner.config.default_region;
        for s in self.inner.log.list_streams(region) {
            if s.name.starts_with(prefix) {
                let key = weir_log::StreamKey::new(region, &s.name);
                if let Err(e) = self.inner.log.delete_stream(&key, true) {
                    tracing::warn!(error = %e, stream = %s.name, "could not delete a stage stream");
                }
            }
        }
    }
}
