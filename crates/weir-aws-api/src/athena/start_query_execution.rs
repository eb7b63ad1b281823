//! StartQueryExecution: queues a query; its id answers at once.

use super::common::{nested, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let query = string(&mut input, "QueryString").unwrap_or_default();
    let context = input.raw("QueryExecutionContext");
    let result = input.raw("ResultConfiguration");
    let params = input
        .raw("ExecutionParameters")
        .map(crate::glue::common::strings)
        .unwrap_or_default();
    let catalog = nested(&context, "Catalog");
    if let Some(c) = &catalog {
        super::common::check_catalog(c)?;
    }
    let id = ctx
        .athena
        .start(weir_athena::StartRequest {
            query,
            region: ctx.region.clone(),
            database: nested(&context, "Database"),
            catalog,
            work_group: string(&mut input, "WorkGroup"),
            output_location: nested(&result, "OutputLocation"),
            client_token: string(&mut input, "ClientRequestToken"),
            params,
        })
        .await
        .map_err(super::error)?;
    Ok(Value::map([("QueryExecutionId", Value::Str(id))]))
}
