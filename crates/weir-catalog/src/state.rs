//! The catalog's in-memory state and the operations that change it (the journal's entries).
//! `apply` is the only mutation, live and on replay alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Result};
use crate::model::{Database, Partition, Table};

#[derive(Default, Serialize, Deserialize)]
pub struct State {
    /// Region → database name → database.
    regions: BTreeMap<String, BTreeMap<String, DbEntry>>,
}

#[derive(Serialize, Deserialize)]
pub struct DbEntry {
    pub db: Database,
    pub tables: BTreeMap<String, TableEntry>,
}

#[derive(Serialize, Deserialize)]
pub struct TableEntry {
    pub table: Table,
    /// Archived versions by number.
    pub versions: BTreeMap<u64, Table>,
    /// Partitions by `key(values)`.
    pub partitions: BTreeMap<String, Partition>,
}

/// A partition's map key: its values joined by U+0001, so that keys sort as the value lists do.
pub fn key(values: &[String]) -> String {
    values.join("\u{1}")
}

/// Which of `n` segments a partition falls in (stable across calls and restarts).
pub fn segment_of(key: &str, n: u32) -> u32 {
    if n <= 1 {
        return 0;
    }
    crc32c::crc32c(key.as_bytes()) % n
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Op {
    PutDatabase {
        region: String,
        db: Box<Database>,
    },
    DeleteDatabase {
        region: String,
        name: String,
    },
    /// Creates or replaces a table; `archive` keeps the replaced definition as a version.
    PutTable {
        region: String,
        table: Box<Table>,
        archive: bool,
    },
    DeleteTable {
        region: String,
        db: String,
        name: String,
    },
    DeleteTableVersions {
        region: String,
        db: String,
        name: String,
        versions: Vec<u64>,
    },
    Partitions {
        region: String,
        db: String,
        table: String,
        delete: Vec<Vec<String>>,
        put: Vec<Partition>,
    },
}

impl State {
    pub fn database(&self, region: &str, name: &str) -> Option<&DbEntry> {
        self.regions.get(region)?.get(name)
    }

    pub fn databases<'a>(&'a self, region: &str) -> impl Iterator<Item = &'a DbEntry> + 'a {
        self.regions
            .get(region)
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn table(&self, region: &str, db: &str, name: &str) -> Result<&TableEntry> {
        let (db, name) = (db.to_lowercase(), name.to_lowercase());
        let d = self
            .database(region, &db)
            .ok_or_else(|| CatalogError::NotFound(format!("Database {db} not found.")))?;
        d.tables
            .get(&name)
            .ok_or_else(|| CatalogError::NotFound(format!("Table {name} not found.")))
    }

    fn table_mut(&mut self, region: &str, db: &str, name: &str) -> Option<&mut TableEntry> {
        self.regions
            .get_mut(region)?
            .get_mut(db)?
            .tables
            .get_mut(name)
    }

    fn apply_op(&mut self, op: Op) {
        match op {
            Op::PutDatabase { region, db } => {
                let db = *db;
                let dbs = self.regions.entry(region).or_default();
                match dbs.get_mut(&db.name) {
                    Some(e) => e.db = db,
                    None => {
                        dbs.insert(
                            db.name.clone(),
                            DbEntry {
                                db,
                                tables: BTreeMap::new(),
                            },
                        );
                    }
                }
            }
            Op::DeleteDatabase { region, name } => {
                if let Some(dbs) = self.regions.get_mut(&region) {
                    dbs.remove(&name);
                }
            }
            Op::PutTable {
                region,
                table,
                archive,
            } => {
                let table = *table;
                let Some(d) = self
                    .regions
                    .get_mut(&region)
                    .and_then(|m| m.get_mut(&table.database_name))
                else {
                    return;
                };
                match d.tables.get_mut(&table.name) {
                    Some(e) => {
                        let old = std::mem::replace(&mut e.table, table);
                        if archive {
                            let n = old.version_id.parse::<u64>().unwrap_or(0);
                            e.versions.insert(n, old);
                            while e.versions.len() >= crate::MAX_TABLE_VERSIONS {
                                e.versions.pop_first();
                            }
                        }
                    }
                    None => {
                        d.tables.insert(
                            table.name.clone(),
                            TableEntry {
                                table,
                                versions: BTreeMap::new(),
                                partitions: BTreeMap::new(),
                            },
                        );
                    }
                }
            }
            Op::DeleteTable { region, db, name } => {
                if let Some(d) = self.regions.get_mut(&region).and_then(|m| m.get_mut(&db)) {
                    d.tables.remove(&name);
                }
            }
            Op::DeleteTableVersions {
                region,
                db,
                name,
                versions,
            } => {
                if let Some(t) = self.table_mut(&region, &db, &name) {
                    for v in versions {
                        t.versions.remove(&v);
                    }
                }
            }
            Op::Partitions {
                region,
                db,
                table,
                delete,
                put,
            } => {
                if let Some(t) = self.table_mut(&region, &db, &table) {
                    for v in delete {
                        t.partitions.remove(&key(&v));
                    }
                    for p in put {
                        t.partitions.insert(key(&p.values), p);
                    }
                }
            }
        }
    }
}

impl crate::store::Journaled for State {
    type Op = Op;

    fn apply(&mut self, op: Op) {
        self.apply_op(op)
    }
}
