//! The Kinesis Data Analytics v2 (`KinesisAnalytics_20180523.<Action>`) front door for SQL
//! applications (runtime `SQL-1_0`): one file per action. Applications live in the same store
//! as v1's, so either API sees the other's. Flink runtimes and the Flink-only actions are
//! refused: Weir runs Flink SQL through its Flink SQL Gateway.

mod add_application_cloud_watch_logging_option;
mod add_application_input;
mod add_application_input_processing_configuration;
mod add_application_output;
mod add_application_reference_data_source;
mod create_application;
mod delete_application_cloud_watch_logging_option;
mod delete_application_input_processing_configuration;
mod delete_application_output;
mod delete_application_reference_data_source;
mod describe_application;
mod flink_only;
mod list_applications;
mod start_application;
mod stop_application;
mod update_application;

use md5::{Digest, Md5};
use weir_analytics::{Application, Change};

use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, shapes};
use crate::model::Overlay;
use crate::value::Value;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20180523";

/// The actions of the API that run Flink applications only.
const FLINK_ONLY: &[&str] = &[
    "AddApplicationVpcConfiguration",
    "CreateApplicationPresignedUrl",
    "CreateApplicationSnapshot",
    "DeleteApplicationSnapshot",
    "DeleteApplicationVpcConfiguration",
    "DescribeApplicationOperation",
    "DescribeApplicationSnapshot",
    "DescribeApplicationVersion",
    "ListApplicationOperations",
    "ListApplicationSnapshots",
    "ListApplicationVersions",
    "RollbackApplication",
    "UpdateApplicationMaintenanceConfiguration",
];

/// The actions Weir serves: the SQL applications' (the Flink-only ones answer that they are).
pub const ACTIONS: &[&str] = &[
    "AddApplicationCloudWatchLoggingOption",
    "AddApplicationInput",
    "AddApplicationInputProcessingConfiguration",
    "AddApplicationOutput",
    "AddApplicationReferenceDataSource",
    "AddApplicationVpcConfiguration",
    "CreateApplication",
    "CreateApplicationPresignedUrl",
    "CreateApplicationSnapshot",
    "DeleteApplication",
    "DeleteApplicationCloudWatchLoggingOption",
    "DeleteApplicationInputProcessingConfiguration",
    "DeleteApplicationOutput",
    "DeleteApplicationReferenceDataSource",
    "DeleteApplicationSnapshot",
    "DeleteApplicationVpcConfiguration",
    "DescribeApplication",
    "DescribeApplicationOperation",
    "DescribeApplicationSnapshot",
    "DescribeApplicationVersion",
    "DiscoverInputSchema",
    "ListApplicationOperations",
    "ListApplicationSnapshots",
    "ListApplicationVersions",
    "ListApplications",
    "ListTagsForResource",
    "RollbackApplication",
    "StartApplication",
    "StopApplication",
    "TagResource",
    "UntagResource",
    "UpdateApplication",
    "UpdateApplicationMaintenanceConfiguration",
];

/// Kinesis Data Analytics v2 answers follow its model.
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
        "ListApplications" => list_applications::handle(ctx, input).await,
        "StartApplication" => start_application::handle(ctx, input).await,
        "StopApplication" => stop_application::handle(ctx, input).await,
        "UpdateApplication" => update_application::handle(ctx, input).await,
        // The same requests and answers as v1's.
        "DeleteApplication"
        | "DiscoverInputSchema"
        | "ListTagsForResource"
        | "TagResource"
        | "UntagResource" => match v1::dispatch(ctx, action, input).await {
            Ok(Reply::Doc(doc)) => Ok(doc),
            Ok(other) => return Ok(other),
            Err(e) => Err(e),
        },
        a if FLINK_ONLY.contains(&a) => flink_only::handle(ctx, a, input).await,
        _ => Err(ApiError::unknown_operation(format!(
            "Unknown operation {TARGET_PREFIX}.{action}."
        ))),
    };
    doc.map(Reply::Doc).map_err(message_member)
}

/// v2 exceptions carry `Message`, but for TooManyTagsException (`message`, as v1's).
fn message_member(e: ApiError) -> ApiError {
    if e.code == "TooManyTagsException" {
        e
    } else {
        e.in_message_member()
    }
}

