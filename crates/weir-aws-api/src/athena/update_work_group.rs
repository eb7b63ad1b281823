//! UpdateWorkGroup: description, state, and ConfigurationUpdates' output location and
//! enforcement.

use super::common::{invalid, string};
use super::create_work_group::configuration;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "WorkGroup").unwrap_or_default();
    let mut wg = ctx
        .athena
        .work_group(&ctx.region, &name)
        .ok_or_else(|| invalid(format!("WorkGroup {name} is not found.")))?;
    if let Some(d) = string(&mut input, "Description") {
        wg.description = Some(d);
    }
    if let Some(s) = string(&mut input, "State") {
        wg.state = s;
    }
    let (output, enforce) = configuration(&input.raw("ConfigurationUpdates"));
    if output.is_some() {
        wg.output_location = output;
    }
    if let Some(e) = enforce {
        wg.enforce = e;
    }
    ctx.athena
        .put_work_group(&ctx.region, wg, false)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
