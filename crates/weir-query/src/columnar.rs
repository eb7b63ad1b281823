//! The scan of self-describing files whose columns are matched to the table's: ORC (by
//! position, or by name with `orc.column.index.access=false`) and Avro (by name, as Hive's
//! AvroSerDe resolves a reader schema). Each file's reader ([`crate::orc`], [`crate::avro`])
//! yields batches of the file's own columns; [`Conform`] turns them into the table's: columns
//! a file lacks read as NULL, values are cast to the table's types, partition values appended.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::openx::{File, Scan};

/// Rows per batch read from a file.
pub(crate) const BATCH_ROWS: usize = 8192;

/// Which reader a scan's files need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// ORC; columns matched by name rather than position when `by_name`.
    Orc { by_name: bool },
    /// Avro object container files; columns matched by name.
    Avro,
}

/// The scan of an ORC or Avro table's files.
pub struct ColumnarExec {
    kind: Kind,
    scan: Scan,
}

impl fmt::Debug for ColumnarExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({} files)", self.name(), self.scan.files.len())
    }
}

impl DisplayAs for ColumnarExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: files={}", self.name(), self.scan.files.len())
    }
}

impl ColumnarExec {
    pub fn new(kind: Kind, scan: Scan) -> ColumnarExec {
        ColumnarExec { kind, scan }
    }

    /// The compressed bytes of every file (DataScannedInBytes).
    pub fn bytes(&self) -> u64 {
        self.scan.bytes()
    }
}

/// What one scan needs to read a file.
#[derive(Clone)]
pub(crate) struct Plan {
    /// The table's data columns.
    pub file_schema: SchemaRef,
    /// Table column indices (data then partition columns) the scan returns.
    pub wanted: Vec<usize>,
    pub schema: SchemaRef,
}

impl Plan {
    /// The table's data columns the scan returns, in order.
    pub fn wanted_data(&self) -> impl Iterator<Item = usize> + '_ {
        let n = self.file_schema.fields().len();
        self.wanted.iter().copied().filter(move |i| *i < n)
    }

    /// For each wanted data column, the file column of the same name (any case).
    pub fn by_name(&self, file_columns: &[String]) -> Vec<Option<String>> {
        self.wanted_data()
            .map(|i| {
                let name = self.file_schema.field(i).name();
                file_columns
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(name))
                    .cloned()
            })
            .collect()
    }
}

/// A query error naming the file, as Athena's HIVE_CURSOR_ERROR does.
pub(crate) fn file_err(f: &File, e: impl fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "HIVE_CURSOR_ERROR: s3://{}/{}: {e}",
        f.bucket, f.key
    ))
}

/// Turns batches of a file's columns into the scan's rows.
pub(crate) struct Conform {
    pub plan: Plan,
    pub file: File,
    /// For each wanted data column, the file column it reads (None: NULL).
    pub sources: Vec<Option<String>>,
}

impl Conform {
    pub fn batch(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let data_count = self.plan.file_schema.fields().len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.plan.wanted.len());
        let mut data = self.sources.iter();
        for (i, field) in self.plan.wanted.iter().zip(self.plan.schema.fields()) {
            if *i >= data_count {
                let v = &self.file.partition_values[*i - data_count];
                columns.push(v.to_array_of_size(rows)?);
                continue;
            }
            let column = match data.next().and_then(|s| s.as_ref()) {
                Some(name) => match batch.column_by_name(name) {
                    Some(c) if c.data_type() == field.data_type() => c.clone(),
                    Some(c) => cast(c, field.data_type()).map_err(|e| file_err(&self.file, e))?,
                    None => new_null_array(field.data_type(), rows),
                },
                None => new_null_array(field.data_type(), rows),
            };
            columns.push(column);
        }
        Ok(RecordBatch::try_new_with_options(
            self.plan.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

/// A file's batches, already in the scan's schema.
pub(crate) type Batches = BoxStream<'static, Result<RecordBatch>>;

impl ExecutionPlan for ColumnarExec {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Orc { .. } => "OrcExec",
            Kind::Avro => "AvroExec",
        }
    }

    crate::openx::leaf_plan_methods!();

    fn execute(
        &self,
        _partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let scan = &self.scan;
        let all = scan.file_schema.fields().len() + scan.part_fields.len();
        let plan = Plan {
            file_schema: scan.file_schema.clone(),
            wanted: scan
                .projection
                .clone()
                .unwrap_or_else(|| (0..all).collect()),
            schema: scan.schema.clone(),
        };
        let kind = self.kind;
        let files = scan.files.clone();
        let stream = futures::stream::iter(files)
            .then(move |f| {
                let (ctx, plan) = (ctx.clone(), plan.clone());
                async move {
                    let url = ObjectStoreUrl::parse(format!("s3://{}", f.bucket))?;
                    let store = ctx.runtime_env().object_store(&url)?;
                    match kind {
                        Kind::Orc { by_name } => {
                            crate::orc::read_file(store, f, plan, by_name).await
                        }
                        Kind::Avro => crate::avro::read_file(store, f, plan).await,
                    }
                }
            })
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.scan.schema.clone(),
            stream,
        )))
    }
}
