//! GetJobRun.

use super::common::string;
use super::job::render_run;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let id = string(&mut input, "RunId")?;
    let r = ctx.jobs.run(&ctx.region, &name, &id)?;
    Ok(Value::map([("JobRun", render_run(&r))]))
}
