//! IncrementalAlterConfigs: SET, DELETE (back to the default), APPEND and SUBTRACT (list
//! configs) on a topic's configs.

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use crate::alter_configs::{self, Refusal};
use crate::describe_configs::TOPIC;
use crate::topic_configs::{self as tc, Kind};
use crate::{errors, Broker};

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn edit(
    b: &Broker,
    topic: &str,
    ops: &[kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig],
    validate_only: bool,
) -> Result<(), Refusal> {
    let mut values = b.topic_configs.of(topic);
    // retention.ms lives on the stream: start from its current value.
    if let Ok(info) = b.log.describe_stream(&crate::topics::key(b, topic)) {
        if info.retention_hours != tc::DEFAULT_RETENTION_HOURS {
            let ms = info.retention_hours as i64 * 3_600_000;
            values.insert(tc::RETENTION_MS.into(), ms.to_string());
        }
    }
    let mut named = std::collections::BTreeSet::new();
    for op in ops {
        let name = op.name.to_string();
        if !named.insert(name.clone()) {
            return Err((
                errors::INVALID_REQUEST,
                format!("Error due to duplicate config keys: {name}"),
            ));
        }
        if op.value.is_none() && matches!(op.config_operation, SET | APPEND | SUBTRACT) {
            return Err((
                errors::INVALID_REQUEST,
                format!("Null value not supported for: {name}"),
            ));
        }
        let value = op.value.as_ref().map(|v| v.to_string()).unwrap_or_default();
        let list = matches!(tc::def(&name), Some((_, _, Kind::List(_))));
        match op.config_operation {
            SET => {
                values.insert(name, value);
            }
            DELETE => {
                values.remove(&name);
            }
            APPEND | SUBTRACT if list => {
                let current = values
                    .get(&name)
                    .cloned()
                    .or_else(|| tc::def(&name).map(|(_, d, _)| d.to_string()))
                    .unwrap_or_default();
                let mut items: Vec<String> = current
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                for v in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match op.config_operation {
                        APPEND if !items.iter().any(|i| i == v) => items.push(v.to_string()),
                        SUBTRACT => items.retain(|i| i != v),
                        _ => {}
                    }
                }
                values.insert(name, items.join(","));
            }
            APPEND | SUBTRACT => {
                return Err((
                    errors::INVALID_CONFIG,
                    format!("Config value append/subtract is not allowed for config key {name}"),
                ))
            }
            other => {
                return Err((
                    errors::INVALID_REQUEST,
                    format!("Unknown config operation {other}"),
                ))
            }
        }
    }
    alter_configs::apply(b, topic, values, validate_only)
}

pub fn handle(b: &Broker, r: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse {
    let mut out = IncrementalAlterConfigsResponse::default();
    for res in r.resources {
        let outcome = match res.resource_type {
            TOPIC => edit(b, res.resource_name.as_str(), &res.configs, r.validate_only),
            other => Err(alter_configs::not_a_topic(other)),
        };
        let (code, message, rtype, name) =
            alter_configs::answer(res.resource_type, res.resource_name, outcome);
        let mut a = AlterConfigsResourceResponse::default();
        a.error_code = code;
        a.error_message = message;
        a.resource_type = rtype;
        a.resource_name = name;
        out.responses.push(a);
    }
    out
}
