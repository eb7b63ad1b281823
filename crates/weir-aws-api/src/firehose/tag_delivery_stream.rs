//! TagDeliveryStream.

use super::common::{read_tags, STREAM_NAME};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let tags = read_tags(&mut input, "Tags", true)?;
    input.finish()?;
    ctx.delivery.tag(
        &ctx.region,
        &name.unwrap_or_default(),
        tags.unwrap_or_default(),
    )?;
    Ok(Value::Map(Vec::new()))
}
