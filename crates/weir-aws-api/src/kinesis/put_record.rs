//! PutRecord.

use weir_log::{hashing::parse_hash_key, PutEntry};

use super::common::{read_stream_ref, HASH_KEY, SEQUENCE_NUMBER};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

/// The largest data blob the model admits (a stream's own maximum may be lower).
pub const MAX_DATA: usize = 10 * 1024 * 1024;
pub const PARTITION_KEY: StrRule = StrRule::len(1, 256);

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let data = input.blob("Data", true, MAX_DATA)?;
    let partition_key = input.string("PartitionKey", true, PARTITION_KEY)?;
    let explicit = input.string("ExplicitHashKey", false, HASH_KEY)?;
    let ordering = input.string("SequenceNumberForOrdering", false, SEQUENCE_NUMBER)?;
    input.finish()?;
    let (Some(data), Some(partition_key)) = (data, partition_key) else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let key = stream.resolve(ctx)?;
    if let Some(seq) = ordering.filter(|s| weir_log::seqno::parse(s).is_none()) {
        return Err(ApiError::invalid_argument(format!(
            "ExclusiveMinimumSequenceNumber {seq} used in PutRecord on stream {} under account {} \
             is invalid.",
            key.name,
            ctx.log.config().account_id
        )));
    }
    let entry = PutEntry {
        partition_key,
        explicit_hash_key: explicit_hash_key(explicit.as_deref())?,
        data,
    };
    let encrypted = ctx.log.is_encrypted(&key);
    let mut out = ctx.log.put_all(&key, vec![entry]).await?;
    let Some(o) = out.pop() else {
        return Err(ApiError::internal(
            "the log returned no result for the record",
        ));
    };
    Ok(Value::map([
        ("ShardId", Value::Str(o.shard_id)),
        ("SequenceNumber", Value::Str(o.sequence_number)),
        (
            "EncryptionType",
            if encrypted {
                Value::str("KMS")
            } else {
                Value::Null
            },
        ),
    ]))
}

/// Parses an ExplicitHashKey that passed the pattern check; AWS's error when out of range.
pub fn explicit_hash_key(s: Option<&str>) -> Result<Option<u128>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => parse_hash_key(s).map(Some).ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {s}"
            ))
        }),
    }
}
