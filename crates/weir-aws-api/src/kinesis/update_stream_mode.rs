//! UpdateStreamMode.

use super::common::{read_stream_mode, stream_key_from_arn, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("StreamARN", true, STREAM_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    let mode = read_stream_mode(&mut input)?;
    input.int("WarmThroughputMiBps", false, Some(0), None)?;
    input.finish()?;
    let Some(mode) = mode else {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'streamModeDetails' failed to satisfy constraint: Member must not be null",
        ));
    };
    let key = stream_key_from_arn(ctx, &arn.unwrap_or_default())?;
    ctx.log.update_stream_mode(&key, mode)?;
    Ok(Value::Map(Vec::new()))
}
