//! Column builders for one Glue type each, filled value by value from JSON and turned into
//! Arrow arrays. Unlike Arrow's builders they can be cut back (`truncate`), so a record that
//! fails halfway leaves no trace in the columns before it.

use std::sync::Arc;

use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMillisecondType,
};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, BinaryArray, BooleanArray, Decimal128Array, ListArray, MapArray,
    PrimitiveArray, StringArray, StructArray,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields};
use weir_catalog::types::{map_entries, struct_fields, HiveType};

/// Values of one primitive type, with their validity.
#[derive(Debug, Default)]
pub struct Values<T> {
    pub values: Vec<T>,
    pub valid: Vec<bool>,
}

impl<T: Default + Copy> Values<T> {
    pub fn push(&mut self, v: Option<T>) {
        self.valid.push(v.is_some());
        self.values.push(v.unwrap_or_default());
    }
    fn truncate(&mut self, n: usize) {
        self.values.truncate(n);
        self.valid.truncate(n);
    }
    fn take(&mut self) -> (Vec<T>, Option<NullBuffer>) {
        let valid = std::mem::take(&mut self.valid);
        (std::mem::take(&mut self.values), nulls(valid))
    }
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

/// Variable-length values (strings, binaries).
#[derive(Debug)]
pub struct Bytes {
    pub data: Vec<u8>,
    pub offsets: Vec<i32>,
    pub valid: Vec<bool>,
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes {
            data: Vec::new(),
            offsets: vec![0],
            valid: Vec::new(),
        }
    }
}

impl Bytes {
    pub fn push(&mut self, v: Option<&[u8]>) -> Result<(), String> {
        if let Some(v) = v {
            self.data.extend_from_slice(v);
        }
        let end = i32::try_from(self.data.len())
            .map_err(|_| "a column holds more than 2 GiB of text".to_string())?;
        self.offsets.push(end);
        self.valid.push(v.is_some());
        Ok(())
    }
    fn truncate(&mut self, n: usize) {
        self.valid.truncate(n);
        self.offsets.truncate(n + 1);
        let end = self.offsets.last().copied().unwrap_or(0);
        self.data.truncate(end as usize);
    }
    fn take(&mut self) -> (OffsetBuffer<i32>, Buffer, Option<NullBuffer>) {
        let taken = std::mem::take(self);
        (
            OffsetBuffer::new(ScalarBuffer::from(taken.offsets)),
            Buffer::from_vec(taken.data),
            nulls(taken.valid),
        )
    }
}

/// Offsets of a list or map column (its entries live in the child columns).
#[derive(Debug)]
pub struct Offsets {
    pub offsets: Vec<i32>,
    pub valid: Vec<bool>,
}

impl Default for Offsets {
    fn default() -> Self {
        Offsets {
            offsets: vec![0],
            valid: Vec::new(),
        }
    }
}

impl Offsets {
    /// Ends a row whose entries (`children_len` in all) are in the children; `false` for null.
    pub fn close(&mut self, children_len: usize, valid: bool) -> Result<(), String> {
        let end = i32::try_from(children_len)
            .map_err(|_| "a column holds more than 2^31 entries".to_string())?;
        self.offsets.push(end);
        self.valid.push(valid);
        Ok(())
    }
    /// The children's length at row `n`.
    fn at(&self, n: usize) -> usize {
        self.offsets.get(n).copied().unwrap_or(0) as usize
    }
    fn truncate(&mut self, n: usize) {
        self.offsets.truncate(n + 1);
        self.valid.truncate(n);
    }
    fn take(&mut self) -> (OffsetBuffer<i32>, Option<NullBuffer>) {
        let taken = std::mem::take(self);
        (
            OffsetBuffer::new(ScalarBuffer::from(taken.offsets)),
            nulls(taken.valid),
        )
    }
}

