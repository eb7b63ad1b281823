//! UntagResource.

use super::{error, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceARN");
    let keys: Vec<String> = match input.raw("TagKeys") {
        Some(Value::List(items)) => items
            .into_iter()
            .filter_map(|k| match k {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    ctx.analytics.untag(&arn, &keys).map_err(error)?;
    Ok(Value::map([]))
}
