//! StartStreamEncryption. Weir records the KMS key but stores data as it stores all data.

use weir_log::Encryption;

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let kind = input.string("EncryptionType", true, StrRule::one_of(&["NONE", "KMS"]))?;
    let key_id = input.string("KeyId", true, StrRule::len(1, 2048))?;
    input.finish()?;
    if kind.as_deref() != Some("KMS") {
        return Err(ApiError::invalid_argument(
            "EncryptionType must be KMS to start stream encryption.",
        ));
    }
    let encryption = Encryption {
        kind: "KMS".into(),
        key_id: key_id.unwrap_or_default(),
    };
    ctx.log
        .set_encryption(&stream.resolve(ctx)?, Some(encryption))?;
    Ok(Value::Map(Vec::new()))
}
