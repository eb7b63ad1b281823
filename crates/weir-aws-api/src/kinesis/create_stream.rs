//! CreateStream.

use weir_log::{CreateStream, StreamMode};

use super::common::{read_stream_mode, STREAM_NAME};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("StreamName", true, STREAM_NAME)?;
    let shard_count = input.int("ShardCount", false, Some(1), Some(100_000))?;
    let mode = read_stream_mode(&mut input)?.unwrap_or(StreamMode::Provisioned);
    let tags = input.string_map("Tags", false, 1, 200)?;
    input.int("WarmThroughputMiBps", false, Some(0), None)?;
    let max_record_kib = input.int("MaxRecordSizeInKiB", false, Some(1024), Some(10_240))?;
    input.finish()?;
    let Some(name) = name else {
        return Err(ApiError::internal(
            "StreamName passed validation but is absent",
        ));
    };
    if mode == StreamMode::OnDemand && shard_count.is_some() {
        return Err(ApiError::invalid_argument(
            "ShardCount must not be specified for streams in ON_DEMAND mode.",
        ));
    }
    ctx.log.create_stream(CreateStream {
        key: weir_log::StreamKey::new(ctx.region.clone(), name),
        shard_count: shard_count.map(|n| n as u32),
        mode,
        tags: tags.unwrap_or_default(),
        max_record_kib: max_record_kib.map(|n| n as u32),
        retention_hours: None,
    })?;
    Ok(Value::Map(Vec::new()))
}
