//! Glue's built-in classifiers for self-describing files: Avro (the schema in the header), ORC
//! and Parquet (the schema and row count in the footer). Only the bytes that hold the schema
//! are read.

use std::collections::HashMap;
use std::io::Cursor;

use bytes::Bytes;

use crate::schema::{columns_of_arrow, Columns, HType};

/// What a self-describing file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub columns: Columns,
    /// Rows, where the file says (ORC and Parquet footers).
    pub rows: Option<u64>,
    /// The Avro schema as the file has it (`avro.schema.literal`).
    pub avro_schema: Option<String>,
}

/// The formats told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    Avro,
    Orc,
    Parquet,
}

/// The format a file's first bytes announce.
pub fn magic(head: &[u8]) -> Option<Magic> {
    if head.starts_with(b"Obj\x01") {
        Some(Magic::Avro)
    } else if head.starts_with(b"ORC") {
        Some(Magic::Orc)
    } else if head.starts_with(b"PAR1") {
        Some(Magic::Parquet)
    } else {
        None
    }
}

/// Bytes of a Parquet file's end that hold its footer: the last 8 say how long it is.
pub fn parquet_footer_len(tail8: &[u8]) -> Option<u64> {
    if tail8.len() != 8 || &tail8[4..] != b"PAR1" {
        return None;
    }
    let n = u32::from_le_bytes([tail8[0], tail8[1], tail8[2], tail8[3]]);
    Some(n as u64 + 8)
}

/// A Parquet file's schema from its footer (`footer` ends with the 8-byte tail).
pub fn parquet(footer: &[u8]) -> Result<Described, String> {
    use parquet::file::metadata::ParquetMetaDataReader;
    let body = footer
        .get(..footer.len().saturating_sub(8))
        .ok_or("short Parquet footer")?;
    let meta = ParquetMetaDataReader::decode_metadata(body).map_err(|e| e.to_string())?;
    let fm = meta.file_metadata();
    let schema =
        parquet::arrow::parquet_to_arrow_schema(fm.schema_descr(), fm.key_value_metadata())
            .map_err(|e| e.to_string())?;
    Ok(Described {
        columns: columns_of_arrow(schema.fields()),
        rows: u64::try_from(fm.num_rows()).ok(),
        avro_schema: None,
    })
}

/// An ORC file's end, served to orc-rust's metadata reader as if it were the whole file.
struct Tail {
    len: u64,
    start: u64,
    bytes: Bytes,
}

impl orc_rust::reader::ChunkReader for Tail {
    type T = Cursor<Bytes>;

    fn len(&self) -> u64 {
        self.len
    }

    fn get_read(&self, offset: u64) -> std::io::Result<Self::T> {
        let at = offset
            .checked_sub(self.start)
            .filter(|at| *at <= self.bytes.len() as u64)
            .ok_or_else(|| std::io::Error::other("ORC metadata beyond the bytes read"))?;
        Ok(Cursor::new(self.bytes.slice(at as usize..)))
    }
}

/// An ORC file's schema from its last bytes (`tail`, which end the file of `len` bytes).
pub fn orc(len: u64, tail: Bytes) -> Result<Described, String> {
    let start = len.saturating_sub(tail.len() as u64);
    let mut r = Tail {
        len,
        start,
        bytes: tail,
    };
    let meta = orc_rust::reader::metadata::read_metadata(&mut r).map_err(|e| e.to_string())?;
    let schema = meta.root_data_type().create_arrow_schema(&HashMap::new());
    Ok(Described {
        columns: columns_of_arrow(schema.fields()),
        rows: Some(meta.number_of_rows()),
        avro_schema: None,
    })
}

/// A zig-zag varint (Avro's `long`).
fn avro_long(b: &[u8], at: &mut usize) -> Option<i64> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    Some((v >> 1) as i64 ^ -((v & 1) as i64))
}

fn avro_bytes<'a>(b: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let n = usize::try_from(avro_long(b, at)?).ok()?;
    let s = b.get(*at..*at + n)?;
    *at += n;
    Some(s)
}

