//! AddApplicationInputProcessingConfiguration: a Lambda that preprocesses an input's records.

use weir_analytics::Change;

use super::{change, changed};
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics as v1;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = v1::string(&mut input, "InputId");
    let change_id = id.clone();
    let app = change(ctx, &mut input, |input| {
        Ok(Change::AddInputProcessing(
            change_id,
            v1::required(input, "InputProcessingConfiguration")?,
        ))
    })
    .await?;
    let role = app.service_role.as_deref();
    let description = app
        .inputs
        .iter()
        .find(|i| i.input_id == id)
        .and_then(|i| i.input_processing_configuration.as_ref())
        .map_or(Value::Null, |p| {
            let lambda = &p.input_lambda_processor;
            Value::map([(
                "InputLambdaProcessorDescription",
                Value::map([
                    ("ResourceARN", Value::str(lambda.resource_arn.clone())),
                    (
                        "RoleARN",
                        Value::opt_str(lambda.role_arn.clone().or(role.map(str::to_string))),
                    ),
                ]),
            )])
        });
    Ok(changed(
        &app,
        vec![
            ("InputId", Value::str(id)),
            ("InputProcessingConfigurationDescription", description),
        ],
    ))
}
