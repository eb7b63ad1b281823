//! MergeShards.

use super::common::{read_stream_ref, SHARD_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let shard = input.string("ShardToMerge", true, SHARD_ID)?;
    let adjacent = input.string("AdjacentShardToMerge", true, SHARD_ID)?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let (shard, adjacent) = (shard.unwrap_or_default(), adjacent.unwrap_or_default());
    super::common::check_shard_id(ctx, &key, &shard)?;
    super::common::check_shard_id(ctx, &key, &adjacent)?;
    let log = ctx.log.clone();
    tokio::task::spawn_blocking(move || log.merge_shards(&key, &shard, &adjacent))
        .await
        .map_err(|e| ApiError::internal(format!("reshard task failed: {e}")))??;
    Ok(Value::Map(Vec::new()))
}
