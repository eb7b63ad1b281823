//! Weir's data catalog: the Glue Data Catalog's model (databases → tables with versions →
//! partitions), per region, durable (a journal fsynced before each change is acknowledged).
//! Names of databases and tables are folded to lower case, as Glue does. No wire formats here.

mod error;
pub mod expr;
pub mod hive;
pub mod model;
mod state;
pub mod store;
pub mod types;

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

pub use error::{CatalogError, Result};
pub use expr::Expr;
pub use model::{Column, Database, Partition, SerDeInfo, StorageDescriptor, Table, TableVersion};
use state::{Op, State};

/// Glue's limits that the engine enforces.
pub const MAX_BATCH_CREATE_PARTITIONS: usize = 100;
pub const MAX_BATCH_DELETE_PARTITIONS: usize = 25;
pub const MAX_TABLE_VERSIONS: usize = 100_000;

/// The catalog handle (cheap to clone).
#[derive(Clone)]
pub struct Catalog {
    inner: Arc<Mutex<Inner>>,
    account: String,
}

type Inner = store::Durable<State>;

/// One partition's failure in a batch call.
#[derive(Debug)]
pub struct ItemError {
    pub values: Vec<String>,
    pub error: CatalogError,
}

/// A page of partitions and where the next one starts.
pub struct PartitionPage {
    pub partitions: Vec<Partition>,
    pub next: Option<Vec<String>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn db_not_found(name: &str) -> CatalogError {
    CatalogError::NotFound(format!("Database {name} not found."))
}

impl Catalog {
    /// Opens the catalog kept in `dir`, replaying what was logged since its last snapshot.
    pub fn open(dir: &Path, account: &str) -> Result<Catalog> {
        Ok(Catalog {
            inner: Arc::new(Mutex::new(store::Durable::open(dir, "catalog")?)),
            account: account.to_string(),
        })
    }

    /// Logs `op` durably, then applies it.
    fn commit(inner: &mut Inner, op: Op) -> Result<()> {
        Ok(inner.commit(op)?)
    }

    // ---- databases ----

    pub fn create_database(&self, region: &str, mut db: Database) -> Result<()> {
        db.name = db.name.to_lowercase();
        db.create_time = now_ms();
        db.catalog_id = self.account.clone();
        let mut inner = self.inner.lock();
        if inner.state().database(region, &db.name).is_some() {
            return Err(CatalogError::AlreadyExists(
                "Database already exists.".to_string(),
            ));
        }
        Self::commit(
            &mut inner,
            Op::PutDatabase {
                region: region.into(),
                db: Box::new(db),
            },
        )
    }

    pub fn get_database(&self, region: &str, name: &str) -> Result<Database> {
        let inner = self.inner.lock();
        inner
            .state()
            .database(region, &name.to_lowercase())
            .map(|d| d.db.clone())
            .ok_or_else(|| db_not_found(name))
    }

    pub fn databases(&self, region: &str) -> Vec<Database> {
        let inner = self.inner.lock();
        inner
            .state()
            .databases(region)
            .map(|d| d.db.clone())
            .collect()
    }

    /// Replaces a database's definition (its name may change).
    pub fn update_database(&self, region: &str, name: &str, mut db: Database) -> Result<()> {
        let name = name.to_lowercase();
        let mut inner = self.inner.lock();
        let old = inner
            .state()
            .database(region, &name)
            .ok_or_else(|| db_not_found(&name))?;
        db.name = db.name.to_lowercase();
        db.create_time = old.db.create_time;
        db.catalog_id = self.account.clone();
        if db.name != name {
            return Err(CatalogError::InvalidInput(
                "Database name cannot be changed.".into(),
            ));
        }
        Self::commit(
            &mut inner,
            Op::PutDatabase {
                region: region.into(),
                db: Box::new(db),
            },
        )
    }

    /// Deletes a database with its tables and partitions.
    pub fn delete_database(&self, region: &str, name: &str) -> Result<()> {
        let name = name.to_lowercase();
        let mut inner = self.inner.lock();
        if inner.state().database(region, &name).is_none() {
            return Err(db_not_found(&name));
        }
        Self::commit(
            &mut inner,
            Op::DeleteDatabase {
                region: region.into(),
                name,
            },
        )
    }

    // ---- tables ----

    pub fn create_table(&self, region: &str, db: &str, mut table: Table) -> Result<()> {
        let db = db.to_lowercase();
        table.name = table.name.to_lowercase();
        let now = now_ms();
        table.database_name = db.clone();
        table.create_time = now;
        table.update_time = now;
        table.catalog_id = self.account.clone();
        table.version_id = "0".into();
        let mut inner = self.inner.lock();
        let d = inner
            .state()
            .database(region, &db)
            .ok_or_else(|| db_not_found(&db))?;
        if d.tables.contains_key(&table.name) {
            return Err(CatalogError::AlreadyExists(
                "Table already exists.".to_string(),
            ));
        }
        Self::commit(
            &mut inner,
            Op::PutTable {
                region: region.into(),
                table: Box::new(table),
                archive: false,
            },
        )
    }

