//! CreateJob: a Python shell job (Spark and Ray jobs are refused, naming their type).

use std::collections::BTreeMap;

use super::common::{read, string};
use super::job::definition;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    let tags: BTreeMap<String, String> = read(&mut input, "Tags")?.unwrap_or_default();
    ctx.jobs
        .create(&ctx.region, &name, definition(&mut input), tags)?;
    Ok(Value::map([("Name", Value::str(name))]))
}
