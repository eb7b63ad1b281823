//! GetTableMetadata.

use super::common::{check_catalog, string, table_metadata};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    check_catalog(&string(&mut input, "CatalogName").unwrap_or_default())?;
    let db = string(&mut input, "DatabaseName").unwrap_or_default();
    let name = string(&mut input, "TableName").unwrap_or_default();
    let t = ctx
        .catalog
        .get_table(&ctx.region, &db, &name)
        .map_err(|e| super::metadata(e.to_string()))?;
    Ok(Value::map([("TableMetadata", table_metadata(&t))]))
}
