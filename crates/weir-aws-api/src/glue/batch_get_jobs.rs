//! BatchGetJobs: the jobs found, and the names not found (not an error).

use super::common::strings;
use super::job::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let names = input.raw("JobNames").map(strings).unwrap_or_default();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match ctx.jobs.get(&ctx.region, &name) {
            Ok(j) => found.push(render(&j)),
            Err(_) => missing.push(Value::Str(name)),
        }
    }
    Ok(Value::map([
        ("Jobs", Value::List(found)),
        ("JobsNotFound", Value::List(missing)),
    ]))
}
