//! Pieces every Kinesis action shares: member rules, stream addressing, output shapes.

use weir_log::{ShardInfo, StreamKey, StreamMode};

use crate::error::ApiError;
use crate::input::{is_decimal, is_name, Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub const STREAM_NAME: StrRule = StrRule::len(1, 128).pattern("[a-zA-Z0-9_.-]+", is_name);
pub const STREAM_ARN: StrRule =
    StrRule::len(1, 2048).pattern("arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+", is_stream_arn);
pub const RESOURCE_ARN: StrRule = StrRule::len(1, 2048).pattern(
    "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
    is_resource_arn,
);
pub const STREAM_ID: StrRule = StrRule::len(1, 24);
pub const CONSUMER_NAME: StrRule = StrRule::len(1, 128).pattern("[a-zA-Z0-9_.-]+", is_name);
pub const CONSUMER_ARN: StrRule = StrRule::len(1, 2048).pattern(
    "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
    is_consumer_arn,
);
pub const SHARD_ID: StrRule = StrRule::len(1, 128).pattern("[a-zA-Z0-9_.-]+", is_name);
pub const HASH_KEY: StrRule = StrRule::any().pattern("0|([1-9]\\d{0,38})", is_hash_key);
pub const SEQUENCE_NUMBER: StrRule =
    StrRule::any().pattern("0|([1-9]\\d{0,128})", is_sequence_number);
pub const TAG_KEY: StrRule = StrRule::len(1, 128);

fn is_hash_key(s: &str) -> bool {
    is_decimal(s, 39)
}

fn is_sequence_number(s: &str) -> bool {
    is_decimal(s, 129)
}

/// The parts of `arn:<partition>:kinesis:<region>:<account>:<resource>`.
struct Arn<'a> {
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let mut parts = s.splitn(6, ':');
    let (arn, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    if arn != "arn" || !partition.starts_with("aws") || service != "kinesis" {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Arn {
        region,
        account,
        resource,
    })
}

fn is_stream_arn(s: &str) -> bool {
    parse_arn(s).is_some_and(|a| {
        a.resource
            .strip_prefix("stream/")
            .is_some_and(|n| !n.is_empty() && !n.chars().any(char::is_whitespace))
    })
}

fn is_consumer_arn(s: &str) -> bool {
    parse_arn(s).is_some_and(|a| {
        a.resource.strip_prefix("stream/").is_some_and(|rest| {
            rest.split_once("/consumer/")
                .is_some_and(|(stream, consumer)| {
                    is_name(stream)
                        && consumer.rsplit_once(':').is_some_and(|(n, secs)| {
                            is_name(n)
                                && !secs.is_empty()
                                && secs.bytes().all(|b| b.is_ascii_digit())
                        })
                })
        })
    })
}

fn is_resource_arn(s: &str) -> bool {
    parse_arn(s).is_some_and(|a| {
        a.resource.contains("stream/") && !a.resource.chars().any(char::is_whitespace)
    })
}

/// How a request names its stream: by name, by ARN, or both.
pub struct StreamRef {
    name: Option<String>,
    arn: Option<String>,
}

/// Reads StreamName / StreamARN / StreamId (the id is accepted and not used).
pub fn read_stream_ref(input: &mut Input) -> Result<StreamRef, ApiError> {
    let name = input.string("StreamName", false, STREAM_NAME)?;
    let arn = input.string("StreamARN", false, STREAM_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    Ok(StreamRef { name, arn })
}

impl StreamRef {
    /// The stream these name, in the caller's region unless an ARN says otherwise.
    pub fn resolve(self, ctx: &Ctx) -> Result<StreamKey, ApiError> {
        match (self.name, self.arn) {
            (None, None) => Err(ApiError::invalid_argument(
                "Either StreamName or StreamARN must be provided.",
            )),
            (Some(name), None) => Ok(StreamKey::new(ctx.region.clone(), name)),
            (name, Some(arn)) => {
                let key = stream_key_from_arn(ctx, &arn)?;
                if name.is_some_and(|n| n != key.name) {
                    return Err(ApiError::invalid_argument(
                        "StreamARN and StreamName refer to different streams.",
                    ));
                }
                Ok(key)
            }
        }
    }
}

/// AWS reads a shard id before it looks for the stream: one it cannot read is not found,
/// whether or not the stream exists.
pub fn check_shard_id(ctx: &Ctx, key: &StreamKey, shard: &str) -> Result<(), ApiError> {
    match weir_log::parse_shard_id(shard) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "Could not find shard {shard} in stream {} under account {}.",
            key.name,
            ctx.log.config().account_id
        ))),
    }
}

