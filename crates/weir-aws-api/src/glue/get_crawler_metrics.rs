//! GetCrawlerMetrics: for the named crawlers (all when none are named), the last run's table
//! counts and the last and median run times.

use super::common::{opt_string, page_size, strings, token_from, token_of};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let names = input.raw("CrawlerNameList").map(strings);
    let limit = page_size(&mut input, 100);
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let all = ctx.crawlers.list(&ctx.region);
    let rest: Vec<_> = all
        .iter()
        .filter(|r| names.as_ref().is_none_or(|n| n.contains(&r.def.name)))
        .filter(|r| after.as_ref().is_none_or(|a| r.def.name > *a))
        .collect();
    let page: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|r| {
            let last = r.runtimes.last().copied().unwrap_or(0.0);
            let mut sorted = r.runtimes.clone();
            sorted.sort_by(f64::total_cmp);
            let median = match sorted.len() {
                0 => 0.0,
                n if n % 2 == 1 => sorted[n / 2],
                n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
            };
            Value::map([
                ("CrawlerName", Value::str(r.def.name.clone())),
                ("TimeLeftSeconds", Value::Float(0.0)),
                ("StillEstimating", Value::Bool(r.state == "RUNNING")),
                ("LastRuntimeSeconds", Value::Float(last)),
                ("MedianRuntimeSeconds", Value::Float(median)),
                ("TablesCreated", Value::Int(r.tables_created as i128)),
                ("TablesUpdated", Value::Int(r.tables_updated as i128)),
                ("TablesDeleted", Value::Int(r.tables_deleted as i128)),
            ])
        })
        .collect();
    let mut members = vec![("CrawlerMetricsList", Value::List(page))];
    if rest.len() > limit {
        let last = &rest[limit - 1].def.name;
        members.push(("NextToken", Value::str(token_of(&last.clone().into()))));
    }
    Ok(Value::map(members))
}
