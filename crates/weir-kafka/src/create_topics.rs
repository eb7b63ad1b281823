//! CreateTopics: each topic a provisioned stream of `num_partitions` shards, kept a week
//! (Kafka's default) unless `retention.ms` says otherwise; one broker, so a replication factor
//! above 1 is refused as Kafka refuses it.

use std::collections::BTreeMap;

use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;
use weir_log::{CreateStream, LogError, StreamMode};

use crate::topic_configs as tc;
use crate::{describe_configs, errors, topics, Broker};

pub fn handle(b: &Broker, r: CreateTopicsRequest, version: i16) -> CreateTopicsResponse {
    let mut out = CreateTopicsResponse::default();
    for t in r.topics {
        let name = t.name.0.to_string();
        let mut res = CreatableTopicResult::default();
        res.name = t.name.clone();
        res.num_partitions = -1;
        res.replication_factor = -1;
        let made = create(b, &t, r.validate_only);
        match made {
            Err((code, message)) => {
                res.error_code = code;
                res.error_message = Some(StrBytes::from_string(message));
            }
            Ok(partitions) => {
                res.num_partitions = partitions as i32;
                res.replication_factor = 1;
                if version >= 5 {
                    let described = describe_configs::topic_entries(b, &name, None);
                    res.configs = described.ok().map(|entries| {
                        entries
                            .into_iter()
                            .map(|e| {
                                let mut c = CreatableTopicConfigs::default();
                                c.name = e.name;
                                c.value = e.value;
                                c.read_only = e.read_only;
                                c.config_source = e.config_source;
                                c.is_sensitive = e.is_sensitive;
                                c
                            })
                            .collect()
                    });
                }
            }
        }
        out.topics.push(res);
    }
    out
}

type Refusal = (i16, String);

fn create(
    b: &Broker,
    t: &kafka_protocol::messages::create_topics_request::CreatableTopic,
    validate_only: bool,
) -> Result<u32, Refusal> {
    let name = t.name.0.as_str();
    if !topics::valid(name) {
        return Err((
            errors::INVALID_TOPIC_EXCEPTION,
            format!("Topic name {name} is illegal: Weir topics are stream names (1-128 of a-z, A-Z, 0-9, '.', '_', '-')."),
        ));
    }
    // Kafka's order: the name, whether it exists, the configs, then partitions and replicas.
    let key = topics::key(b, name);
    if b.log.describe_stream(&key).is_ok() {
        return Err((
            errors::TOPIC_ALREADY_EXISTS,
            format!("Topic '{name}' already exists."),
        ));
    }
    let mut values = BTreeMap::new();
    for c in &t.configs {
        let (k, v) = (c.name.to_string(), c.value.as_ref().map(|v| v.to_string()));
        let Some(v) = v else { continue };
        tc::check(&k, &v).map_err(|m| (errors::INVALID_CONFIG, m))?;
        values.insert(k, v);
    }
    let partitions = match (t.num_partitions, t.replication_factor, t.assignments.len()) {
        (-1, _, 0) => b.opts.default_partitions.max(1),
        (n, _, 0) if n > 0 => n as u32,
        (-1, -1, n) => n as u32,
        (n, _, 0) => {
            return Err((
                errors::INVALID_PARTITIONS,
                format!("Number of partitions was set to an invalid non-positive value: {n}."),
            ))
        }
        _ => {
            return Err((
                errors::INVALID_REQUEST,
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into(),
            ))
        }
    };
    if !matches!(t.replication_factor, -1 | 1) {
        return Err((
            errors::INVALID_REPLICATION_FACTOR,
            format!(
                "Unable to replicate the partition {} time(s): The target replication factor of {} cannot be reached because only 1 broker(s) are registered.",
                t.replication_factor, t.replication_factor
            ),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for a in &t.assignments {
        if !seen.insert(a.partition_index)
            || a.partition_index < 0
            || a.partition_index as u32 >= partitions
        {
            return Err((
                errors::INVALID_REPLICA_ASSIGNMENT,
                "Partitions of a replica assignment must be 0 to N-1, each once.".into(),
            ));
        }
        if a.broker_ids.iter().any(|id| id.0 != b.opts.node_id) {
            return Err((
                errors::INVALID_REPLICA_ASSIGNMENT,
                format!("The only broker is {}.", b.opts.node_id),
            ));
        }
    }
    if validate_only {
        return Ok(partitions);
    }
    let retention = tc::stream_retention_hours(&values);
    values.remove(tc::RETENTION_MS);
    // A record may be as large as a batch the topic takes (Kinesis's 1–10 MiB range).
    let max_bytes = values
        .get(tc::MAX_MESSAGE_BYTES)
        .and_then(|v| v.trim().parse::<u32>().ok());
    let made = b.log.create_stream(CreateStream {
        key,
        shard_count: Some(partitions),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: max_bytes.map(|m| m.div_ceil(1024).clamp(1024, 10240)),
        retention_hours: Some(retention),
    });
    match made {
        Ok(()) => {}
        Err(LogError::InUse(_)) => {
            return Err((
                errors::TOPIC_ALREADY_EXISTS,
                format!("Topic '{name}' already exists."),
            ))
        }
        Err(e) => return Err((errors::code(&e), e.to_string())),
    }
    b.topic_configs
        .replace(name, values)
        .map_err(|e| (errors::KAFKA_STORAGE_ERROR, e.to_string()))?;
    Ok(partitions)
}
