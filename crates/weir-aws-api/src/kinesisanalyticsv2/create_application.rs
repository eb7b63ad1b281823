//! CreateApplication for a SQL application (RuntimeEnvironment `SQL-1_0`): its inputs,
//! outputs, reference data and code, READY at version 1. Flink runtimes are refused.

use weir_analytics::NewApplication;

use super::{detail, member, parse};
use crate::error::ApiError;
use crate::glue::common::to_json;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, shapes};
use crate::value::Value;
use crate::Ctx;

/// The code of an `ApplicationCodeConfiguration` (SQL takes it as plain text).
fn code_of(config: &serde_json::Value) -> Result<Option<String>, ApiError> {
    if config.is_null() {
        return Ok(None);
    }
    match member(config, &["CodeContentType"]).as_str() {
        Some("PLAINTEXT") => {}
        other => {
            return Err(ApiError::invalid_argument(format!(
                "A SQL application takes its code as PLAINTEXT, not {}.",
                other.unwrap_or("nothing")
            )))
        }
    }
    Ok(member(config, &["CodeContent", "TextContent"])
        .as_str()
        .map(str::to_string))
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let runtime = v1::string(&mut input, "RuntimeEnvironment");
    if runtime != "SQL-1_0" {
        return Err(ApiError::new(
            "UnsupportedOperationException",
            400,
            format!(
                "Weir runs SQL-1_0 applications through this API; {runtime} applications run \
                 their Flink SQL through Weir's Flink SQL Gateway."
            ),
        ));
    }
    let config = input
        .raw("ApplicationConfiguration")
        .map_or(serde_json::Value::Null, |v| to_json(v, false));
    let sql = member(&config, &["SqlApplicationConfiguration"]);
    let new = NewApplication {
        name: v1::string(&mut input, "ApplicationName"),
        description: v1::read(&mut input, "ApplicationDescription")?,
        code: code_of(&member(&config, &["ApplicationCodeConfiguration"]))?,
        runtime,
        service_role: Some(v1::string(&mut input, "ServiceExecutionRole")),
        inputs: parse(member(&sql, &["Inputs"]), "Inputs")?,
        outputs: parse(member(&sql, &["Outputs"]), "Outputs")?,
        references: parse(
            member(&sql, &["ReferenceDataSources"]),
            "ReferenceDataSources",
        )?,
        logging: v1::read(&mut input, "CloudWatchLoggingOptions")?.unwrap_or_default(),
        tags: shapes::read_tags(input.raw("Tags")),
    };
    let app = ctx.analytics.create(&ctx.region, new).map_err(v1::error)?;
    Ok(Value::map([("ApplicationDetail", detail(&app))]))
}
