//! Trino's `element_at`: the `i`th element of an array (1-based, negative from the end, NULL
//! past the end) as DataFusion's `array_element`, or the value of a map's key (NULL when the key
//! is absent).

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Scalar, UInt32Array};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ElementAt {
    signature: Signature,
}

impl ElementAt {
    pub fn new() -> ElementAt {
        ElementAt {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn map_types(dt: &DataType) -> Option<(DataType, DataType)> {
    match dt {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                Some((kv[0].data_type().clone(), kv[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)) => {
                Ok(f.data_type().clone())
            }
            Some(m) => map_types(m)
                .map(|(_, v)| v)
                .ok_or_else(|| DataFusionError::Plan("element_at takes an array or a map".into())),
            None => Err(DataFusionError::Plan(
                "element_at takes two arguments".into(),
            )),
        }
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a @ (DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)), _] => {
                Ok(vec![a.clone(), DataType::Int64])
            }
            [m, _] => match map_types(m) {
                Some((k, _)) => Ok(vec![m.clone(), k]),
                None => Err(DataFusionError::Plan(
                    "element_at takes an array or a map".into(),
                )),
            },
            _ => Err(DataFusionError::Plan(
                "element_at takes two arguments".into(),
            )),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let is_map = args
            .arg_fields
            .first()
            .is_some_and(|f| matches!(f.data_type(), DataType::Map(..)));
        if !is_map {
            return datafusion::functions_nested::extract::array_element_udf()
                .invoke_with_args(args);
        }
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [map, keys] = arrays.as_slice() else {
            return Err(DataFusionError::Plan(
                "element_at takes two arguments".into(),
            ));
        };
        let out = lookup(map, keys)?;
        if scalar && rows <= 1 {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// Each row's value under its key (NULL when absent).
fn lookup(map: &ArrayRef, keys: &ArrayRef) -> Result<ArrayRef> {
    let map = map.as_map();
    let keys = match map_types(map.data_type()) {
        Some((k, _)) if &k != keys.data_type() => cast(keys, &k)?,
        _ => keys.clone(),
    };
    let offsets = map.value_offsets();
    let mut picks: Vec<Option<u32>> = Vec::with_capacity(map.len());
    for row in 0..map.len() {
        if map.is_null(row) || keys.is_null(row) {
            picks.push(None);
            continue;
        }
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        let these = map.keys().slice(start, end - start);
        let hits = eq(&these, &Scalar::new(keys.slice(row, 1)))?;
        picks.push(
            hits.iter()
                .position(|h| h == Some(true))
                .map(|p| (start + p) as u32),
        );
    }
    Ok(take(map.values(), &UInt32Array::from(picks), None)?)
}