/// The token v2 gives an application's version (ConditionalToken): opaque, changing with it.
pub(crate) fn token(app: &Application) -> String {
    let digest = Md5::digest(format!("{}#{}", app.arn, app.version).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Changes an application as CurrentApplicationVersionId or ConditionalToken (one of them)
/// says it should be now.
pub(crate) async fn change(
    ctx: &Ctx,
    input: &mut Input,
    make: impl FnOnce(&mut Input) -> Result<Change, ApiError>,
) -> Result<Application, ApiError> {
    let name = v1::string(input, "ApplicationName");
    let mut expected = v1::version(input);
    if let Some(Value::Str(t)) = input.raw("ConditionalToken") {
        let app = ctx
            .analytics
            .describe(&ctx.region, &name)
            .map_err(v1::error)?;
        if expected.is_some() {
            return Err(ApiError::invalid_argument(
                "Give either CurrentApplicationVersionId or ConditionalToken, not both.",
            ));
        }
        if t != token(&app) {
            return Err(ApiError::new(
                "ConcurrentModificationException",
                400,
                "The ConditionalToken is not the application's current one.",
            ));
        }
        expected = Some(app.version);
    }
    if expected.is_none() {
        return Err(ApiError::invalid_argument(
            "Either CurrentApplicationVersionId or ConditionalToken must be given.",
        ));
    }
    let change = make(input)?;
    ctx.analytics
        .change(&ctx.region, &name, expected, change)
        .await
        .map_err(v1::error)
}

/// The answer of an Add*/Delete* call: the application's ARN and new version, and the
/// descriptions `members` give.
pub(crate) fn changed(app: &Application, members: Vec<(&'static str, Value)>) -> Value {
    let mut out = vec![
        ("ApplicationARN", Value::str(app.arn.clone())),
        ("ApplicationVersionId", Value::Int(i128::from(app.version))),
    ];
    out.extend(members);
    Value::map(out)
}

/// v2's `ApplicationDetail` of a SQL application.
pub(crate) fn detail(app: &Application) -> Value {
    let role = app.service_role.as_deref();
    let code = app.code.clone().unwrap_or_default();
    let md5: String = Md5::digest(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Value::map([
        ("ApplicationARN", Value::str(app.arn.clone())),
        (
            "ApplicationDescription",
            Value::opt_str(app.description.clone()),
        ),
        ("ApplicationName", Value::str(app.name.clone())),
        ("RuntimeEnvironment", Value::str(app.runtime.clone())),
        (
            "ServiceExecutionRole",
            Value::opt_str(app.service_role.clone()),
        ),
        ("ApplicationStatus", Value::str(app.status.as_str())),
        ("ApplicationVersionId", Value::Int(i128::from(app.version))),
        ("CreateTimestamp", Value::Timestamp(app.created_ms)),
        ("LastUpdateTimestamp", Value::Timestamp(app.updated_ms)),
        (
            "ApplicationConfigurationDescription",
            Value::map([
                (
                    "SqlApplicationConfigurationDescription",
                    Value::map([
                        (
                            "InputDescriptions",
                            shapes::list(&app.inputs, |i| shapes::input(i, role)),
                        ),
                        (
                            "OutputDescriptions",
                            shapes::list(&app.outputs, |o| shapes::output(o, role)),
                        ),
                        (
                            "ReferenceDataSourceDescriptions",
                            shapes::list(&app.references, |r| shapes::reference(r, role)),
                        ),
                    ]),
                ),
                (
                    "ApplicationCodeConfigurationDescription",
                    Value::map([
                        ("CodeContentType", Value::str("PLAINTEXT")),
                        (
                            "CodeContentDescription",
                            Value::map([
                                ("TextContent", Value::str(code.clone())),
                                ("CodeMD5", Value::str(md5)),
                                ("CodeSize", Value::Int(code.len() as i128)),
                            ]),
                        ),
                    ]),
                ),
            ]),
        ),
        (
            "CloudWatchLoggingOptionDescriptions",
            shapes::list(&app.logging, |l| shapes::logging(l, role)),
        ),
        ("ConditionalToken", Value::str(token(app))),
    ])
}

/// v2's `ApplicationSummary`.
pub(crate) fn summary(app: &Application) -> Value {
    Value::map([
        ("ApplicationName", Value::str(app.name.clone())),
        ("ApplicationARN", Value::str(app.arn.clone())),
        ("ApplicationStatus", Value::str(app.status.as_str())),
        ("ApplicationVersionId", Value::Int(i128::from(app.version))),
        ("RuntimeEnvironment", Value::str(app.runtime.clone())),
    ])
}

/// A member of a structure member, as JSON (`ApplicationConfiguration` → `…`).
pub(crate) fn member(v: &serde_json::Value, path: &[&str]) -> serde_json::Value {
    path.iter()
        .fold(v, |v, k| v.get(k).unwrap_or(&serde_json::Value::Null))
        .clone()
}

/// A JSON member read into a control-plane type (absent: its default).
pub(crate) fn parse<T: serde::de::DeserializeOwned + Default>(
    v: serde_json::Value,
    name: &str,
) -> Result<T, ApiError> {
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(v)
        .map_err(|e| ApiError::invalid_argument(format!("{name} is not valid: {e}")))
}
