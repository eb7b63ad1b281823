//! GetRecords.

use super::common::{STREAM_ARN, STREAM_ID};
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
    let encryption = if out.encrypted {
        Value::str("KMS")
    } else {
        Value::Null
    };
    let records = out
        .records
        .into_iter()
        .map(|r| {
            Value::map([
                ("SequenceNumber", Value::Str(r.sequence_number)),
                (
                    "ApproximateArrivalTimestamp",
                    Value::Timestamp(r.arrival_ms),
                ),
                ("Data", Value::Bytes(r.data)),
                ("PartitionKey", Value::Str(r.partition_key)),
                ("EncryptionType", encryption.clone()),
            ])
        })
        .collect();
    Ok(Value::map([
        ("Records", Value::List(records)),
        ("NextShardIterator", Value::opt_str(out.next_iterator)),
        (
            "MillisBehindLatest",
            Value::Int(out.millis_behind_latest.into()),
        ),
        ("ChildShards", child_shards(out.child_shards)),
    ]))
}

fn child_shards(children: Vec<weir_log::ChildShard>) -> Value {
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
