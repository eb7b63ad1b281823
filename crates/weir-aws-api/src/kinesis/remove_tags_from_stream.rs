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
    ctx.log
        .remove_tags(&stream.resolve(ctx)?, &keys.unwrap_or_default())?;
    Ok(Value::Map(Vec::new()))
}
