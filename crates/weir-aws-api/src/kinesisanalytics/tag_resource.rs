//! TagResource (at most 50 user tags on an application).

use super::{error, shapes, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceARN");
    let tags = shapes::read_tags(input.raw("Tags"));
    ctx.analytics.tag(&arn, tags).map_err(error)?;
    Ok(Value::map([]))
}
