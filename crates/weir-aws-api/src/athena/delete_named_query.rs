//! DeleteNamedQuery.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "NamedQueryId").unwrap_or_default();
    ctx.athena
        .delete_named_query(&ctx.region, &id)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
