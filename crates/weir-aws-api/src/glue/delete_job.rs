//! DeleteJob: no error when the job is not there; runs under way are stopped.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    ctx.jobs.delete(&ctx.region, &name)?;
    Ok(Value::map([("JobName", Value::str(name))]))
}
