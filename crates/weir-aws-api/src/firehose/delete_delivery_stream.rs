//! DeleteDeliveryStream.

use super::common::STREAM_NAME;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    input.boolean("AllowForceDelete")?;
    input.finish()?;
    ctx.delivery
        .delete(&ctx.region, &name.unwrap_or_default())
        .await?;
    Ok(Value::Map(Vec::new()))
}
