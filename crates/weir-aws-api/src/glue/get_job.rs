//! GetJob.

use super::common::string;
use super::job::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let j = ctx.jobs.get(&ctx.region, &name)?;
    Ok(Value::map([("Job", render(&j))]))
}
