//! Values as Athena renders them in results: timestamps `2024-01-02 03:04:05.678`, doubles as
//! Java prints them (`1.5`, `1.0E10`), varbinary as spaced hex, arrays `[a, b]`, maps and rows
//! `{k=v, ...}`; NULL is `None` (no VarCharValue / an empty unquoted CSV field).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

const OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_null("")
    .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
    .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f %Z"))
    .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
    .with_date_format(Some("%Y-%m-%d"));

/// A double as Java's `Double.toString` writes it.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:E}");
        let (m, e) = s.split_once('E').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.to_string()
        } else {
            format!("{m}.0")
        };
        format!("{m}E{e}")
    }
}

/// The value at `row`, or `None` for NULL.
pub fn render(array: &ArrayRef, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Float64 => java_double(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => java_double(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Binary => hex(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => hex(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => hex(array.as_binary_view().value(row)),
        DataType::List(_) => {
            let l = array.as_list::<i32>().value(row);
            format!("[{}]", items(&l))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>().value(row);
            format!("[{}]", items(&l))
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let parts: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let v = render(s.column(i), row).unwrap_or_else(|| "null".into());
                    format!("{}={v}", f.name())
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries = m.value(row);
            let (k, v) = (entries.column(0), entries.column(1));
            let parts: Vec<String> = (0..entries.len())
                .map(|i| {
                    format!(
                        "{}={}",
                        render(k, i).unwrap_or_else(|| "null".into()),
                        render(v, i).unwrap_or_else(|| "null".into())
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        _ => match ArrayFormatter::try_new(array.as_ref(), &OPTIONS) {
            Ok(f) => f.value(row).to_string(),
            Err(_) => return None,
        },
    })
}

fn items(a: &ArrayRef) -> String {
    (0..a.len())
        .map(|i| render(a, i).unwrap_or_else(|| "null".into()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::java_double;

    #[test]
    fn doubles_as_java_prints_them() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(-2.5e-7), "-2.5E-7");
    }
}
