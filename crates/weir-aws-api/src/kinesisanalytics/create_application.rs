//! CreateApplication: a READY application at version 1, its parts numbered `1.n`.

use weir_analytics::NewApplication;

use super::{error, read, shapes, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let new = NewApplication {
        name: string(&mut input, "ApplicationName"),
        description: read(&mut input, "ApplicationDescription")?,
        code: read(&mut input, "ApplicationCode")?,
        runtime: "SQL-1_0".into(),
        service_role: None,
        inputs: read(&mut input, "Inputs")?.unwrap_or_default(),
        outputs: read(&mut input, "Outputs")?.unwrap_or_default(),
        references: Vec::new(),
        logging: read(&mut input, "CloudWatchLoggingOptions")?.unwrap_or_default(),
        tags: shapes::read_tags(input.raw("Tags")),
    };
    let app = ctx.analytics.create(&ctx.region, new).map_err(error)?;
    Ok(Value::map([("ApplicationSummary", shapes::summary(&app))]))
}
