//! ListDataCatalogs: the Glue catalog, AwsDataCatalog.

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(_ctx: &Ctx, _input: Input) -> Result<Value, ApiError> {
    Ok(Value::map([(
        "DataCatalogsSummary",
        Value::List(vec![Value::map([
            ("CatalogName", Value::str("AwsDataCatalog")),
            ("Type", Value::str("GLUE")),
        ])]),
    )]))
}
