//! GetDatabases: databases in name order, a page at a time.

use super::common::{name_page, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let dbs = ctx.catalog.databases(&ctx.region);
    let (page, next) = name_page(&mut input, dbs, |d| &d.name)?;
    Ok(Value::map([
        (
            "DatabaseList",
            Value::List(page.iter().map(write).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
