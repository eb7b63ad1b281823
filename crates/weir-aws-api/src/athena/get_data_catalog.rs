//! GetDataCatalog: AwsDataCatalog.

use super::common::{check_catalog, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name").unwrap_or_default();
    check_catalog(&name)?;
    Ok(Value::map([(
        "DataCatalog",
        Value::map([
            ("Name", Value::str("AwsDataCatalog")),
            ("Description", Value::str("AWS Glue Data Catalog")),
            ("Type", Value::str("GLUE")),
            (
                "Parameters",
                Value::map([("catalog-id", Value::str(ctx.catalog.account().to_string()))]),
            ),
        ]),
    )]))
}
