//! Weir's delivery engine (Firehose): delivery streams, their durable intake, and the workers
//! that buffer records and deliver them as objects into the object-store layer.
//!
//! - DirectPut records are appended to an intake log (a `weir_log::Log` of its own under
//!   `delivery/intake`, one single-shard stream per delivery stream) before PutRecord(Batch)
//!   answers, so an acknowledged record survives a crash.
//! - One worker task per delivery stream reads its source from a checkpoint, buffers records
//!   (flushing at SizeInMBs or IntervalInSeconds, whichever first), writes objects named as
//!   Firehose names them, and only then advances the checkpoint. A restart resumes from the
//!   checkpoint: nothing acknowledged is lost, and at most the buffers in flight are re-delivered.

mod catalog;
mod compress;
pub mod conversion;
pub mod convert;
mod error;
mod extract;
mod http;
mod job;
mod kpl;
pub mod lambda;
pub mod lambda_output;
pub mod model;
pub mod prefix;
mod process;
mod records;
pub mod sample;
pub mod source;
mod spill;
mod streams;
pub mod timefmt;
mod worker;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

pub use catalog::{Checkpoint, Resume};
pub use conversion::*;
pub use error::{DeliveryError, Result};
pub use model::*;
pub use streams::DestinationUpdate;
pub use worker::Stats;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Root of the engine's files (`<data dir>/delivery`).
    pub data_dir: PathBuf,
    pub account_id: String,
    /// How long a new delivery stream stays CREATING.
    pub create_delay_ms: i64,
    /// How long a deleted delivery stream stays DELETING.
    pub delete_delay_ms: i64,
    /// Delivery streams allowed per region.
    pub stream_limit: usize,
    /// Functions Lambda processors resolve to.
    pub functions: Vec<lambda::FunctionConfig>,
    /// First back-off of a failed HTTP endpoint request (Firehose: 1 s, doubling).
    pub http_backoff_ms: u64,
    /// Intake segment files roll over past this many bytes (delivered segments are freed).
    pub segment_bytes: u64,
    /// Bytes all delivery streams' buffers may hold in memory; beyond it buffers spill to
    /// files, and deliveries in flight wait for a share of as much again.
    pub buffer_memory_bytes: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            data_dir: PathBuf::from("weir-data/delivery"),
            account_id: "000000000000".into(),
            create_delay_ms: 100,
            delete_delay_ms: 100,
            stream_limit: 5000,
            functions: Vec::new(),
            http_backoff_ms: 1000,
            // Small enough that delivered records do not linger in whole 128 MiB segments.
            segment_bytes: 8 * 1024 * 1024,
            buffer_memory_bytes: 512 << 20,
        }
    }
}

/// Handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    inner: Arc<Inner>,
}

struct Inner {
    config: DeliveryConfig,
    clock: Arc<dyn weir_log::Clock>,
    /// Intake of DirectPut records.
    intake: weir_log::Log,
    /// Weir's Kinesis streams (sources of KinesisStreamAsSource delivery streams).
    streams: weir_log::Log,
    objects: weir_objects::Objects,
    /// The Glue Data Catalog: the tables record format conversion writes.
    tables: weir_catalog::Catalog,
    files: catalog::Files,
    state: RwLock<BTreeMap<(String, String), catalog::StreamMeta>>,
    /// Serialises catalog writes.
    meta_lock: Mutex<()>,
    workers: Mutex<HashMap<u64, worker::Handle>>,
    /// The buffers' memory budget.
    budget: spill::Budget,
    /// One HTTP(S) client for every HTTP endpoint destination, made on first use.
    http: Mutex<Option<weir_objects::HttpClient>>,
}

