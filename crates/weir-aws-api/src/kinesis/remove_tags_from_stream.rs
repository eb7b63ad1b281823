//! RemoveTagsFromStream.

use super::common::{read_stream_ref, read_tag_keys};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let keys = read_tag_keys(&mut input, "TagKeys")?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let keys = keys.unwrap_or_default();
    ctx.log.describe_stream(&key)?;
    super::common::check_tag_chars(
        ctx,
        &key,
        "remove tags from",
        keys.iter().map(String::as_str),
    )?;
    ctx.log.remove_tags(&key, &keys)?;
    Ok(Value::Map(Vec::new()))
}
