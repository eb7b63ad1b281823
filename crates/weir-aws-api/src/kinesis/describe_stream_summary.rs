//! DescribeStreamSummary.

use super::common::{
    encryption_values, enhanced_monitoring_value, read_stream_ref, stream_mode_value,
};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    input.finish()?;
    let info = ctx.log.describe_stream(&stream.resolve(ctx)?)?;
    let (kind, key) = encryption_values(&info);
    Ok(Value::map([(
        "StreamDescriptionSummary",
        Value::map([
            ("StreamName", Value::str(info.name.clone())),
            ("StreamARN", Value::str(info.arn.clone())),
            ("StreamStatus", Value::str(info.status.as_str())),
            ("StreamModeDetails", stream_mode_value(info.mode)),
            (
                "RetentionPeriodHours",
                Value::Int(info.retention_hours.into()),
            ),
            ("StreamCreationTimestamp", Value::Timestamp(info.created_ms)),
            (
                "EnhancedMonitoring",
                enhanced_monitoring_value(&info.shard_level_metrics),
            ),
            ("EncryptionType", kind),
            ("KeyId", key),
            (
                "OpenShardCount",
                Value::Int(info.open_shard_count() as i128),
            ),
            ("ConsumerCount", Value::Int(info.consumer_count.into())),
            ("MaxRecordSizeInKiB", Value::Int(info.max_record_kib.into())),
        ]),
    )]))
}
