//! DescribeStream: the stream and a page of its shards.

use weir_log::parse_shard_id;

use super::common::{
    encryption_values, enhanced_monitoring_value, read_stream_ref, shard_value, stream_mode_value,
    SHARD_ID,
};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Shards per page when the request sets no Limit.
const DEFAULT_LIMIT: i64 = 100;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let limit = input
        .int("Limit", false, Some(1), Some(10_000))?
        .unwrap_or(DEFAULT_LIMIT) as usize;
    let start = input.string("ExclusiveStartShardId", false, SHARD_ID)?;
    input.finish()?;
    let info = ctx.log.describe_stream(&stream.resolve(ctx)?)?;
    let after = start.as_deref().and_then(parse_shard_id);
    let mut shards: Vec<_> = info
        .shards
        .iter()
        .filter(|s| after.is_none_or(|a| s.index > a))
        .collect();
    let has_more = shards.len() > limit;
    shards.truncate(limit);
    let (kind, key) = encryption_values(&info);
    Ok(Value::map([(
        "StreamDescription",
        Value::map([
            ("StreamName", Value::str(info.name.clone())),
            ("StreamARN", Value::str(info.arn.clone())),
            ("StreamStatus", Value::str(info.status.as_str())),
            ("StreamModeDetails", stream_mode_value(info.mode)),
            (
                "Shards",
                Value::List(shards.into_iter().map(shard_value).collect()),
            ),
            ("HasMoreShards", Value::Bool(has_more)),
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
        ]),
    )]))
}
