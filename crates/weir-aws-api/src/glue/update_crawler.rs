//! UpdateCrawler: the members sent replace the crawler's (not while it runs); `""` clears
//! Schedule, Configuration, TablePrefix and Description.

use super::common::string;
use super::crawler::definition;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    ctx.crawlers.update(&ctx.region, &name, |d| {
        *d = definition(&mut input, d.clone())?;
        Ok::<_, ApiError>(())
    })?;
    Ok(Value::map([]))
}