/// One column being built.
#[derive(Debug)]
pub enum Column {
    Boolean(Values<bool>),
    TinyInt(Values<i8>),
    SmallInt(Values<i16>),
    Int(Values<i32>),
    BigInt(Values<i64>),
    Float(Values<f32>),
    Double(Values<f64>),
    Decimal(Values<i128>, u8, i8),
    String(Bytes),
    Binary(Bytes),
    Date(Values<i32>),
    /// Milliseconds since the epoch (UTC).
    Timestamp(Values<i64>),
    Array(Offsets, Box<Column>, Arc<Field>),
    Map(Offsets, Box<Column>, Box<Column>, Arc<Field>),
    /// Fields with their names as matched against JSON keys (lower case).
    Struct(Values<()>, Vec<(String, Column)>, Fields),
}

impl Column {
    pub fn new(t: &HiveType) -> Column {
        match t {
            HiveType::Boolean => Column::Boolean(Values::default()),
            HiveType::TinyInt => Column::TinyInt(Values::default()),
            HiveType::SmallInt => Column::SmallInt(Values::default()),
            HiveType::Int => Column::Int(Values::default()),
            HiveType::BigInt => Column::BigInt(Values::default()),
            HiveType::Float => Column::Float(Values::default()),
            HiveType::Double => Column::Double(Values::default()),
            HiveType::Decimal(p, s) => Column::Decimal(Values::default(), *p, *s),
            HiveType::String => Column::String(Bytes::default()),
            HiveType::Binary => Column::Binary(Bytes::default()),
            HiveType::Date => Column::Date(Values::default()),
            HiveType::Timestamp => Column::Timestamp(Values::default()),
            HiveType::Array(item) => Column::Array(
                Offsets::default(),
                Box::new(Column::new(item)),
                Arc::new(Field::new("item", item.to_arrow(), true)),
            ),
            HiveType::Map(k, v) => Column::Map(
                Offsets::default(),
                Box::new(Column::new(k)),
                Box::new(Column::new(v)),
                map_entries(k, v),
            ),
            HiveType::Struct(fields) => Column::Struct(
                Values::default(),
                fields
                    .iter()
                    .map(|(n, t)| (n.to_lowercase(), Column::new(t)))
                    .collect(),
                struct_fields(fields),
            ),
        }
    }

    /// Rows in the column.
    pub fn len(&self) -> usize {
        match self {
            Column::Boolean(v) => v.valid.len(),
            Column::TinyInt(v) => v.valid.len(),
            Column::SmallInt(v) => v.valid.len(),
            Column::Int(v) | Column::Date(v) => v.valid.len(),
            Column::BigInt(v) | Column::Timestamp(v) => v.valid.len(),
            Column::Float(v) => v.valid.len(),
            Column::Double(v) => v.valid.len(),
            Column::Decimal(v, ..) => v.valid.len(),
            Column::String(b) | Column::Binary(b) => b.valid.len(),
            Column::Array(o, ..) | Column::Map(o, ..) => o.valid.len(),
            Column::Struct(v, ..) => v.valid.len(),
        }
    }

    /// Appends a null.
    pub fn push_null(&mut self) -> Result<(), String> {
        match self {
            Column::Boolean(v) => v.push(None),
            Column::TinyInt(v) => v.push(None),
            Column::SmallInt(v) => v.push(None),
            Column::Int(v) | Column::Date(v) => v.push(None),
            Column::BigInt(v) | Column::Timestamp(v) => v.push(None),
            Column::Float(v) => v.push(None),
            Column::Double(v) => v.push(None),
            Column::Decimal(v, ..) => v.push(None),
            Column::String(b) | Column::Binary(b) => b.push(None)?,
            Column::Array(o, item, _) => o.close(item.len(), false)?,
            Column::Map(o, k, ..) => o.close(k.len(), false)?,
            Column::Struct(v, children, _) => {
                v.push(None);
                for (_, c) in children {
                    c.push_null()?;
                }
            }
        }
        Ok(())
    }

