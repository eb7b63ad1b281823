//! TagResource, UntagResource, ListTagsForResource: tags of a cluster or configuration.

use super::{api_error, now_ms, string, tags_of, tags_value};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn tag(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn").unwrap_or_default();
    let add = tags_of(&mut input, "Tags");
    ctx.clusters
        .tag(&arn, add, &[], now_ms(ctx))
        .map_err(api_error)?;
    Ok(Value::Map(Vec::new()))
}

pub fn untag(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn").unwrap_or_default();
    let keys = super::strings(&mut input, "TagKeys");
    ctx.clusters
        .tag(&arn, Default::default(), &keys, now_ms(ctx))
        .map_err(api_error)?;
    Ok(Value::Map(Vec::new()))
}

pub fn list(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn").unwrap_or_default();
    let tags = ctx.clusters.tags(&arn, now_ms(ctx)).map_err(api_error)?;
    Ok(Value::map([("Tags", tags_value(&tags))]))
}
