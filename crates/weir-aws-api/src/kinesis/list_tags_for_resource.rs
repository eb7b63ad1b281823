//! ListTagsForResource.

use super::common::{stream_key_from_arn, tag_list, RESOURCE_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("ResourceARN", true, RESOURCE_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    input.finish()?;
    let key = stream_key_from_arn(ctx, &arn.unwrap_or_default())?;
    Ok(Value::map([("Tags", tag_list(ctx.log.tags(&key)?))]))
}
