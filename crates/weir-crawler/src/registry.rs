//! The crawlers: their definitions and states, durable (the catalog's journal format, in its
//! own directory), the READY → RUNNING → (STOPPING →) READY cycle with each run's LastCrawl,
//! metrics over past runs, and the folders seen for `CRAWL_NEW_FOLDERS_ONLY`. Runs go on in
//! the background; a schedule starts them when its `cron(...)` comes due.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use weir_catalog::store::{Durable, Journaled};
use weir_catalog::Catalog;
use weir_objects::Objects;

use crate::{Grouping, Policy, Run, Target};

/// What a registry call can fail with (the front door maps these to Glue's errors).
#[derive(Debug, thiserror::Error)]
pub enum CrawlerError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Running(String),
    #[error("{0}")]
    NotRunning(String),
    #[error("{0}")]
    Stopping(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NoSchedule(String),
    #[error("{0}")]
    SchedulerRunning(String),
    #[error("{0}")]
    SchedulerNotRunning(String),
    #[error("crawler storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

/// An S3 target as defined.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct S3Target {
    pub path: String,
    #[serde(default)]
    pub exclusions: Vec<String>,
    #[serde(default)]
    pub sample_size: Option<usize>,
    /// Members Weir keeps but does not use (ConnectionName, EventQueueArn, ...).
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A crawler as defined by CreateCrawler/UpdateCrawler.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    pub role: String,
    pub database_name: Option<String>,
    pub description: Option<String>,
    pub s3_targets: Vec<S3Target>,
    /// The other target lists (JDBC, DynamoDB, catalog, ...) as given; not crawled.
    pub other_targets: BTreeMap<String, serde_json::Value>,
    pub schedule: Option<String>,
    pub classifiers: Vec<String>,
    pub table_prefix: Option<String>,
    pub update_behavior: String,
    pub delete_behavior: String,
    pub recrawl_behavior: String,
    pub lineage: String,
    pub lake_formation: Option<serde_json::Value>,
    pub configuration: Option<String>,
    pub security_configuration: Option<String>,
}

/// How the last run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCrawl {
    /// SUCCEEDED, CANCELLED or FAILED.
    pub status: String,
    pub error: Option<String>,
    pub start_ms: i64,
    pub message_prefix: String,
}

/// A crawler and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub def: Definition,
    /// READY, RUNNING or STOPPING.
    pub state: String,
    pub version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// How the last finished crawl went.
    pub last_crawl: Option<LastCrawl>,
    /// The crawl under way (its status RUNNING).
    #[serde(default)]
    pub current: Option<LastCrawl>,
    /// Seconds each finished run took.
    pub runtimes: Vec<f64>,
    pub tables_created: u32,
    pub tables_updated: u32,
    pub tables_deleted: u32,
    /// `bucket/prefix/folder` of every folder crawled so far.
    pub folders: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// SCHEDULED or NOT_SCHEDULED (only with a schedule).
    pub schedule_state: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// region → name → crawler.
    crawlers: BTreeMap<String, BTreeMap<String, Record>>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Op {
    Put(String, Box<Record>),
    Remove(String, String),
}

impl Journaled for State {
    type Op = Op;

    fn apply(&mut self, op: Op) {
        match op {
            Op::Put(region, r) => {
                self.crawlers
                    .entry(region)
                    .or_default()
                    .insert(r.def.name.clone(), *r);
            }
            Op::Remove(region, name) => {
                if let Some(m) = self.crawlers.get_mut(&region) {
                    m.remove(&name);
                }
            }
        }
    }
}

struct Inner {
    journal: Durable<State>,
    /// Stop flags of running crawls, by (region, name).
    running: BTreeMap<(String, String), Arc<AtomicBool>>,
}

/// The crawler registry (cheap to clone).
#[derive(Clone)]
pub struct Crawlers {
    inner: Arc<Mutex<Inner>>,
    objects: Objects,
    catalog: Catalog,
}

fn not_found(name: &str) -> CrawlerError {
    CrawlerError::NotFound(format!("Crawler entry with name {name} does not exist"))
}