    /// Cuts the column back to its first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        match self {
            Column::Boolean(v) => v.truncate(n),
            Column::TinyInt(v) => v.truncate(n),
            Column::SmallInt(v) => v.truncate(n),
            Column::Int(v) | Column::Date(v) => v.truncate(n),
            Column::BigInt(v) | Column::Timestamp(v) => v.truncate(n),
            Column::Float(v) => v.truncate(n),
            Column::Double(v) => v.truncate(n),
            Column::Decimal(v, ..) => v.truncate(n),
            Column::String(b) | Column::Binary(b) => b.truncate(n),
            Column::Array(o, item, _) => {
                item.truncate(o.at(n));
                o.truncate(n);
            }
            Column::Map(o, k, v, _) => {
                let at = o.at(n);
                k.truncate(at);
                v.truncate(at);
                o.truncate(n);
            }
            Column::Struct(v, children, _) => {
                v.truncate(n);
                for (_, c) in children {
                    c.truncate(n);
                }
            }
        }
    }

    /// The rows so far as an Arrow array; the column starts again empty.
    pub fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        fn prim<T: ArrowPrimitiveType>(v: &mut Values<T::Native>) -> PrimitiveArray<T>
        where
            T::Native: Default,
        {
            let (values, nulls) = v.take();
            PrimitiveArray::<T>::new(ScalarBuffer::from(values), nulls)
        }
        Ok(match self {
            Column::Boolean(v) => {
                let (values, nulls) = v.take();
                Arc::new(BooleanArray::new(values.into(), nulls))
            }
            Column::TinyInt(v) => Arc::new(prim::<Int8Type>(v)),
            Column::SmallInt(v) => Arc::new(prim::<Int16Type>(v)),
            Column::Int(v) => Arc::new(prim::<Int32Type>(v)),
            Column::BigInt(v) => Arc::new(prim::<Int64Type>(v)),
            Column::Float(v) => Arc::new(prim::<Float32Type>(v)),
            Column::Double(v) => Arc::new(prim::<Float64Type>(v)),
            Column::Date(v) => Arc::new(prim::<Date32Type>(v)),
            Column::Timestamp(v) => Arc::new(prim::<TimestampMillisecondType>(v)),
            Column::Decimal(v, p, s) => {
                let (values, nulls) = v.take();
                Arc::new(
                    Decimal128Array::new(ScalarBuffer::from(values), nulls)
                        .with_precision_and_scale(*p, *s)?,
                )
            }
            Column::String(b) => {
                let (offsets, data, nulls) = b.take();
                Arc::new(StringArray::try_new(offsets, data, nulls)?)
            }
            Column::Binary(b) => {
                let (offsets, data, nulls) = b.take();
                Arc::new(BinaryArray::try_new(offsets, data, nulls)?)
            }
            Column::Array(o, item, field) => {
                let (offsets, nulls) = o.take();
                let values = item.finish()?;
                Arc::new(ListArray::try_new(field.clone(), offsets, values, nulls)?)
            }
            Column::Map(o, k, v, entries) => {
                let (offsets, nulls) = o.take();
                let DataType::Struct(kv) = entries.data_type() else {
                    return Err(ArrowError::SchemaError("map entries are a struct".into()));
                };
                let keys = k.finish()?;
                let values = v.finish()?;
                let entries_array = StructArray::try_new(kv.clone(), vec![keys, values], None)?;
                Arc::new(MapArray::try_new(
                    entries.clone(),
                    offsets,
                    entries_array,
                    nulls,
                    false,
                )?)
            }
            Column::Struct(v, children, fields) => {
                let len = v.valid.len();
                let (_, nulls) = v.take();
                let arrays = children
                    .iter_mut()
                    .map(|(_, c)| c.finish())
                    .collect::<Result<Vec<_>, _>>()?;
                if fields.is_empty() {
                    Arc::new(StructArray::new_empty_fields(len, nulls))
                } else {
                    Arc::new(StructArray::try_new(fields.clone(), arrays, nulls)?)
                }
            }
        })
    }
}