    pub fn get_table(&self, region: &str, db: &str, name: &str) -> Result<Table> {
        let inner = self.inner.lock();
        Ok(inner.state().table(region, db, name)?.table.clone())
    }

    /// A database's tables in name order.
    pub fn tables(&self, region: &str, db: &str) -> Result<Vec<Table>> {
        let inner = self.inner.lock();
        let d = inner
            .state()
            .database(region, &db.to_lowercase())
            .ok_or_else(|| db_not_found(db))?;
        Ok(d.tables.values().map(|t| t.table.clone()).collect())
    }

    /// Every table of the region (for SearchTables).
    pub fn all_tables(&self, region: &str) -> Vec<Table> {
        let inner = self.inner.lock();
        inner
            .state()
            .databases(region)
            .flat_map(|d| d.tables.values().map(|t| t.table.clone()))
            .collect()
    }

    /// Replaces a table's definition; the previous one is archived as a version unless
    /// `skip_archive`. `expected_version`, when given, must be the current version.
    pub fn update_table(
        &self,
        region: &str,
        db: &str,
        mut table: Table,
        skip_archive: bool,
        expected_version: Option<&str>,
    ) -> Result<()> {
        let db = db.to_lowercase();
        table.name = table.name.to_lowercase();
        let mut inner = self.inner.lock();
        let old = &inner.state().table(region, &db, &table.name)?.table;
        if let Some(v) = expected_version {
            if v != old.version_id {
                return Err(CatalogError::ConcurrentModification(format!(
                    "Update table failed due to concurrent modifications. Table version {v} is not the latest version {}.",
                    old.version_id
                )));
            }
        }
        table.database_name = db;
        table.create_time = old.create_time;
        table.update_time = now_ms();
        table.catalog_id = self.account.clone();
        let next: u64 = old.version_id.parse::<u64>().unwrap_or(0) + 1;
        table.version_id = if skip_archive {
            old.version_id.clone()
        } else {
            next.to_string()
        };
        Self::commit(
            &mut inner,
            Op::PutTable {
                region: region.into(),
                table: Box::new(table),
                archive: !skip_archive,
            },
        )
    }

    pub fn delete_table(&self, region: &str, db: &str, name: &str) -> Result<()> {
        let mut inner = self.inner.lock();
        inner.state().table(region, db, name)?;
        Self::commit(
            &mut inner,
            Op::DeleteTable {
                region: region.into(),
                db: db.to_lowercase(),
                name: name.to_lowercase(),
            },
        )
    }

    /// The table's versions, newest (the current one) first.
    pub fn table_versions(&self, region: &str, db: &str, name: &str) -> Result<Vec<TableVersion>> {
        let inner = self.inner.lock();
        let t = inner.state().table(region, db, name)?;
        let mut out = vec![TableVersion {
            version_id: t.table.version_id.clone(),
            table: t.table.clone(),
        }];
        out.extend(t.versions.iter().rev().map(|(v, table)| TableVersion {
            version_id: v.to_string(),
            table: table.clone(),
        }));
        Ok(out)
    }

    /// Deletes archived versions; the current version cannot be deleted.
    pub fn delete_table_versions(
        &self,
        region: &str,
        db: &str,
        name: &str,
        versions: &[String],
    ) -> Result<Vec<(String, CatalogError)>> {
        let mut inner = self.inner.lock();
        let t = inner.state().table(region, db, name)?;
        let mut errors = Vec::new();
        let mut delete = Vec::new();
        for v in versions {
            match v.parse::<u64>() {
                Ok(n) if t.versions.contains_key(&n) => delete.push(n),
                _ if *v == t.table.version_id => errors.push((
                    v.clone(),
                    CatalogError::InvalidInput("Cannot delete the current version.".into()),
                )),
                _ => errors.push((
                    v.clone(),
                    CatalogError::NotFound(format!("Version {v} not found.")),
                )),
            }
        }
        if !delete.is_empty() {
            Self::commit(
                &mut inner,
                Op::DeleteTableVersions {
                    region: region.into(),
                    db: db.to_lowercase(),
                    name: name.to_lowercase(),
                    versions: delete,
                },
            )?;
        }
        Ok(errors)
    }

    // ---- partitions ----

