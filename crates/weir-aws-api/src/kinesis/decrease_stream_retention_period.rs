//! DecreaseStreamRetentionPeriod.

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let hours = input.int("RetentionPeriodHours", true, None, None)?;
    input.finish()?;
    let hours = u32::try_from(hours.unwrap_or(0).max(0)).unwrap_or(u32::MAX);
    ctx.log.decrease_retention(&stream.resolve(ctx)?, hours)?;
    Ok(Value::Map(Vec::new()))
}
