//! StartApplication: each input from its SqlRunConfigurations position (NOW when none).

use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, start_application::positions};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = v1::string(&mut input, "ApplicationName");
    let runs = match input.raw("RunConfiguration") {
        Some(Value::Map(m)) => m
            .into_iter()
            .find(|(k, _)| k == "SqlRunConfigurations")
            .map(|(_, v)| v),
        _ => None,
    };
    let at = positions(runs, "InputId");
    // v2's StartApplication declares no UnsupportedOperationException: what Weir cannot run
    // is a configuration it cannot start.
    ctx.analytics
        .start(&ctx.region, &name, &at)
        .await
        .map_err(|e| match e {
            weir_analytics::AnalyticsError::Unsupported(m) => {
                ApiError::new("InvalidApplicationConfigurationException", 400, m)
            }
            other => v1::error(other),
        })?;
    Ok(Value::map([]))
}
