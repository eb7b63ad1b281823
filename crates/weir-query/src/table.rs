//! The Glue catalog as DataFusion sees it: a catalog provider whose schemas are Glue databases,
//! and a table provider per Glue table that finds its files at scan time (partitions pruned
//! from the catalog first) and reads them with DataFusion's Parquet, JSON or CSV sources.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::{DFSchema, ScalarValue, Statistics};
use datafusion::config::{CsvOptions, TableParquetOptions};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    CsvSource, FileGroup, FileScanConfigBuilder, FileSource, JsonSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_datasource::compute_all_files_statistics;
use futures::StreamExt;
use weir_catalog::{Catalog, Table};
use weir_objects::Objects;

use crate::types::hive_to_arrow;

/// The Glue catalog of one region.
pub struct GlueCatalog {
    pub catalog: Catalog,
    pub region: String,
    pub objects: Objects,
    /// How many views deep this catalog is being read (views within views).
    pub view_depth: usize,
}

impl std::fmt::Debug for GlueSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GlueSchema({})", self.database)
    }
}

impl CatalogProvider for GlueCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.catalog
            .databases(&self.region)
            .into_iter()
            .map(|d| d.name)
            .collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.catalog.get_database(&self.region, name).ok()?;
        Some(Arc::new(GlueSchema {
            catalog: self.catalog.clone(),
            region: self.region.clone(),
            objects: self.objects.clone(),
            database: name.to_lowercase(),
            view_depth: self.view_depth,
        }))
    }
}

/// One Glue database.
pub struct GlueSchema {
    catalog: Catalog,
    region: String,
    objects: Objects,
    view_depth: usize,
    database: String,
}

