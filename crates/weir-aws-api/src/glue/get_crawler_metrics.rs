//! GetCrawlerMetrics: for the named crawlers (all when none are named), the last run's table
//! counts and the last and median run times.

use super::common::{name_page, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let names = input.raw("CrawlerNameList").map(strings);
    let named: Vec<_> = ctx
        .crawlers
        .list(&ctx.region)
        .into_iter()
        .filter(|r| names.as_ref().is_none_or(|n| n.contains(&r.def.name)))
        .collect();
    let (page, next) = name_page(&mut input, named, |r| &r.def.name)?;
    let metrics: Vec<Value> = page
        .iter()
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
    Ok(Value::map([
        ("CrawlerMetricsList", Value::List(metrics)),
        ("NextToken", Value::opt_str(next)),
    ]))
}
