//! UpdateStreamMode.

use weir_log::StreamMode;

use super::common::{stream_key_from_arn, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = input.string("StreamARN", true, STREAM_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    let mode = input.structure("StreamModeDetails", |s| {
        s.string(
            "StreamMode",
            true,
            StrRule::one_of(&["PROVISIONED", "ON_DEMAND"]),
        )
    })?;
    input.int("WarmThroughputMiBps", false, Some(0), None)?;
    input.finish()?;
    let mode = match mode.flatten().as_deref() {
        Some("ON_DEMAND") => StreamMode::OnDemand,
        Some(_) => StreamMode::Provisioned,
        None => return Err(ApiError::validation(
            "1 validation error detected: Value null at 'streamModeDetails' failed to satisfy constraint: Member must not be null",
        )),
    };
    let key = stream_key_from_arn(ctx, &arn.unwrap_or_default())?;
    ctx.log.update_stream_mode(&key, mode)?;
    Ok(Value::Map(Vec::new()))
}