#[async_trait]
impl SchemaProvider for GlueSchema {
    fn table_names(&self) -> Vec<String> {
        self.catalog
            .tables(&self.region, &self.database)
            .map(|ts| ts.into_iter().map(|t| t.name).collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Ok(t) = self.catalog.get_table(&self.region, &self.database, name) else {
            return Ok(None);
        };
        if crate::view::is_view(&t) {
            let glue = GlueCatalog {
                catalog: self.catalog.clone(),
                region: self.region.clone(),
                objects: self.objects.clone(),
                view_depth: self.view_depth,
            };
            return crate::view::provider(&glue, &t).await.map(Some);
        }
        Ok(Some(Arc::new(GlueTable::new(
            t,
            self.catalog.clone(),
            self.region.clone(),
            self.objects.clone(),
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.catalog
            .get_table(&self.region, &self.database, name)
            .is_ok()
    }
}

/// How a table's files are read.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Parquet,
    Json,
    /// The OpenX JSON SerDe, with its options.
    OpenxJson(crate::openx::Options),
    /// ORC; columns matched by name rather than position (`orc.column.index.access=false`).
    Orc {
        by_name: bool,
    },
    /// Avro object container files (Hive's AvroSerDe).
    Avro,
    Csv {
        delimiter: u8,
        quote: Option<u8>,
        escape: Option<u8>,
        header: bool,
    },
}

/// The format a Glue table's SerDe, input format and classification name.
pub fn format_of(t: &Table) -> Result<Format> {
    let sd = t.storage_descriptor.clone().unwrap_or_default();
    let serde = sd.serde_info.clone().unwrap_or_default();
    let lib = serde
        .serialization_library
        .clone()
        .unwrap_or_default()
        .to_lowercase();
    let input = sd.input_format.clone().unwrap_or_default().to_lowercase();
    let class = t
        .parameters
        .get("classification")
        .cloned()
        .unwrap_or_default()
        .to_lowercase();
    let param = |k: &str| serde.parameters.get(k).cloned();
    let header = t
        .parameters
        .get("skip.header.line.count")
        .is_some_and(|n| n.trim() == "1");
    let byte = |s: Option<String>, default: u8| -> u8 {
        match s.as_deref() {
            Some("\\t") | Some("\t") => b'\t',
            Some(s) if s.len() == 1 => s.as_bytes()[0],
            Some(s) if s.parse::<u8>().is_ok() => s.parse::<u8>().unwrap_or(default),
            _ => default,
        }
    };
    if lib.contains("parquet") || input.contains("parquet") || class == "parquet" {
        return Ok(Format::Parquet);
    }
    if lib.contains("orc") || input.contains("orc") || class == "orc" {
        let by_name = param("orc.column.index.access")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        return Ok(Format::Orc { by_name });
    }
    if lib.contains("avro") || input.contains("avro") || class == "avro" {
        return Ok(Format::Avro);
    }
    if lib.contains("openx") {
        return Ok(Format::OpenxJson(crate::openx::Options::of(
            &serde.parameters,
        )));
    }
    if lib.contains("json") || class == "json" {
        return Ok(Format::Json);
    }
    if lib.contains("opencsvserde") {
        return Ok(Format::Csv {
            delimiter: byte(param("separatorChar"), b','),
            quote: Some(byte(param("quoteChar"), b'"')),
            escape: Some(byte(param("escapeChar"), b'\\')),
            header,
        });
    }
    if lib.contains("lazysimpleserde") || input.contains("text") || class == "csv" || class == "tsv"
    {
        let default = if class == "csv" {
            b','
        } else if class == "tsv" {
            b'\t'
        } else {
            1
        };
        return Ok(Format::Csv {
            delimiter: byte(
                param("field.delim").or(param("serialization.format")),
                default,
            ),
            quote: None,
            escape: param("escape.delim").map(|e| byte(Some(e), b'\\')),
            header,
        });
    }
    Err(DataFusionError::NotImplemented(format!(
        "Weir cannot tell how to read table {} (SerDe '{}', input format '{}')",
        t.name, lib, input
    )))
}

/// `s3://bucket/prefix` → (bucket, prefix ending in `/`, or empty).
pub fn split_location(loc: &str) -> Result<(String, String)> {
    let rest = loc
        .strip_prefix("s3://")
        .or_else(|| loc.strip_prefix("s3a://"))
        .or_else(|| loc.strip_prefix("s3n://"))
        .ok_or_else(|| DataFusionError::Plan(format!("Location {loc} is not an s3:// location")))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let mut prefix = prefix.to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    Ok((bucket.to_string(), prefix))
}

/// A Glue table as a DataFusion table.
pub struct GlueTable {
    table: Table,
    catalog: Catalog,
    region: String,
    objects: Objects,
    file_schema: SchemaRef,
    part_fields: Vec<FieldRef>,
    schema: SchemaRef,
    format: Format,
}

impl std::fmt::Debug for GlueTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GlueTable({}.{})",
            self.table.database_name, self.table.name
        )
    }
}

impl std::fmt::Debug for GlueCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GlueCatalog({})", self.region)
    }
}

fn field(name: &str, t: Option<&str>) -> Result<Field> {
    let t = t.unwrap_or("string");
    let dt = hive_to_arrow(t).map_err(DataFusionError::Plan)?;
    Ok(Field::new(name.to_lowercase(), dt, true))
}

