//! Enhanced fan-out consumers: register, describe, list, deregister.

use crate::error::{LogError, Result};
use crate::log::Log;
use crate::meta::ConsumerMeta;
use crate::types::StreamKey;

/// Consumers one stream may have.
pub const MAX_CONSUMERS_PER_STREAM: usize = 20;

/// A consumer as described to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    pub name: String,
    pub arn: String,
    /// `CREATING`, `ACTIVE` or `DELETING`.
    pub status: &'static str,
    pub created_ms: i64,
    pub stream_arn: String,
    pub stream: StreamKey,
}

impl Log {
    /// The ARN of a consumer: `<stream ARN>/consumer/<name>:<creation epoch seconds>`.
    pub fn consumer_arn(&self, key: &StreamKey, c: &ConsumerMeta) -> String {
        format!(
            "{}/consumer/{}:{}",
            self.stream_arn(key),
            c.name,
            c.created_ms / 1000
        )
    }

    fn consumer_info(&self, key: &StreamKey, c: &ConsumerMeta) -> ConsumerInfo {
        let now = self.now_ms();
        let status = match c.deleted_at_ms {
            Some(_) => "DELETING",
            None if now < c.active_at_ms => "CREATING",
            None => "ACTIVE",
        };
        ConsumerInfo {
            name: c.name.clone(),
            arn: self.consumer_arn(key, c),
            status,
            created_ms: c.created_ms,
            stream_arn: self.stream_arn(key),
            stream: key.clone(),
        }
    }

    fn consumer_gone(&self, c: &ConsumerMeta) -> bool {
        c.deleted_at_ms.is_some_and(|t| t <= self.now_ms())
    }

    /// RegisterStreamConsumer.
    pub fn register_consumer(&self, key: &StreamKey, name: &str) -> Result<ConsumerInfo> {
        let now = self.now_ms();
        let delay = self.config().create_delay_ms;
        let account = self.config().account_id.clone();
        let mut created = None;
        self.update_consumers(key, |log, meta| {
            meta.consumers.retain(|c| !log.consumer_gone(c));
            if meta.consumers.iter().any(|c| c.name == name) {
                return Err(LogError::InUse(format!(
                    "Consumer {name} under stream {} under account {account} already exists.",
                    meta.name
                )));
            }
            if meta.consumers.len() >= MAX_CONSUMERS_PER_STREAM {
                return Err(LogError::LimitExceeded(format!(
                    "Stream {} under account {account} already has {MAX_CONSUMERS_PER_STREAM} \
                     registered consumers, the most a stream may have.",
                    meta.name
                )));
            }
            let c = ConsumerMeta {
                name: name.to_string(),
                created_ms: now,
                active_at_ms: now + delay,
                deleted_at_ms: None,
            };
            created = Some(c.clone());
            meta.consumers.push(c);
            Ok(())
        })?;
        let c = created.ok_or_else(|| LogError::Internal("consumer not recorded".into()))?;
        Ok(self.consumer_info(key, &c))
    }

    /// DescribeStreamConsumer by stream and name.
    pub fn describe_consumer(&self, key: &StreamKey, name: &str) -> Result<ConsumerInfo> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        s.meta
            .consumers
            .iter()
            .find(|c| c.name == name && !self.consumer_gone(c))
            .map(|c| self.consumer_info(key, c))
            .ok_or_else(|| self.consumer_not_found(key, name))
    }

    /// DescribeStreamConsumer by ARN (the creation time in the ARN must match too).
    pub fn describe_consumer_arn(&self, key: &StreamKey, arn: &str) -> Result<ConsumerInfo> {
        let name = consumer_name_of(arn).ok_or_else(|| self.consumer_not_found(key, arn))?;
        let info = self.describe_consumer(key, name)?;
        if info.arn != arn {
            return Err(self.consumer_not_found(key, name));
        }
        Ok(info)
    }

    /// ListStreamConsumers, in registration order.
    pub fn list_consumers(&self, key: &StreamKey) -> Result<Vec<ConsumerInfo>> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        Ok(s.meta
            .consumers
            .iter()
            .filter(|c| !self.consumer_gone(c))
            .map(|c| self.consumer_info(key, c))
            .collect())
    }

    /// DeregisterStreamConsumer: DELETING for the delete delay, then gone.
    pub fn deregister_consumer(&self, key: &StreamKey, name: &str) -> Result<()> {
        let until = self.now_ms() + self.config().delete_delay_ms;
        self.update_consumers(key, |log, meta| {
            let c = meta
                .consumers
                .iter_mut()
                .find(|c| c.name == name && !log.consumer_gone(c))
                .ok_or_else(|| log.consumer_not_found(key, name))?;
            if c.deleted_at_ms.is_none() {
                c.deleted_at_ms = Some(until);
            }
            Ok(())
        })
    }

    fn consumer_not_found(&self, key: &StreamKey, name: &str) -> LogError {
        LogError::NotFound(format!(
            "Consumer {name}, account {} not found for stream {}.",
            self.config().account_id,
            key.name
        ))
    }
}

/// The consumer name inside a consumer ARN (`…/consumer/<name>:<seconds>`).
pub fn consumer_name_of(arn: &str) -> Option<&str> {
    let rest = arn.split("/consumer/").nth(1)?;
    let (name, secs) = rest.rsplit_once(':')?;
    (!name.is_empty() && secs.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}
