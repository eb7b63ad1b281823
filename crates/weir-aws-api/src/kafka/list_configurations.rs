//! ListConfigurations: the region's configurations.

use super::{configuration_value, page};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let all: Vec<Value> = ctx
        .clusters
        .configurations(&ctx.region)
        .iter()
        .map(configuration_value)
        .collect();
    let (items, next) = page(&mut input, all);
    Ok(Value::map([
        ("Configurations", Value::List(items)),
        ("NextToken", next),
    ]))
}