impl GlueTable {
    pub fn new(
        table: Table,
        catalog: Catalog,
        region: String,
        objects: Objects,
    ) -> Result<GlueTable> {
        let format = format_of(&table)?;
        let mut file_fields = table
            .columns()
            .iter()
            .map(|c| field(&c.name, c.data_type.as_deref()))
            .collect::<Result<Vec<_>>>()?;
        if format == Format::Parquet {
            // Parquet strings are read as string views (no copy into one buffer per batch):
            // DataFusion's own choice for Parquet, and faster to filter, group and join.
            for f in &mut file_fields {
                if f.data_type() == &DataType::Utf8 {
                    *f = f.clone().with_data_type(DataType::Utf8View);
                }
            }
        }
        let part_fields: Vec<FieldRef> = table
            .partition_keys
            .iter()
            .map(|c| field(&c.name, c.data_type.as_deref()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let file_schema = Arc::new(Schema::new(file_fields.clone()));
        let mut all: Vec<FieldRef> = file_fields.into_iter().map(Arc::new).collect();
        all.extend(part_fields.iter().cloned());
        Ok(GlueTable {
            schema: Arc::new(Schema::new(all)),
            table,
            catalog,
            region,
            objects,
            file_schema,
            part_fields,
            format,
        })
    }

    /// The partitions to read (values and location), pruned by the query's filters.
    async fn partitions(&self, filters: &[Expr]) -> Result<Vec<(Vec<ScalarValue>, String)>> {
        let location = self.table.location().unwrap_or_default().to_string();
        if self.part_fields.is_empty() {
            return Ok(vec![(Vec::new(), location)]);
        }
        if crate::projection::enabled(&self.table.parameters) {
            return crate::projection::partitions(
                &self.table.parameters,
                &self.part_fields,
                &location,
                filters,
            );
        }
        let page = self
            .catalog
            .partitions(
                &self.region,
                &self.table.database_name,
                &self.table.name,
                None,
                None,
                usize::MAX,
                None,
            )
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let mut rows = Vec::with_capacity(page.partitions.len());
        for p in &page.partitions {
            let mut values = Vec::with_capacity(p.values.len());
            for (v, f) in p.values.iter().zip(&self.part_fields) {
                values.push(
                    ScalarValue::try_from_string(v.clone(), f.data_type())
                        .unwrap_or(ScalarValue::try_from(f.data_type())?),
                );
            }
            rows.push(values);
        }
        let keep = crate::projection::prune(&self.part_fields, &rows, filters)?;
        let mut out = Vec::new();
        for ((p, values), k) in page.partitions.into_iter().zip(rows).zip(keep) {
            if !k {
                continue;
            }
            let loc = p
                .storage_descriptor
                .as_ref()
                .and_then(|sd| sd.location.clone())
                .unwrap_or_else(|| {
                    let mut l = location.clone();
                    if !l.ends_with('/') {
                        l.push('/');
                    }
                    for (k, v) in self.table.partition_keys.iter().zip(&p.values) {
                        l.push_str(&format!("{}={}/", k.name, v));
                    }
                    l
                });
            out.push((values, loc));
        }
        Ok(out)
    }
}

fn compression_of(key: &str) -> FileCompressionType {
    let k = key.to_ascii_lowercase();
    if k.ends_with(".gz") || k.ends_with(".gzip") {
        FileCompressionType::GZIP
    } else if k.ends_with(".bz2") {
        FileCompressionType::BZIP2
    } else if k.ends_with(".zst") || k.ends_with(".zstd") {
        FileCompressionType::ZSTD
    } else if k.ends_with(".xz") {
        FileCompressionType::XZ
    } else {
        FileCompressionType::UNCOMPRESSED
    }
}

/// Hive skips files whose names start with `_` or `.` (markers, temporaries).
fn hidden(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('_') || name.starts_with('.') || name.is_empty()
}

#[async_trait]
impl TableProvider for GlueTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let names: Vec<&str> = self.part_fields.iter().map(|f| f.name().as_str()).collect();
        Ok(filters
            .iter()
            .map(|e| {
                if !names.is_empty() && expr_applicable_for_cols(&names, e) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let names: Vec<&str> = self.part_fields.iter().map(|f| f.name().as_str()).collect();
        let part_filters: Vec<Expr> = filters
            .iter()
            .filter(|e| !names.is_empty() && expr_applicable_for_cols(&names, e))
            .cloned()
            .collect();
        // Files grouped by (bucket, compression): one scan each.
        let mut groups: BTreeMap<(String, String), Vec<PartitionedFile>> = BTreeMap::new();
        for (values, loc) in self.partitions(&part_filters).await? {
            let (bucket, prefix) = split_location(&loc)?;
            let listed =
                self.objects
                    .list_objects(&bucket, &prefix)
                    .await
                    .or_else(|e| match e {
                        weir_objects::ObjectError::NoSuchBucket(_) => Ok(Vec::new()),
                        e => Err(DataFusionError::External(Box::new(e))),
                    })?;
            for o in listed {
                if o.size == 0 || hidden(&o.key[prefix.len()..]) {
                    continue;
                }
                // Nested folders of an unpartitioned table are read too (Athena does).
                let c = if self.format == Format::Parquet {
                    FileCompressionType::UNCOMPRESSED
                } else {
                    compression_of(&o.key)
                };
                let mut f = PartitionedFile::new(o.key.clone(), o.size)
                    .with_partition_values(values.clone());
                if let Some(t) = chrono::DateTime::from_timestamp_millis(o.last_modified_ms) {
                    f.object_meta.last_modified = t;
                }
                groups
                    .entry((bucket.clone(), format!("{:?}", c.get_variant())))
                    .or_default()
                    .push(f);
            }
        }
        if matches!(
            self.format,
            Format::OpenxJson(_) | Format::Orc { .. } | Format::Avro
        ) {
            let files: Vec<crate::openx::File> = groups
                .into_iter()
                .flat_map(|((bucket, _), files)| {
                    files.into_iter().map(move |f| {
                        let key = f.object_meta.location.to_string();
                        crate::openx::File {
                            compression: compression_of(&key),
                            bucket: bucket.clone(),
                            size: f.object_meta.size,
                            partition_values: f.partition_values.clone(),
                            key,
                        }
                    })
                })
                .collect();
            let scan = crate::openx::Scan::new(
                files,
                self.file_schema.clone(),
                self.part_fields.clone(),
                projection.cloned(),
                &self.schema,
            )?;
            let kind = match &self.format {
                Format::Orc { by_name } => crate::columnar::Kind::Orc { by_name: *by_name },
                Format::Avro => crate::columnar::Kind::Avro,
                Format::OpenxJson(options) => {
                    return Ok(Arc::new(crate::openx::OpenxExec::new(
                        self.objects.clone(),
                        options.clone(),
                        scan,
                    )))
                }
                _ => {
                    return Err(DataFusionError::Internal(
                        "only OpenX, ORC and Avro tables have their own scans".into(),
                    ))
                }
            };
            return Ok(Arc::new(crate::columnar::ColumnarExec::new(kind, scan)));
        }
        // Text is read as strings and typed afterwards, as Hive's SerDes do (`\N` and values
        // that do not parse are NULL).
        let text = matches!(self.format, Format::Csv { .. });
        let file_schema = if text {
            Arc::new(Schema::new(
                self.file_schema
                    .fields()
                    .iter()
                    .map(|f| Field::new(f.name(), DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ))
        } else {
            self.file_schema.clone()
        };
        let table_schema = TableSchema::builder(file_schema)
            .with_table_partition_cols(self.part_fields.clone())
            .build();
        let mut plans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        for ((bucket, _), files) in groups {
            let compression = files
                .first()
                .map(|f| compression_of(f.object_meta.location.as_ref()))
                .filter(|_| self.format != Format::Parquet)
                .unwrap_or(FileCompressionType::UNCOMPRESSED);
            let source: Arc<dyn FileSource> = match &self.format {
                Format::Parquet => {
                    let opts = TableParquetOptions {
                        global: state.config_options().execution.parquet.clone(),
                        ..Default::default()
                    };
                    Arc::new(
                        ParquetSource::new(table_schema.clone()).with_table_parquet_options(opts),
                    )
                }
                Format::Json => Arc::new(JsonSource::new(table_schema.clone())),
                Format::OpenxJson(_) | Format::Orc { .. } | Format::Avro => {
                    return Err(DataFusionError::Internal(
                        "OpenX, ORC and Avro tables have their own scans".into(),
                    ))
                }
                Format::Csv {
                    delimiter,
                    quote,
                    escape,
                    header,
                } => Arc::new(
                    CsvSource::new(table_schema.clone()).with_csv_options(CsvOptions {
                        has_header: Some(*header),
                        delimiter: *delimiter,
                        // Text tables without quoting: a byte that never appears in text.
                        quote: quote.unwrap_or(0),
                        escape: *escape,
                        newlines_in_values: Some(false),
                        // Rows shorter than the table (columns added later) read as NULLs.
                        truncated_rows: Some(true),
                        ..Default::default()
                    }),
                ),
            };
            let url = ObjectStoreUrl::parse(format!("s3://{bucket}"))?;
            let mut group = FileGroup::new(files);
            let mut statistics = Statistics::new_unknown(&self.schema);
            if self.format == Format::Parquet && state.config().collect_statistics() {
                let store = state.runtime_env().object_store(&url)?;
                group = parquet_statistics(state, &store, &self.file_schema, group).await;
                let (mut groups, s) =
                    compute_all_files_statistics(vec![group], self.schema.clone(), true, true)?;
                group = groups.pop().unwrap_or_default();
                statistics = s;
            }
            let config = FileScanConfigBuilder::new(url, source)
                .with_file_group(group)
                .with_statistics(statistics)
                .with_file_compression_type(compression)
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
            plans.push(DataSourceExec::from_data_source(config));
        }
        if plans.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let plan = UnionExec::try_new(plans)?;
        if text {
            return self.typed(state, plan);
        }
        Ok(plan)
    }
}

/// Most files whose statistics a scan collects; past this a scan plans without them rather
/// than read thousands of footers before its first row.
const STATISTICS_FILES: usize = 1000;

/// Each Parquet file with its row count and column statistics from its footer (footers are
/// cached by the runtime, so a table's footers are read once, not per query). The statistics
/// are marked inexact: they steer join order and build sides, but never answer a query alone,
/// so every query still reads (and reports scanning) the files. A file whose footer cannot be
/// read or mapped keeps unknown statistics; the scan reports the real error.
async fn parquet_statistics(
    state: &dyn Session,
    store: &Arc<dyn object_store::ObjectStore>,
    file_schema: &SchemaRef,
    group: FileGroup,
) -> FileGroup {
    let files = group.into_inner();
    if files.len() > STATISTICS_FILES {
        return FileGroup::new(files);
    }
    let format = ParquetFormat::default();
    let with_stats = futures::stream::iter(files)
        .map(|f| {
            let format = &format;
            async move {
                match format
                    .infer_stats(state, store, file_schema.clone(), &f.object_meta)
                    .await
                {
                    Ok(s) => f.with_statistics(Arc::new(s.to_inexact())),
                    Err(_) => f,
                }
            }
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    FileGroup::new(with_stats)
}

impl GlueTable {
    /// Types the text columns of a scan of strings: `\N` (LazySimpleSerDe's NULL) is NULL,
    /// other values are cast to the column's type (NULL when they do not parse).
    fn typed(
        &self,
        state: &dyn Session,
        plan: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        use datafusion::logical_expr::{lit, when, Cast, TryCast};
        use datafusion::physical_plan::projection::ProjectionExec;
        let input = plan.schema();
        let df_schema = DFSchema::try_from(input.as_ref().clone())?;
        let lazy = matches!(self.format, Format::Csv { quote: None, .. });
        let mut exprs = Vec::with_capacity(input.fields().len());
        for f in input.fields() {
            let c = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
            let want = self
                .file_schema
                .field_with_name(f.name())
                .ok()
                .map(|w| w.data_type().clone());
            let e = match want {
                // Partition columns and columns already of their type.
                None => c,
                Some(dt) if dt == *f.data_type() && !lazy => c,
                Some(dt) => {
                    let value = if dt == DataType::Utf8 {
                        c.clone()
                    } else if matches!(
                        dt,
                        DataType::List(_) | DataType::Map(..) | DataType::Struct(_)
                    ) {
                        Expr::Cast(Cast::new(Box::new(lit(ScalarValue::Null)), dt.clone()))
                    } else {
                        Expr::TryCast(TryCast::new(Box::new(c.clone()), dt.clone()))
                    };
                    if lazy {
                        when(
                            c.eq(lit("\\N")),
                            Expr::Cast(Cast::new(Box::new(lit(ScalarValue::Null)), dt)),
                        )
                        .otherwise(value)?
                    } else {
                        value
                    }
                }
            };
            let phys = state.create_physical_expr(e, &df_schema)?;
            exprs.push((phys, f.name().clone()));
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
    }
}

/// A type check used by DDL: whether a Glue type string is one Weir reads.
pub fn readable_type(t: &str) -> bool {
    hive_to_arrow(t).is_ok()
}