impl Delivery {
    /// The function registered in Weir's config that a Lambda ARN (or a bare name) names.
    pub fn function(&self, arn_or_name: &str) -> Result<lambda::FunctionConfig, String> {
        let functions = &self.inner.config.functions;
        match lambda::function_name(arn_or_name) {
            Some(_) => lambda::resolve(functions, arn_or_name).cloned(),
            None => functions
                .iter()
                .find(|f| f.name == arn_or_name)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "Lambda function {arn_or_name} is not registered in Weir's config \
                         ([[functions]])"
                    )
                }),
        }
    }

    /// Opens the engine's files (blocking). Call `start` inside a runtime to begin delivering.
    pub fn open(
        config: DeliveryConfig,
        clock: Arc<dyn weir_log::Clock>,
        streams: weir_log::Log,
        objects: weir_objects::Objects,
        tables: weir_catalog::Catalog,
    ) -> Result<Delivery> {
        std::fs::create_dir_all(&config.data_dir)?;
        let files = catalog::Files::new(&config.data_dir)?;
        let budget =
            spill::Budget::new(config.buffer_memory_bytes, &config.data_dir.join("spill"))?;
        let intake = weir_log::Log::open(
            weir_log::LogConfig {
                data_dir: config.data_dir.join("intake"),
                account_id: config.account_id.clone(),
                create_delay_ms: 0,
                delete_delay_ms: 0,
                update_delay_ms: 0,
                shard_limit: u32::MAX,
                segment_bytes: config.segment_bytes,
                ..weir_log::LogConfig::default()
            },
            clock.clone(),
        )?;
        let now = clock.now_ms();
        let mut state = BTreeMap::new();
        for meta in files.load()?.streams {
            if meta.is_gone(now) {
                continue;
            }
            state.insert((meta.region.clone(), meta.name.clone()), meta);
        }
        Ok(Delivery {
            inner: Arc::new(Inner {
                config,
                clock,
                intake,
                streams,
                objects,
                tables,
                budget,
                files,
                state: RwLock::new(state),
                meta_lock: Mutex::new(()),
                workers: Mutex::new(HashMap::new()),
                http: Mutex::new(None),
            }),
        })
    }

    /// Starts a worker for every live delivery stream (inside a Tokio runtime).
    pub fn start(&self) {
        let metas: Vec<catalog::StreamMeta> = self
            .inner
            .state
            .read()
            .values()
            .filter(|m| m.deleted_at_ms.is_none())
            .cloned()
            .collect();
        for meta in metas {
            self.spawn_worker(&meta);
        }
    }

    /// Stops every worker (buffers are dropped; their records are re-read from the checkpoint
    /// at the next start).
    pub async fn stop(&self) {
        let handles: Vec<worker::Handle> =
            self.inner.workers.lock().drain().map(|(_, h)| h).collect();
        for h in handles {
            h.stop().await;
        }
    }

    /// Periodic upkeep (blocking): the intake log's index checkpoints, removal of deleted
    /// delivery streams' intake files, and its retention (24 hours, as Firehose keeps
    /// undelivered data); deleted delivery streams leave the catalog.
    pub fn housekeeping(&self) {
        self.inner.intake.housekeeping();
        let now = self.now_ms();
        let _guard = self.inner.meta_lock.lock();
        let gone = {
            let mut state = self.inner.state.write();
            let before = state.len();
            state.retain(|_, m| !m.is_gone(now));
            before != state.len()
        };
        if gone {
            if let Err(e) = self.persist() {
                tracing::error!(error = %e, "saving the delivery catalog failed");
            }
        }
    }

    /// The shared HTTP(S) client of HTTP endpoint destinations.
    pub(crate) fn http_client(&self) -> std::result::Result<weir_objects::HttpClient, String> {
        let mut slot = self.inner.http.lock();
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = weir_objects::http_client(None).map_err(|e| e.to_string())?;
        *slot = Some(c.clone());
        Ok(c)
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn spawn_worker(&self, meta: &catalog::StreamMeta) {
        let handle = worker::spawn(self.clone(), meta.uid);
        self.inner.workers.lock().insert(meta.uid, handle);
    }

    pub(crate) fn arn(&self, region: &str, name: &str) -> String {
        format!(
            "arn:aws:firehose:{region}:{}:deliverystream/{name}",
            self.inner.config.account_id
        )
    }

    fn not_found(&self, name: &str) -> DeliveryError {
        DeliveryError::NotFound(format!(
            "Firehose {name} under account {} not found.",
            self.inner.config.account_id
        ))
    }

    /// The live stream `(region, name)`.
    fn lookup(&self, region: &str, name: &str) -> Result<catalog::StreamMeta> {
        let now = self.now_ms();
        match self
            .inner
            .state
            .read()
            .get(&(region.to_string(), name.to_string()))
        {
            Some(m) if !m.is_gone(now) => Ok(m.clone()),
            _ => Err(self.not_found(name)),
        }
    }

    /// The stream with `uid`, while it is not deleted.
    pub(crate) fn by_uid(&self, uid: u64) -> Option<catalog::StreamMeta> {
        self.inner
            .state
            .read()
            .values()
            .find(|m| m.uid == uid && m.deleted_at_ms.is_none())
            .cloned()
    }

    fn status_of(&self, m: &catalog::StreamMeta) -> Status {
        if m.deleted_at_ms.is_some() {
            Status::Deleting
        } else if self.now_ms() < m.active_at_ms {
            Status::Creating
        } else {
            Status::Active
        }
    }

    /// Writes the catalog as the state holds it. Call with the meta lock held.
    fn persist(&self) -> Result<()> {
        let now = self.now_ms();
        let catalog = catalog::Catalog {
            format: 1,
            streams: self
                .inner
                .state
                .read()
                .values()
                .filter(|m| !m.is_gone(now))
                .cloned()
                .collect(),
        };
        self.inner.files.save(&catalog)?;
        Ok(())
    }

    /// The intake stream of a DirectPut delivery stream.
    pub(crate) fn intake_key(meta: &catalog::StreamMeta) -> weir_log::StreamKey {
        weir_log::StreamKey::new(meta.region.clone(), format!("{:016x}", meta.uid))
    }
}
