//! StartDeliveryStreamEncryption.

use super::common::{KMS_KEY_ARN, STREAM_NAME};
use super::create_delivery_stream::encryption_of;
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let config = input.structure("DeliveryStreamEncryptionConfigurationInput", |e| {
        Ok((
            e.string("KeyARN", false, KMS_KEY_ARN)?,
            e.string(
                "KeyType",
                true,
                StrRule::one_of(&["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
            )?,
        ))
    })?;
    input.finish()?;
    let encryption = match config {
        Some((arn, Some(key_type))) => encryption_of(arn, key_type)?,
        _ => encryption_of(None, "AWS_OWNED_CMK".into())?,
    };
    ctx.delivery
        .set_encryption(&ctx.region, &name.unwrap_or_default(), Some(encryption))?;
    Ok(Value::Map(Vec::new()))
}
