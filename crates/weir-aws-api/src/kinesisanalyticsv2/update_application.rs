//! UpdateApplication: SQL inputs, outputs, reference data, code and logging options changed at
//! once (as of CurrentApplicationVersionId or ConditionalToken); a running application
//! restarts on the new version where it stopped.

use weir_analytics::update::ApplicationUpdate;
use weir_analytics::Change;

use super::{change, detail, member, parse};
use crate::error::ApiError;
use crate::glue::common::to_json;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    if let Some(Value::Str(r)) = input.raw("RuntimeEnvironmentUpdate") {
        if r != "SQL-1_0" {
            return Err(ApiError::invalid_argument(format!(
                "A SQL application cannot move to runtime {r}."
            )));
        }
    }
    let app = change(ctx, &mut input, |input| {
        let config = input
            .raw("ApplicationConfigurationUpdate")
            .map_or(serde_json::Value::Null, |v| to_json(v, false));
        let sql = member(&config, &["SqlApplicationConfigurationUpdate"]);
        let code = member(
            &config,
            &[
                "ApplicationCodeConfigurationUpdate",
                "CodeContentUpdate",
                "TextContentUpdate",
            ],
        );
        let logging = input
            .raw("CloudWatchLoggingOptionUpdates")
            .map_or(serde_json::Value::Null, |v| to_json(v, false));
        Ok(Change::Update(ApplicationUpdate {
            input_updates: parse(member(&sql, &["InputUpdates"]), "InputUpdates")?,
            application_code_update: code.as_str().map(str::to_string),
            output_updates: parse(member(&sql, &["OutputUpdates"]), "OutputUpdates")?,
            reference_data_source_updates: parse(
                member(&sql, &["ReferenceDataSourceUpdates"]),
                "ReferenceDataSourceUpdates",
            )?,
            cloud_watch_logging_option_updates: parse(logging, "CloudWatchLoggingOptionUpdates")?,
            service_role_update: match input.raw("ServiceExecutionRoleUpdate") {
                Some(Value::Str(role)) => Some(role),
                _ => None,
            },
        }))
    })
    .await?;
    Ok(Value::map([("ApplicationDetail", detail(&app))]))
}
