//! CreateNamedQuery (idempotent on ClientRequestToken).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name").unwrap_or_default();
    let description = string(&mut input, "Description");
    let database = string(&mut input, "Database").unwrap_or_default();
    let query = string(&mut input, "QueryString").unwrap_or_default();
    let work_group = string(&mut input, "WorkGroup");
    let token = string(&mut input, "ClientRequestToken");
    let id = ctx
        .athena
        .create_named_query(
            &ctx.region,
            &name,
            description,
            &database,
            &query,
            work_group.as_deref(),
            token,
        )
        .map_err(super::error)?;
    Ok(Value::map([("NamedQueryId", Value::Str(id))]))
}
