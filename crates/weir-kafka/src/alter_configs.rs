//! AlterConfigs: a topic's configs replaced whole (those not named return to their defaults).
//! The broker's come from Weir's configuration and are refused here.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::describe_configs::{BROKER, TOPIC};
use crate::topic_configs as tc;
use crate::{errors, topics, Broker};

pub type Refusal = (i16, String);

/// Sets a topic's configs to `values` (checked first; nothing changes when one is refused).
pub fn apply(
    b: &Broker,
    topic: &str,
    mut values: BTreeMap<String, String>,
    validate_only: bool,
) -> Result<(), Refusal> {
    let key = topics::key(b, topic);
    let info = b
        .log
        .describe_stream(&key)
        .map_err(|e| (errors::code(&e), format!("Topic {topic} does not exist.")))?;
    for (k, v) in &values {
        tc::check(k, v).map_err(|m| (errors::INVALID_CONFIG, m))?;
    }
    if validate_only {
        return Ok(());
    }
    let hours = tc::stream_retention_hours(&values);
    values.remove(tc::RETENTION_MS);
    let changed = match hours.cmp(&info.retention_hours) {
        std::cmp::Ordering::Greater => b.log.increase_retention(&key, hours),
        std::cmp::Ordering::Less => b.log.decrease_retention(&key, hours),
        std::cmp::Ordering::Equal => Ok(()),
    };
    changed.map_err(|e| (errors::code(&e), e.to_string()))?;
    // A record may be as large as a batch the topic takes (Kinesis's 1–10 MiB range).
    let max_bytes = values
        .get(tc::MAX_MESSAGE_BYTES)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(tc::DEFAULT_MAX_MESSAGE_BYTES as u32);
    let kib = max_bytes.div_ceil(1024).clamp(1024, 10240);
    if kib != info.max_record_kib {
        b.log
            .set_max_record_kib(&key, kib)
            .map_err(|e| (errors::code(&e), e.to_string()))?;
    }
    b.topic_configs
        .replace(topic, values)
        .map_err(|e| (errors::KAFKA_STORAGE_ERROR, e.to_string()))
}

/// The answer for one resource of either alter call.
pub fn answer(
    resource_type: i8,
    name: StrBytes,
    outcome: Result<(), Refusal>,
) -> (i16, Option<StrBytes>, i8, StrBytes) {
    match outcome {
        Ok(()) => (errors::NONE, None, resource_type, name),
        Err((code, m)) => (code, Some(StrBytes::from_string(m)), resource_type, name),
    }
}

/// The refusal for a resource that is not a topic.
pub fn not_a_topic(resource_type: i8) -> Refusal {
    match resource_type {
        BROKER => (
            errors::INVALID_REQUEST,
            "Weir's broker settings come from its configuration ([kafka] in weir.toml).".into(),
        ),
        _ => (
            errors::INVALID_REQUEST,
            format!("Unsupported resource type {resource_type}."),
        ),
    }
}

pub fn handle(b: &Broker, r: AlterConfigsRequest) -> AlterConfigsResponse {
    let mut out = AlterConfigsResponse::default();
    for res in r.resources {
        let outcome = match res.resource_type {
            TOPIC => {
                let values = res
                    .configs
                    .iter()
                    .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())))
                    .collect();
                apply(b, res.resource_name.as_str(), values, r.validate_only)
            }
            other => Err(not_a_topic(other)),
        };
        let (code, message, rtype, name) = answer(res.resource_type, res.resource_name, outcome);
        let mut a = AlterConfigsResourceResponse::default();
        a.error_code = code;
        a.error_message = message;
        a.resource_type = rtype;
        a.resource_name = name;
        out.responses.push(a);
    }
    out
}
