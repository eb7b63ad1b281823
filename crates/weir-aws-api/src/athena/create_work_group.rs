//! CreateWorkGroup: name, description, Configuration (ResultConfiguration.OutputLocation and
//! EnforceWorkGroupConfiguration are what Weir acts on).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Reads (OutputLocation, EnforceWorkGroupConfiguration) from a Configuration document.
pub fn configuration(v: &Option<Value>) -> (Option<String>, Option<bool>) {
    let Some(Value::Map(members)) = v else {
        return (None, None);
    };
    let mut out = (None, None);
    for (k, v) in members {
        match (k.as_ref(), v) {
            ("ResultConfiguration" | "ResultConfigurationUpdates", Value::Map(rc)) => {
                out.0 = rc.iter().find_map(|(k, v)| match v {
                    Value::Str(s) if k == "OutputLocation" => Some(s.clone()),
                    _ => None,
                });
            }
            ("EnforceWorkGroupConfiguration", Value::Bool(b)) => out.1 = Some(*b),
            _ => {}
        }
    }
    out
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name").unwrap_or_default();
    let config = input.raw("Configuration");
    let (output, enforce) = configuration(&config);
    let wg = weir_athena::WorkGroup {
        name,
        state: "ENABLED".into(),
        description: string(&mut input, "Description"),
        output_location: output,
        enforce: enforce.unwrap_or(true),
        created_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        configuration: serde_json::Value::Null,
    };
    ctx.athena
        .put_work_group(&ctx.region, wg, true)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
