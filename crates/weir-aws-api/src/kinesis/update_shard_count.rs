//! UpdateShardCount (UNIFORM_SCALING).

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let target = input.int("TargetShardCount", true, Some(1), None)?;
    input.string("ScalingType", true, StrRule::one_of(&["UNIFORM_SCALING"]))?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let target = u32::try_from(target.unwrap_or(1)).unwrap_or(u32::MAX);
    let log = ctx.log.clone();
    let k = key.clone();
    let change = tokio::task::spawn_blocking(move || log.update_shard_count(&k, target))
        .await
        .map_err(|e| ApiError::internal(format!("reshard task failed: {e}")))??;
    Ok(Value::map([
        ("StreamName", Value::str(key.name.clone())),
        ("CurrentShardCount", Value::Int(change.current.into())),
        ("TargetShardCount", Value::Int(change.target.into())),
        ("StreamARN", Value::str(ctx.log.stream_arn(&key))),
    ]))
}
