//! SplitShard.

use super::common::{read_stream_ref, HASH_KEY, SHARD_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let shard = input.string("ShardToSplit", true, SHARD_ID)?;
    let at = input.string("NewStartingHashKey", true, HASH_KEY)?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let shard = shard.unwrap_or_default();
    super::common::check_shard_id(ctx, &key, &shard)?;
    let at = at.unwrap_or_default();
    let log = ctx.log.clone();
    // Resharding waits for the commit queue (a fence), so it runs off the async workers.
    tokio::task::spawn_blocking(move || log.split_shard(&key, &shard, &at))
        .await
        .map_err(|e| ApiError::internal(format!("reshard task failed: {e}")))??;
    Ok(Value::Map(Vec::new()))
}