impl Crawlers {
    /// Opens the registry kept in `dir`. Crawls that were running when Weir stopped end as
    /// FAILED.
    pub fn open(dir: &Path, objects: Objects, catalog: Catalog) -> Result<Crawlers, CrawlerError> {
        let mut inner = Inner {
            journal: Durable::open(dir, "crawlers")?,
            running: BTreeMap::new(),
        };
        let interrupted: Vec<(String, Record)> = inner
            .journal
            .state()
            .crawlers
            .iter()
            .flat_map(|(region, m)| m.values().map(move |r| (region.clone(), r.clone())))
            .filter(|(_, r)| r.state != "READY")
            .collect();
        for (region, mut r) in interrupted {
            r.state = "READY".into();
            if let Some(mut lc) = r.current.take() {
                lc.status = "FAILED".into();
                lc.error = Some("The crawl was interrupted: Weir stopped while it ran.".into());
                r.last_crawl = Some(lc);
            }
            Self::commit(&mut inner, Op::Put(region, Box::new(r)))?;
        }
        Ok(Crawlers {
            inner: Arc::new(Mutex::new(inner)),
            objects,
            catalog,
        })
    }

    fn commit(inner: &mut Inner, op: Op) -> Result<(), CrawlerError> {
        Ok(inner.journal.commit(op)?)
    }

