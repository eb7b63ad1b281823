//! StartJobRun: the script runs in the background as a local Python process; GetJobRun shows
//! its state.

use std::collections::BTreeMap;

use weir_jobs::RunRequest;

use super::common::{int, opt_string, read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let arguments: Option<BTreeMap<String, String>> = read(&mut input, "Arguments")?;
    let max_capacity = match input.raw("MaxCapacity") {
        Some(Value::Float(f)) => Some(f),
        Some(Value::Int(i)) => Some(i as f64),
        _ => None,
    };
    let req = RunRequest {
        arguments,
        timeout_min: int(&mut input, "Timeout"),
        max_capacity,
        retry_of: opt_string(&mut input, "JobRunId"),
    };
    let id = ctx.jobs.start(&ctx.region, &name, req)?;
    Ok(Value::map([("JobRunId", Value::str(id))]))
}
