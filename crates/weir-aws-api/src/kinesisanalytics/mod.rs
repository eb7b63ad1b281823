//! The Kinesis Data Analytics (v1, `KinesisAnalytics_20150814.<Action>`) front door: one file
//! per action, and the table mapping the control plane's errors to its exception types.
//! `kinesisanalyticsv2` keeps its applications in the same store.

mod add_application_cloud_watch_logging_option;
mod add_application_input;
mod add_application_input_processing_configuration;
mod add_application_output;
mod add_application_reference_data_source;
mod create_application;
mod delete_application;
mod delete_application_cloud_watch_logging_option;
mod delete_application_input_processing_configuration;
mod delete_application_output;
mod delete_application_reference_data_source;
mod describe_application;
mod discover_input_schema;
mod list_applications;
mod list_tags_for_resource;
pub(crate) mod shapes;
pub(crate) mod start_application;
mod stop_application;
mod tag_resource;
mod untag_resource;
mod update_application;

use weir_analytics::AnalyticsError;

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::value::Value;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20150814";

/// The actions Weir serves (all of the API's).
pub const ACTIONS: &[&str] = &[
    "AddApplicationCloudWatchLoggingOption",
    "AddApplicationInput",
    "AddApplicationInputProcessingConfiguration",
    "AddApplicationOutput",
    "AddApplicationReferenceDataSource",
    "CreateApplication",
    "DeleteApplication",
    "DeleteApplicationCloudWatchLoggingOption",
    "DeleteApplicationInputProcessingConfiguration",
    "DeleteApplicationOutput",
    "DeleteApplicationReferenceDataSource",
    "DescribeApplication",
    "DiscoverInputSchema",
    "ListApplications",
    "ListTagsForResource",
    "StartApplication",
    "StopApplication",
    "TagResource",
    "UntagResource",
    "UpdateApplication",
];

/// Kinesis Data Analytics answers follow its model.
pub static OVERLAY: Overlay = Overlay {
    order: &[],
    required_unless: &[],
    required_unless_except: &[],
    also_required: &[],
    relaxed_patterns: &[],
    enum_order: &[],
};

/// Runs one action.
pub async fn dispatch(ctx: &Ctx, action: &str, input: Input) -> Result<Reply, ApiError> {
    let doc = match action {
        "AddApplicationCloudWatchLoggingOption" => {
            add_application_cloud_watch_logging_option::handle(ctx, input).await
        }
        "AddApplicationInput" => add_application_input::handle(ctx, input).await,
        "AddApplicationInputProcessingConfiguration" => {
            add_application_input_processing_configuration::handle(ctx, input).await
        }
        "AddApplicationOutput" => add_application_output::handle(ctx, input).await,
        "AddApplicationReferenceDataSource" => {
            add_application_reference_data_source::handle(ctx, input).await
        }
        "CreateApplication" => create_application::handle(ctx, input).await,
        "DeleteApplication" => delete_application::handle(ctx, input).await,
        "DeleteApplicationCloudWatchLoggingOption" => {
            delete_application_cloud_watch_logging_option::handle(ctx, input).await
        }
        "DeleteApplicationInputProcessingConfiguration" => {
            delete_application_input_processing_configuration::handle(ctx, input).await
        }
        "DeleteApplicationOutput" => delete_application_output::handle(ctx, input).await,
        "DeleteApplicationReferenceDataSource" => {
            delete_application_reference_data_source::handle(ctx, input).await
        }
        "DescribeApplication" => describe_application::handle(ctx, input).await,
        "DiscoverInputSchema" => discover_input_schema::handle(ctx, input).await,
        "ListApplications" => list_applications::handle(ctx, input).await,
        "ListTagsForResource" => list_tags_for_resource::handle(ctx, input).await,
        "StartApplication" => start_application::handle(ctx, input).await,
        "StopApplication" => stop_application::handle(ctx, input).await,
        "TagResource" => tag_resource::handle(ctx, input).await,
        "UntagResource" => untag_resource::handle(ctx, input).await,
        "UpdateApplication" => update_application::handle(ctx, input).await,
        _ => Err(ApiError::unknown_operation(format!(
            "Unknown operation {TARGET_PREFIX}.{action}."
        ))),
    }?;
    Ok(Reply::Doc(doc))
}

/// The front door's table: control-plane error kind → exception type (v1 messages go in
/// `message`; v2 moves them to `Message` but for TooManyTagsException).
pub(crate) fn error(e: AnalyticsError) -> ApiError {
    let message = e.to_string();
    let code = match e {
        AnalyticsError::NotFound(_) => "ResourceNotFoundException",
        AnalyticsError::InUse(_) => "ResourceInUseException",
        AnalyticsError::ConcurrentModification(_) => "ConcurrentModificationException",
        AnalyticsError::InvalidArgument(_) => "InvalidArgumentException",
        AnalyticsError::CodeValidation(_) => "CodeValidationException",
        AnalyticsError::LimitExceeded(_) => "LimitExceededException",
        AnalyticsError::TooManyTags(_) => "TooManyTagsException",
        AnalyticsError::InvalidConfiguration(_) => "InvalidApplicationConfigurationException",
        AnalyticsError::Unsupported(_) => "UnsupportedOperationException",
        AnalyticsError::UnableToDetectSchema { raw, processed, .. } => {
            return ApiError::new("UnableToDetectSchemaException", 400, message)
                .with_list("RawInputRecords", raw)
                .with_list("ProcessedInputRecords", processed);
        }
        AnalyticsError::Storage(_) => {
            tracing::error!(error = %message, "Kinesis Analytics request failed inside Weir");
            return ApiError::new("ServiceUnavailableException", 500, message);
        }
    };
    ApiError::new(code, 400, message)
}

/// A request member the model requires (already checked) as a string.
pub(crate) fn string(input: &mut Input, name: &str) -> String {
    match input.raw(name) {
        Some(Value::Str(s)) => s,
        _ => String::new(),
    }
}

/// CurrentApplicationVersionId (a long the model checked).
pub(crate) fn version(input: &mut Input) -> Option<u64> {
    match input.raw("CurrentApplicationVersionId") {
        Some(Value::Int(i)) => u64::try_from(i).ok(),
        _ => None,
    }
}

/// Reads a structure member into a control-plane type.
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    input: &mut Input,
    name: &str,
) -> Result<Option<T>, ApiError> {
    crate::glue::common::read_or(input, name, ApiError::invalid_argument)
}

/// The empty answer of a configuration change.
pub(crate) fn changed(
    r: Result<weir_analytics::Application, AnalyticsError>,
) -> Result<Value, ApiError> {
    r.map(|_| Value::map([])).map_err(error)
}

/// A structure member the model requires, read into a control-plane type.
pub(crate) fn required<T: serde::de::DeserializeOwned>(
    input: &mut Input,
    name: &str,
) -> Result<T, ApiError> {
    read(input, name)?.ok_or_else(|| ApiError::invalid_argument(format!("{name} is required.")))
}
