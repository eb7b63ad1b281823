//! GetShardIterator.

use weir_log::IteratorStart;

use super::common::{read_stream_ref, SEQUENCE_NUMBER, SHARD_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

const TYPES: &[&str] = &[
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let shard = input.string("ShardId", true, SHARD_ID)?;
    let kind = input.string("ShardIteratorType", true, StrRule::one_of(TYPES))?;
    let seq = input.string("StartingSequenceNumber", false, SEQUENCE_NUMBER)?;
    let ts = input.timestamp("Timestamp")?;
    input.finish()?;
    let (Some(shard), Some(kind)) = (shard, kind) else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let wrong_combination = || {
        ApiError::invalid_argument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified {kind} and {}StartingSequenceNumber.",
            if seq.is_some() { "" } else { "no " }
        ))
    };
    let start = match (kind.as_str(), seq.clone()) {
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
        _ => return Err(wrong_combination()),
    };
    let iterator = ctx
        .log
        .shard_iterator(&stream.resolve(ctx)?, &shard, &start)?;
    Ok(Value::map([("ShardIterator", Value::Str(iterator))]))
}
