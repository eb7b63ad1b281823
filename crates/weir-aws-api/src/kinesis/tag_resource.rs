//! TagResource.

use super::common::{stream_key_from_arn, RESOURCE_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let tags = input.string_map("Tags", true, 1, 200)?;
    let arn = input.string("ResourceARN", true, RESOURCE_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    input.finish()?;
    let key = stream_key_from_arn(ctx, &arn.unwrap_or_default())?;
    ctx.log.add_tags(&key, tags.unwrap_or_default())?;
    Ok(Value::Map(Vec::new()))
}
