//! Changelog rows: an updating query's output batches carry each row's kind (Flink's
//! `RowKind`) in a last column, which sinks and the gateway read and strip.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int8Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::error::Result;

/// The column a changelog batch carries each row's kind in (last).
pub const CHANGE_COLUMN: &str = "__weir_kind";

pub const INSERT: i8 = 0;
pub const UPDATE_BEFORE: i8 = 1;
pub const UPDATE_AFTER: i8 = 2;
pub const DELETE: i8 = 3;

/// Flink's name of a row kind (`INSERT`, `UPDATE_BEFORE`, ...).
pub fn kind_name(kind: i8) -> &'static str {
    match kind {
        UPDATE_BEFORE => "UPDATE_BEFORE",
        UPDATE_AFTER => "UPDATE_AFTER",
        DELETE => "DELETE",
        _ => "INSERT",
    }
}

/// Flink's short form (`+I`, `-U`, `+U`, `-D`).
pub fn kind_short(kind: i8) -> &'static str {
    match kind {
        UPDATE_BEFORE => "-U",
        UPDATE_AFTER => "+U",
        DELETE => "-D",
        _ => "+I",
    }
}

/// A batch's rows without the change column, and each row's kind (all inserts when it has
/// none).
pub fn split_kinds(batch: &RecordBatch) -> (RecordBatch, Vec<i8>) {
    let n = batch.num_columns();
    let schema = batch.schema();
    if n > 0 && schema.field(n - 1).name() == CHANGE_COLUMN {
        let kinds = batch
            .column(n - 1)
            .as_any()
            .downcast_ref::<Int8Array>()
            .map(|a| a.values().to_vec())
            .unwrap_or_else(|| vec![INSERT; batch.num_rows()]);
        let rows = batch
            .project(&(0..n - 1).collect::<Vec<_>>())
            .unwrap_or_else(|_| batch.clone());
        (rows, kinds)
    } else {
        (batch.clone(), vec![INSERT; batch.num_rows()])
    }
}

/// A batch with the change column.
pub fn with_kinds(batch: RecordBatch, kinds: Vec<i8>) -> Result<RecordBatch> {
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(CHANGE_COLUMN, DataType::Int8, false));
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    cols.push(Arc::new(Int8Array::from(kinds)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}
