//! Tables with the OpenX JSON SerDe (`org.openx.data.jsonserde.JsonSerDe`) read as that SerDe
//! reads: keys matched without regard to case (`case.insensitive`, true unless set false, also
//! inside structs), columns renamed from keys by `mapping.<column>`, and malformed lines
//! failing the query or — with `ignore.malformed.json` — read as rows of NULLs. Each line is
//! normalised with serde_json and decoded by arrow-json into the table's types.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::arrow::json::reader::ReaderBuilder;
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use serde_json::{Map, Value};
use weir_objects::Objects;

/// How an OpenX table's lines are read.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub case_insensitive: bool,
    pub ignore_malformed: bool,
    /// column → JSON key.
    pub mapping: Vec<(String, String)>,
}

impl Options {
    /// From the SerDe's parameters.
    pub fn of(params: &BTreeMap<String, String>) -> Options {
        let flag = |k: &str, default: bool| {
            params
                .get(k)
                .map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
        };
        let case_insensitive = flag("case.insensitive", true);
        Options {
            case_insensitive,
            ignore_malformed: flag("ignore.malformed.json", false),
            mapping: params
                .iter()
                .filter_map(|(k, v)| {
                    let col = k.strip_prefix("mapping.")?;
                    let key = if case_insensitive {
                        v.to_lowercase()
                    } else {
                        v.clone()
                    };
                    Some((col.to_lowercase(), key))
                })
                .collect(),
        }
    }
}

fn lower_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lower_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

/// One line as the JSON object arrow-json should decode, `None` for a blank line.
pub fn normalise(line: &[u8], o: &Options) -> Result<Option<Vec<u8>>> {
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(line);
    let mut obj = match parsed {
        Ok(Value::Object(m)) => m,
        Ok(_) | Err(_) if o.ignore_malformed => return Ok(Some(b"{}".to_vec())),
        Ok(_) => {
            return Err(DataFusionError::Execution(
                "HIVE_CURSOR_ERROR: Row is not a valid JSON Object".into(),
            ))
        }
        Err(e) => {
            return Err(DataFusionError::Execution(format!(
                "HIVE_CURSOR_ERROR: Row is not a valid JSON Object - JSONException: {e}"
            )))
        }
    };
    if o.case_insensitive {
        obj = match lower_keys(Value::Object(obj)) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
    }
    for (col, key) in &o.mapping {
        if let Some(v) = obj.remove(key) {
            obj.insert(col.clone(), v);
        }
    }
    serde_json::to_vec(&Value::Object(obj))
        .map(Some)
        .map_err(|e| DataFusionError::Execution(e.to_string()))
}

/// A file to read and its partition values.
#[derive(Debug, Clone)]
pub struct File {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub partition_values: Vec<ScalarValue>,
    pub compression: FileCompressionType,
}

/// What every scan Weir implements itself (OpenX, ORC, Avro) holds: its files, the table's
/// data columns and partition columns, the projection, and its output schema (the table's,
/// projected) and plan properties (one partition, bounded, rows as they are read).
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub files: Vec<File>,
    /// The table's data columns.
    pub file_schema: SchemaRef,
    pub part_fields: Vec<FieldRef>,
    pub projection: Option<Vec<usize>>,
    pub schema: SchemaRef,
    pub properties: Arc<PlanProperties>,
}

impl Scan {
    pub fn new(
        files: Vec<File>,
        file_schema: SchemaRef,
        part_fields: Vec<FieldRef>,
        projection: Option<Vec<usize>>,
        table_schema: &SchemaRef,
    ) -> Result<Scan> {
        let schema = match &projection {
            Some(p) => Arc::new(table_schema.project(p)?),
            None => table_schema.clone(),
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Scan {
            files,
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

/// The `ExecutionPlan` methods of a leaf scan with a `scan: Scan` field.
macro_rules! leaf_plan_methods {
    () => {
        fn properties(&self) -> &Arc<PlanProperties> {
            &self.scan.properties
        }

        fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
            vec![]
        }

        fn apply_expressions(
            &self,
            _f: &mut dyn FnMut(
                &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
            ) -> Result<datafusion::common::tree_node::TreeNodeRecursion>,
        ) -> Result<datafusion::common::tree_node::TreeNodeRecursion> {
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        }

        fn with_new_children(
            self: Arc<Self>,
            _children: Vec<Arc<dyn ExecutionPlan>>,
        ) -> Result<Arc<dyn ExecutionPlan>> {
            Ok(self)
        }
    };
}
pub(crate) use leaf_plan_methods;

/// The scan of an OpenX table's files.
pub struct OpenxExec {
    objects: Objects,
    options: Options,
    scan: Scan,
}

impl fmt::Debug for OpenxExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenxExec({} files)", self.scan.files.len())
    }
}

impl DisplayAs for OpenxExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OpenxJsonExec: files={}", self.scan.files.len())
    }
}

