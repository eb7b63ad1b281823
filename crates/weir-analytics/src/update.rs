//! Configuration changes: the Add*/Delete* calls and UpdateApplication's updates (serde
//! structures named as the API names their members), applied to an application, and the
//! rules every configuration keeps.

use serde::Deserialize;

use crate::error::{AnalyticsError, Result};
use crate::model::{
    Application, DestinationSchema, Input, InputProcessing, LoggingOption, Output, RecordColumn,
    RecordFormat, Reference, SourceSchema, Target,
};
use crate::{MAX_INPUTS, MAX_OUTPUTS, MAX_REFERENCES};

/// One configuration change (each makes a new version).
#[derive(Debug, Clone)]
pub enum Change {
    AddInput(Input),
    AddInputProcessing(String, InputProcessing),
    DeleteInputProcessing(String),
    AddOutput(Output),
    DeleteOutput(String),
    AddReference(Reference),
    DeleteReference(String),
    AddLogging(LoggingOption),
    DeleteLogging(String),
    Update(ApplicationUpdate),
}

/// A new ARN and role for a target (`…Update` members).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TargetUpdate {
    #[serde(rename = "ResourceARNUpdate")]
    pub resource_arn: Option<String>,
    #[serde(rename = "RoleARNUpdate")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProcessingUpdate {
    #[serde(rename = "InputLambdaProcessorUpdate")]
    pub lambda: TargetUpdate,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SchemaUpdate {
    #[serde(rename = "RecordFormatUpdate")]
    pub format: Option<RecordFormat>,
    #[serde(rename = "RecordEncodingUpdate")]
    pub encoding: Option<String>,
    #[serde(rename = "RecordColumnUpdates")]
    pub columns: Option<Vec<RecordColumn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ParallelismUpdate {
    #[serde(rename = "CountUpdate")]
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputUpdate {
    #[serde(rename = "InputId")]
    pub id: String,
    #[serde(rename = "NamePrefixUpdate")]
    pub name_prefix: Option<String>,
    #[serde(rename = "InputProcessingConfigurationUpdate")]
    pub processing: Option<ProcessingUpdate>,
    #[serde(rename = "KinesisStreamsInputUpdate")]
    pub kinesis_streams: Option<TargetUpdate>,
    #[serde(rename = "KinesisFirehoseInputUpdate")]
    pub kinesis_firehose: Option<TargetUpdate>,
    #[serde(rename = "InputSchemaUpdate")]
    pub schema: Option<SchemaUpdate>,
    #[serde(rename = "InputParallelismUpdate")]
    pub parallelism: Option<ParallelismUpdate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutputUpdate {
    #[serde(rename = "OutputId")]
    pub id: String,
    #[serde(rename = "NameUpdate")]
    pub name: Option<String>,
    #[serde(rename = "KinesisStreamsOutputUpdate")]
    pub kinesis_streams: Option<TargetUpdate>,
    #[serde(rename = "KinesisFirehoseOutputUpdate")]
    pub kinesis_firehose: Option<TargetUpdate>,
    #[serde(rename = "LambdaOutputUpdate")]
    pub lambda: Option<TargetUpdate>,
    #[serde(rename = "DestinationSchemaUpdate")]
    pub destination: Option<DestinationSchema>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct S3Update {
    #[serde(rename = "BucketARNUpdate")]
    pub bucket_arn: Option<String>,
    #[serde(rename = "FileKeyUpdate")]
    pub file_key: Option<String>,
    #[serde(rename = "ReferenceRoleARNUpdate")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReferenceUpdate {
    #[serde(rename = "ReferenceId")]
    pub id: String,
    #[serde(rename = "TableNameUpdate")]
    pub table_name: Option<String>,
    #[serde(rename = "S3ReferenceDataSourceUpdate")]
    pub s3: Option<S3Update>,
    #[serde(rename = "ReferenceSchemaUpdate")]
    pub schema: Option<SourceSchema>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoggingUpdate {
    #[serde(rename = "CloudWatchLoggingOptionId")]
    pub id: String,
    #[serde(rename = "LogStreamARNUpdate")]
    pub log_stream_arn: Option<String>,
    #[serde(rename = "RoleARNUpdate")]
    pub role_arn: Option<String>,
}

/// UpdateApplication's `ApplicationUpdate`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplicationUpdate {
    #[serde(default)]
    pub input_updates: Vec<InputUpdate>,
    pub application_code_update: Option<String>,
    #[serde(default)]
    pub output_updates: Vec<OutputUpdate>,
    #[serde(default)]
    pub reference_data_source_updates: Vec<ReferenceUpdate>,
    #[serde(default)]
    pub cloud_watch_logging_option_updates: Vec<LoggingUpdate>,
    /// v2's ServiceExecutionRoleUpdate.
    #[serde(skip)]
    pub service_role_update: Option<String>,
}

fn no_id(what: &str, id: &str) -> AnalyticsError {
    AnalyticsError::NotFound(format!("{what} id {id} is not found."))
}

fn set(slot: &mut Option<Target>, u: TargetUpdate) {
    match slot {
        Some(t) => {
            if let Some(a) = u.resource_arn {
                t.resource_arn = a;
            }
            if u.role_arn.is_some() {
                t.role_arn = u.role_arn;
            }
        }
        None => {
            if let Some(a) = u.resource_arn {
                *slot = Some(Target {
                    resource_arn: a,
                    role_arn: u.role_arn,
                });
            }
        }
    }
}

/// Replaces one kind of destination or source by another: the update names the new kind.
fn switch(slots: [&mut Option<Target>; 3], which: usize, u: TargetUpdate) {
    let mut keep = None;
    for (k, slot) in slots.into_iter().enumerate() {
        if k == which {
            keep = Some(slot);
        } else if u.resource_arn.is_some() {
            *slot = None;
        }
    }
    if let Some(slot) = keep {
        set(slot, u);
    }
}

/// Applies `change` to `app` (its version already moved on); new parts get ids.
pub(crate) fn apply(app: &mut Application, change: Change) -> Result<()> {
    match change {
        Change::AddInput(i) => app.inputs.push(i),
        Change::AddInputProcessing(id, p) => {
            let input = app
                .inputs
                .iter_mut()
                .find(|i| i.input_id == id)
                .ok_or_else(|| no_id("Input", &id))?;
            if input.input_processing_configuration.is_some() {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "Input {id} already has an input processing configuration."
                )));
            }
            input.input_processing_configuration = Some(p);
        }
        Change::DeleteInputProcessing(id) => {
            let input = app
                .inputs
                .iter_mut()
                .find(|i| i.input_id == id)
                .ok_or_else(|| no_id("Input", &id))?;
            input.input_processing_configuration = None;
        }
        Change::AddOutput(o) => app.outputs.push(o),
        Change::DeleteOutput(id) => {
            let before = app.outputs.len();
            app.outputs.retain(|o| o.output_id != id);
            if app.outputs.len() == before {
                return Err(no_id("Output", &id));
            }
        }
        Change::AddReference(r) => app.references.push(r),
        Change::DeleteReference(id) => {
            let before = app.references.len();
            app.references.retain(|r| r.reference_id != id);
            if app.references.len() == before {
                return Err(no_id("Reference", &id));
            }
        }
        Change::AddLogging(l) => app.logging.push(l),
        Change::DeleteLogging(id) => {
            let before = app.logging.len();
            app.logging.retain(|l| l.id != id);
            if app.logging.len() == before {
                return Err(no_id("CloudWatchLoggingOption", &id));
            }
        }
        Change::Update(u) => update(app, u)?,
    }
    give_ids(app);
    Ok(())
}

fn update(app: &mut Application, u: ApplicationUpdate) -> Result<()> {
    if let Some(code) = u.application_code_update {
        app.code = Some(code);
    }
    if let Some(role) = u.service_role_update {
        app.service_role = Some(role);
    }
    for iu in u.input_updates {
        let input = app
            .inputs
            .iter_mut()
            .find(|i| i.input_id == iu.id)
            .ok_or_else(|| no_id("Input", &iu.id))?;
        if let Some(p) = iu.name_prefix {
            input.name_prefix = p;
        }
        if let Some(p) = iu.processing {
            let mut slot = input
                .input_processing_configuration
                .take()
                .map(|p| p.input_lambda_processor);
            set(&mut slot, p.lambda);
            input.input_processing_configuration = slot.map(|t| InputProcessing {
                input_lambda_processor: t,
            });
        }
        let mut firehose = input.kinesis_firehose_input.take();
        let mut none = None;
        if let Some(t) = iu.kinesis_streams {
            switch(
                [&mut input.kinesis_streams_input, &mut firehose, &mut none],
                0,
                t,
            );
        }
        if let Some(t) = iu.kinesis_firehose {
            switch(
                [&mut input.kinesis_streams_input, &mut firehose, &mut none],
                1,
                t,
            );
        }
        input.kinesis_firehose_input = firehose;
        if let Some(s) = iu.schema {
            if let Some(f) = s.format {
                input.input_schema.record_format = f;
            }
            if s.encoding.is_some() {
                input.input_schema.record_encoding = s.encoding;
            }
            if let Some(c) = s.columns {
                input.input_schema.record_columns = c;
            }
        }
        if let Some(p) = iu.parallelism.and_then(|p| p.count) {
            input.input_parallelism = Some(crate::model::Parallelism { count: Some(p) });
        }
    }
    for ou in u.output_updates {
        let output = app
            .outputs
            .iter_mut()
            .find(|o| o.output_id == ou.id)
            .ok_or_else(|| no_id("Output", &ou.id))?;
        if let Some(n) = ou.name {
            output.name = n;
        }
        let o = output;
        for (which, t) in [ou.kinesis_streams, ou.kinesis_firehose, ou.lambda]
            .into_iter()
            .enumerate()
        {
            if let Some(t) = t {
                switch(
                    [
                        &mut o.kinesis_streams_output,
                        &mut o.kinesis_firehose_output,
                        &mut o.lambda_output,
                    ],
                    which,
                    t,
                );
            }
        }
        if let Some(d) = ou.destination {
            o.destination_schema = d;
        }
    }
    for ru in u.reference_data_source_updates {
        let r = app
            .references
            .iter_mut()
            .find(|r| r.reference_id == ru.id)
            .ok_or_else(|| no_id("Reference", &ru.id))?;
        if let Some(t) = ru.table_name {
            r.table_name = t;
        }
        if let (Some(s3), Some(u)) = (r.s3.as_mut(), ru.s3) {
            if let Some(b) = u.bucket_arn {
                s3.bucket_arn = b;
            }
            if let Some(k) = u.file_key {
                s3.file_key = k;
            }
            if u.role_arn.is_some() {
                s3.reference_role_arn = u.role_arn;
            }
        }
        if let Some(s) = ru.schema {
            r.reference_schema = s;
        }
    }
    for lu in u.cloud_watch_logging_option_updates {
        let l = app
            .logging
            .iter_mut()
            .find(|l| l.id == lu.id)
            .ok_or_else(|| no_id("CloudWatchLoggingOption", &lu.id))?;
        if let Some(a) = lu.log_stream_arn {
            l.log_stream_arn = a;
        }
        if lu.role_arn.is_some() {
            l.role_arn = lu.role_arn;
        }
    }
    Ok(())
}

/// Gives parts without an id one: `<version>.<n>`, counted per kind of part within the
/// version (an application created with an input and an output has input `1.1` and output
/// `1.1`).
pub(crate) fn give_ids(app: &mut Application) {
    fn fill<'a>(version: u64, ids: impl Iterator<Item = &'a mut String>) {
        let prefix = format!("{version}.");
        let mut ids: Vec<&mut String> = ids.collect();
        let mut n = ids.iter().filter(|i| i.starts_with(&prefix)).count();
        for id in ids.iter_mut().filter(|i| i.is_empty()) {
            n += 1;
            **id = format!("{prefix}{n}");
        }
    }
    let v = app.version;
    fill(v, app.inputs.iter_mut().map(|i| &mut i.input_id));
    fill(v, app.outputs.iter_mut().map(|o| &mut o.output_id));
    fill(v, app.references.iter_mut().map(|r| &mut r.reference_id));
    fill(v, app.logging.iter_mut().map(|l| &mut l.id));
}

