//! RegisterStreamConsumer.

use super::common::{consumer_value, stream_key_from_arn, CONSUMER_NAME, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream_arn = input.string("StreamARN", true, STREAM_ARN)?;
    let name = input.string("ConsumerName", true, CONSUMER_NAME)?;
    input.string("StreamId", false, STREAM_ID)?;
    input.string_map("Tags", false, 1, 200)?;
    input.finish()?;
    let key = stream_key_from_arn(ctx, &stream_arn.unwrap_or_default())?;
    let c = ctx.log.register_consumer(&key, &name.unwrap_or_default())?;
    Ok(Value::map([("Consumer", consumer_value(&c, false))]))
}