/// An Avro container file's schema from its header (`head`: the file's first bytes).
pub fn avro(head: &[u8]) -> Result<Described, String> {
    let short = || "Avro header cut short or malformed".to_string();
    let mut at = 4;
    let mut schema = None;
    loop {
        let mut n = avro_long(head, &mut at).ok_or_else(short)?;
        if n == 0 {
            break;
        }
        if n < 0 {
            // A negative count is followed by the block's size in bytes.
            avro_long(head, &mut at).ok_or_else(short)?;
            n = n.checked_neg().ok_or_else(short)?;
        }
        for _ in 0..n {
            let k = avro_bytes(head, &mut at).ok_or_else(short)?;
            let v = avro_bytes(head, &mut at).ok_or_else(short)?;
            if k == b"avro.schema" {
                schema = Some(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    let text = schema.ok_or("Avro header without a schema")?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let HType::Struct(columns) = avro_type(&json) else {
        return Err("the Avro schema is not a record".into());
    };
    Ok(Described {
        columns,
        rows: None,
        avro_schema: Some(text),
    })
}

/// The Hive type of an Avro schema (unions with null are their other branch).
fn avro_type(s: &serde_json::Value) -> HType {
    use serde_json::Value;
    match s {
        Value::String(name) => match name.as_str() {
            "null" => HType::Null,
            "boolean" => HType::Boolean,
            "int" => HType::Int,
            "long" => HType::BigInt,
            "float" => HType::Float,
            "double" => HType::Double,
            "bytes" => HType::Binary,
            _ => HType::String,
        },
        Value::Array(branches) => {
            let real: Vec<&Value> = branches
                .iter()
                .filter(|b| b.as_str() != Some("null"))
                .collect();
            match real.as_slice() {
                [one] => avro_type(one),
                _ => HType::String,
            }
        }
        Value::Object(o) => {
            let logical = o.get("logicalType").and_then(Value::as_str);
            let base = o.get("type");
            match (logical, base.and_then(Value::as_str)) {
                (Some("date"), _) => HType::Date,
                (Some("timestamp-millis" | "timestamp-micros"), _) => HType::Timestamp,
                (Some("decimal"), _) => {
                    let p = o.get("precision").and_then(Value::as_u64).unwrap_or(38);
                    let s = o.get("scale").and_then(Value::as_u64).unwrap_or(0);
                    HType::Decimal(p.min(38) as u8, s as i8)
                }
                (_, Some("record")) => HType::Struct(
                    o.get("fields")
                        .and_then(Value::as_array)
                        .map(|fields| {
                            fields
                                .iter()
                                .map(|f| {
                                    let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                                    let t = f.get("type").map_or(HType::String, avro_type);
                                    (name.to_lowercase(), t)
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                (_, Some("array")) => {
                    HType::Array(Box::new(o.get("items").map_or(HType::String, avro_type)))
                }
                (_, Some("map")) => HType::Map(
                    Box::new(HType::String),
                    Box::new(o.get("values").map_or(HType::String, avro_type)),
                ),
                (_, Some("enum")) => HType::String,
                (_, Some("fixed")) => HType::Binary,
                (_, Some(_)) => base.map_or(HType::String, avro_type),
                (_, None) => base.map_or(HType::String, avro_type),
            }
        }
        _ => HType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_header() {
        let schema = r#"{"type":"record","name":"r","fields":[{"name":"Id","type":"long"},{"name":"tags","type":["null",{"type":"array","items":"string"}]},{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;
        let mut head = b"Obj\x01".to_vec();
        head.push(2); // one entry (zig-zag 1)
        head.push((11 * 2) as u8);
        head.extend_from_slice(b"avro.schema");
        let n = schema.len() as u64 * 2;
        head.push((n & 0x7f) as u8 | 0x80);
        head.push((n >> 7) as u8);
        head.extend_from_slice(schema.as_bytes());
        head.push(0);
        let d = avro(&head).unwrap_or_else(|e| panic!("{e}"));
        let cols: Vec<String> = d
            .columns
            .iter()
            .map(|(n, t)| format!("{n}:{}", t.hive()))
            .collect();
        assert_eq!(cols, ["id:bigint", "tags:array<string>", "at:timestamp"]);
        assert_eq!(d.avro_schema.as_deref(), Some(schema));
        assert!(avro(b"Obj\x01\x02").is_err());
        assert_eq!(magic(b"PAR1xx"), Some(Magic::Parquet));
        assert_eq!(parquet_footer_len(b"\x10\0\0\0PAR1"), Some(24));
    }
}