/// The rules every configuration keeps (after a change, before it is stored).
pub(crate) fn check(app: &Application) -> Result<()> {
    let invalid = |m: String| Err(AnalyticsError::InvalidArgument(m));
    if app.inputs.len() > MAX_INPUTS {
        return invalid(format!(
            "An application can have at most {MAX_INPUTS} streaming source."
        ));
    }
    if app.outputs.len() > MAX_OUTPUTS {
        return invalid(format!(
            "An application can have at most {MAX_OUTPUTS} destinations."
        ));
    }
    if app.references.len() > MAX_REFERENCES {
        return invalid(format!(
            "An application can have at most {MAX_REFERENCES} reference data source."
        ));
    }
    for i in &app.inputs {
        if i.kinesis_streams_input.is_some() == i.kinesis_firehose_input.is_some() {
            return invalid(
                "Either KinesisStreamsInput or KinesisFirehoseInput is required.".into(),
            );
        }
        check_schema(&i.input_schema)?;
    }
    for o in &app.outputs {
        let kinds = [
            o.kinesis_streams_output.is_some(),
            o.kinesis_firehose_output.is_some(),
            o.lambda_output.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return invalid(
                "Exactly one of KinesisStreamsOutput, KinesisFirehoseOutput or LambdaOutput is required."
                    .into(),
            );
        }
    }
    for r in &app.references {
        if r.s3.is_none() {
            return invalid("S3ReferenceDataSource is required.".into());
        }
        check_schema(&r.reference_schema)?;
    }
    Ok(())
}

fn check_schema(s: &SourceSchema) -> Result<()> {
    let json = s.record_format.record_format_type == "JSON";
    if json && s.record_columns.iter().any(|c| c.mapping.is_none()) {
        return Err(AnalyticsError::InvalidArgument(
            "Mapping is required for each record column when RecordFormatType is JSON.".into(),
        ));
    }
    Ok(())
}
