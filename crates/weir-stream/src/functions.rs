//! Flink's functions the lake SQL library does not have: `PROCTIME()`,
//! `TO_TIMESTAMP_LTZ(epoch, precision)`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::types::LTZ;

/// `PROCTIME()`: the time a row is processed, a `TIMESTAMP_LTZ(3)`.
pub fn proctime() -> ScalarUDF {
    ScalarUDF::new_from_impl(Proctime {
        signature: Signature::exact(vec![], Volatility::Volatile),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Proctime {
    signature: Signature,
}

impl ScalarUDFImpl for Proctime {
    fn name(&self) -> &str {
        "PROCTIME"
    }

    fn aliases(&self) -> &[String] {
        static ALIASES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        ALIASES.get_or_init(|| vec!["proctime".to_string()])
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Millisecond,
            Some(Arc::from(LTZ)),
        ))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(
            Some(now_ms()),
            Some(Arc::from(LTZ)),
        )))
    }
}

/// `TO_TIMESTAMP_LTZ(numeric[, precision])`: epoch seconds (precision 0) or milliseconds
/// (precision 3, the default) as a `TIMESTAMP_LTZ(3)`.
pub fn to_timestamp_ltz() -> ScalarUDF {
    use datafusion::logical_expr::TypeSignature;
    ScalarUDF::new_from_impl(ToTimestampLtz {
        signature: Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(2)],
            Volatility::Immutable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToTimestampLtz {
    signature: Signature,
}

impl ScalarUDFImpl for ToTimestampLtz {
    fn name(&self) -> &str {
        "TO_TIMESTAMP_LTZ"
    }

    fn aliases(&self) -> &[String] {
        static ALIASES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        ALIASES.get_or_init(|| vec!["to_timestamp_ltz".to_string()])
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if !args[0].is_numeric() && args[0] != DataType::Null {
            return datafusion::common::plan_err!(
                "TO_TIMESTAMP_LTZ takes epoch seconds or milliseconds as a number, not {}",
                args[0]
            );
        }
        Ok(DataType::Timestamp(
            TimeUnit::Millisecond,
            Some(Arc::from(LTZ)),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::{Array, Float64Array, TimestampMillisecondArray};
        let precision = match args.args.get(1) {
            None => 3,
            Some(ColumnarValue::Scalar(v)) => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(p)) => p,
                _ => -1,
            },
            Some(_) => -1,
        };
        let scale = match precision {
            0 => 1000.0,
            3 => 1.0,
            p => {
                return datafusion::common::exec_err!(
                    "The precision value '{p}' for function TO_TIMESTAMP_LTZ(numeric, \
                     precision) is unsupported, the supported value is '0' for second or '3' \
                     for millisecond."
                )
            }
        };
        let rows = args.number_rows;
        let values = args.args[0].clone().into_array(rows)?;
        let values = datafusion::arrow::compute::cast(&values, &DataType::Float64)?;
        let Some(values) = values.as_any().downcast_ref::<Float64Array>() else {
            return datafusion::common::exec_err!("TO_TIMESTAMP_LTZ: not a number");
        };
        let out: TimestampMillisecondArray = values
            .iter()
            .map(|v| v.map(|v| (v * scale).round() as i64))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out.with_timezone(LTZ))))
    }
}

/// The wall clock in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, TimestampMillisecondArray};

    #[tokio::test]
    async fn to_timestamp_ltz_reads_seconds_and_milliseconds() {
        let ctx = crate::plan::session();
        let batches = ctx
            .sql(
                "SELECT TO_TIMESTAMP_LTZ(1767225600123, 3), TO_TIMESTAMP_LTZ(1767225600, 0), \
                 TO_TIMESTAMP_LTZ(1767225600123), TO_TIMESTAMP_LTZ(CAST(NULL AS BIGINT), 3)",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let ms = |c: usize| {
            let a = batches[0].column(c);
            let a = a
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .unwrap();
            a.is_valid(0).then(|| a.value(0))
        };
        assert_eq!(ms(0), Some(1_767_225_600_123));
        assert_eq!(ms(1), Some(1_767_225_600_000));
        assert_eq!(ms(2), Some(1_767_225_600_123));
        assert_eq!(ms(3), None);
        let err = match ctx.sql("SELECT TO_TIMESTAMP_LTZ(1, 5)").await {
            Ok(df) => df.collect().await.unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("The precision value '5'"), "{err}");
    }
}
