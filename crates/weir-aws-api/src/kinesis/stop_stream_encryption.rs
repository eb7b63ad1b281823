//! StopStreamEncryption.

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let kind = input.string("EncryptionType", true, StrRule::one_of(&["NONE", "KMS"]))?;
    input.string("KeyId", true, StrRule::len(1, 2048))?;
    input.finish()?;
    if kind.as_deref() != Some("KMS") {
        return Err(ApiError::invalid_argument(
            "EncryptionType must be KMS to stop stream encryption.",
        ));
    }
    ctx.log.set_encryption(&stream.resolve(ctx)?, None)?;
    Ok(Value::Map(Vec::new()))
}
