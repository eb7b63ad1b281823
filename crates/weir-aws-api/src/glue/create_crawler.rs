//! CreateCrawler: a crawler in READY state (SCHEDULED when it has a schedule).

use std::collections::BTreeMap;

use super::common::{read, string};
use super::crawler::{defaults, definition};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    let tags: BTreeMap<String, String> = read(&mut input, "Tags")?.unwrap_or_default();
    let def = definition(&mut input, defaults(name))?;
    ctx.crawlers.create(&ctx.region, def, tags)?;
    Ok(Value::map([]))
}
