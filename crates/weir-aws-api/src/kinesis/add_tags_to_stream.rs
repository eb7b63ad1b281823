//! AddTagsToStream.

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let tags = input.string_map("Tags", true, 1, 200)?;
    input.finish()?;
    ctx.log
        .add_tags(&stream.resolve(ctx)?, tags.unwrap_or_default())?;
    Ok(Value::Map(Vec::new()))
}
