//! The Kinesis Data Streams front door (`Kinesis_20131202.<Action>`): one file per action.

mod add_tags_to_stream;
mod create_stream;
mod decrease_stream_retention_period;
mod delete_stream;
mod deregister_stream_consumer;
mod describe_limits;
mod describe_stream;
mod describe_stream_consumer;
mod describe_stream_summary;
mod disable_enhanced_monitoring;
mod enable_enhanced_monitoring;
mod get_records;
mod get_shard_iterator;
mod increase_stream_retention_period;
mod list_shards;
mod list_stream_consumers;
mod list_streams;
mod list_tags_for_resource;
mod list_tags_for_stream;
mod merge_shards;
mod put_record;
mod put_records;
mod register_stream_consumer;
mod remove_tags_from_stream;
mod split_shard;
mod start_stream_encryption;
mod stop_stream_encryption;
mod subscribe_to_shard;
mod tag_resource;
mod untag_resource;
mod update_shard_count;
mod update_stream_mode;

pub(crate) mod common;

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

/// The actions Weir serves (the model has more; those are unknown operations here).
pub const ACTIONS: &[&str] = &[
    "SubscribeToShard",
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteStream",
    "DeregisterStreamConsumer",
    "DescribeLimits",
    "DescribeStream",
    "DescribeStreamConsumer",
    "DescribeStreamSummary",
    "DisableEnhancedMonitoring",
    "EnableEnhancedMonitoring",
    "GetRecords",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreamConsumers",
    "ListStreams",
    "ListTagsForResource",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "RegisterStreamConsumer",
    "RemoveTagsFromStream",
    "SplitShard",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "TagResource",
    "UntagResource",
    "UpdateShardCount",
    "UpdateStreamMode",
];

/// What AWS's recorded answers show beyond the model (see `model::Overlay`).
pub static OVERLAY: Overlay = Overlay {
    // The order AWS lists violations in (recorded answers), where it differs from the model's.
    order: &[
        ("AddTagsToStreamInput", &["Tags", "StreamName"]),
        ("CreateStreamInput", &["ShardCount", "StreamName"]),
        (
            "DecreaseStreamRetentionPeriodInput",
            &["RetentionPeriodHours", "StreamName"],
        ),
        (
            "IncreaseStreamRetentionPeriodInput",
            &["RetentionPeriodHours", "StreamName"],
        ),
        (
            "DescribeStreamInput",
            &["Limit", "ExclusiveStartShardId", "StreamName"],
        ),
        ("GetRecordsInput", &["Limit", "ShardIterator"]),
        (
            "GetShardIteratorInput",
            &[
                "ShardId",
                "ShardIteratorType",
                "StartingSequenceNumber",
                "StreamName",
                "Timestamp",
            ],
        ),
        (
            "ListShardsInput",
            &[
                "ExclusiveStartShardId",
                "MaxResults",
                "NextToken",
                "StreamCreationTimestamp",
                "StreamName",
            ],
        ),
        ("ListStreamsInput", &["Limit", "ExclusiveStartStreamName"]),
        (
            "ListTagsForStreamInput",
            &["Limit", "ExclusiveStartTagKey", "StreamName"],
        ),
        (
            "MergeShardsInput",
            &["ShardToMerge", "AdjacentShardToMerge", "StreamName"],
        ),
        (
            "PutRecordInput",
            &[
                "SequenceNumberForOrdering",
                "PartitionKey",
                "ExplicitHashKey",
                "Data",
                "StreamName",
            ],
        ),
        ("PutRecordsInput", &["Records", "StreamName"]),
        (
            "PutRecordsRequestEntry",
            &["PartitionKey", "ExplicitHashKey", "Data"],
        ),
        ("RemoveTagsFromStreamInput", &["TagKeys", "StreamName"]),
        (
            "SplitShardInput",
            &["NewStartingHashKey", "StreamName", "ShardToSplit"],
        ),
    ],
    // Since StreamARN can name a stream the model marks StreamName optional, but AWS still
    // reports it missing when neither is given (today's answers); ListShards may name the
    // stream through NextToken instead.
    required_unless: &[("StreamName", "StreamARN")],
    required_unless_except: &["ListShardsInput"],
    also_required: &[
        // Optional in the model since RecordDistributionStrategy, required by AWS's answers
        // for streams that distribute by partition key (every stream Weir has).
        ("PutRecordInput", "PartitionKey"),
        ("PutRecordsRequestEntry", "PartitionKey"),
    ],
    relaxed_patterns: &[],
    enum_order: &[(
        "ShardIteratorType",
        &[
            "AFTER_SEQUENCE_NUMBER",
            "LATEST",
            "AT_TIMESTAMP",
            "AT_SEQUENCE_NUMBER",
            "TRIM_HORIZON",
        ],
    )],
};

