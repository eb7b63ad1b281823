//! DescribeConfigs: a topic's configs (each Kafka topic config, its value here and where it
//! comes from) or the broker's (read-only: they come from Weir's configuration).

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::topic_configs::{self as tc, DEFAULT_RETENTION_HOURS};
use crate::{errors, topics, Broker};

pub const TOPIC: i8 = 2;
pub const BROKER: i8 = 4;
/// Kafka's ConfigSource codes.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

fn entry(
    name: &str,
    value: String,
    source: i8,
    read_only: bool,
    kind: i8,
) -> DescribeConfigsResourceResult {
    let mut e = DescribeConfigsResourceResult::default();
    e.name = StrBytes::from_string(name.to_string());
    e.value = Some(StrBytes::from_string(value));
    e.read_only = read_only;
    e.config_source = source;
    e.is_sensitive = false;
    e.config_type = kind;
    e
}

/// A topic's configs (of `keys`, or all); the error code when the topic is unknown.
pub fn topic_entries(
    b: &Broker,
    topic: &str,
    keys: Option<&[StrBytes]>,
) -> Result<Vec<DescribeConfigsResourceResult>, i16> {
    let info = b
        .log
        .describe_stream(&topics::key(b, topic))
        .map_err(|e| errors::code(&e))?;
    let set = b.topic_configs.of(topic);
    Ok(tc::TOPIC
        .iter()
        .filter(|(name, _, _)| keys.is_none_or(|ks| ks.iter().any(|k| k.as_str() == *name)))
        .map(|(name, default, kind)| {
            let (value, source) = match (*name, set.get(*name)) {
                (tc::RETENTION_MS, _) => (
                    (info.retention_hours as i64 * 3_600_000).to_string(),
                    match info.retention_hours == DEFAULT_RETENTION_HOURS {
                        true => DEFAULT_CONFIG,
                        false => DYNAMIC_TOPIC_CONFIG,
                    },
                ),
                (_, Some(v)) => (v.clone(), DYNAMIC_TOPIC_CONFIG),
                (_, None) => (default.to_string(), DEFAULT_CONFIG),
            };
            entry(name, value, source, false, kind.code())
        })
        .collect())
}

fn broker_entries(b: &Broker, keys: Option<&[StrBytes]>) -> Vec<DescribeConfigsResourceResult> {
    let o = &b.opts;
    let all = [
        ("broker.id", o.node_id.to_string(), 3),
        (
            "advertised.listeners",
            match o.tls_port {
                Some(t) => format!("PLAINTEXT://{0}:{1},SSL://{0}:{t}", o.host, o.port),
                None => format!("PLAINTEXT://{}:{}", o.host, o.port),
            },
            2,
        ),
        ("auto.create.topics.enable", o.auto_create.to_string(), 1),
        ("num.partitions", o.default_partitions.to_string(), 3),
        ("default.replication.factor", "1".into(), 3),
        ("offsets.topic.replication.factor", "1".into(), 4),
        (
            "log.retention.hours",
            DEFAULT_RETENTION_HOURS.to_string(),
            3,
        ),
        (
            "message.max.bytes",
            tc::DEFAULT_MAX_MESSAGE_BYTES.to_string(),
            3,
        ),
        (
            "group.initial.rebalance.delay.ms",
            o.initial_rebalance_delay.as_millis().to_string(),
            3,
        ),
        ("connections.max.idle.ms", o.idle.as_millis().to_string(), 5),
        ("max.connections", o.max_connections.to_string(), 3),
    ];
    all.into_iter()
        .filter(|(name, _, _)| keys.is_none_or(|ks| ks.iter().any(|k| k.as_str() == *name)))
        .map(|(name, value, kind)| entry(name, value, STATIC_BROKER_CONFIG, true, kind))
        .collect()
}

/// Whether a broker resource name is this broker ("" is the cluster default, also this one).
pub fn is_this_broker(b: &Broker, name: &str) -> bool {
    name.is_empty() || name.parse::<i32>() == Ok(b.opts.node_id)
}

pub fn handle(b: &Broker, r: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let mut out = DescribeConfigsResponse::default();
    for res in r.resources {
        let mut result = DescribeConfigsResult::default();
        result.resource_type = res.resource_type;
        let keys = res.configuration_keys.as_deref();
        let entries = match res.resource_type {
            TOPIC => topic_entries(b, res.resource_name.as_str(), keys),
            BROKER if is_this_broker(b, res.resource_name.as_str()) => Ok(broker_entries(b, keys)),
            BROKER => Err(errors::INVALID_REQUEST),
            _ => Err(errors::INVALID_REQUEST),
        };
        match entries {
            Ok(configs) => result.configs = configs,
            Err(code) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(match code {
                    errors::UNKNOWN_TOPIC_OR_PARTITION => {
                        format!("Topic {} does not exist.", res.resource_name.as_str())
                    }
                    _ => "Weir describes topic and broker configs.".into(),
                }));
            }
        }
        result.resource_name = res.resource_name;
        out.results.push(result);
    }
    out
}
