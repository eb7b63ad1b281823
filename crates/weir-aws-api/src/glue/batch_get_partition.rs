//! BatchGetPartition: the partitions that exist, in the order asked; missing ones are left
//! out (UnprocessedKeys is for keys a throttled catalog could not read: always empty here).

use super::common::{string, strings, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let Some(Value::List(keys)) = input.raw("PartitionsToGet") else {
        return Ok(Value::map([("Partitions", Value::List(Vec::new()))]));
    };
    // The table must exist even when no partition does.
    ctx.catalog.get_table(&ctx.region, &db, &table)?;
    let mut out = Vec::new();
    for key in keys {
        let Value::Map(members) = key else { continue };
        let values = members
            .into_iter()
            .find(|(k, _)| k == "Values")
            .map(|(_, v)| strings(v))
            .unwrap_or_default();
        match ctx.catalog.get_partition(&ctx.region, &db, &table, &values) {
            Ok(p) => out.push(write(&p)),
            Err(weir_catalog::CatalogError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Value::map([
        ("Partitions", Value::List(out)),
        ("UnprocessedKeys", Value::List(Vec::new())),
    ]))
}
