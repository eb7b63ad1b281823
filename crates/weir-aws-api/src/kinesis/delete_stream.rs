//! DeleteStream.

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let enforce = input.boolean("EnforceConsumerDeletion")?.unwrap_or(false);
    input.finish()?;
    ctx.log.delete_stream(&stream.resolve(ctx)?, enforce)?;
    Ok(Value::Map(Vec::new()))
}
