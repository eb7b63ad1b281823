//! GetPartition.

use super::common::{string, strings, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let values = strings(input.raw("PartitionValues").unwrap_or(Value::Null));
    let p = ctx
        .catalog
        .get_partition(&ctx.region, &db, &table, &values)?;
    Ok(Value::map([("Partition", write(&p))]))
}
