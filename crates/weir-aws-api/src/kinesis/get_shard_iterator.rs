//! GetShardIterator.

use super::common::{iterator_start, read_stream_ref, ITERATOR_TYPES, SEQUENCE_NUMBER, SHARD_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let shard = input.string("ShardId", true, SHARD_ID)?;
    let kind = input.string("ShardIteratorType", true, StrRule::one_of(ITERATOR_TYPES))?;
    let seq = input.string("StartingSequenceNumber", false, SEQUENCE_NUMBER)?;
    let ts = input.timestamp("Timestamp")?;
    input.finish()?;
    let (Some(shard), Some(kind)) = (shard, kind) else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let key = stream.resolve(ctx)?;
    // AWS looks at the shard and the stream before the starting position.
    ctx.log.check_iterator_shard(&key, &shard)?;
    let start = iterator_start(&kind, seq, ts)?;
    // AWS: five GetShardIterator calls per second per open shard (however the id is spelled).
    let canonical =
        weir_log::parse_shard_id(&shard).map_or_else(|| shard.clone(), weir_log::shard_id);
    if !ctx.admit(
        &format!("GetShardIterator/{}/{}/{canonical}", key.region, key.name),
        5,
    ) {
        return Err(ApiError::new(
            "ProvisionedThroughputExceededException",
            400,
            format!(
                "Rate exceeded for GetShardIterator on shard {canonical} in stream {}.",
                key.name
            ),
        ));
    }
    let iterator = ctx.log.shard_iterator(&key, &shard, &start)?;
    Ok(Value::map([("ShardIterator", Value::Str(iterator))]))
}
