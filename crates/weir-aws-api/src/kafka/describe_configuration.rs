//! DescribeConfiguration: a configuration and its latest revision.

use weir_kafka::ClusterError;

use super::{api_error, configuration_value, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn configuration_of(
    ctx: &Ctx,
    input: &mut Input,
) -> Result<weir_kafka::Configuration, ApiError> {
    let arn = string(input, "Arn").unwrap_or_default();
    ctx.clusters.configuration(&arn).ok_or_else(|| {
        api_error(ClusterError::NotFound(format!(
            "The configuration {arn} does not exist."
        )))
    })
}

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = configuration_of(ctx, &mut input)?;
    Ok(configuration_value(&c))
}
