//! A crawl's findings written to the catalog as Glue's crawler writes them: new tables and
//! partitions always; changed tables per the SchemaChangePolicy's UpdateBehavior (or only new
//! columns with `MergeNewColumns`); tables and partitions whose files are gone per its
//! DeleteBehavior (deleted, or marked `DEPRECATED_BY_CRAWLER`).

use weir_catalog::model::{Params, Partition};
use weir_catalog::{Catalog, CatalogError, Column, SerDeInfo, StorageDescriptor, Table};

use crate::plan::Planned;

/// What the crawler may change.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `UPDATE_IN_DATABASE` (else `LOG`).
    pub update: bool,
    /// `DELETE_FROM_DATABASE`, `DEPRECATE_IN_DATABASE` or `LOG`.
    pub delete: String,
    /// `CrawlerOutput.Tables.AddOrUpdateBehavior = MergeNewColumns`.
    pub merge_new_columns: bool,
}

/// Where the tables go and who writes them.
#[derive(Clone)]
pub struct Destination<'a> {
    pub catalog: &'a Catalog,
    pub region: &'a str,
    pub database: &'a str,
    pub crawler: &'a str,
    /// `s3://bucket/prefix` of the include path, ending in `/` when it is a folder.
    pub base: String,
}

/// Tables a run created, updated and deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: u32,
    pub updated: u32,
    pub deleted: u32,
    pub partitions_added: u32,
}

