//! GetJobs: the region's jobs by name, in pages.

use super::common::name_page;
use super::job::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let jobs = ctx.jobs.list(&ctx.region);
    let (page, next) = name_page(&mut input, jobs, |j| j.name.as_str())?;
    Ok(Value::map([
        ("Jobs", Value::List(page.iter().map(render).collect())),
        ("NextToken", Value::opt_str(next)),
    ]))
}
