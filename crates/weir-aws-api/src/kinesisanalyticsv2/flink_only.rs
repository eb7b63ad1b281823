//! The actions for Managed Service for Apache Flink applications only (snapshots, versions,
//! operations, VPCs, maintenance, presigned URLs, rollback): a SQL application has none.

use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics as v1;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, action: &str, mut input: Input) -> Result<Value, ApiError> {
    let name = v1::string(&mut input, "ApplicationName");
    ctx.analytics
        .describe(&ctx.region, &name)
        .map_err(v1::error)?;
    Err(ApiError::new(
        "UnsupportedOperationException",
        400,
        format!(
            "{action} is supported only for Managed Service for Apache Flink applications; \
             {name} is a SQL application."
        ),
    ))
}
