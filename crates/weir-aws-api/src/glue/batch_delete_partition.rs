//! BatchDeletePartition: up to 25; those that do not exist are entries of Errors.

use super::common::{partition_errors, string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let mut values = Vec::new();
    if let Some(Value::List(keys)) = input.raw("PartitionsToDelete") {
        for key in keys {
            if let Value::Map(members) = key {
                let v = members
                    .into_iter()
                    .find(|(k, _)| k == "Values")
                    .map(|(_, v)| strings(v))
                    .unwrap_or_default();
                values.push(v);
            }
        }
    }
    let errors = ctx
        .catalog
        .delete_partitions(&ctx.region, &db, &table, values)?;
    Ok(Value::map([("Errors", partition_errors(errors))]))
}