/// The stream a request's rate is counted against: its StreamName, or the stream named in its
/// StreamARN or ConsumerARN.
fn rated_stream(input: &Input) -> Option<String> {
    if let Some(name) = input.peek_str("StreamName") {
        return Some(name.to_string());
    }
    let arn = input
        .peek_str("StreamARN")
        .or_else(|| input.peek_str("ConsumerARN"))?;
    let rest = arn.split_once(":stream/")?.1;
    Some(rest.split('/').next().unwrap_or(rest).to_string())
}

/// Runs one action.
pub async fn dispatch(ctx: &Ctx, action: &str, input: Input) -> Result<Reply, ApiError> {
    if let Some((_, tps, scope)) = crate::rates::KINESIS_TPS
        .iter()
        .find(|(a, _, _)| *a == action)
    {
        let stream = match scope {
            crate::rates::Scope::Stream => rated_stream(&input),
            crate::rates::Scope::Account => None,
        };
        let key = match &stream {
            Some(name) => format!("{action}/{}/{name}", ctx.region),
            None => format!("{action}/{}", ctx.region),
        };
        if !ctx.admit(&key, *tps) {
            let account = &ctx.log.config().account_id;
            let message = match stream {
                Some(name) => format!("Rate exceeded for stream {name} under account {account}."),
                None => format!("Rate exceeded for {action} under account {account}."),
            };
            return Err(ApiError::new("LimitExceededException", 400, message));
        }
    }
    if action == "SubscribeToShard" {
        return subscribe_to_shard::handle(ctx, input).await;
    }
    if action == "GetRecords" {
        return get_records::handle(ctx, input).await;
    }
    let doc = match action {
        "AddTagsToStream" => add_tags_to_stream::handle(ctx, input).await,
        "CreateStream" => create_stream::handle(ctx, input).await,
        "DecreaseStreamRetentionPeriod" => {
            decrease_stream_retention_period::handle(ctx, input).await
        }
        "DeleteStream" => delete_stream::handle(ctx, input).await,
        "DeregisterStreamConsumer" => deregister_stream_consumer::handle(ctx, input).await,
        "DescribeLimits" => describe_limits::handle(ctx, input).await,
        "DescribeStream" => describe_stream::handle(ctx, input).await,
        "DescribeStreamConsumer" => describe_stream_consumer::handle(ctx, input).await,
        "DescribeStreamSummary" => describe_stream_summary::handle(ctx, input).await,
        "DisableEnhancedMonitoring" => disable_enhanced_monitoring::handle(ctx, input).await,
        "EnableEnhancedMonitoring" => enable_enhanced_monitoring::handle(ctx, input).await,
        "GetShardIterator" => get_shard_iterator::handle(ctx, input).await,
        "IncreaseStreamRetentionPeriod" => {
            increase_stream_retention_period::handle(ctx, input).await
        }
        "ListShards" => list_shards::handle(ctx, input).await,
        "ListStreamConsumers" => list_stream_consumers::handle(ctx, input).await,
        "ListStreams" => list_streams::handle(ctx, input).await,
        "ListTagsForResource" => list_tags_for_resource::handle(ctx, input).await,
        "ListTagsForStream" => list_tags_for_stream::handle(ctx, input).await,
        "MergeShards" => merge_shards::handle(ctx, input).await,
        "PutRecord" => put_record::handle(ctx, input).await,
        "PutRecords" => put_records::handle(ctx, input).await,
        "RegisterStreamConsumer" => register_stream_consumer::handle(ctx, input).await,
        "RemoveTagsFromStream" => remove_tags_from_stream::handle(ctx, input).await,
        "SplitShard" => split_shard::handle(ctx, input).await,
        "StartStreamEncryption" => start_stream_encryption::handle(ctx, input).await,
        "StopStreamEncryption" => stop_stream_encryption::handle(ctx, input).await,
        "TagResource" => tag_resource::handle(ctx, input).await,
        "UntagResource" => untag_resource::handle(ctx, input).await,
        "UpdateShardCount" => update_shard_count::handle(ctx, input).await,
        "UpdateStreamMode" => update_stream_mode::handle(ctx, input).await,
        other => Err(ApiError::unknown_operation(format!(
            "The operation {other} is not supported by Kinesis in Weir."
        ))),
    };
    doc.map(Reply::Doc)
}
