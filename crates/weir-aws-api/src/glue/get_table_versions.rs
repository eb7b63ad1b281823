//! GetTableVersions: the current version first, then archived ones, newest first.

use super::common::{opt_string, page_size, string, token_from, token_of, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let name = string(&mut input, "TableName")?;
    let skip: Option<usize> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = page_size(&mut input, 100);
    let versions = ctx.catalog.table_versions(&ctx.region, &db, &name)?;
    let skip = skip.unwrap_or(0);
    let next = (versions.len() > skip + limit).then(|| token_of(&(skip + limit).into()));
    Ok(Value::map([
        (
            "TableVersions",
            Value::List(versions.iter().skip(skip).take(limit).map(write).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
