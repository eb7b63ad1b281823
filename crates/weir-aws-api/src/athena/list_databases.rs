//! ListDatabases of AwsDataCatalog (the Glue catalog).

use super::common::{check_catalog, database_doc, int, offset, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    check_catalog(&string(&mut input, "CatalogName").unwrap_or_default())?;
    let from = offset(string(&mut input, "NextToken"))?;
    let max = int(&mut input, "MaxResults").map_or(50, |n| n.clamp(1, 50) as usize);
    let dbs = ctx.catalog.databases(&ctx.region);
    let next = (dbs.len() > from + max).then(|| (from + max).to_string());
    let list = dbs
        .into_iter()
        .skip(from)
        .take(max)
        .map(database_doc)
        .collect();
    Ok(Value::map([
        ("DatabaseList", Value::List(list)),
        ("NextToken", Value::opt_str(next)),
    ]))
}
