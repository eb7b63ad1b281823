//! DescribeStreamSummary.

use super::common::{read_stream_ref, stream_fields};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    input.finish()?;
    let info = ctx.log.describe_stream(&stream.resolve(ctx)?)?;
    let mut fields = stream_fields(&info);
    fields.push((
        "OpenShardCount",
        Value::Int(info.open_shard_count() as i128),
    ));
    fields.push(("ConsumerCount", Value::Int(info.consumer_count.into())));
    fields.push(("MaxRecordSizeInKiB", Value::Int(info.max_record_kib.into())));
    // KCL 3 reads it (and refuses a stream without one); requests' StreamId members are
    // "Not Implemented. Reserved for future use." in the model: checked for form, not compared.
    fields.push(("StreamId", Value::Str(info.stream_id.clone())));
    Ok(Value::map([(
        "StreamDescriptionSummary",
        Value::map(fields),
    )]))
}
