//! ListTagsForStream: tags in key order, paginated by ExclusiveStartTagKey.

use super::common::{read_stream_ref, tag_list, TAG_KEY};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Tags per page when the request sets no Limit.
const DEFAULT_LIMIT: i64 = 50;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let start = input.string("ExclusiveStartTagKey", false, TAG_KEY)?;
    let limit = input
        .int("Limit", false, Some(1), Some(50))?
        .unwrap_or(DEFAULT_LIMIT) as usize;
    input.finish()?;
    let tags = ctx.log.tags(&stream.resolve(ctx)?)?;
    let mut page: Vec<(String, String)> = tags
        .into_iter()
        .filter(|(k, _)| start.as_ref().is_none_or(|s| k > s))
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    Ok(Value::map([
        ("Tags", tag_list(page)),
        ("HasMoreTags", Value::Bool(more)),
    ]))
}
