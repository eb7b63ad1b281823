//! BatchDeleteTable: tables that cannot be deleted are listed in Errors.

use super::common::{error_detail, string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let names = strings(input.raw("TablesToDelete").unwrap_or(Value::Null));
    let mut errors = Vec::new();
    for name in names {
        if let Err(e) = ctx.catalog.delete_table(&ctx.region, &db, &name) {
            if let weir_catalog::CatalogError::Storage(_) = e {
                return Err(e.into());
            }
            errors.push(Value::map([
                ("TableName", Value::Str(name)),
                ("ErrorDetail", error_detail(&e)),
            ]));
        }
    }
    Ok(Value::map([("Errors", Value::List(errors))]))
}
