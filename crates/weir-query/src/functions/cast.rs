//! Casts to Trino's structural types: `CAST(x AS array(t) | map(k, v) | row(a t, ...))` (and
//! TRY_CAST). The SQL front end turns them into `weir_cast(x, '<type>', safe)`, the type as its
//! Trino text, since DataFusion's parser has no `map(k, v)` or `row(...)` type. JSON (Weir's
//! `json` is varchar text) is decoded into the type, as Trino casts JSON: numbers and booleans
//! become strings where the type asks for varchar, object fields match row fields by name;
//! nested values of other types are cast as Arrow casts them. A value that does not fit fails
//! the query, or is NULL for TRY_CAST.

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast_with_options, concat, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

/// The function's name, as the front end writes it.
pub const NAME: &str = "weir_cast";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Cast {
    signature: Signature,
}

pub fn function() -> ScalarUDF {
    ScalarUDF::new_from_impl(Cast {
        signature: Signature::new(TypeSignature::Any(3), Volatility::Immutable),
    })
}

/// The target type of `weir_cast(x, '<type>', safe)` from its literal arguments.
fn target(args: &[Option<&ScalarValue>]) -> Result<(DataType, bool)> {
    let text = match args.get(1) {
        Some(Some(ScalarValue::Utf8(Some(t)))) => t,
        _ => {
            return Err(DataFusionError::Plan(
                "weir_cast takes a type literal".into(),
            ))
        }
    };
    let safe = matches!(args.get(2), Some(Some(ScalarValue::Boolean(Some(true)))));
    let dt = crate::types::hive_to_arrow(&text.to_lowercase())
        .map_err(|e| DataFusionError::Plan(format!("line 1:1: {e}")))?;
    Ok((dt, safe))
}

impl ScalarUDFImpl for Cast {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(DataFusionError::Internal(
            "weir_cast's type comes from its arguments".into(),
        ))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let (dt, _) = target(args.scalar_arguments)?;
        Ok(Arc::new(Field::new(NAME, dt, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let literals: Vec<Option<ScalarValue>> = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s.clone()),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let refs: Vec<Option<&ScalarValue>> = literals.iter().map(Option::as_ref).collect();
        let (dt, safe) = target(&refs)?;
        let Some(value) = args.args.first() else {
            return Err(DataFusionError::Plan("weir_cast takes a value".into()));
        };
        let scalar = matches!(value, ColumnarValue::Scalar(_));
        let array = value.to_array(args.number_rows)?;
        let out = cast_value(&array, &dt, safe)?;
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

fn cannot(from: &DataType, to: &DataType, detail: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "INVALID_CAST_ARGUMENT: Cannot cast {} to {}: {detail}",
        crate::types::athena_type(from).0,
        crate::types::hive_name(to)
    ))
}

/// `array` as `to`: JSON text decoded, anything else cast.
fn cast_value(array: &ArrayRef, to: &DataType, safe: bool) -> Result<ArrayRef> {
    let text = match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            cast_with_options(array, &DataType::Utf8, &CastOptions::default())?
        }
        DataType::Null => return Ok(new_null_array(to, array.len())),
        from => {
            let options = CastOptions {
                safe,
                ..Default::default()
            };
            return cast_with_options(array, to, &options).map_err(|e| cannot(from, to, e));
        }
    };
    let text = text.as_string::<i32>();
    match decode(text, 0, text.len(), to) {
        Ok(a) => Ok(a),
        Err(e) if !safe => Err(cannot(array.data_type(), to, e)),
        // TRY_CAST: row by row, each one that does not fit NULL.
        Err(_) => {
            let parts: Vec<ArrayRef> = (0..text.len())
                .map(|i| decode(text, i, 1, to).unwrap_or_else(|_| new_null_array(to, 1)))
                .collect();
            if parts.is_empty() {
                return Ok(new_null_array(to, 0));
            }
            let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            Ok(concat(&refs)?)
        }
    }
}

/// Rows `offset..offset+len` of JSON texts as `to`, by arrow's JSON decoder over one-field
/// objects (`{"v": <text>}`; NULL and JSON null are NULL).
fn decode(
    text: &datafusion::arrow::array::StringArray,
    offset: usize,
    len: usize,
    to: &DataType,
) -> Result<ArrayRef> {
    let schema = Arc::new(Schema::new(vec![Field::new("v", to.clone(), true)]));
    let mut decoder = ReaderBuilder::new(schema)
        .with_coerce_primitive(true)
        .with_batch_size(len.max(1))
        .build_decoder()?;
    let mut lines = Vec::with_capacity(len * 16);
    for i in offset..offset + len {
        lines.extend_from_slice(b"{\"v\":");
        if text.is_null(i) || text.value(i).trim().is_empty() {
            lines.extend_from_slice(b"null");
        } else {
            // One value per line: a document that is not one value cannot spill into the next.
            let v: serde_json::Value = serde_json::from_str(text.value(i))
                .map_err(|e| DataFusionError::Execution(e.to_string()))?;
            serde_json::to_writer(&mut lines, &v)
                .map_err(|e| DataFusionError::Execution(e.to_string()))?;
        }
        lines.extend_from_slice(b"}\n");
    }
    let mut at = 0;
    while at < lines.len() {
        let n = decoder.decode(&lines[at..])?;
        if n == 0 {
            break;
        }
        at += n;
    }
    match decoder.flush()? {
        Some(batch) if batch.num_rows() == len => Ok(batch.column(0).clone()),
        Some(_) | None if len == 0 => Ok(new_null_array(to, 0)),
        _ => Err(DataFusionError::Execution("rows lost decoding JSON".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn json_into_structural_types() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"a": 1, "b": "x"}"#),
            None,
            Some(r#"{"a": true}"#),
        ]));
        let map = crate::types::hive_to_arrow("map(varchar, varchar)").unwrap_or(DataType::Null);
        let out = cast_value(&a, &map, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 3);
        assert!(out.is_null(1));
        let m = out.as_map();
        assert_eq!(m.value(0).column(1).as_string::<i32>().value(0), "1");
        assert_eq!(m.value(2).column(1).as_string::<i32>().value(0), "true");
        let bad: ArrayRef = Arc::new(StringArray::from(vec![Some("[1]"), Some("{\"a\": 2}")]));
        assert!(cast_value(&bad, &map, false).is_err());
        let tried = cast_value(&bad, &map, true).unwrap_or_else(|e| panic!("{e}"));
        assert!(tried.is_null(0) && !tried.is_null(1));
    }
}
