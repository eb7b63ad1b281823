//! DescribeApplication.

use super::{error, shapes, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    let app = ctx.analytics.describe(&ctx.region, &name).map_err(error)?;
    Ok(Value::map([("ApplicationDetail", shapes::detail(&app))]))
}