impl OpenxExec {
    pub fn new(objects: Objects, options: Options, scan: Scan) -> OpenxExec {
        OpenxExec {
            objects,
            options,
            scan,
        }
    }

    /// The compressed bytes of every file (DataScannedInBytes).
    pub fn bytes(&self) -> u64 {
        self.scan.bytes()
    }
}

/// Reads one file into batches of the table's full schema.
async fn read_file(
    objects: &Objects,
    f: &File,
    o: &Options,
    file_schema: &SchemaRef,
    part_fields: &[FieldRef],
) -> Result<Vec<RecordBatch>> {
    let raw = objects
        .get(&f.bucket, &f.key)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let mut text = Vec::new();
    f.compression
        .convert_read(std::io::Cursor::new(raw))?
        .read_to_end(&mut text)
        .map_err(|e| DataFusionError::Execution(format!("s3://{}/{}: {e}", f.bucket, f.key)))?;
    let mut decoder = ReaderBuilder::new(file_schema.clone())
        .with_batch_size(8192)
        // OpenX reads `1` or `true` into a string column as text.
        .with_coerce_primitive(true)
        .build_decoder()?;
    let mut batches = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        if let Some(mut doc) = normalise(line, o)? {
            doc.push(b'\n');
            let mut rest: &[u8] = &doc;
            while !rest.is_empty() {
                let n = decoder.decode(rest)?;
                rest = &rest[n..];
                if n == 0 || decoder.len() >= 8192 {
                    if let Some(b) = decoder.flush()? {
                        batches.push(b);
                    }
                }
            }
        }
    }
    if let Some(b) = decoder.flush()? {
        batches.push(b);
    }
    // Partition values as constant columns after the data columns.
    let full: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| {
            let mut cols: Vec<ArrayRef> = b.columns().to_vec();
            for v in &f.partition_values {
                cols.push(v.to_array_of_size(b.num_rows())?);
            }
            let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
            fields.extend(part_fields.iter().cloned());
            Ok(RecordBatch::try_new(
                Arc::new(datafusion::arrow::datatypes::Schema::new(fields)),
                cols,
            )?)
        })
        .collect::<Result<_>>()?;
    Ok(full)
}

impl ExecutionPlan for OpenxExec {
    fn name(&self) -> &str {
        "OpenxJsonExec"
    }

    crate::openx::leaf_plan_methods!();

    fn execute(
        &self,
        _partition: usize,
        _ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let objects = self.objects.clone();
        let files = self.scan.files.clone();
        let options = self.options.clone();
        let file_schema = self.scan.file_schema.clone();
        let part_fields = self.scan.part_fields.clone();
        let projection = self.scan.projection.clone();
        let schema = self.scan.schema.clone();
        let stream = futures::stream::iter(files)
            .then(move |f| {
                let (objects, options, file_schema, part_fields, projection) = (
                    objects.clone(),
                    options.clone(),
                    file_schema.clone(),
                    part_fields.clone(),
                    projection.clone(),
                );
                async move {
                    let batches =
                        read_file(&objects, &f, &options, &file_schema, &part_fields).await?;
                    batches
                        .into_iter()
                        .map(|b| match &projection {
                            Some(p) => b.project(p).map_err(DataFusionError::from),
                            None => Ok(b),
                        })
                        .collect::<Result<Vec<_>>>()
                }
            })
            .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

use futures::{StreamExt, TryStreamExt};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_normalised() {
        let o = Options::of(&BTreeMap::from([
            ("mapping.ts".to_string(), "@Timestamp".to_string()),
            ("ignore.malformed.json".to_string(), "TRUE".to_string()),
        ]));
        assert!(o.case_insensitive && o.ignore_malformed);
        let got = normalise(br#"{"User":{"ID":1},"@timestamp":"x"}"#, &o).unwrap_or_default();
        let got: Value = serde_json::from_slice(&got.unwrap_or_default()).unwrap_or_default();
        assert_eq!(got, serde_json::json!({"ts": "x", "user": {"id": 1}}));
        assert_eq!(
            normalise(b"not json", &o).unwrap_or_default().as_deref(),
            Some(&b"{}"[..])
        );
        assert_eq!(normalise(b"  ", &o).unwrap_or_default(), None);
        let strict = Options::of(&BTreeMap::from([(
            "case.insensitive".to_string(),
            "false".to_string(),
        )]));
        assert!(normalise(b"[1]", &strict).is_err());
        assert_eq!(
            normalise(br#"{"A":1}"#, &strict)
                .unwrap_or_default()
                .as_deref(),
            Some(&br#"{"A":1}"#[..])
        );
    }
}
