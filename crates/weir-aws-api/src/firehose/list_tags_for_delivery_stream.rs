//! ListTagsForDeliveryStream: tags in key order, 50 by default, after ExclusiveStartTagKey.

use super::common::{STREAM_NAME, TAG_KEY};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let after = input.string("ExclusiveStartTagKey", false, TAG_KEY)?;
    let limit = input.int("Limit", false, Some(1), Some(50))?;
    input.finish()?;
    let limit = limit.unwrap_or(50) as usize;
    let tags: Vec<(String, String)> = ctx
        .delivery
        .tags(&ctx.region, &name.unwrap_or_default())?
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    let more = tags.len() > limit;
    Ok(Value::map([
        (
            "Tags",
            Value::List(
                tags.into_iter()
                    .take(limit)
                    .map(|(k, v)| Value::map([("Key", Value::Str(k)), ("Value", Value::Str(v))]))
                    .collect(),
            ),
        ),
        ("HasMoreTags", Value::Bool(more)),
    ]))
}
