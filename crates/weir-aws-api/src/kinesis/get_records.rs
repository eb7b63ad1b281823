//! GetRecords.

use super::common::{child_shards_value, record_value, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let iterator = input.string("ShardIterator", true, StrRule::len(1, 512))?;
    let limit = input.int("Limit", false, Some(1), Some(10_000))?;
    input.string("StreamARN", false, STREAM_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    input.finish()?;
    let Some(iterator) = iterator else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let log = ctx.log.clone();
    let out =
        tokio::task::spawn_blocking(move || log.get_records(&iterator, limit.map(|l| l as usize)))
            .await
            .map_err(|e| ApiError::internal(format!("read task failed: {e}")))??;
    let encrypted = out.encrypted;
    let records = out
        .records
        .into_iter()
        .map(|r| record_value(r, encrypted))
        .collect();
    Ok(Value::map([
        ("Records", Value::List(records)),
        ("NextShardIterator", Value::opt_str(out.next_iterator)),
        (
            "MillisBehindLatest",
            Value::Int(out.millis_behind_latest.into()),
        ),
        ("ChildShards", child_shards_value(out.child_shards)),
    ]))
}
