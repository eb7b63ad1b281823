//! ORC tables (`STORED AS ORC`, Hive's OrcSerde), read with orc-rust through the query's
//! object store in ranges: the file tail first, then only the stripes' streams of the columns
//! the query needs. As in Athena, ORC columns are matched to the table's by position unless the
//! SerDe property `orc.column.index.access` is `false`, then by name (without regard to case).
//! Columns a file lacks read as NULL; values are cast to the table's types.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{new_null_array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use orc_rust::projection::ProjectionMask;
use orc_rust::reader::AsyncChunkReader;
use orc_rust::ArrowReaderBuilder;

use crate::openx::File;

/// Rows per batch read from a stripe.
const BATCH_ROWS: usize = 8192;

/// An ORC file read in ranges through an object store.
struct Ranges {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl AsyncChunkReader for Ranges {
    fn len(&mut self) -> BoxFuture<'_, std::io::Result<u64>> {
        let size = self.size;
        async move { Ok(size) }.boxed()
    }

    fn get_bytes(
        &mut self,
        offset_from_start: u64,
        length: u64,
    ) -> BoxFuture<'_, std::io::Result<Bytes>> {
        let range = offset_from_start..offset_from_start + length;
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(std::io::Error::other)
        }
        .boxed()
    }
}

/// The scan of an ORC table's files.
pub struct OrcExec {
    files: Vec<File>,
    by_name: bool,
    /// The table's data columns.
    file_schema: SchemaRef,
    part_fields: Vec<FieldRef>,
    projection: Option<Vec<usize>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for OrcExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrcExec({} files)", self.files.len())
    }
}

impl DisplayAs for OrcExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OrcExec: files={}", self.files.len())
    }
}

impl OrcExec {
    pub fn new(
        files: Vec<File>,
        by_name: bool,
        file_schema: SchemaRef,
        part_fields: Vec<FieldRef>,
        projection: Option<Vec<usize>>,
        table_schema: &SchemaRef,
    ) -> Result<OrcExec> {
        let (schema, properties) = crate::openx::scan_properties(table_schema, &projection)?;
        Ok(OrcExec {
            files,
            by_name,
            file_schema,
            part_fields,
            projection,
            schema,
            properties,
        })
    }

    /// The compressed bytes of every file (DataScannedInBytes).
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// What one scan needs to read a file.
#[derive(Clone)]
struct Plan {
    by_name: bool,
    file_schema: SchemaRef,
    /// Table column indices (data then partition columns) the scan returns.
    wanted: Vec<usize>,
    schema: SchemaRef,
}

fn orc_err(f: &File, e: impl fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "HIVE_CURSOR_ERROR: s3://{}/{}: {e}",
        f.bucket, f.key
    ))
}

/// The batches of one file, as the scan's schema.
async fn read_file(
    store: Arc<dyn ObjectStore>,
    f: File,
    plan: Plan,
) -> Result<impl futures::Stream<Item = Result<RecordBatch>>> {
    let reader = Ranges {
        store,
        path: Path::from(f.key.as_str()),
        size: f.size,
    };
    let builder = ArrowReaderBuilder::try_new_async(reader)
        .await
        .map_err(|e| orc_err(&f, e))?;
    let file_columns: Vec<String> = builder
        .file_metadata()
        .root_data_type()
        .children()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let data_count = plan.file_schema.fields().len();
    // For each wanted data column, the file column it reads (by position or by name).
    let sources: Vec<Option<String>> = plan
        .wanted
        .iter()
        .filter(|i| **i < data_count)
        .map(|i| {
            if plan.by_name {
                let name = plan.file_schema.field(*i).name();
                file_columns
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(name))
                    .cloned()
            } else {
                file_columns.get(*i).cloned()
            }
        })
        .collect();
    let read: Vec<&str> = sources.iter().flatten().map(String::as_str).collect();
    let mask = ProjectionMask::named_roots(builder.file_metadata().root_data_type(), &read);
    let stream = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build_async();
    let file = f.clone();
    Ok(stream.map(move |batch| {
        let batch = batch.map_err(|e| orc_err(&file, e))?;
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.wanted.len());
        let mut data = sources.iter();
        for (i, field) in plan.wanted.iter().zip(plan.schema.fields()) {
            if *i >= data_count {
                let v = &file.partition_values[*i - data_count];
                columns.push(v.to_array_of_size(rows)?);
                continue;
            }
            let column = match data.next().and_then(|s| s.as_ref()) {
                Some(name) => match batch.column_by_name(name) {
                    Some(c) => cast(c, field.data_type()).map_err(|e| orc_err(&file, e))?,
                    None => new_null_array(field.data_type(), rows),
                },
                None => new_null_array(field.data_type(), rows),
            };
            columns.push(column);
        }
        Ok(RecordBatch::try_new_with_options(
            plan.schema.clone(),
            columns,
            &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }))
}

impl ExecutionPlan for OrcExec {
    fn name(&self) -> &str {
        "OrcExec"
    }

    crate::openx::leaf_plan_methods!();

    fn execute(
        &self,
        _partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let all = self.file_schema.fields().len() + self.part_fields.len();
        let plan = Plan {
            by_name: self.by_name,
            file_schema: self.file_schema.clone(),
            wanted: self
                .projection
                .clone()
                .unwrap_or_else(|| (0..all).collect()),
            schema: self.schema.clone(),
        };
        let files = self.files.clone();
        let stream = futures::stream::iter(files)
            .then(move |f| {
                let (ctx, plan) = (ctx.clone(), plan.clone());
                async move {
                    let url = ObjectStoreUrl::parse(format!("s3://{}", f.bucket))?;
                    let store = ctx.runtime_env().object_store(&url)?;
                    read_file(store, f, plan).await
                }
            })
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}
