//! UpdateNamedQuery.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "NamedQueryId").unwrap_or_default();
    let name = string(&mut input, "Name").unwrap_or_default();
    let description = string(&mut input, "Description");
    let query = string(&mut input, "QueryString").unwrap_or_default();
    ctx.athena
        .update_named_query(&ctx.region, &id, &name, description, &query)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
