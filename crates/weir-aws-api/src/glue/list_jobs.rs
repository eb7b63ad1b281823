//! ListJobs: job names by name, in pages, optionally only those carrying all given Tags.

use std::collections::BTreeMap;

use super::common::{name_page, read};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let tags: BTreeMap<String, String> = read(&mut input, "Tags")?.unwrap_or_default();
    let jobs: Vec<_> = ctx
        .jobs
        .list(&ctx.region)
        .into_iter()
        .filter(|j| tags.iter().all(|(k, v)| j.tags.get(k) == Some(v)))
        .collect();
    let (page, next) = name_page(&mut input, jobs, |j| j.name.as_str())?;
    Ok(Value::map([
        (
            "JobNames",
            Value::List(page.into_iter().map(|j| Value::Str(j.name)).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
