//! Types across the three vocabularies: Hive/Glue type strings (the catalog), Arrow (DataFusion)
//! and Athena's result type names with their precision and scale.

use datafusion::arrow::datatypes::DataType;

/// A Glue column type (`bigint`, `decimal(10,2)`, `array<struct<a:int>>`, ...) as Arrow.
pub use weir_catalog::types::hive_to_arrow;

/// Athena's name for a result column's type, with its precision and scale.
pub fn athena_type(dt: &DataType) -> (&'static str, i64, i64) {
    match dt {
        DataType::Boolean => ("boolean", 0, 0),
        DataType::Int8 => ("tinyint", 3, 0),
        DataType::Int16 | DataType::UInt8 => ("smallint", 5, 0),
        DataType::Int32 | DataType::UInt16 => ("integer", 10, 0),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ("bigint", 19, 0),
        DataType::Float16 | DataType::Float32 => ("real", 24, 0),
        DataType::Float64 => ("double", 53, 0),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => ("decimal", *p as i64, *s as i64),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ("varchar", 2147483647, 0),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => ("varbinary", 2147483647, 0),
        DataType::Date32 | DataType::Date64 => ("date", 0, 0),
        DataType::Timestamp(_, Some(_)) => ("timestamp with time zone", 3, 0),
        DataType::Timestamp(_, None) => ("timestamp", 3, 0),
        DataType::Time32(_) | DataType::Time64(_) => ("time", 3, 0),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_) => ("array", 0, 0),
        DataType::Map(..) => ("map", 0, 0),
        DataType::Struct(_) => ("row", 0, 0),
        DataType::Interval(_) | DataType::Duration(_) => ("interval day to second", 0, 0),
        DataType::Null => ("unknown", 0, 0),
        DataType::Dictionary(_, v) => athena_type(v),
        _ => ("varchar", 2147483647, 0),
    }
}

/// The type as DDL (and Glue) writes it: `int`, `string`, `array<string>`, ...
pub fn hive_name(dt: &DataType) -> String {
    weir_catalog::types::HiveType::of_arrow(dt).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_names_round_trip() {
        assert_eq!(
            hive_name(&hive_to_arrow("array<struct<a:int,b:string>>").unwrap_or(DataType::Null)),
            "array<struct<a:int,b:string>>"
        );
    }
}
