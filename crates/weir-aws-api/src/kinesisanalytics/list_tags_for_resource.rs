//! ListTagsForResource.

use super::{error, shapes, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceARN");
    let tags = ctx.analytics.tags(&arn).map_err(error)?;
    Ok(Value::map([("Tags", shapes::tags(&tags))]))
}
