//! Result tables as the SQL Gateway writes them: columns with Flink's `logicalType` JSON, rows
//! as `{"kind": "INSERT", "fields": [...]}` in the JSON row format (numbers as numbers,
//! timestamps ISO 8601) or PLAIN_TEXT (every value a string, as Flink's SQL client prints it;
//! NULL stays `null`).

use serde_json::{json, Map, Value};
use weir_stream::arrow::array::{Array, RecordBatch};
use weir_stream::arrow::datatypes::{DataType, Field, TimeUnit};
use weir_stream::arrow::util::display::{ArrayFormatter, FormatOptions};
use weir_stream::changelog::{kind_name, split_kinds};
use weir_stream::sink::{encode_json_with, TimeStyle};

/// Which row format a fetch asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    Json,
    PlainText,
}

impl RowFormat {
    pub fn name(self) -> &'static str {
        match self {
            RowFormat::Json => "JSON",
            RowFormat::PlainText => "PLAIN_TEXT",
        }
    }
}

/// A column: `{"name", "logicalType", "comment": null}`.
pub fn column(field: &Field) -> Value {
    json!({
        "name": field.name(),
        "logicalType": logical_type(field.data_type(), field.is_nullable()),
        "comment": null,
    })
}

/// Flink's `LogicalTypeJsonSerializer` form of a type.
pub fn logical_type(t: &DataType, nullable: bool) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let precision = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    let name = match t {
        DataType::Null => return json!({"type": "NULL"}),
        DataType::Boolean => "BOOLEAN",
        DataType::Int8 => "TINYINT",
        DataType::Int16 | DataType::UInt8 => "SMALLINT",
        DataType::Int32 | DataType::UInt16 => "INTEGER",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "BIGINT",
        DataType::Float16 | DataType::Float32 => "FLOAT",
        DataType::Float64 => "DOUBLE",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "VARBINARY",
        DataType::Decimal128(..) | DataType::Decimal256(..) => "DECIMAL",
        DataType::Time32(_) | DataType::Time64(_) => "TIME_WITHOUT_TIME_ZONE",
        DataType::Timestamp(_, None) => "TIMESTAMP_WITHOUT_TIME_ZONE",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP_WITH_LOCAL_TIME_ZONE",
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => "ARRAY",
        DataType::Map(..) => "MAP",
        DataType::Struct(_) => "ROW",
        _ => "VARCHAR",
    };
    put("type", json!(name));
    put("nullable", json!(nullable));
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            put("length", json!(2147483647))
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            put("length", json!(2147483647))
        }
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            put("precision", json!(p));
            put("scale", json!(s));
        }
        DataType::Time32(_) | DataType::Time64(_) => put("precision", json!(0)),
        DataType::Timestamp(u, _) => put("precision", json!(precision(u))),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            put("elementType", logical_type(f.data_type(), f.is_nullable()))
        }
        DataType::Map(entries, _) => {
            if let DataType::Struct(kv) = entries.data_type() {
                if kv.len() == 2 {
                    put("keyType", logical_type(kv[0].data_type(), kv[0].is_nullable()));
                    put("valueType", logical_type(kv[1].data_type(), kv[1].is_nullable()));
                }
            }
        }
        DataType::Struct(fields) => put(
            "fields",
            Value::Array(
                fields
                    .iter()
                    .map(|f| {
                        json!({"name": f.name(), "fieldType": logical_type(f.data_type(), f.is_nullable())})
                    })
                    .collect(),
            ),
        ),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Date64 => {}
        _ => put("length", json!(2147483647)),
    }
    Value::Object(m)
}

/// Rows of a batch as `data` entries, each with its kind (`INSERT`, or an updating query's
/// `UPDATE_BEFORE`/`UPDATE_AFTER`/`DELETE`).
pub fn rows(batch: &RecordBatch, format: RowFormat) -> Result<Vec<Value>, String> {
    let (batch, kinds) = split_kinds(batch);
    let mut rows = match format {
        RowFormat::Json => json_rows(&batch)?,
        RowFormat::PlainText => text_rows(&batch)?,
    };
    for (row, kind) in rows.iter_mut().zip(kinds) {
        row["kind"] = json!(kind_name(kind));
    }
    Ok(rows)
}

fn json_rows(batch: &RecordBatch) -> Result<Vec<Value>, String> {
    let lines = encode_json_with(batch, TimeStyle::Iso).map_err(|e| e.to_string())?;
    let schema = batch.schema();
    lines
        .iter()
        .map(|line| {
            let obj: Map<String, Value> =
                serde_json::from_slice(line).map_err(|e| e.to_string())?;
            let fields: Vec<Value> = schema
                .fields()
                .iter()
                .map(|f| obj.get(f.name()).cloned().unwrap_or(Value::Null))
                .collect();
            Ok(json!({"kind": "INSERT", "fields": fields}))
        })
        .collect()
}

fn text_rows(batch: &RecordBatch) -> Result<Vec<Value>, String> {
    let schema = batch.schema();
    let mut formatters = Vec::new();
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        let ts = match f.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => Some("%Y-%m-%d %H:%M:%S"),
            DataType::Timestamp(TimeUnit::Millisecond, _) => Some("%Y-%m-%d %H:%M:%S%.3f"),
            DataType::Timestamp(TimeUnit::Microsecond, _) => Some("%Y-%m-%d %H:%M:%S%.6f"),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => Some("%Y-%m-%d %H:%M:%S%.9f"),
            _ => None,
        };
        let options = FormatOptions::default()
            .with_timestamp_format(ts)
            .with_timestamp_tz_format(ts);
        let fmt = ArrayFormatter::try_new(c.as_ref(), &options).map_err(|e| e.to_string())?;
        formatters.push((fmt, c.clone(), f.data_type().clone()));
    }
    Ok((0..batch.num_rows())
        .map(|row| {
            let fields: Vec<Value> = formatters
                .iter()
                .map(|(fmt, col, ty)| {
                    if col.is_null(row) {
                        return Value::Null;
                    }
                    let text = fmt.value(row).to_string();
                    Value::String(match ty {
                        DataType::Boolean => text.to_ascii_uppercase(),
                        _ => text,
                    })
                })
                .collect();
            json!({"kind": "INSERT", "fields": fields})
        })
        .collect())
}
