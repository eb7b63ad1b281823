//! GetJobRuns: a job's runs, newest first, in pages of MaxResults (at most 200). A page token
//! names the last run of its page, so pages hold still when new runs start.

use super::common::string;
use super::common::{int, invalid, opt_string, token_from, token_of};
use super::job::render_run;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = int(&mut input, "MaxResults").map_or(100, |n| n.clamp(1, 200) as usize);
    let runs = ctx.jobs.runs(&ctx.region, &name)?;
    let skip = match after {
        Some(id) => match runs.iter().position(|r| r.id == id) {
            Some(i) => i + 1,
            None => return Err(invalid("Invalid pagination token.")),
        },
        None => 0,
    };
    let next =
        (runs.len() > skip + limit).then(|| token_of(&runs[skip + limit - 1].id.clone().into()));
    Ok(Value::map([
        (
            "JobRuns",
            Value::List(runs.iter().skip(skip).take(limit).map(render_run).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
