//! PutRecord: one record, durable before the answer.

use super::common::STREAM_NAME;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Largest record (before base64), as Firehose allows.
pub const MAX_RECORD: usize = 1_024_000;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    input.require("Record");
    let data = input.structure("Record", |r| r.blob("Data", true, MAX_RECORD))?;
    input.finish()?;
    let (Some(name), Some(Some(record))) = (name, data) else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let (mut out, encrypted) = ctx
        .delivery
        .put_records(&ctx.region, &name, vec![record])
        .await?;
    let id = out
        .pop()
        .ok_or_else(|| ApiError::internal("no result for the record"))??;
    Ok(Value::map([
        ("RecordId", Value::Str(id)),
        ("Encrypted", Value::Bool(encrypted)),
    ]))
}
