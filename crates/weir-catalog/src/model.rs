//! The catalog's vocabulary: the Glue Data Catalog's databases, tables, storage descriptors and
//! partitions. Members the engine does not interpret are kept as given (`extra`) so that what a
//! client stored is what it reads back. Times are epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Members kept as given.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// A string-to-string parameter map.
pub type Params = BTreeMap<String, String>;

fn is_empty_map(m: &Params) -> bool {
    m.is_empty()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Database {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_uri: Option<String>,
    #[serde(default)]
    pub parameters: Params,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub catalog_id: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Column {
    pub name: String,
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub parameters: Params,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SerDeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialization_library: Option<String>,
    #[serde(default)]
    pub parameters: Params,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct StorageDescriptor {
    #[serde(default)]
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default)]
    pub compressed: bool,
    #[serde(default)]
    pub number_of_buckets: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serde_info: Option<SerDeInfo>,
    #[serde(default)]
    pub bucket_columns: Vec<String>,
    #[serde(default)]
    pub sort_columns: Vec<serde_json::Value>,
    #[serde(default)]
    pub parameters: Params,
    #[serde(default)]
    pub stored_as_sub_directories: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub name: String,
    #[serde(default)]
    pub database_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub update_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_access_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_analyzed_time: Option<i64>,
    #[serde(default)]
    pub retention: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_descriptor: Option<StorageDescriptor>,
    #[serde(default)]
    pub partition_keys: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_original_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_expanded_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    #[serde(default)]
    pub parameters: Params,
    #[serde(default)]
    pub is_registered_with_lake_formation: bool,
    #[serde(default)]
    pub catalog_id: String,
    #[serde(default)]
    pub version_id: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Table {
    /// The table's columns (partition keys not included).
    pub fn columns(&self) -> &[Column] {
        self.storage_descriptor
            .as_ref()
            .map_or(&[][..], |sd| &sd.columns[..])
    }

    pub fn location(&self) -> Option<&str> {
        self.storage_descriptor.as_ref()?.location.as_deref()
    }

    pub fn is_view(&self) -> bool {
        self.table_type.as_deref() == Some("VIRTUAL_VIEW")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Partition {
    pub values: Vec<String>,
    #[serde(default)]
    pub database_name: String,
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub creation_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_access_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_descriptor: Option<StorageDescriptor>,
    #[serde(default)]
    pub parameters: Params,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_analyzed_time: Option<i64>,
    #[serde(default)]
    pub catalog_id: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An archived (or the current) version of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableVersion {
    pub table: Table,
    pub version_id: String,
}

/// The members that are timestamps, wherever they appear (for front doors that render them).
pub const TIMESTAMP_MEMBERS: &[&str] = &[
    "CreateTime",
    "UpdateTime",
    "LastAccessTime",
    "LastAnalyzedTime",
    "CreationTime",
];
