//! UpdateJob: JobUpdate replaces the whole definition (members not given return to their
//! defaults), as Glue does.

use super::common::{invalid, string};
use super::job::definition;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let Some(Value::Map(members)) = input.raw("JobUpdate") else {
        return Err(invalid("JobUpdate is required."));
    };
    let mut update = Input::new(Value::Map(members), ctx.protocol)?;
    ctx.jobs
        .update(&ctx.region, &name, definition(&mut update))?;
    Ok(Value::map([("JobName", Value::str(name))]))
}