    fn get_in<'a>(inner: &'a Inner, region: &str, name: &str) -> Result<&'a Record, CrawlerError> {
        inner
            .journal
            .state()
            .crawlers
            .get(region)
            .and_then(|m| m.get(name))
            .ok_or_else(|| not_found(name))
    }

    pub fn create(
        &self,
        region: &str,
        def: Definition,
        tags: BTreeMap<String, String>,
    ) -> Result<(), CrawlerError> {
        validate(&def)?;
        let mut inner = self.inner.lock();
        if Self::get_in(&inner, region, &def.name).is_ok() {
            return Err(CrawlerError::AlreadyExists(format!(
                "{} already exists",
                def.name
            )));
        }
        let now = crate::now_ms();
        let schedule_state = def.schedule.as_ref().map(|_| "SCHEDULED".to_string());
        let r = Record {
            def,
            state: "READY".into(),
            version: 1,
            created_ms: now,
            updated_ms: now,
            last_crawl: None,
            current: None,
            runtimes: Vec::new(),
            tables_created: 0,
            tables_updated: 0,
            tables_deleted: 0,
            folders: Vec::new(),
            tags,
            schedule_state,
        };
        Self::commit(&mut inner, Op::Put(region.into(), Box::new(r)))
    }

    pub fn get(&self, region: &str, name: &str) -> Result<Record, CrawlerError> {
        Self::get_in(&self.inner.lock(), region, name).cloned()
    }

    /// Every crawler of the region, by name.
    pub fn list(&self, region: &str) -> Vec<Record> {
        self.inner
            .lock()
            .journal
            .state()
            .crawlers
            .get(region)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Changes a crawler's definition (not while it runs), under the registry's lock so no
    /// other change lands between reading and writing it.
    pub fn update<E: From<CrawlerError>>(
        &self,
        region: &str,
        name: &str,
        change: impl FnOnce(&mut Definition) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut inner = self.inner.lock();
        let mut r = Self::get_in(&inner, region, name)?.clone();
        if r.state != "READY" {
            return Err(CrawlerError::Running(format!(
                "Crawler with name {name} is running; stop it or wait until it completes to update"
            ))
            .into());
        }
        change(&mut r.def)?;
        validate(&r.def)?;
        r.version += 1;
        r.updated_ms = crate::now_ms();
        r.schedule_state = match (&r.def.schedule, r.schedule_state.take()) {
            (None, _) => None,
            (Some(_), Some(s)) => Some(s),
            (Some(_), None) => Some("SCHEDULED".into()),
        };
        Ok(Self::commit(
            &mut inner,
            Op::Put(region.into(), Box::new(r)),
        )?)
    }

    pub fn delete(&self, region: &str, name: &str) -> Result<(), CrawlerError> {
        let mut inner = self.inner.lock();
        let r = Self::get_in(&inner, region, name)?;
        if r.state != "READY" {
            return Err(CrawlerError::Running(format!(
                "Cannot delete crawler {name} while it's running"
            )));
        }
        Self::commit(&mut inner, Op::Remove(region.into(), name.into()))
    }

    /// Replaces a crawler's tags (TagResource/UntagResource).
    pub fn set_tags(
        &self,
        region: &str,
        name: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), CrawlerError> {
        let mut inner = self.inner.lock();
        let mut r = Self::get_in(&inner, region, name)?.clone();
        change(&mut r.tags);
        Self::commit(&mut inner, Op::Put(region.into(), Box::new(r)))
    }

    /// Starts a crawl in the background.
    pub fn start(&self, region: &str, name: &str) -> Result<(), CrawlerError> {
        let (run, flag) = {
            let mut inner = self.inner.lock();
            let mut r = Self::get_in(&inner, region, name)
                .map_err(|_| {
                    CrawlerError::NotFound(format!("Crawler with name {name} does not exist"))
                })?
                .clone();
            if r.state != "READY" {
                return Err(CrawlerError::Running(format!(
                    "Crawler with name {name} has already started"
                )));
            }
            let run = run_of(region, &r)?;
            let now = crate::now_ms();
            r.state = "RUNNING".into();
            r.current = Some(LastCrawl {
                status: "RUNNING".into(),
                error: None,
                start_ms: now,
                message_prefix: weir_log::ids::uuid(),
            });
            Self::commit(&mut inner, Op::Put(region.into(), Box::new(r)))?;
            let flag = Arc::new(AtomicBool::new(false));
            inner
                .running
                .insert((region.into(), name.into()), flag.clone());
            (run, flag)
        };
        let this = self.clone();
        let (region, name) = (region.to_string(), name.to_string());
        tokio::spawn(async move {
            let (objects, catalog, stop) =
                (this.objects.clone(), this.catalog.clone(), flag.clone());
            // The crawl runs in a task of its own so that even a panic ends it READY (FAILED).
            let crawl = tokio::spawn(async move {
                crate::run(&objects, &catalog, &run, &|| stop.load(Ordering::Relaxed)).await
            });
            let result = crawl
                .await
                .unwrap_or_else(|e| Err(format!("Internal error while crawling: {e}")));
            this.finish(&region, &name, result, flag.load(Ordering::Relaxed));
        });
        Ok(())
    }

    fn finish(
        &self,
        region: &str,
        name: &str,
        result: Result<crate::Outcome, String>,
        stopped: bool,
    ) {
        let mut inner = self.inner.lock();
        inner
            .running
            .remove(&(region.to_string(), name.to_string()));
        let Ok(mut r) = Self::get_in(&inner, region, name).cloned() else {
            return;
        };
        let now = crate::now_ms();
        let started = r.current.as_ref().map_or(now, |c| c.start_ms);
        let took = (now - started) as f64 / 1000.0;
        r.state = "READY".into();
        let (status, error) = match result {
            Ok(out) => {
                r.tables_created = out.counts.created;
                r.tables_updated = out.counts.updated;
                r.tables_deleted = out.counts.deleted;
                // Only CRAWL_NEW_FOLDERS_ONLY needs the folders seen.
                if r.def.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" {
                    r.folders.extend(out.folders);
                    r.folders.sort();
                    r.folders.dedup();
                }
                r.runtimes.push(took);
                ("SUCCEEDED", None)
            }
            Err(_) if stopped => ("CANCELLED", None),
            Err(e) => {
                tracing::warn!(crawler = name, error = %e, "crawl failed");
                ("FAILED", Some(e))
            }
        };
        if let Some(mut lc) = r.current.take() {
            lc.status = status.into();
            lc.error = error;
            r.last_crawl = Some(lc);
        }
        if let Err(e) = Self::commit(&mut inner, Op::Put(region.into(), Box::new(r))) {
            tracing::error!(crawler = name, error = %e, "could not record the crawl's end");
        }
    }

    /// Asks a running crawl to stop (it stops between files).
    pub fn stop(&self, region: &str, name: &str) -> Result<(), CrawlerError> {
        let mut inner = self.inner.lock();
        let mut r = Self::get_in(&inner, region, name)?.clone();
        match r.state.as_str() {
            "RUNNING" => {}
            "STOPPING" => {
                return Err(CrawlerError::Stopping(format!(
                    "Crawler with name {name} is stopping"
                )))
            }
            _ => {
                return Err(CrawlerError::NotRunning(format!(
                    "Crawler with name {name} isn't running"
                )))
            }
        }
        if let Some(flag) = inner.running.get(&(region.to_string(), name.to_string())) {
            flag.store(true, Ordering::Relaxed);
        }
        r.state = "STOPPING".into();
        Self::commit(&mut inner, Op::Put(region.into(), Box::new(r)))
    }

    /// Sets a crawler's schedule state (StartCrawlerSchedule / StopCrawlerSchedule).
    pub fn set_schedule_state(
        &self,
        region: &str,
        name: &str,
        scheduled: bool,
    ) -> Result<(), CrawlerError> {
        let mut inner = self.inner.lock();
        let mut r = Self::get_in(&inner, region, name)?.clone();
        if r.def.schedule.is_none() {
            return Err(CrawlerError::NoSchedule(format!(
                "There is no schedule for crawler {name}"
            )));
        }
        match (scheduled, r.schedule_state.as_deref()) {
            (true, Some("SCHEDULED")) => {
                return Err(CrawlerError::SchedulerRunning(format!(
                    "Schedule of crawler {name} is already scheduled"
                )))
            }
            (false, Some("NOT_SCHEDULED")) => {
                return Err(CrawlerError::SchedulerNotRunning(format!(
                    "Schedule of crawler {name} is not scheduled"
                )))
            }
            _ => {}
        }
        r.schedule_state = Some(
            if scheduled {
                "SCHEDULED"
            } else {
                "NOT_SCHEDULED"
            }
            .into(),
        );
        Self::commit(&mut inner, Op::Put(region.into(), Box::new(r)))
    }

    /// Starts every scheduled crawler whose schedule fell due in `(since, now]`; returns their
    /// names.
    pub fn tick(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<String> {
        let due: Vec<(String, String)> = {
            let inner = self.inner.lock();
            inner
                .journal
                .state()
                .crawlers
                .iter()
                .flat_map(|(region, m)| {
                    m.values().filter_map(move |r| {
                        let expr = r.def.schedule.as_deref()?;
                        if r.schedule_state.as_deref() != Some("SCHEDULED") {
                            return None;
                        }
                        let next = crate::cron::Cron::parse(expr).ok()?.next_after(since)?;
                        (next <= now).then(|| (region.clone(), r.def.name.clone()))
                    })
                })
                .collect()
        };
        due.into_iter()
            .filter(|(region, name)| self.start(region, name).is_ok())
            .map(|(_, name)| name)
            .collect()
    }
}

