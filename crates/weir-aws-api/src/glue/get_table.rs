//! GetTable.

use super::common::{string, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let name = string(&mut input, "Name")?;
    let table = ctx.catalog.get_table(&ctx.region, &db, &name)?;
    Ok(Value::map([("Table", write(&table))]))
}
