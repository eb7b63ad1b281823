//! Glue registration of a filesystem sink (`'glue.database'`, optional `'glue.table'`): when
//! a checkpoint commits files, the sink's table is in the Glue Data Catalog (created on first
//! commit when missing: the sink's columns as Hive types, its `PARTITIONED BY` columns as
//! partition keys, its path as location, Parquet or JSON storage) and each partition folder
//! written has its partition — so Athena reads the output as it lands.

use std::collections::BTreeSet;

use datafusion::arrow::datatypes::SchemaRef;
use weir_catalog::hive::{binary_serde, OPENX_JSON_SERDE, PARQUET, TEXT};
use weir_catalog::types::HiveType;
use weir_catalog::{Catalog, CatalogError, Column, Database, Partition, StorageDescriptor, Table};

use crate::error::{Result, StreamError};
use crate::table::Format;

/// Where a sink registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlueTarget {
    pub database: String,
    pub table: String,
}

/// A sink's table as Glue describes it.
pub struct Registration {
    pub target: GlueTarget,
    pub region: String,
    /// The sink's physical columns.
    pub schema: SchemaRef,
    pub key_columns: Vec<usize>,
    /// `s3://bucket/prefix/`.
    pub location: String,
    pub format: Option<Format>,
}

fn failed(e: CatalogError) -> StreamError {
    StreamError::Unsupported(format!("Glue registration: {e}"))
}

/// Makes sure the database and table exist and each folder written has its partition.
pub fn register(catalog: &Catalog, r: &Registration, folders: &BTreeSet<String>) -> Result<()> {
    let (db, name) = (&r.target.database, &r.target.table);
    let region = r.region.as_str();
    match catalog.get_database(region, db) {
        Ok(_) => {}
        Err(CatalogError::NotFound(_)) => {
            let database = Database {
                name: db.clone(),
                ..Default::default()
            };
            match catalog.create_database(region, database) {
                Ok(()) | Err(CatalogError::AlreadyExists(_)) => {}
                Err(e) => return Err(failed(e)),
            }
        }
        Err(e) => return Err(failed(e)),
    }
    match catalog.get_table(region, db, name) {
        Ok(_) => {}
        Err(CatalogError::NotFound(_)) => match catalog.create_table(region, db, table(r)) {
            Ok(()) | Err(CatalogError::AlreadyExists(_)) => {}
            Err(e) => return Err(failed(e)),
        },
        Err(e) => return Err(failed(e)),
    }
    if r.key_columns.is_empty() {
        return Ok(());
    }
    let mut parts = Vec::new();
    for folder in folders {
        let values = folder_values(folder);
        if values.len() != r.key_columns.len()
            || catalog.get_partition(region, db, name, &values).is_ok()
        {
            continue;
        }
        parts.push(Partition {
            values,
            storage_descriptor: Some(StorageDescriptor {
                location: Some(format!("{}{folder}", r.location)),
                ..storage(r, Vec::new())
            }),
            ..Default::default()
        });
    }
    if !parts.is_empty() {
        // Partitions another writer added meanwhile come back as errors: they exist.
        catalog
            .create_partitions(region, db, name, parts)
            .map_err(failed)?;
    }
    Ok(())
}

fn table(r: &Registration) -> Table {
    let column = |i: usize| {
        let f = r.schema.field(i);
        Column {
            name: f.name().to_lowercase(),
            data_type: Some(HiveType::of_arrow(f.data_type()).to_string()),
            ..Default::default()
        }
    };
    let columns = (0..r.schema.fields().len())
        .filter(|i| !r.key_columns.contains(i))
        .map(column)
        .collect();
    let classification = match &r.format {
        Some(Format::Parquet) => "parquet",
        Some(Format::Csv { .. }) => "csv",
        _ => "json",
    };
    Table {
        name: r.target.table.clone(),
        table_type: Some("EXTERNAL_TABLE".into()),
        storage_descriptor: Some(storage(r, columns)),
        partition_keys: r.key_columns.iter().map(|&i| column(i)).collect(),
        parameters: [
            ("classification".to_string(), classification.to_string()),
            ("EXTERNAL".to_string(), "TRUE".to_string()),
        ]
        .into(),
        ..Default::default()
    }
}

fn storage(r: &Registration, columns: Vec<Column>) -> StorageDescriptor {
    let (input, output, serde) = match &r.format {
        Some(Format::Parquet) => (PARQUET.0, PARQUET.1, binary_serde(PARQUET.2)),
        Some(Format::Csv { delimiter, .. }) => (
            TEXT.0,
            TEXT.1,
            weir_catalog::SerDeInfo {
                serialization_library: Some(TEXT.2.to_string()),
                parameters: [("field.delim".to_string(), (*delimiter as char).to_string())].into(),
                ..Default::default()
            },
        ),
        _ => (TEXT.0, TEXT.1, binary_serde(OPENX_JSON_SERDE)),
    };
    StorageDescriptor {
        columns,
        location: Some(r.location.clone()),
        input_format: Some(input.to_string()),
        output_format: Some(output.to_string()),
        serde_info: Some(serde),
        ..Default::default()
    }
}

/// The values of a partition folder `k=v/k2=v2/` (percent escapes decoded).
fn folder_values(folder: &str) -> Vec<String> {
    folder
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| decode(p.split_once('=').map_or(p, |(_, v)| v)))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_their_values() {
        assert_eq!(
            folder_values("dt=2026-01-01/item=a%2Fb/"),
            ["2026-01-01", "a/b"]
        );
        assert!(folder_values("").is_empty());
    }
}