/// The checks CreateCrawler and UpdateCrawler make beyond the model's.
fn validate(def: &Definition) -> Result<(), CrawlerError> {
    if def.s3_targets.is_empty()
        && def
            .other_targets
            .values()
            .all(|v| v.as_array().is_none_or(|a| a.is_empty()))
    {
        return Err(CrawlerError::InvalidInput(
            "At least one crawl target must be specified".into(),
        ));
    }
    for t in &def.s3_targets {
        Target::parse(&t.path, &t.exclusions, t.sample_size).map_err(CrawlerError::InvalidInput)?;
        if let Some(n) = t.sample_size {
            if !(1..=249).contains(&n) {
                return Err(CrawlerError::InvalidInput(
                    "SampleSize must be an integer between 1 and 249".into(),
                ));
            }
        }
    }
    if let Some(s) = &def.schedule {
        crate::cron::Cron::parse(s).map_err(CrawlerError::InvalidInput)?;
    }
    if let Some(c) = &def.configuration {
        serde_json::from_str::<serde_json::Value>(c).map_err(|e| {
            CrawlerError::InvalidInput(format!("Crawler configuration not valid: {e}"))
        })?;
    }
    Ok(())
}

/// A run's settings from a crawler's definition.
fn run_of(region: &str, r: &Record) -> Result<Run, CrawlerError> {
    let d = &r.def;
    let config: serde_json::Value = d
        .configuration
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let grouping = Grouping {
        combine_compatible: config["Grouping"]["TableGroupingPolicy"] == "CombineCompatibleSchemas",
        table_level: config["Grouping"]["TableLevelConfiguration"]
            .as_u64()
            .map(|n| n as usize),
        table_threshold: config["CrawlerOutput"]["Tables"]["TableThreshold"]
            .as_u64()
            .map(|n| n as usize),
    };
    let targets = d
        .s3_targets
        .iter()
        .map(|t| Target::parse(&t.path, &t.exclusions, t.sample_size))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CrawlerError::InvalidInput)?;
    let incremental = d.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" && r.last_crawl.is_some();
    Ok(Run {
        crawler: d.name.clone(),
        region: region.to_string(),
        database: d.database_name.clone().unwrap_or_else(|| "default".into()),
        table_prefix: d.table_prefix.clone().unwrap_or_default(),
        targets,
        policy: Policy {
            update: d.update_behavior != "LOG",
            delete: d.delete_behavior.clone(),
            merge_new_columns: config["CrawlerOutput"]["Tables"]["AddOrUpdateBehavior"]
                == "MergeNewColumns",
        },
        grouping,
        known_folders: incremental.then(|| r.folders.iter().cloned().collect::<HashSet<_>>()),
    })
}
