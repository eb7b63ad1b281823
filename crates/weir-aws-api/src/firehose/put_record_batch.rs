//! PutRecordBatch: 1–500 records, at most 4 MiB in all, per-record results.

use super::common::STREAM_NAME;
use super::put_record::MAX_RECORD;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// The data of one request.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let records = input.list("Records", true, 1, 500, |inp, i, v| {
        inp.member_struct("Records", i, v, |r| r.blob("Data", true, MAX_RECORD))
    })?;
    input.finish()?;
    let (Some(name), Some(records)) = (name, records) else {
        return Err(ApiError::internal(
            "required members passed validation but are absent",
        ));
    };
    let total: usize = records.iter().map(|r| r.len()).sum();
    if total > MAX_BATCH_BYTES {
        return Err(ApiError::invalid_argument(format!(
            "Records size exceeds 4 MB limit: the batch holds {total} bytes."
        )));
    }
    let (out, encrypted) = ctx
        .delivery
        .put_records(&ctx.region, &name, records)
        .await?;
    let failed = out.iter().filter(|r| r.is_err()).count();
    let responses = out
        .into_iter()
        .map(|r| match r {
            Ok(id) => Value::map([("RecordId", Value::Str(id))]),
            Err(e) => {
                let e = ApiError::from(e);
                Value::map([
                    ("ErrorCode", Value::str(e.code)),
                    ("ErrorMessage", Value::Str(e.message)),
                ])
            }
        })
        .collect();
    Ok(Value::map([
        ("FailedPutCount", Value::Int(failed as i128)),
        ("Encrypted", Value::Bool(encrypted)),
        ("RequestResponses", Value::List(responses)),
    ]))
}
