//! GetDatabase of AwsDataCatalog.

use super::common::{check_catalog, database_doc, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    check_catalog(&string(&mut input, "CatalogName").unwrap_or_default())?;
    let name = string(&mut input, "DatabaseName").unwrap_or_default();
    let d = ctx
        .catalog
        .get_database(&ctx.region, &name)
        .map_err(|_| super::metadata(format!("Database {name} not found.")))?;
    Ok(Value::map([("Database", database_doc(d))]))
}
