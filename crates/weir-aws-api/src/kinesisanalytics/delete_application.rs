//! DeleteApplication: CreateTimestamp must be the application's; a running one is stopped.

use super::{error, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    let created = input.timestamp("CreateTimestamp")?.unwrap_or_default();
    ctx.analytics
        .delete(&ctx.region, &name, created)
        .map_err(error)?;
    Ok(Value::map([]))
}
