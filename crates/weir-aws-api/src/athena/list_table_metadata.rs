//! ListTableMetadata: a database's tables with columns and parameters; Expression filters names
//! as GetTables' does.

use super::common::{check_catalog, int, offset, string, table_metadata};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    check_catalog(&string(&mut input, "CatalogName").unwrap_or_default())?;
    let db = string(&mut input, "DatabaseName").unwrap_or_default();
    let filter = crate::glue::name_filter(string(&mut input, "Expression").as_deref())
        .map_err(|e| super::common::invalid(e.message))?;
    let from = offset(string(&mut input, "NextToken"))?;
    let max = int(&mut input, "MaxResults").map_or(50, |n| n.clamp(1, 50) as usize);
    let tables: Vec<_> = ctx
        .catalog
        .tables(&ctx.region, &db)
        .map_err(|_| super::metadata(format!("Database {db} not found.")))?
        .into_iter()
        .filter(|t| filter.as_ref().is_none_or(|re| re.is_match(&t.name)))
        .collect();
    let next = (tables.len() > from + max).then(|| (from + max).to_string());
    Ok(Value::map([
        (
            "TableMetadataList",
            Value::List(
                tables
                    .iter()
                    .skip(from)
                    .take(max)
                    .map(table_metadata)
                    .collect(),
            ),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
