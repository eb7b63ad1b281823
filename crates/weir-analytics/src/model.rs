//! A SQL application's configuration, as Kinesis Data Analytics describes it. The types are
//! serde structures named as the API names their members (the v1 request forms), so a front
//! door reads them straight from a request document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An ARN with the role that reaches it (v2 requests give no role: the application's
/// service execution role is used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: String,
    #[serde(rename = "RoleARN", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputProcessing {
    pub input_lambda_processor: Target,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parallelism {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JsonMapping {
    pub record_row_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CsvMapping {
    pub record_row_delimiter: String,
    pub record_column_delimiter: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MappingParameters {
    #[serde(
        rename = "JSONMappingParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub json: Option<JsonMapping>,
    #[serde(
        rename = "CSVMappingParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub csv: Option<CsvMapping>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordFormat {
    /// `JSON` or `CSV`.
    pub record_format_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_parameters: Option<MappingParameters>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordColumn {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    pub sql_type: String,
}

/// How records become rows: their format, encoding and columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceSchema {
    pub record_format: RecordFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_encoding: Option<String>,
    pub record_columns: Vec<RecordColumn>,
}

/// A streaming source (an `Input` of the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    /// Given by Weir when the input is added (`"1.1"`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub input_id: String,
    pub name_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_processing_configuration: Option<InputProcessing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_streams_input: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_firehose_input: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_parallelism: Option<Parallelism>,
    pub input_schema: SourceSchema,
    /// Where the last start began (`NOW`, `TRIM_HORIZON`, `LAST_STOPPED_POINT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_position: Option<String>,
}

impl Input {
    /// Its in-application streams: `<prefix>_001` … one per unit of parallelism.
    pub fn in_app_streams(&self) -> Vec<String> {
        (1..=self.parallelism())
            .map(|n| format!("{}_{n:03}", self.name_prefix))
            .collect()
    }

    pub fn parallelism(&self) -> u32 {
        self.input_parallelism
            .as_ref()
            .and_then(|p| p.count)
            .unwrap_or(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationSchema {
    pub record_format_type: String,
}

/// A destination of an in-application stream (an `Output`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_streams_output: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_firehose_output: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_output: Option<Target>,
    pub destination_schema: DestinationSchema,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Reference {
    #[serde(rename = "BucketARN")]
    pub bucket_arn: String,
    #[serde(rename = "FileKey")]
    pub file_key: String,
    #[serde(
        rename = "ReferenceRoleARN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reference_role_arn: Option<String>,
}

/// An in-application table loaded from an S3 object (a `ReferenceDataSource`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reference {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference_id: String,
    pub table_name: String,
    #[serde(
        rename = "S3ReferenceDataSource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub s3: Option<S3Reference>,
    pub reference_schema: SourceSchema,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggingOption {
    #[serde(
        rename = "CloudWatchLoggingOptionId",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    #[serde(rename = "LogStreamARN")]
    pub log_stream_arn: String,
    #[serde(rename = "RoleARN", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// An application's status (v1 and v2 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Ready,
    Starting,
    Running,
    Updating,
    Stopping,
    Deleting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Starting => "STARTING",
            Status::Running => "RUNNING",
            Status::Updating => "UPDATING",
            Status::Stopping => "STOPPING",
            Status::Deleting => "DELETING",
        }
    }
}

/// A SQL application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub region: String,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub code: Option<String>,
    pub status: Status,
    /// `SQL-1_0` (the only runtime whose applications Weir keeps).
    pub runtime: String,
    /// The v2 service execution role.
    pub service_role: Option<String>,
    pub version: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub references: Vec<Reference>,
    pub logging: Vec<LoggingOption>,
    pub tags: BTreeMap<String, String>,
    /// The engine job running the application's SQL.
    pub job: Option<String>,
    /// The job id the application resumes under from LAST_STOPPED_POINT.
    pub last_job: Option<String>,
}

/// Where a started application's input begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartingPosition {
    Now,
    TrimHorizon,
    LastStoppedPoint,
}

impl StartingPosition {
    pub fn parse(s: &str) -> Option<StartingPosition> {
        Some(match s {
            "NOW" => StartingPosition::Now,
            "TRIM_HORIZON" => StartingPosition::TrimHorizon,
            "LAST_STOPPED_POINT" => StartingPosition::LastStoppedPoint,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StartingPosition::Now => "NOW",
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
            StartingPosition::LastStoppedPoint => "LAST_STOPPED_POINT",
        }
    }
}
