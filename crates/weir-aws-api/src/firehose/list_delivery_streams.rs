//! ListDeliveryStreams: names in order, 10 by default, after ExclusiveStartDeliveryStreamName.

use super::common::{SOURCE_TYPES, STREAM_NAME};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = input.int("Limit", false, Some(1), Some(10_000))?;
    let kind = input.string("DeliveryStreamType", false, StrRule::one_of(SOURCE_TYPES))?;
    let after = input.string("ExclusiveStartDeliveryStreamName", false, STREAM_NAME)?;
    input.finish()?;
    let limit = limit.unwrap_or(10) as usize;
    let names: Vec<String> = ctx
        .delivery
        .list(&ctx.region, kind.as_deref())
        .into_iter()
        .filter(|n| after.as_ref().is_none_or(|a| n > a))
        .collect();
    let more = names.len() > limit;
    Ok(Value::map([
        (
            "DeliveryStreamNames",
            Value::List(names.into_iter().take(limit).map(Value::Str).collect()),
        ),
        ("HasMoreDeliveryStreams", Value::Bool(more)),
    ]))
}
