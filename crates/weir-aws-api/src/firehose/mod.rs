//! The Firehose front door (`Firehose_20150804.<Action>`): one file per action, and the table
//! mapping delivery-engine errors to Firehose's error types.

mod common;
mod conversion;
mod create_delivery_stream;
mod delete_delivery_stream;
mod describe_delivery_stream;
mod http_endpoint;
mod list_delivery_streams;
mod list_tags_for_delivery_stream;
mod put_record;
mod put_record_batch;
mod start_delivery_stream_encryption;
mod stop_delivery_stream_encryption;
mod tag_delivery_stream;
mod untag_delivery_stream;
mod update_destination;

use weir_delivery::DeliveryError;

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "Firehose_20150804";

/// The actions Weir serves.
pub const ACTIONS: &[&str] = &[
    "CreateDeliveryStream",
    "DeleteDeliveryStream",
    "DescribeDeliveryStream",
    "ListDeliveryStreams",
    "ListTagsForDeliveryStream",
    "PutRecord",
    "PutRecordBatch",
    "StartDeliveryStreamEncryption",
    "StopDeliveryStreamEncryption",
    "TagDeliveryStream",
    "UntagDeliveryStream",
    "UpdateDestination",
];

/// Firehose's answers follow its model, but for one documented deviation: HTTP endpoint URLs
/// may be `http://` (AWS: `https://.*`) so that local receivers work.
pub static OVERLAY: Overlay = Overlay {
    order: &[],
    required_unless: &[],
    required_unless_except: &[],
    also_required: &[],
    relaxed_patterns: &["HttpEndpointUrl"],
    enum_order: &[],
};

/// Runs one action.
pub async fn dispatch(ctx: &Ctx, action: &str, input: Input) -> Result<Reply, ApiError> {
    let doc = match action {
        "CreateDeliveryStream" => create_delivery_stream::handle(ctx, input).await,
        "DeleteDeliveryStream" => delete_delivery_stream::handle(ctx, input).await,
        "DescribeDeliveryStream" => describe_delivery_stream::handle(ctx, input).await,
        "ListDeliveryStreams" => list_delivery_streams::handle(ctx, input).await,
        "ListTagsForDeliveryStream" => list_tags_for_delivery_stream::handle(ctx, input).await,
        "PutRecord" => put_record::handle(ctx, input).await,
        "PutRecordBatch" => put_record_batch::handle(ctx, input).await,
        "StartDeliveryStreamEncryption" => {
            start_delivery_stream_encryption::handle(ctx, input).await
        }
        "StopDeliveryStreamEncryption" => stop_delivery_stream_encryption::handle(ctx, input).await,
        "TagDeliveryStream" => tag_delivery_stream::handle(ctx, input).await,
        "UntagDeliveryStream" => untag_delivery_stream::handle(ctx, input).await,
        "UpdateDestination" => update_destination::handle(ctx, input).await,
        _ => Err(ApiError::unknown_operation(format!(
            "Unknown operation {TARGET_PREFIX}.{action}."
        ))),
    }?;
    Ok(Reply::Doc(doc))
}

/// The Firehose front door's table: delivery error kind → AWS error type and status.
impl From<DeliveryError> for ApiError {
    fn from(e: DeliveryError) -> Self {
        let message = e.to_string();
        match e {
            DeliveryError::NotFound(_) => ApiError::new("ResourceNotFoundException", 400, message),
            DeliveryError::InUse(_) => ApiError::new("ResourceInUseException", 400, message),
            DeliveryError::InvalidArgument(_) => {
                ApiError::new("InvalidArgumentException", 400, message)
            }
            DeliveryError::LimitExceeded(_) => {
                ApiError::new("LimitExceededException", 400, message)
            }
            DeliveryError::ConcurrentModification(_) => {
                ApiError::new("ConcurrentModificationException", 400, message)
            }
            DeliveryError::InvalidSource(_) => {
                ApiError::new("InvalidSourceException", 400, message)
            }
            DeliveryError::Unavailable(_) => {
                ApiError::new("ServiceUnavailableException", 503, message)
            }
            DeliveryError::Log(_) | DeliveryError::Storage(_) => {
                tracing::error!(error = %message, "Firehose request failed inside Weir");
                ApiError::new("ServiceUnavailableException", 503, message)
            }
        }
    }
}
