//! Trino's aggregates that DataFusion lacks: count_if(bool), min_by(x, y), max_by(x, y), and
//! `arbitrary` (DataFusion's any_value).

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

#[derive(Debug, Default)]
struct CountIfAcc {
    n: i64,
}

impl Accumulator for CountIfAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let b = cast(&values[0], &DataType::Boolean)?;
        let b: &BooleanArray = b.as_boolean();
        self.n += b.iter().filter(|v| *v == Some(true)).count() as i64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.n)))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.n))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = cast(&states[0], &DataType::Int64)?;
        let n = n.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        self.n += n.iter().flatten().sum::<i64>();
        Ok(())
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<CountIfAcc>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}_count", args.name),
            DataType::Int64,
            true,
        ))])
    }
}

/// min_by / max_by: the `x` of the row with the least / greatest `y`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ByAgg {
    name: &'static str,
    want: Ordering,
    signature: Signature,
}

#[derive(Debug)]
struct ByAcc {
    want: Ordering,
    x: ScalarValue,
    y: ScalarValue,
}

impl ByAcc {
    fn offer(&mut self, x: ScalarValue, y: ScalarValue) {
        if y.is_null() {
            return;
        }
        let better = self.y.is_null() || y.partial_cmp(&self.y) == Some(self.want);
        if better {
            self.x = x;
            self.y = y;
        }
    }

    fn take(&mut self, xs: &ArrayRef, ys: &ArrayRef) -> Result<()> {
        for i in 0..ys.len() {
            if ys.is_null(i) {
                continue;
            }
            let y = ScalarValue::try_from_array(ys, i)?;
            if self.y.is_null() || y.partial_cmp(&self.y) == Some(self.want) {
                let x = ScalarValue::try_from_array(xs, i)?;
                self.offer(x, y);
            }
        }
        Ok(())
    }
}

impl Accumulator for ByAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.take(&values[0], &values[1])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.x.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.x.size() + self.y.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.x.clone(), self.y.clone()])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.take(&states[0], &states[1])
    }
}

impl AggregateUDFImpl for ByAgg {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let xt = args.return_field.data_type().clone();
        let yt = args
            .expr_fields
            .get(1)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        Ok(Box::new(ByAcc {
            want: self.want,
            x: ScalarValue::try_from(&xt)?,
            y: ScalarValue::try_from(&yt)?,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let yt = args
            .input_fields
            .get(1)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        Ok(vec![
            Arc::new(Field::new(
                format!("{}_x", args.name),
                args.return_type().clone(),
                true,
            )),
            Arc::new(Field::new(format!("{}_y", args.name), yt, true)),
        ])
    }
}

pub fn functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::new_from_impl(CountIf {
            signature: Signature::any(1, Volatility::Immutable),
        }),
        AggregateUDF::new_from_impl(ByAgg {
            name: "min_by",
            want: Ordering::Less,
            signature: Signature::any(2, Volatility::Immutable),
        }),
        AggregateUDF::new_from_impl(ByAgg {
            name: "max_by",
            want: Ordering::Greater,
            signature: Signature::any(2, Volatility::Immutable),
        }),
        datafusion::functions_aggregate::any_value::any_value_udaf()
            .as_ref()
            .clone()
            .with_aliases(["arbitrary"]),
    ]
}
