//! DeleteCrawler (not while it runs; the tables it made stay).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    ctx.crawlers.delete(&ctx.region, &name)?;
    Ok(Value::map([]))
}