/// The stream an ARN names (only stream ARNs of this account resolve).
pub fn stream_key_from_arn(ctx: &Ctx, arn: &str) -> Result<StreamKey, ApiError> {
    let parsed =
        parse_arn(arn).ok_or_else(|| ApiError::invalid_argument(format!("Invalid ARN: {arn}")))?;
    let name = parsed
        .resource
        .strip_prefix("stream/")
        .filter(|n| !n.contains('/'))
        .ok_or_else(|| ApiError::not_found(format!("Resource {arn} not found.")))?;
    if parsed.account != ctx.log.config().account_id {
        return Err(ApiError::not_found(format!(
            "Stream {name} under account {} not found.",
            parsed.account
        )));
    }
    Ok(StreamKey::new(parsed.region, name))
}

/// Reads StreamModeDetails: `Some(mode)` when given.
pub fn read_stream_mode(input: &mut Input) -> Result<Option<StreamMode>, ApiError> {
    let mode = input.structure("StreamModeDetails", |s| {
        s.string(
            "StreamMode",
            true,
            StrRule::one_of(&["PROVISIONED", "ON_DEMAND"]),
        )
    })?;
    Ok(match mode.flatten().as_deref() {
        Some("ON_DEMAND") => Some(StreamMode::OnDemand),
        Some(_) => Some(StreamMode::Provisioned),
        None => None,
    })
}

/// The stream a consumer ARN belongs to.
pub fn consumer_stream_key(ctx: &Ctx, arn: &str) -> Result<StreamKey, ApiError> {
    let stream_arn = arn
        .split_once("/consumer/")
        .map(|(s, _)| s)
        .ok_or_else(|| ApiError::invalid_argument(format!("Invalid consumer ARN: {arn}")))?;
    stream_key_from_arn(ctx, stream_arn)
}

