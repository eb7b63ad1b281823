//! GetRecords.

use super::common::{child_shards_value, record_value, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::{Ctx, ReadBudget, Reply};

/// The most one GetRecords call returns: 10 MiB of data.
const MAX_ANSWER_BYTES: usize = 10 << 20;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Reply, ApiError> {
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
    // Room in the read budget for the most this call can return (a record is at most 1 MiB),
    // given back beyond what it read once the records are in hand, the rest once sent.
    let most = limit.map_or(MAX_ANSWER_BYTES, |l| (l as usize).saturating_mul(1 << 20));
    let mut held = ctx
        .reads
        .reserve(most.min(MAX_ANSWER_BYTES))
        .await
        .ok_or_else(|| ApiError::internal("the read budget is closed"))?;
    let log = ctx.log.clone();
    let out =
        tokio::task::spawn_blocking(move || log.get_records(&iterator, limit.map(|l| l as usize)))
            .await
            .map_err(|e| ApiError::internal(format!("read task failed: {e}")))??;
    ReadBudget::settle(
        &mut held,
        out.records.iter().map(|r| r.data.len() + 256).sum(),
    );
    let encrypted = out.encrypted;
    let records = out
        .records
        .into_iter()
        .map(|r| record_value(r, encrypted))
        .collect();
    let doc = Value::map([
        ("Records", Value::List(records)),
        ("NextShardIterator", Value::opt_str(out.next_iterator)),
        (
            "MillisBehindLatest",
            Value::Int(out.millis_behind_latest.into()),
        ),
        ("ChildShards", child_shards_value(out.child_shards)),
    ]);
    Ok(Reply::Held(doc, held))
}
