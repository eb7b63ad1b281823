//! PutRecords: up to 500 entries, per-entry results.

use weir_log::PutEntry;

use super::common::{read_stream_ref, HASH_KEY};
use super::put_record::{explicit_hash_key, MAX_DATA, PARTITION_KEY};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Data plus partition keys of one request.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let raw = input.list("Records", true, 1, 500, |inp, i, v| {
        inp.member_struct("Records", i, v, |e| {
            let data = e.blob("Data", true, MAX_DATA)?;
            let explicit = e.string("ExplicitHashKey", false, HASH_KEY)?;
            let pk = e.string("PartitionKey", true, PARTITION_KEY)?;
            Ok(Some((data, explicit, pk)))
        })
    })?;
    input.finish()?;
    let raw = raw.unwrap_or_default();
    let mut entries = Vec::with_capacity(raw.len());
    let mut total = 0usize;
    for (data, explicit, pk) in raw {
        let (Some(data), Some(partition_key)) = (data, pk) else {
            return Err(ApiError::internal(
                "required members passed validation but are absent",
            ));
        };
        total += data.len() + partition_key.len();
        entries.push(PutEntry {
            partition_key,
            explicit_hash_key: explicit_hash_key(explicit.as_deref())?,
            data,
        });
    }
    if total > MAX_REQUEST_BYTES {
        return Err(ApiError::invalid_argument(format!(
            "Records size exceeds {} MB limit",
            MAX_REQUEST_BYTES / (1024 * 1024)
        )));
    }
    let key = stream.resolve(ctx)?;
    let encrypted = ctx.log.is_encrypted(&key);
    let out = ctx.log.put_records(&key, entries).await?;
    let failed = out.iter().filter(|r| r.is_err()).count();
    let records = out
        .into_iter()
        .map(|r| match r {
            Ok(o) => Value::map([
                ("SequenceNumber", Value::Str(o.sequence_number)),
                ("ShardId", Value::Str(o.shard_id)),
            ]),
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
        ("FailedRecordCount", Value::Int(failed as i128)),
        ("Records", Value::List(records)),
        (
            "EncryptionType",
            if encrypted {
                Value::str("KMS")
            } else {
                Value::Null
            },
        ),
    ]))
}
