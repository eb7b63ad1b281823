//! DescribeDeliveryStream.

use super::common::{describe, DESTINATION_ID, STREAM_NAME};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let limit = input.int("Limit", false, Some(1), Some(10_000))?;
    let after = input.string("ExclusiveStartDestinationId", false, DESTINATION_ID)?;
    input.finish()?;
    let info = ctx
        .delivery
        .describe(&ctx.region, &name.unwrap_or_default())?;
    Ok(Value::map([(
        "DeliveryStreamDescription",
        describe(&info, limit.unwrap_or(10_000) as usize, after.as_deref()),
    )]))
}
