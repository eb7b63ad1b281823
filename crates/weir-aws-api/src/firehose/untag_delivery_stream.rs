//! UntagDeliveryStream.

use super::common::{STREAM_NAME, TAG_KEY};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let keys = input.list("TagKeys", true, 1, 50, |inp, i, v| {
        inp.element_string("TagKeys", i, v, TAG_KEY)
    })?;
    input.finish()?;
    ctx.delivery.untag(
        &ctx.region,
        &name.unwrap_or_default(),
        &keys.unwrap_or_default(),
    )?;
    Ok(Value::Map(Vec::new()))
}
