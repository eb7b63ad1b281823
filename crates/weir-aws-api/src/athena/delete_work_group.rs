//! DeleteWorkGroup (`primary` cannot be deleted).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "WorkGroup").unwrap_or_default();
    ctx.athena
        .delete_work_group(&ctx.region, &name)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
