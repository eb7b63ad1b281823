//! Kinesis Data Analytics SQL applications run as engine jobs: the [`weir_analytics::Runner`]
//! the control plane calls.
//!
//! An application becomes one statement set (one job):
//! - each input is a table over its Kinesis stream named as its in-application stream
//!   (`SOURCE_SQL_STREAM_001`), its columns mapped by the input schema, with `ROWTIME` (the
//!   time the row entered the application: processing time) and `APPROXIMATE_ARRIVAL_TIME`;
//! - each in-application stream the code creates is a table over an internal Weir stream
//!   (`weir-kda-<job hash>-<n>`, kept while the job may resume) with its own `ROWTIME`;
//! - each pump is an `INSERT INTO` (`sql::kda` translates the dialect);
//! - each output reads its in-application stream into the destination's table.
//!
//! A start from LAST_STOPPED_POINT resubmits the job under its previous id, so its sources
//! (the inputs and the internal streams) continue from its last checkpoint.

use std::collections::BTreeMap;

use std::future::Future;
use std::pin::Pin;
use weir_analytics::model::{Application, Input, Output, Reference};

use weir_analytics::{Pending, Refusal, Runner};

use crate::kda_mapping::{reference_columns, source_columns};
use crate::sql::kda::{translate, KdaCode};
use crate::{Engine, StreamError};

/// The in-application stream of rows that did not map, and its columns.
const ERROR_STREAM: &str = "error_stream";
const ERROR_COLUMNS: [(&str, &str); 7] = [
    ("ERROR_TIME", "TIMESTAMP(3)"),
    ("ERROR_LEVEL", "VARCHAR(10)"),
    ("ERROR_NAME", "VARCHAR(32)"),
    ("MESSAGE", "VARCHAR(4096)"),
    ("DATA_ROWTIME", "TIMESTAMP(3)"),
    ("DATA_ROW", "VARCHAR(49152)"),
    ("PUMP_NAME", "VARCHAR(128)"),
];

/// The prefix of the internal streams behind in-application streams.
pub const STREAM_PREFIX: &str = "weir-kda-";

/// Runs applications on an engine.
pub struct KdaRunner {
    engine: Engine,
}

impl KdaRunner {
    pub fn new(engine: Engine) -> KdaRunner {
        KdaRunner { engine }
    }
}

/// An application as the engine runs it.
struct AppJob {
    statements: Vec<String>,
    /// The pumps' names by the stream each inserts into, as JSON (`job::PUMPS_OPTION`).
    pumps: String,
    ddl: Vec<String>,
    /// The internal streams of its in-application streams.
    streams: Vec<String>,
    /// Views its statements read.
    views: BTreeMap<String, String>,
    /// Firehose delivery streams read (region, name) and the internal stream each copies its
    /// records to.
    taps: Vec<(String, String, String)>,
}

/// FNV-1a: the same on every run and platform.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The prefix of job `job`'s internal streams (a stable hash keeps names short and valid).
fn streams_of(job: &str) -> String {
    format!("{STREAM_PREFIX}{:016x}-", fnv(job))
}

pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The quoted SQL text of a string literal.
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The resource name and region of an ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`).
fn arn_parts<'a>(arn: &'a str, kind: &str) -> Result<(&'a str, &'a str), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let name = parts
        .get(5)
        .and_then(|r| r.strip_prefix(kind))
        .and_then(|r| r.strip_prefix('/'))
        .filter(|n| !n.is_empty());
    match (parts.get(3), name) {
        (Some(region), Some(name)) => Ok((name, region)),
        _ => Err(format!("{arn} is not a {kind} ARN")),
    }
}

pub(crate) fn unsupported(what: &str) -> String {
    format!("{what} is not supported by Weir yet")
}

/// The table over an input's stream.
/// The input's in-application streams (`_001` ... `_00n` for InputParallelism n), each reading
/// its part of the shards.
/// A Firehose delivery stream is read through a copy of the records put to it (its tap: an
/// internal stream of the job, `tap`).
fn input_table(
    app_arn: &str,
    input: &Input,
    errors: Option<&str>,
    tap: (&str, &str),
) -> Result<Vec<(String, String)>, String> {
    let (stream, region) = match (&input.kinesis_streams_input, &input.kinesis_firehose_input) {
        (Some(target), _) => arn_parts(&target.resource_arn, "stream")?,
        // The tap: an internal stream, in the engine's region.
        (None, Some(_)) => tap,
        (None, None) => return Err("The input has no Kinesis stream or Firehose".into()),
    };
    let (mut columns, mut format) = source_columns(&input.input_schema)?;
    if let Some(errors) = errors {
        format.push(format!(
            "'{}' = {}",
            crate::decode::ERRORS_OPTION,
            literal(errors)
        ));
    }
    format.push(sql_errors(errors));
    if let Some(p) = &input.input_processing_configuration {
        use crate::job::preprocess::{APPLICATION_OPTION, FUNCTION_OPTION};
        let function = &p.input_lambda_processor.resource_arn;
        format.push(format!("'{FUNCTION_OPTION}' = {}", literal(function)));
        format.push(format!("'{APPLICATION_OPTION}' = {}", literal(app_arn)));
    }
    columns.push("`ROWTIME` AS PROCTIME()".into());
    columns.push("`APPROXIMATE_ARRIVAL_TIME` TIMESTAMP(3) METADATA FROM 'timestamp'".into());
    let at = match input.starting_position.as_deref() {
        Some("TRIM_HORIZON") => "TRIM_HORIZON",
        _ => "LATEST",
    };
    let names = input.in_app_streams();
    if names.is_empty() {
        return Err("The input has no in-application stream".into());
    }
    let n = names.len();
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(k, name)| {
            // Always a part (0/1 too): a later InputParallelism takes up the shards then its own.
            let part = format!(", '{}' = '{k}/{n}'", crate::table::SHARDS_OPTION);
            let ddl = format!(
                "CREATE TABLE {} ({}) WITH ('connector' = 'kinesis', 'stream' = {}, 'aws.region' = \
                 {}, 'scan.stream.initpos' = '{at}'{part}, {})",
                quote(&name),
                columns.join(", "),
                literal(stream),
                literal(region),
                format.join(", ")
            );
            (name, ddl)
        })
        .collect())
}

/// The table over a reference data source's S3 object, read whole when the job starts.
fn reference_table(r: &Reference) -> Result<String, String> {
    let s3 =
        r.s3.as_ref()
            .ok_or("The reference data source has no S3 object")?;
    let bucket = s3
        .bucket_arn
        .strip_prefix("arn:aws:s3:::")
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("{} is not a bucket ARN", s3.bucket_arn))?;
    let (columns, format) = reference_columns(&r.reference_schema)?;
    Ok(format!(
        "CREATE TABLE {} ({}) WITH ('connector' = 'filesystem', 'path' = {}, {})",
        quote(&r.table_name),
        columns.join(", "),
        literal(&format!("s3://{bucket}/{}", s3.file_key)),
        format.join(", ")
    ))
}

/// The table an output writes to and its connector options.
fn output_table(output: &Output, k: usize, columns: &[String]) -> Result<(String, String), String> {
    let connector = if let Some(t) = &output.kinesis_streams_output {
        let (stream, region) = arn_parts(&t.resource_arn, "stream")?;
        format!(
            "'connector' = 'kinesis', 'stream' = {}, 'aws.region' = {}",
            literal(stream),
            literal(region)
        )
    } else if let Some(t) = &output.kinesis_firehose_output {
        let (name, region) = arn_parts(&t.resource_arn, "deliverystream")?;
        format!(
            "'connector' = 'firehose', 'delivery-stream' = {}, 'aws.region' = {}",
            literal(name),
            literal(region)
        )
    } else if let Some(t) = &output.lambda_output {
        format!(
            "'connector' = 'lambda', 'function' = {}",
            literal(&t.resource_arn)
        )
    } else {
        return Err(format!("Output {} has no destination", output.name));
    };
    let format = match output.destination_schema.record_format_type.as_str() {
        "JSON" => "json",
        "CSV" => "csv",
        other => return Err(format!("RecordFormatType {other} is not JSON or CSV")),
    };
    let table = format!("weir_kda_output_{k}");
    let ddl = format!(
        "CREATE TABLE {} ({}) WITH ({connector}, 'format' = '{format}', '{}' = 'true')",
        quote(&table),
        columns.join(", "),
        crate::sink::RETRY_OPTION,
    );
    Ok((table, ddl))
}

/// The option that sets apart rows a pump's query fails on (division by zero), to
/// `error_stream` when an output reads it.
fn sql_errors(errors: Option<&str>) -> String {
    format!(
        "'{}' = {}",
        crate::job::SQL_ERRORS_OPTION,
        literal(errors.unwrap_or("-"))
    )
}

/// The in-application streams of the inputs, with their columns' names.
fn input_streams(app: &Application) -> Vec<crate::sql::kda::InAppStream> {
    app.inputs
        .iter()
        .flat_map(|input| {
            let columns: Vec<(String, String)> = input
                .input_schema
                .record_columns
                .iter()
                .map(|c| (c.name.clone(), c.sql_type.clone()))
                .collect();
            input
                .in_app_streams()
                .into_iter()
                .map(move |name| crate::sql::kda::InAppStream {
                    name,
                    columns: columns.clone(),
                })
        })
        .collect()
}

/// The application's statements and tables for job `job` (internal streams in `region`).
fn app_job(app: &Application, job: &str, region: &str) -> Result<AppJob, String> {
    let lookups: Vec<String> = app
        .references
        .iter()
        .map(|r| r.table_name.clone())
        .collect();
    let code: KdaCode = translate(
        app.code.as_deref().unwrap_or_default(),
        &lookups,
        &input_streams(app),
    )
    .map_err(|e| e.to_string())?;
    let mut ddl = Vec::new();
    let mut names = Vec::new();
    for r in &app.references {
        ddl.push(reference_table(r)?);
        names.push(r.table_name.clone());
    }
    let prefix = streams_of(job);
    // Rows that do not map go to `error_stream` when an output reads it.
    let mut in_app = code.streams.clone();
    let errors = app
        .outputs
        .iter()
        .any(|o| o.name.eq_ignore_ascii_case(ERROR_STREAM));
    let errors_at = format!("{region}:{prefix}{:016x}", fnv(ERROR_STREAM));
    if errors {
        in_app.push(crate::sql::kda::InAppStream {
            name: ERROR_STREAM.into(),
            columns: ERROR_COLUMNS
                .iter()
                .map(|(c, t)| (c.to_string(), t.to_string()))
                .collect(),
        });
    }
    let mut streams = Vec::new();
    let mut taps = Vec::new();
    for input in &app.inputs {
        let tap = format!(
            "{prefix}{:016x}",
            fnv(&format!("firehose:{}", input.name_prefix))
        );
        if let Some(f) = &input.kinesis_firehose_input {
            let (delivery, region) = arn_parts(&f.resource_arn, "deliverystream")?;
            taps.push((region.to_string(), delivery.to_string(), tap.clone()));
            streams.push(tap.clone());
        }
        let errors = errors.then_some(errors_at.as_str());
        for (name, table) in input_table(&app.arn, input, errors, (&tap, region))? {
            names.push(name);
            ddl.push(table);
        }
    }
    for s in &in_app {
        if names.contains(&s.name) {
            return Err(format!("Stream {} is already an input's stream", s.name));
        }
        names.push(s.name.clone());
        // Named by the stream's name: code changed between runs of a job keeps each stream's
        // rows and positions with it.
        let internal = format!("{prefix}{:016x}", fnv(&s.name));
        let columns: Vec<String> = s
            .columns
            .iter()
            .map(|(c, t)| format!("{} {t}", quote(c)))
            .chain(["`ROWTIME` AS PROCTIME()".to_string()])
            .collect();
        ddl.push(format!(
            "CREATE TABLE {} ({}) WITH ('connector' = 'kinesis', 'stream' = {}, 'aws.region' = \
             {}, 'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json', {})",
            quote(&s.name),
            columns.join(", "),
            literal(&internal),
            literal(region),
            sql_errors(errors.then_some(errors_at.as_str())),
        ));
        streams.push(internal);
    }
    let mut statements: Vec<String> = code.pumps.iter().map(|p| p.insert.clone()).collect();
    for (k, output) in app.outputs.iter().enumerate() {
        let stream = in_app
            .iter()
            .find(|s| s.name == output.name)
            .or_else(|| {
                let upper = output.name.to_ascii_uppercase();
                in_app.iter().find(|s| s.name == upper)
            })
            .or_else(|| {
                let lower = output.name.to_ascii_lowercase();
                in_app.iter().find(|s| s.name == lower)
            });
        let Some(stream) = stream else {
            return Err(format!(
                "Output {} names no in-application stream of the code",
                output.name
            ));
        };
        let columns: Vec<String> = stream
            .columns
            .iter()
            .map(|(c, t)| format!("{} {t}", quote(c)))
            .collect();
        let (table, table_ddl) = output_table(output, k, &columns)?;
        let selected: Vec<String> = stream.columns.iter().map(|(c, _)| quote(c)).collect();
        statements.push(format!(
            "INSERT INTO {} SELECT {} FROM {}",
            quote(&table),
            selected.join(", "),
            quote(&stream.name)
        ));
        ddl.push(table_ddl);
    }
    if statements.is_empty() {
        return Err("The application code has no pump and the application no output".into());
    }
    let views = code.pumps.iter().flat_map(|p| p.views.clone()).collect();
    // error_stream's PUMP_NAME, by the stream a pump inserts into (when one pump does).
    let mut pumps = serde_json::Map::new();
    for p in &code.pumps {
        let one = code.pumps.iter().filter(|q| q.target == p.target).count() == 1;
        if one {
            pumps.insert(p.target.clone(), p.name.clone().into());
        }
    }
    Ok(AppJob {
        pumps: serde_json::Value::Object(pumps).to_string(),
        statements,
        ddl,
        streams,
        views,
        taps,
    })
}

impl KdaRunner {
    fn tables(&self, app: &AppJob) -> crate::Result<BTreeMap<String, crate::table::TableDef>> {
        let mut tables = BTreeMap::new();
        for ddl in &app.ddl {
            let t = self.engine.table(ddl)?;
            tables.insert(t.name().to_string(), t);
        }
        Ok(tables)
    }
}

fn text(e: StreamError) -> String {
    e.to_string()
}

impl Runner for KdaRunner {
    fn check(&self, app: &Application) -> Result<(), String> {
        translate(
            app.code.as_deref().unwrap_or_default(),
            &[],
            &input_streams(app),
        )
        .map(drop)
        .map_err(|e| e.to_string())
    }

    fn runnable(
        &self,
        app: &Application,
    ) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + Send>> {
        let engine = self.engine.clone();
        // The functions the application calls must be registered in Weir's config.
        let functions = app
            .inputs
            .iter()
            .filter_map(|i| i.input_processing_configuration.as_ref())
            .map(|p| &p.input_lambda_processor.resource_arn)
            .chain(
                app.outputs
                    .iter()
                    .filter_map(|o| o.lambda_output.as_ref())
                    .map(|l| &l.resource_arn),
            );
        for arn in functions {
            if let Err(e) = engine.check_function(arn) {
                return Box::pin(std::future::ready(Err(Refusal::Invalid(text(e)))));
            }
        }
        for f in app
            .inputs
            .iter()
            .filter_map(|i| i.kinesis_firehose_input.as_ref())
        {
            let checked = arn_parts(&f.resource_arn, "deliverystream")
                .map_err(Refusal::Invalid)
                .and_then(|(name, region)| {
                    engine.check_firehose(region, name).map_err(|e| match e {
                        StreamError::Unsupported(m) => Refusal::Unsupported(m),
                        other => Refusal::Invalid(text(other)),
                    })
                });
            if let Err(e) = checked {
                return Box::pin(std::future::ready(Err(e)));
            }
        }
        let planned = app_job(app, "check", engine.default_region())
            .map_err(Refusal::Unsupported)
            .and_then(|j| {
                let tables = self.tables(&j).map_err(|e| Refusal::Unsupported(text(e)))?;
                Ok((j, tables))
            });
        Box::pin(async move {
            let (job, tables) = planned?;
            for statement in &job.statements {
                engine
                    .explain(statement, &tables, &job.views)
                    .await
                    .map_err(|e| match e {
                        StreamError::Unsupported(m) => Refusal::Unsupported(m),
                        other => Refusal::Invalid(other.to_string()),
                    })?;
            }
            Ok(())
        })
    }

    fn start(&self, app: &Application, job: &str, resume: bool) -> Pending<()> {
        let engine = self.engine.clone();
        let planned = app_job(app, job, engine.default_region())
            .and_then(|j| Ok((self.tables(&j).map_err(text)?, j)));
        let stale = app.last_job.clone().filter(|last| !resume && last != job);
        let (id, name) = (job.to_string(), app.name.clone());
        Box::pin(async move {
            let (tables, planned) = planned?;
            if let Some(last) = stale {
                engine.drop_internal_streams(&streams_of(&last));
            }
            for s in &planned.streams {
                engine.internal_stream(s).await.map_err(text)?;
            }
            for (region, delivery, tap) in &planned.taps {
                engine.tap_firehose(region, delivery, tap).map_err(text)?;
            }
            let config = BTreeMap::from([
                ("pipeline.name".to_string(), format!("kda-{name}")),
                (crate::job::PUMPS_OPTION.to_string(), planned.pumps.clone()),
            ]);
            engine
                .submit_set_as(&id, &planned.statements, &tables, &planned.views, &config)
                .await
                .map_err(text)?;
            Ok(())
        })
    }

    fn stop(&self, job: &str) -> Pending<()> {
        let (engine, job) = (self.engine.clone(), job.to_string());
        Box::pin(async move { engine.stop_job(&job, false).await.map_err(text) })
    }

    fn discard(&self, job: &str) {
        self.engine.drop_internal_streams(&streams_of(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_resources() {
        assert_eq!(
            arn_parts("arn:aws:kinesis:us-east-1:000000000000:stream/in", "stream").unwrap(),
            ("in", "us-east-1")
        );
        assert!(arn_parts("arn:aws:kinesis:us-east-1:0:stream/", "stream").is_err());
        assert_eq!(
            arn_parts(
                "arn:aws:firehose:eu-west-1:0:deliverystream/d",
                "deliverystream"
            )
            .unwrap(),
            ("d", "eu-west-1")
        );
    }

    #[test]
    fn internal_streams_are_named_by_job() {
        let p = streams_of("kda-app-1");
        assert!(p.starts_with(STREAM_PREFIX) && p.len() == STREAM_PREFIX.len() + 17);
        assert_eq!(p, streams_of("kda-app-1"));
        assert_ne!(p, streams_of("kda-app-2"));
    }
}