/// Reads how DescribeStreamConsumer and DeregisterStreamConsumer name a consumer: its ARN, or
/// the stream's ARN and the consumer's name. Returns (stream, consumer name, ARN if given).
pub fn read_consumer_ref(
    ctx: &Ctx,
    input: &mut Input,
) -> Result<(StreamKey, String, Option<String>), ApiError> {
    let stream_arn = input.string("StreamARN", false, STREAM_ARN)?;
    let name = input.string("ConsumerName", false, CONSUMER_NAME)?;
    let arn = input.string("ConsumerARN", false, CONSUMER_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    match (arn, stream_arn, name) {
        (Some(arn), _, _) => {
            let key = consumer_stream_key(ctx, &arn)?;
            let name = weir_log::consumer_name_of(&arn)
                .ok_or_else(|| ApiError::invalid_argument(format!("Invalid consumer ARN: {arn}")))?
                .to_string();
            Ok((key, name, Some(arn)))
        }
        (None, Some(stream_arn), Some(name)) => {
            Ok((stream_key_from_arn(ctx, &stream_arn)?, name, None))
        }
        _ => Err(ApiError::invalid_argument(
            "Either ConsumerARN, or StreamARN and ConsumerName, must be provided.",
        )),
    }
}

/// A consumer in Consumer / ConsumerDescription form.
pub fn consumer_value(c: &weir_log::ConsumerInfo, with_stream: bool) -> Value {
    Value::map([
        ("ConsumerName", Value::str(c.name.clone())),
        ("ConsumerARN", Value::str(c.arn.clone())),
        ("ConsumerStatus", Value::str(c.status)),
        ("ConsumerCreationTimestamp", Value::Timestamp(c.created_ms)),
        (
            "StreamARN",
            if with_stream {
                Value::str(c.stream_arn.clone())
            } else {
                Value::Null
            },
        ),
    ])
}

/// A record in GetRecords / SubscribeToShardEvent form.
pub fn record_value(r: weir_log::RecordOut, encrypted: bool) -> Value {
    Value::map([
        ("SequenceNumber", Value::Str(r.sequence_number)),
        (
            "ApproximateArrivalTimestamp",
            Value::Timestamp(r.arrival_ms),
        ),
        ("Data", Value::Bytes(r.data)),
        ("PartitionKey", Value::Str(r.partition_key)),
        (
            "EncryptionType",
            if encrypted {
                Value::str("KMS")
            } else {
                Value::Null
            },
        ),
    ])
}

/// ChildShards as GetRecords and SubscribeToShardEvent report them (absent when empty).
pub fn child_shards_value(children: Vec<weir_log::ChildShard>) -> Value {
    if children.is_empty() {
        return Value::Null;
    }
    Value::List(
        children
            .into_iter()
            .map(|c| {
                Value::map([
                    ("ShardId", Value::Str(c.shard_id)),
                    (
                        "ParentShards",
                        Value::List(c.parent_shards.into_iter().map(Value::Str).collect()),
                    ),
                    (
                        "HashKeyRange",
                        Value::map([
                            (
                                "StartingHashKey",
                                Value::str(c.starting_hash_key.to_string()),
                            ),
                            ("EndingHashKey", Value::str(c.ending_hash_key.to_string())),
                        ]),
                    ),
                ])
            })
            .collect(),
    )
}

/// Reads a starting position (GetShardIterator's members or SubscribeToShard's
/// StartingPosition) into where to start, with AWS's errors for missing parts.
pub fn iterator_start(
    kind: &str,
    seq: Option<String>,
    ts: Option<i64>,
) -> Result<weir_log::IteratorStart, ApiError> {
    use weir_log::IteratorStart;
    let has_seq = seq.is_some();
    Ok(match (kind, seq) {
        ("AT_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AtSequenceNumber(s),
        ("AFTER_SEQUENCE_NUMBER", Some(s)) => IteratorStart::AfterSequenceNumber(s),
        ("TRIM_HORIZON", None) => IteratorStart::TrimHorizon,
        ("LATEST", None) => IteratorStart::Latest,
        ("AT_TIMESTAMP", None) => IteratorStart::AtTimestamp(ts.ok_or_else(|| {
            ApiError::invalid_argument(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. \
                 Current request has no timestamp parameter.",
            )
        })?),
        _ => {
            return Err(ApiError::invalid_argument(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
                 StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
                 Request specified {kind} and {}StartingSequenceNumber.",
                if has_seq { "also a " } else { "no " }
            )))
        }
    })
}

/// The iterator types, in the model's order.
pub const ITERATOR_TYPES: &[&str] = &[
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

/// A shard in DescribeStream / ListShards form.
pub fn shard_value(s: &ShardInfo) -> Value {
    Value::map([
        ("ShardId", Value::str(s.shard_id.clone())),
        ("ParentShardId", Value::opt_str(s.parent_shard_id.clone())),
        (
            "AdjacentParentShardId",
            Value::opt_str(s.adjacent_parent_shard_id.clone()),
        ),
        (
            "HashKeyRange",
            Value::map([
                (
                    "StartingHashKey",
                    Value::str(s.starting_hash_key.to_string()),
                ),
                ("EndingHashKey", Value::str(s.ending_hash_key.to_string())),
            ]),
        ),
        (
            "SequenceNumberRange",
            Value::map([
                (
                    "StartingSequenceNumber",
                    Value::str(s.starting_sequence_number.clone()),
                ),
                (
                    "EndingSequenceNumber",
                    Value::opt_str(s.ending_sequence_number.clone()),
                ),
            ]),
        ),
    ])
}

pub fn stream_mode_value(mode: StreamMode) -> Value {
    let name = match mode {
        StreamMode::Provisioned => "PROVISIONED",
        StreamMode::OnDemand => "ON_DEMAND",
    };
    Value::map([("StreamMode", Value::str(name))])
}

pub fn enhanced_monitoring_value(metrics: &[String]) -> Value {
    Value::List(vec![Value::map([(
        "ShardLevelMetrics",
        Value::List(metrics.iter().map(|m| Value::str(m.clone())).collect()),
    )])])
}

/// A tag list in `[{Key, Value}]` form.
pub fn tag_list(tags: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::List(
        tags.into_iter()
            .map(|(k, v)| Value::map([("Key", Value::Str(k)), ("Value", Value::Str(v))]))
            .collect(),
    )
}

/// Reads a list of tag keys (1..=50).
pub fn read_tag_keys(input: &mut Input, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    input.list(name, true, 1, 50, |inp, i, v| {
        inp.element_string(name, i, v, TAG_KEY)
    })
}

/// Reads a ShardLevelMetrics list (1..=7 of the metric names).
pub fn read_metrics(input: &mut Input) -> Result<Option<Vec<String>>, ApiError> {
    input.list("ShardLevelMetrics", true, 1, 7, |inp, i, v| {
        inp.element_string(
            "ShardLevelMetrics",
            i,
            v,
            StrRule::one_of(&weir_log::METRIC_NAMES),
        )
    })
}

/// EnableEnhancedMonitoring (`enable`) and DisableEnhancedMonitoring share their shapes.
pub async fn change_monitoring(
    ctx: &Ctx,
    mut input: Input,
    enable: bool,
) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let metrics = read_metrics(&mut input)?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let change = ctx
        .log
        .change_monitoring(&key, &metrics.unwrap_or_default(), enable)?;
    Ok(monitoring_value(ctx, &key, change))
}

/// The members DescribeStream's StreamDescription and DescribeStreamSummary's summary share.
pub fn stream_fields(info: &weir_log::StreamInfo) -> Vec<(&'static str, Value)> {
    let (kind, key) = match &info.encryption {
        Some(e) => (Value::str(e.kind.clone()), Value::str(e.key_id.clone())),
        None => (Value::str("NONE"), Value::Null),
    };
    vec![
        ("StreamName", Value::str(info.name.clone())),
        ("StreamARN", Value::str(info.arn.clone())),
        ("StreamStatus", Value::str(info.status.as_str())),
        ("StreamModeDetails", stream_mode_value(info.mode)),
        (
            "RetentionPeriodHours",
            Value::Int(info.retention_hours.into()),
        ),
        ("StreamCreationTimestamp", Value::Timestamp(info.created_ms)),
        (
            "EnhancedMonitoring",
            enhanced_monitoring_value(&info.shard_level_metrics),
        ),
        ("EncryptionType", kind),
        ("KeyId", key),
    ]
}

/// The EnhancedMonitoringOutput shape.
fn monitoring_value(ctx: &Ctx, key: &StreamKey, change: weir_log::MonitoringChange) -> Value {
    let list = |v: Vec<String>| Value::List(v.into_iter().map(Value::Str).collect());
    Value::map([
        ("StreamName", Value::str(key.name.clone())),
        ("CurrentShardLevelMetrics", list(change.current)),
        ("DesiredShardLevelMetrics", list(change.desired)),
        ("StreamARN", Value::str(ctx.log.stream_arn(key))),
    ])
}