    /// Creates partitions; those that cannot be created are returned with why.
    pub fn create_partitions(
        &self,
        region: &str,
        db: &str,
        table: &str,
        parts: Vec<Partition>,
    ) -> Result<Vec<ItemError>> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        let mut inner = self.inner.lock();
        let t = inner.state().table(region, &db, &table)?;
        let keys = t.table.partition_keys.len();
        let now = now_ms();
        let mut errors = Vec::new();
        let mut put: Vec<Partition> = Vec::new();
        for mut p in parts {
            if p.values.len() != keys {
                errors.push(ItemError {
                    values: p.values,
                    error: CatalogError::InvalidInput(
                        "The number of partition keys do not match the number of partition values"
                            .into(),
                    ),
                });
                continue;
            }
            if t.partitions.contains_key(&state::key(&p.values))
                || put.iter().any(|q| q.values == p.values)
            {
                errors.push(ItemError {
                    values: p.values,
                    error: CatalogError::AlreadyExists("Partition already exists.".into()),
                });
                continue;
            }
            p.database_name = db.clone();
            p.table_name = table.clone();
            p.creation_time = now;
            p.catalog_id = self.account.clone();
            put.push(p);
        }
        if !put.is_empty() {
            Self::commit(
                &mut inner,
                Op::Partitions {
                    region: region.into(),
                    db,
                    table,
                    delete: Vec::new(),
                    put,
                },
            )?;
        }
        Ok(errors)
    }

    pub fn get_partition(
        &self,
        region: &str,
        db: &str,
        table: &str,
        values: &[String],
    ) -> Result<Partition> {
        let inner = self.inner.lock();
        let t = inner.state().table(region, db, table)?;
        t.partitions
            .get(&state::key(values))
            .cloned()
            .ok_or_else(|| CatalogError::NotFound("Cannot find partition.".into()))
    }

    /// Partitions matching `filter`, in value order, from `after` (exclusive), at most `limit`;
    /// `segment` = (index, total) keeps only that share of the partitions.
    #[allow(clippy::too_many_arguments)]
    pub fn partitions(
        &self,
        region: &str,
        db: &str,
        table: &str,
        filter: Option<&str>,
        after: Option<&[String]>,
        limit: usize,
        segment: Option<(u32, u32)>,
    ) -> Result<PartitionPage> {
        let inner = self.inner.lock();
        let t = inner.state().table(region, db, table)?;
        let keys = &t.table.partition_keys;
        let expr = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(Expr::parse(f, keys)?),
            None => None,
        };
        let start = after.map(state::key);
        let range = match &start {
            Some(k) => t
                .partitions
                .range::<String, _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)),
            None => t.partitions.range::<String, _>(..),
        };
        let mut out = Vec::new();
        let mut next = None;
        for (k, p) in range {
            if let Some((i, n)) = segment {
                if state::segment_of(k, n) != i {
                    continue;
                }
            }
            if expr.as_ref().is_some_and(|e| !e.matches(keys, &p.values)) {
                continue;
            }
            if out.len() == limit {
                next = out.last().map(|p: &Partition| p.values.clone());
                break;
            }
            out.push(p.clone());
        }
        Ok(PartitionPage {
            partitions: out,
            next,
        })
    }

    /// Replaces a partition (its values may change).
    pub fn update_partition(
        &self,
        region: &str,
        db: &str,
        table: &str,
        values: &[String],
        mut p: Partition,
    ) -> Result<()> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        let mut inner = self.inner.lock();
        let t = inner.state().table(region, &db, &table)?;
        let old = t
            .partitions
            .get(&state::key(values))
            .ok_or_else(|| CatalogError::NotFound("Cannot find partition.".into()))?;
        if p.values.is_empty() {
            p.values = values.to_vec();
        }
        if p.values.len() != t.table.partition_keys.len() {
            return Err(CatalogError::InvalidInput(
                "The number of partition keys do not match the number of partition values".into(),
            ));
        }
        if p.values != values && t.partitions.contains_key(&state::key(&p.values)) {
            return Err(CatalogError::AlreadyExists(
                "Partition already exists.".into(),
            ));
        }
        p.database_name = db.clone();
        p.table_name = table.clone();
        p.creation_time = old.creation_time;
        p.catalog_id = self.account.clone();
        Self::commit(
            &mut inner,
            Op::Partitions {
                region: region.into(),
                db,
                table,
                delete: vec![values.to_vec()],
                put: vec![p],
            },
        )
    }

    /// Deletes partitions; those that do not exist are returned.
    pub fn delete_partitions(
        &self,
        region: &str,
        db: &str,
        table: &str,
        values: Vec<Vec<String>>,
    ) -> Result<Vec<ItemError>> {
        let (db, table) = (db.to_lowercase(), table.to_lowercase());
        let mut inner = self.inner.lock();
        let t = inner.state().table(region, &db, &table)?;
        let mut errors = Vec::new();
        let mut delete = Vec::new();
        for v in values {
            if t.partitions.contains_key(&state::key(&v)) {
                delete.push(v);
            } else {
                errors.push(ItemError {
                    values: v,
                    error: CatalogError::NotFound("Cannot find partition.".into()),
                });
            }
        }
        if !delete.is_empty() {
            Self::commit(
                &mut inner,
                Op::Partitions {
                    region: region.into(),
                    db,
                    table,
                    delete,
                    put: Vec::new(),
                },
            )?;
        }
        Ok(errors)
    }

    /// The account id the catalog names itself with (CatalogId).
    pub fn account(&self) -> &str {
        &self.account
    }
}