/// The formats and SerDe a classification's table has.
fn storage(t: &Planned) -> (Option<&'static str>, Option<&'static str>, SerDeInfo) {
    use weir_catalog::hive::{
        binary_serde, AVRO, OPENX_JSON_SERDE, OPEN_CSV_SERDE, ORC, PARQUET, TEXT,
    };
    let text = |lib: &str, params: &[(&str, &str)]| SerDeInfo {
        serialization_library: Some(lib.to_string()),
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let ((input, output, _), serde) = match t.class.as_str() {
        "parquet" => (PARQUET, binary_serde(PARQUET.2)),
        "orc" => (ORC, binary_serde(ORC.2)),
        "avro" => (AVRO, binary_serde(AVRO.2)),
        "json" => {
            let mut names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            (TEXT, text(OPENX_JSON_SERDE, &[("paths", &names.join(","))]))
        }
        "csv" => {
            let (delim, quoted, _) = crate::plan::csv_layout_parts(&t.layout);
            let serde = if quoted {
                text(
                    OPEN_CSV_SERDE,
                    &[("separatorChar", &delim), ("quoteChar", "\"")],
                )
            } else {
                text(TEXT.2, &[("field.delim", &delim)])
            };
            (TEXT, serde)
        }
        _ => return (None, None, SerDeInfo::default()),
    };
    (Some(input), Some(output), serde)
}

/// The parameters a crawler sets on a table.
fn parameters(t: &Planned, crawler: &str) -> Params {
    let mut p = Params::new();
    let mut set = |k: &str, v: String| {
        p.insert(k.to_string(), v);
    };
    set("classification", t.class.clone());
    set("compressionType", t.compression.clone());
    set("typeOfData", "file".into());
    set("objectCount", t.objects.to_string());
    set("recordCount", t.records.to_string());
    set("sizeKey", t.bytes.to_string());
    set(
        "averageRecordSize",
        (t.bytes / t.records.max(1)).to_string(),
    );
    set("UPDATED_BY_CRAWLER", crawler.to_string());
    set("CrawlerSchemaSerializerVersion", "1.0".into());
    set("CrawlerSchemaDeserializerVersion", "1.0".into());
    match t.class.as_str() {
        "csv" => {
            let (delim, quoted, header) = crate::plan::csv_layout_parts(&t.layout);
            set("delimiter", delim);
            set("areColumnsQuoted", quoted.to_string());
            set("columnsOrdered", "true".into());
            if header {
                set("skip.header.line.count", "1".into());
            }
        }
        "avro" => set("avro.schema.literal", t.layout.clone()),
        _ => {}
    }
    p
}

fn columns(t: &Planned) -> Vec<Column> {
    t.columns
        .iter()
        .map(|(n, ty)| Column {
            name: n.clone(),
            data_type: Some(ty.hive()),
            ..Default::default()
        })
        .collect()
}

/// The catalog table for a planned one.
fn table_of(t: &Planned, d: &Destination) -> Table {
    let (input, output, serde) = storage(t);
    let params = parameters(t, d.crawler);
    Table {
        name: t.name.clone(),
        owner: Some("owner".into()),
        table_type: Some("EXTERNAL_TABLE".into()),
        storage_descriptor: Some(StorageDescriptor {
            columns: columns(t),
            location: Some(format!("{}{}", d.base, t.dir)),
            input_format: input.map(str::to_string),
            output_format: output.map(str::to_string),
            compressed: t.compression != "none",
            number_of_buckets: -1,
            serde_info: Some(serde),
            parameters: params.clone(),
            ..Default::default()
        }),
        partition_keys: t
            .partition_keys
            .iter()
            .map(|k| Column {
                name: k.clone(),
                data_type: Some("string".into()),
                ..Default::default()
            })
            .collect(),
        parameters: params,
        ..Default::default()
    }
}

/// Whether `t` is this crawler's table at `location`.
fn owned(t: &Table, crawler: &str, location: &str) -> bool {
    let trim = |l: &str| l.trim_end_matches('/').to_string();
    t.parameters.get("UPDATED_BY_CRAWLER").map(String::as_str) == Some(crawler)
        && t.location().map(trim) == Some(trim(location))
}

/// Whether `t` is a table this crawler made under its include path.
fn crawled_here(t: &Table, d: &Destination) -> bool {
    t.parameters.get("UPDATED_BY_CRAWLER").map(String::as_str) == Some(d.crawler)
        && t.location().is_some_and(|l| l.starts_with(&d.base))
}

/// A crawl of new folders only: files in the folder of one of this crawler's tables belong to
/// it, and files under a folder of one of its partitioned tables become that table's partitions
/// (as many folders below its location as it has keys). Returns the partitions added and the
/// files that belong to no such table.
pub fn attach(
    d: &Destination,
    files: Vec<crate::plan::FileFacts>,
) -> Result<(u32, Vec<crate::plan::FileFacts>), CatalogError> {
    let tables: Vec<Table> = d
        .catalog
        .tables(d.region, d.database)?
        .into_iter()
        .filter(|t| crawled_here(t, d))
        .collect();
    let mut rest = Vec::new();
    let mut found: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for f in files {
        let folder = match f.rel.rsplit_once('/') {
            Some((dir, _)) => format!("{}{dir}/", d.base),
            None => d.base.clone(),
        };
        // Some(None): a file of an unpartitioned table; Some(Some(..)): a partition's.
        let hit = tables.iter().find_map(|t| {
            let loc = t.location()?;
            let loc = if loc.ends_with('/') {
                loc.to_string()
            } else {
                format!("{loc}/")
            };
            let below: Vec<&str> = folder
                .strip_prefix(&loc)?
                .split('/')
                .filter(|p| !p.is_empty())
                .collect();
            if t.partition_keys.is_empty() {
                return below.is_empty().then_some(None);
            }
            if below.len() < t.partition_keys.len() {
                return None;
            }
            let parts = &below[..t.partition_keys.len()];
            let values: Vec<String> = parts
                .iter()
                .zip(&t.partition_keys)
                .map(|(p, k)| match p.split_once('=') {
                    Some((key, v)) if key.eq_ignore_ascii_case(&k.name) => v.to_string(),
                    _ => p.to_string(),
                })
                .collect();
            Some(Some((
                (t.name.clone(), format!("{loc}{}/", parts.join("/"))),
                values,
            )))
        });
        match hit {
            Some(Some((key, values))) => {
                found.insert(key, values);
            }
            Some(None) => {}
            None => rest.push(f),
        }
    }
    let mut added = 0;
    for ((table, location), values) in found {
        let Some(t) = tables.iter().find(|t| t.name == table) else {
            continue;
        };
        let mut sd = t.storage_descriptor.clone().unwrap_or_default();
        sd.location = Some(location);
        let p = Partition {
            values,
            storage_descriptor: Some(sd),
            ..Default::default()
        };
        let errors = d
            .catalog
            .create_partitions(d.region, d.database, &table, vec![p])?;
        added += u32::from(errors.is_empty());
    }
    Ok((added, rest))
}

/// Writes the planned tables; `full` when every folder was crawled (so what is missing is gone).
pub fn apply(
    plan: &[Planned],
    d: &Destination,
    policy: &Policy,
    full: bool,
) -> Result<Counts, CatalogError> {
    let mut counts = Counts::default();
    let mut names = std::collections::HashSet::new();
    for t in plan {
        let mut wanted = table_of(t, d);
        let location = format!("{}{}", d.base, t.dir);
        let mut existing = d.catalog.get_table(d.region, d.database, &wanted.name);
        if existing
            .as_ref()
            .is_ok_and(|old| !owned(old, d.crawler, &location))
        {
            // A table of that name that is not this crawler's (or lives elsewhere) is left
            // alone: this one takes a suffixed name, as Glue does.
            wanted.name = crate::plan::suffixed(&wanted.name, &location);
            existing = d.catalog.get_table(d.region, d.database, &wanted.name);
        }
        names.insert(wanted.name.clone());
        let name = wanted.name.clone();
        let current = match existing {
            Err(CatalogError::NotFound(_)) => {
                d.catalog
                    .create_table(d.region, d.database, wanted.clone())?;
                counts.created += 1;
                wanted.clone()
            }
            Err(e) => return Err(e),
            Ok(old) => {
                let serde = |t: &Table| {
                    t.storage_descriptor
                        .as_ref()
                        .and_then(|sd| sd.serde_info.clone())
                };
                let param = |t: &Table, k: &str| t.parameters.get(k).cloned();
                // A new schema, format, compression or SerDe (a CSV's delimiter) is a change;
                // so is a table deprecated earlier whose files are back.
                let changed = old.columns() != wanted.columns()
                    || old.partition_keys != wanted.partition_keys
                    || serde(&old) != serde(&wanted)
                    || ["classification", "compressionType", "DEPRECATED_BY_CRAWLER"]
                        .iter()
                        .any(|k| param(&old, k) != param(&wanted, k));
                if changed && policy.update {
                    let mut new = wanted.clone();
                    if policy.merge_new_columns {
                        // Only columns the table lacks are added; the rest stays as it is.
                        new = old.clone();
                        if let (Some(sd), Some(w)) = (
                            new.storage_descriptor.as_mut(),
                            wanted.storage_descriptor.as_ref(),
                        ) {
                            for c in &w.columns {
                                if !sd.columns.iter().any(|o| o.name == c.name) {
                                    sd.columns.push(c.clone());
                                }
                            }
                        }
                    }
                    new.create_time = old.create_time;
                    d.catalog
                        .update_table(d.region, d.database, new.clone(), false, None)?;
                    counts.updated += 1;
                    new
                } else {
                    old
                }
            }
        };
        if t.partition_keys.is_empty() {
            continue;
        }
        let parts: Vec<Partition> = t
            .partitions
            .iter()
            .map(|(values, dir)| {
                let mut sd = current.storage_descriptor.clone().unwrap_or_default();
                sd.location = Some(format!("{}{dir}", d.base));
                Partition {
                    values: values.clone(),
                    storage_descriptor: Some(sd),
                    parameters: Params::new(),
                    ..Default::default()
                }
            })
            .collect();
        for chunk in parts.chunks(weir_catalog::MAX_BATCH_CREATE_PARTITIONS) {
            let errors =
                d.catalog
                    .create_partitions(d.region, d.database, &name, chunk.to_vec())?;
            counts.partitions_added += (chunk.len() - errors.len()) as u32;
        }
        if full && policy.delete == "DELETE_FROM_DATABASE" {
            let wanted: std::collections::HashSet<&Vec<String>> =
                t.partitions.iter().map(|(v, _)| v).collect();
            // The catalog is in process: one call lists them all.
            let gone: Vec<Vec<String>> = d
                .catalog
                .partitions(d.region, d.database, &name, None, None, usize::MAX, None)?
                .partitions
                .into_iter()
                .map(|p| p.values)
                .filter(|v| !wanted.contains(v))
                .collect();
            for chunk in gone.chunks(weir_catalog::MAX_BATCH_DELETE_PARTITIONS) {
                d.catalog
                    .delete_partitions(d.region, d.database, &name, chunk.to_vec())?;
            }
        }
    }
    if full && policy.delete != "LOG" {
        // Tables this crawler made under its include path that no longer have files.
        for old in d.catalog.tables(d.region, d.database)? {
            if !crawled_here(&old, d) || names.contains(&old.name) {
                continue;
            }
            if policy.delete == "DELETE_FROM_DATABASE" {
                d.catalog.delete_table(d.region, d.database, &old.name)?;
                counts.deleted += 1;
            } else if !old.parameters.contains_key("DEPRECATED_BY_CRAWLER") {
                let mut new = old.clone();
                let at = crate::now_ms().to_string();
                new.parameters
                    .insert("DEPRECATED_BY_CRAWLER".into(), at.clone());
                if let Some(sd) = new.storage_descriptor.as_mut() {
                    sd.parameters.insert("DEPRECATED_BY_CRAWLER".into(), at);
                }
                d.catalog
                    .update_table(d.region, d.database, new, false, None)?;
                counts.deleted += 1;
            }
        }
    }
    Ok(counts)
}
