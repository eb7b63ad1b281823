//! CreatePartitions: a topic's partitions raised to a count by adding shards to its stream
//! without closing any (weir-log `add_shards`), so existing partitions keep their records and
//! stay writable; the new ones start empty. One broker: any replica assignment names it.

use std::collections::HashSet;

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::{errors, topics, Broker};

/// A code and Kafka's message (none for an unknown topic, as Kafka answers).
type Refusal = (i16, Option<String>);

pub fn handle(b: &Broker, r: CreatePartitionsRequest) -> CreatePartitionsResponse {
    let mut seen = HashSet::new();
    let duplicated: HashSet<String> = r
        .topics
        .iter()
        .map(|t| t.name.0.to_string())
        .filter(|n| !seen.insert(n.clone()))
        .collect();
    let mut out = CreatePartitionsResponse::default();
    let mut answered = HashSet::new();
    for t in &r.topics {
        let name = t.name.0.to_string();
        // One answer per name.
        if !answered.insert(name.clone()) {
            continue;
        }
        let done = match duplicated.contains(&name) {
            true => Err((
                errors::INVALID_REQUEST,
                Some("Duplicate topic name.".to_string()),
            )),
            false => add(b, t, r.validate_only),
        };
        let mut res = CreatePartitionsTopicResult::default();
        res.name = t.name.clone();
        if let Err((code, message)) = done {
            res.error_code = code;
            res.error_message = message.map(StrBytes::from_string);
        }
        out.results.push(res);
    }
    out
}

fn add(b: &Broker, t: &CreatePartitionsTopic, validate_only: bool) -> Result<(), Refusal> {
    let name = t.name.0.as_str();
    let current = match topics::partitions(b, name, false) {
        Ok(p) => p.len() as i32,
        Err(errors::UNKNOWN_TOPIC_OR_PARTITION) => {
            return Err((errors::UNKNOWN_TOPIC_OR_PARTITION, None))
        }
        Err(code) => return Err((code, None)),
    };
    let adding = i64::from(t.count) - i64::from(current);
    if adding < 0 {
        return Err((
            errors::INVALID_PARTITIONS,
            Some(format!(
                "The topic {name} currently has {current} partition(s); {} would not be an \
                 increase.",
                t.count
            )),
        ));
    }
    if adding == 0 {
        return Err((
            errors::INVALID_PARTITIONS,
            Some(format!("Topic already has {current} partition(s).")),
        ));
    }
    if let Some(assignments) = &t.assignments {
        if assignments.len() as i64 != adding {
            return Err((
                errors::INVALID_REPLICA_ASSIGNMENT,
                Some(format!(
                    "Increasing the number of partitions by {adding} but {} assignments provided.",
                    assignments.len()
                )),
            ));
        }
        for (i, a) in assignments.iter().enumerate() {
            let id = i64::from(current) + i as i64;
            if let Some(other) = a.broker_ids.iter().find(|x| x.0 != b.opts.node_id) {
                return Err((
                    errors::INVALID_REPLICA_ASSIGNMENT,
                    Some(format!(
                        "Unknown broker(s) in replica assignment: {}.",
                        other.0
                    )),
                ));
            }
            if a.broker_ids.len() != 1 {
                return Err((
                    errors::INVALID_REPLICA_ASSIGNMENT,
                    Some(format!(
                        "Inconsistent replication factor between partitions, partition 0 has 1 \
                         while partitions [{id}] have replication factors [{}], respectively.",
                        a.broker_ids.len()
                    )),
                ));
            }
        }
    }
    // validate_only runs the same checks (the stream's state, the shard limits) and stops.
    let n = u32::try_from(adding).unwrap_or(u32::MAX);
    b.log
        .add_shards(&topics::key(b, name), n, validate_only)
        .map_err(|e| (errors::code(&e), Some(e.to_string())))
}
