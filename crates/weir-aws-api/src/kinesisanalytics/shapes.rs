//! Applications as Kinesis Data Analytics describes them (`ApplicationDetail` and its
//! `…Description` parts). A v2 application's parts give no role of their own: they show the
//! service execution role, as AWS does.

use weir_analytics::model::{Application, Input, LoggingOption, Output, Reference, Target};

use crate::glue::common::write;
use crate::value::Value;

/// `{ResourceARN, RoleARN}` of a target (its own role, else the application's).
fn target(t: &Option<Target>, role: Option<&str>) -> Value {
    match t {
        None => Value::Null,
        Some(t) => Value::map([
            ("ResourceARN", Value::str(t.resource_arn.clone())),
            (
                "RoleARN",
                Value::opt_str(t.role_arn.clone().or(role.map(str::to_string))),
            ),
        ]),
    }
}

pub fn input(i: &Input, role: Option<&str>) -> Value {
    Value::map([
        ("InputId", Value::str(i.input_id.clone())),
        ("NamePrefix", Value::str(i.name_prefix.clone())),
        (
            "InAppStreamNames",
            Value::List(i.in_app_streams().into_iter().map(Value::Str).collect()),
        ),
        (
            "InputProcessingConfigurationDescription",
            match &i.input_processing_configuration {
                None => Value::Null,
                Some(p) => Value::map([(
                    "InputLambdaProcessorDescription",
                    target(&Some(p.input_lambda_processor.clone()), role),
                )]),
            },
        ),
        (
            "KinesisStreamsInputDescription",
            target(&i.kinesis_streams_input, role),
        ),
        (
            "KinesisFirehoseInputDescription",
            target(&i.kinesis_firehose_input, role),
        ),
        ("InputSchema", write(&i.input_schema)),
        (
            "InputParallelism",
            Value::map([("Count", Value::Int(i128::from(i.parallelism())))]),
        ),
        (
            "InputStartingPositionConfiguration",
            Value::Map(
                i.starting_position
                    .iter()
                    .map(|p| ("InputStartingPosition".into(), Value::str(p.clone())))
                    .collect(),
            ),
        ),
    ])
}

pub fn output(o: &Output, role: Option<&str>) -> Value {
    Value::map([
        ("OutputId", Value::str(o.output_id.clone())),
        ("Name", Value::str(o.name.clone())),
        (
            "KinesisStreamsOutputDescription",
            target(&o.kinesis_streams_output, role),
        ),
        (
            "KinesisFirehoseOutputDescription",
            target(&o.kinesis_firehose_output, role),
        ),
        ("LambdaOutputDescription", target(&o.lambda_output, role)),
        ("DestinationSchema", write(&o.destination_schema)),
    ])
}

pub fn reference(r: &Reference, role: Option<&str>) -> Value {
    Value::map([
        ("ReferenceId", Value::str(r.reference_id.clone())),
        ("TableName", Value::str(r.table_name.clone())),
        (
            "S3ReferenceDataSourceDescription",
            match &r.s3 {
                None => Value::Null,
                Some(s3) => Value::map([
                    ("BucketARN", Value::str(s3.bucket_arn.clone())),
                    ("FileKey", Value::str(s3.file_key.clone())),
                    (
                        "ReferenceRoleARN",
                        Value::opt_str(s3.reference_role_arn.clone().or(role.map(str::to_string))),
                    ),
                ]),
            },
        ),
        ("ReferenceSchema", write(&r.reference_schema)),
    ])
}

pub fn logging(l: &LoggingOption, role: Option<&str>) -> Value {
    Value::map([
        ("CloudWatchLoggingOptionId", Value::str(l.id.clone())),
        ("LogStreamARN", Value::str(l.log_stream_arn.clone())),
        (
            "RoleARN",
            Value::opt_str(l.role_arn.clone().or(role.map(str::to_string))),
        ),
    ])
}

/// A list member, left out when empty.
pub fn list<T>(items: &[T], f: impl Fn(&T) -> Value) -> Value {
    Value::List(items.iter().map(f).collect())
}

/// v1's `ApplicationDetail`.
pub fn detail(app: &Application) -> Value {
    let role = app.service_role.as_deref();
    Value::map([
        ("ApplicationName", Value::str(app.name.clone())),
        (
            "ApplicationDescription",
            Value::opt_str(app.description.clone()),
        ),
        ("ApplicationARN", Value::str(app.arn.clone())),
        ("ApplicationStatus", Value::str(app.status.as_str())),
        ("CreateTimestamp", Value::Timestamp(app.created_ms)),
        ("LastUpdateTimestamp", Value::Timestamp(app.updated_ms)),
        ("InputDescriptions", list(&app.inputs, |i| input(i, role))),
        (
            "OutputDescriptions",
            list(&app.outputs, |o| output(o, role)),
        ),
        (
            "ReferenceDataSourceDescriptions",
            list(&app.references, |r| reference(r, role)),
        ),
        (
            "CloudWatchLoggingOptionDescriptions",
            list(&app.logging, |l| logging(l, role)),
        ),
        ("ApplicationCode", Value::opt_str(app.code.clone())),
        ("ApplicationVersionId", Value::Int(i128::from(app.version))),
    ])
}

/// v1's `ApplicationSummary`.
pub fn summary(app: &Application) -> Value {
    Value::map([
        ("ApplicationName", Value::str(app.name.clone())),
        ("ApplicationARN", Value::str(app.arn.clone())),
        ("ApplicationStatus", Value::str(app.status.as_str())),
    ])
}

/// Tags as `[{Key, Value}]`.
pub fn tags(tags: &std::collections::BTreeMap<String, String>) -> Value {
    Value::List(
        tags.iter()
            .map(|(k, v)| {
                Value::map([
                    ("Key", Value::str(k.clone())),
                    ("Value", Value::str(v.clone())),
                ])
            })
            .collect(),
    )
}

/// `[{Key, Value}]` from a request.
pub fn read_tags(v: Option<Value>) -> Vec<(String, String)> {
    let Some(Value::List(items)) = v else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|t| {
            let Value::Map(m) = t else { return None };
            let get = |name: &str| {
                m.iter().find_map(|(k, v)| match v {
                    Value::Str(s) if k == name => Some(s.clone()),
                    _ => None,
                })
            };
            Some((get("Key")?, get("Value").unwrap_or_default()))
        })
        .collect()
}
