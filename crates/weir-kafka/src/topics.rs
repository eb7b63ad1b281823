//! Topics as streams: a topic is the stream of the same name in the broker's region; a topic
//! named for the first time is created (as Kafka's `auto.create.topics.enable`) when allowed.

use std::collections::BTreeMap;

use weir_log::{CreateStream, LogError, Partition, StreamKey, StreamMode};

use crate::errors;
use crate::Broker;

pub fn key(b: &Broker, topic: &str) -> StreamKey {
    StreamKey::new(b.opts.region.clone(), topic)
}

/// Whether a topic name is also a stream name (Kafka allows 249 characters, Kinesis 128).
pub fn valid(topic: &str) -> bool {
    (1..=128).contains(&topic.len())
        && topic
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The topic's partitions (its shards that have not expired), creating the topic when
/// `create` and the broker allows it; a Kafka error code otherwise.
pub fn partitions(b: &Broker, topic: &str, create: bool) -> Result<Vec<Partition>, i16> {
    if !valid(topic) {
        return Err(errors::INVALID_TOPIC_EXCEPTION);
    }
    let key = key(b, topic);
    match b.log.partitions(&key) {
        Ok(p) => Ok(p),
        Err(LogError::NotFound(_)) if create && b.opts.auto_create => {
            let made = b.log.create_stream(CreateStream {
                key: key.clone(),
                shard_count: Some(b.opts.default_partitions.max(1)),
                mode: StreamMode::Provisioned,
                tags: BTreeMap::new(),
                max_record_kib: None,
                // Kafka's `log.retention.hours`.
                retention_hours: Some(crate::topic_configs::DEFAULT_RETENTION_HOURS),
            });
            match made {
                // A stream being created answers once it is ACTIVE: clients ask again.
                Ok(()) | Err(LogError::InUse(_)) => b
                    .log
                    .partitions(&key)
                    .map_err(|_| errors::LEADER_NOT_AVAILABLE),
                Err(e) => Err(errors::code(&e)),
            }
        }
        Err(LogError::NotFound(_)) => Err(errors::UNKNOWN_TOPIC_OR_PARTITION),
        Err(e) => Err(errors::code(&e)),
    }
}
