//! DescribeStream: the stream and a page of its shards.

use weir_log::parse_shard_id;

use super::common::{read_stream_ref, shard_value, stream_fields, SHARD_ID};
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
    let mut fields = stream_fields(&info);
    fields.push((
        "Shards",
        Value::List(shards.into_iter().map(shard_value).collect()),
    ));
    fields.push(("HasMoreShards", Value::Bool(has_more)));
    Ok(Value::map([("StreamDescription", Value::map(fields))]))
}
