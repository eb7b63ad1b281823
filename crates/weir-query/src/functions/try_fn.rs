//! Trino's `try(e)`: `e`, or NULL where evaluating `e` fails (a bad cast, division by zero, a
//! date that does not parse). The SQL front end turns `try(e)` into `weir_try(0, p -> e)`, so
//! `e` arrives as a lambda this function evaluates itself: over the whole batch first, and
//! when that fails, row by row, each failing row NULL. Literals that are operands of casts and
//! arithmetic inside the body arrive wrapped in `weir_opaque` (an identity the planner may not
//! fold), so `try(CAST('x' AS integer))` fails when run, inside `try`, not while planning.

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaParametersProgress, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, TypeSignature, ValueOrLambda, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Try {
    signature: HigherOrderSignature,
}

pub fn function() -> Arc<HigherOrderUDF> {
    Arc::new(HigherOrderUDF::new_from_impl(Try {
        signature: HigherOrderSignature::exact(
            vec![ValueOrLambda::Value(()), ValueOrLambda::Lambda(())],
            Volatility::Immutable,
        ),
    }))
}

impl HigherOrderUDFImpl for Try {
    fn name(&self) -> &str {
        "weir_try"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(arg_types.to_vec())
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let Some(ValueOrLambda::Value(v)) = fields.first() else {
            return Err(DataFusionError::Plan("try takes one expression".into()));
        };
        let param = Field::new(
            crate::trino::TRY_PARAM,
            v.data_type().clone(),
            v.is_nullable(),
        );
        Ok(LambdaParametersProgress::Complete(vec![vec![Arc::new(
            param,
        )]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        match args.arg_fields.get(1) {
            Some(ValueOrLambda::Lambda(body)) => {
                Ok(Arc::new(Field::new("", body.data_type().clone(), true)))
            }
            _ => Err(DataFusionError::Plan("try takes one expression".into())),
        }
    }

    /// Arguments are the body's: planning must not hoist them out of the `try`.
    fn short_circuits(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let (Some(ValueOrLambda::Value(dummy)), Some(ValueOrLambda::Lambda(body))) =
            (args.args.first(), args.args.get(1))
        else {
            return Err(DataFusionError::Plan("try takes one expression".into()));
        };
        let rows = args.number_rows;
        let dummy = dummy.to_array(rows)?;
        let all = || Ok(dummy.clone());
        if let Ok(v) = body.evaluate(&[&all], |captured| Ok(captured.to_vec())) {
            return Ok(v);
        }
        let ret = args.return_type().clone();
        let mut parts: Vec<ArrayRef> = Vec::with_capacity(rows);
        for row in 0..rows {
            let one = || Ok(dummy.slice(row, 1));
            let value = body
                .evaluate(&[&one], |captured| {
                    Ok(captured.iter().map(|c| c.slice(row, 1)).collect())
                })
                .and_then(|v| v.into_array(1));
            parts.push(match value {
                Ok(a) if a.data_type() == &ret => a,
                _ => new_null_array(&ret, 1),
            });
        }
        if parts.is_empty() {
            return Ok(ColumnarValue::Array(new_null_array(&ret, 0)));
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        Ok(ColumnarValue::Array(concat(&refs)?))
    }
}

/// `weir_opaque(x)`: `x`, marked volatile so constant folding leaves it (and what uses it) to
/// run time.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Opaque {
    signature: Signature,
}

pub fn opaque() -> ScalarUDF {
    ScalarUDF::new_from_impl(Opaque {
        signature: Signature::new(TypeSignature::Any(1), Volatility::Volatile),
    })
}

impl ScalarUDFImpl for Opaque {
    fn name(&self) -> &str {
        "weir_opaque"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arg_types
            .first()
            .cloned()
            .ok_or_else(|| DataFusionError::Plan("weir_opaque takes one argument".into()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        args.args
            .into_iter()
            .next()
            .ok_or_else(|| DataFusionError::Plan("weir_opaque takes one argument".into()))
    }
}
