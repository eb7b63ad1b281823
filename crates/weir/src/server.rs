//! Starting and stopping the whole server (used by `weir serve` and by tests in-process).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

/// A running server; `shutdown` stops it cleanly.
pub struct Server {
    pub addr: SocketAddr,
    pub log: weir_log::Log,
    pub delivery: weir_delivery::Delivery,
    pub catalog: weir_catalog::Catalog,
    /// The streaming SQL engine.
    pub stream: weir_stream::Engine,
    /// Where the Flink SQL Gateway listens (none when it is off).
    pub flink_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    flink_stop: Option<oneshot::Sender<()>>,
    flink_task: Option<JoinHandle<std::io::Result<()>>>,
    /// Where the Kafka front door listens (none when it is off).
    pub kafka_addr: Option<SocketAddr>,
    kafka_stop: Option<oneshot::Sender<()>>,
    kafka_task: Option<JoinHandle<()>>,
    /// MSK clusters' own listeners, and what stops them.
    msk_doors: Option<(
        Arc<crate::msk_doors::MskDoors>,
        tokio::sync::watch::Sender<bool>,
    )>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
}

/// A front door's listener, unless its setting (`listen`) is `off`.
async fn bind_door(
    listen: &str,
    what: &str,
    setting: &str,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    if listen.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let l = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("binding {listen} ({what}; choose another address with {setting}, or `off`)")
        })?;
    Ok(Some(l))
}

/// Runs `work` on a blocking thread every `period_ms` (at least 10 ms) until aborted.
fn every<T: Clone + Send + 'static>(period_ms: u64, on: T, work: fn(&T)) -> JoinHandle<()> {
    let period = Duration::from_millis(period_ms.max(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            let on = on.clone();
            let _ = tokio::task::spawn_blocking(move || work(&on)).await;
        }
    })
}

impl Server {
    /// Opens the data directory, binds the listener and starts serving.
    pub async fn start(config: &Config) -> anyhow::Result<Server> {
        Self::start_with_clock(config, Arc::new(weir_log::SystemClock)).await
    }

    /// Like `start`, with a clock of the caller's (tests move time with it).
    pub async fn start_with_clock(
        config: &Config,
        clock: Arc<dyn weir_log::Clock>,
    ) -> anyhow::Result<Server> {
        let started = Instant::now();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let log_config = config.log_config();
        let log_clock = clock.clone();
        let log = tokio::task::spawn_blocking(move || weir_log::Log::open(log_config, log_clock))
            .await
            .context("opening the log")??;
        let objects_dir = config.data_dir.join("objects");
        let objects =
            tokio::task::spawn_blocking(move || weir_objects::ObjectStore::open(&objects_dir))
                .await
                .context("opening the object store")??;
        objects.set_index_limit(config.index_memory_bytes() as u64);
        tracing::info!(
            objects_index_mib = objects.index_bytes() >> 20,
            "object store open"
        );
        let objects = weir_objects::Objects::new(objects, &config.s3.remote_buckets)
            .context("mapping remote buckets")?;
        let catalog = {
            let (dir, account) = (config.data_dir.join("catalog"), config.account_id.clone());
            tokio::task::spawn_blocking(move || weir_catalog::Catalog::open(&dir, &account))
                .await
                .context("opening the catalog")??
        };
        let delivery = {
            let (dconfig, clock, log, objects, tables) = (
                config.delivery_config(),
                clock.clone(),
                log.clone(),
                objects.clone(),
                catalog.clone(),
            );
            tokio::task::spawn_blocking(move || {
                weir_delivery::Delivery::open(dconfig, clock, log, objects, tables)
            })
            .await
            .context("opening the delivery engine")??
        };
        delivery.start();
        let stream = {
            let (sconfig, log, delivery, objects) = (
                weir_stream::EngineConfig {
                    dir: config.data_dir.join("stream"),
                    default_region: config.default_region.clone(),
                    checkpoint_interval: Duration::from_millis(
                        config.flink.checkpoint_interval_ms.max(10),
                    ),
                    state_memory_bytes: config.state_memory_bytes(),
                },
                log.clone(),
                delivery.clone(),
                objects.clone(),
            );
            tokio::task::spawn_blocking(move || {
                weir_stream::Engine::open(sconfig, log, Some(delivery), Some(objects))
            })
            .await
            .context("opening the streaming engine")??
        };
        stream.set_catalog(catalog.clone());
        stream.start().await;
        let athena = {
            let engine = weir_query::QueryEngine::new(
                catalog.clone(),
                objects.clone(),
                weir_query::QueryConfig {
                    memory_limit: config.query_memory_bytes(),
                    spill_dir: config.data_dir.join("tmp").join("query-spill"),
                    target_partitions: config.athena.target_partitions,
                    runtime_filters: config.athena.runtime_filters,
                },
            )
            .context("starting the SQL engine")?;
            let (dir, objects, concurrency) = (
                config.data_dir.join("athena"),
                objects.clone(),
                config.athena.concurrency,
            );
            tokio::task::spawn_blocking(move || {
                weir_athena::Athena::open(&dir, Arc::new(engine), objects, concurrency)
            })
            .await
            .context("opening the query history")??
        };
        let crawlers = {
            let (dir, objects, catalog) = (
                config.data_dir.join("crawlers"),
                objects.clone(),
                catalog.clone(),
            );
            tokio::task::spawn_blocking(move || {
                weir_crawler::Crawlers::open(&dir, objects, catalog)
            })
            .await
            .context("opening the crawlers")??
        };
        let jobs = {
            let (jconfig, objects) = (
                weir_jobs::JobsConfig {
                    data_dir: config.data_dir.join("jobs"),
                    python: config.glue.python.clone(),
                    minute: Duration::from_secs(60),
                },
                objects.clone(),
            );
            tokio::task::spawn_blocking(move || weir_jobs::Jobs::open(jconfig, objects))
                .await
                .context("opening the Glue jobs")??
        };
        let analytics = {
            let (dir, account) = (
                config.data_dir.join("analytics"),
                log.config().account_id.clone(),
            );
            let runner: Arc<dyn weir_analytics::Runner> =
                Arc::new(weir_stream::kda::KdaRunner::new(stream.clone()));
            tokio::task::spawn_blocking(move || {
                weir_analytics::Analytics::open(&dir, &account, Some(runner))
            })
            .await
            .context("opening the Kinesis Analytics applications")??
        };
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let api = weir_aws_api::ApiConfig {
            default_region: config.default_region.clone(),
            subscription_lifetime: Duration::from_millis(config.kinesis.subscription_lifetime_ms),
            read_memory_bytes: config.read_memory_bytes(),
            max_connections: config.max_connections(),
            // Request bodies may hold half as much as read answers, apart from them.
            body_memory_bytes: config.read_memory_bytes() / 2,
            aws_limits: config.limits == crate::config::Limits::Aws,
            keys: config.auth.keys(),
            allow_unsigned: config.auth.allow_unsigned,
            cors: config.auth.cors,
            tls: match (&config.tls.cert, &config.tls.key) {
                (Some(cert), Some(key)) => {
                    Some(weir_aws_api::tls_config(cert, key).context("loading TLS certificate")?)
                }
                (None, None) => None,
                _ => anyhow::bail!("TLS needs both tls.cert and tls.key"),
            },
            ..weir_aws_api::ApiConfig::default()
        };
        let scheme = if api.tls.is_some() { "https" } else { "http" };
        // Jobs' AWS clients call this Weir (on loopback when it listens on every address),
        // signing with a configured key when there is one.
        let local = if addr.ip().is_unspecified() {
            std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        let (access_key_id, secret_access_key) = config
            .auth
            .keys
            .first()
            .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()))
            .or_else(|| {
                config
                    .auth
                    .access_key_id
                    .clone()
                    .zip(config.auth.secret_access_key.clone())
            })
            .unwrap_or_else(|| ("weir".into(), "weir".into()));
        jobs.set_endpoint(weir_jobs::Endpoint {
            url: format!("{scheme}://{local}"),
            access_key_id,
            secret_access_key,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let (flink_stop, flink_stopped) = oneshot::channel::<()>();
        let flink_listener = bind_door(
            &config.flink.listen,
            "the Flink SQL Gateway",
            "[flink] listen / WEIR_FLINK__LISTEN",
        )
        .await?;
        let (flink_addr, flink_task) = if let Some(l) = flink_listener {
            let a = l.local_addr()?;
            let task = tokio::spawn(weir_flink::serve(l, stream.clone(), async {
                let _ = flink_stopped.await;
            }));
            (Some(a), Some(task))
        } else {
            (None, None)
        };
        let (kafka_stop, kafka_stopped) = oneshot::channel::<()>();
        let kafka_listener = bind_door(
            &config.kafka.listen,
            "the Kafka listener",
            "[kafka] listen / WEIR_KAFKA__LISTEN",
        )
        .await?;
        // Kafka over TLS (MSK's TLS port) with the certificate of the AWS port.
        let kafka_tls = match (&api.tls, kafka_listener.is_some()) {
            (Some(tls), true) => bind_door(
                &config.kafka.tls_listen,
                "the Kafka TLS listener",
                "[kafka] tls_listen / WEIR_KAFKA__TLS_LISTEN",
            )
            .await?
            .map(|l| (l, tls.clone())),
            (None, _) if !config.kafka.tls_listen.eq_ignore_ascii_case("off") => {
                anyhow::bail!("[kafka] tls_listen needs a certificate: set tls.cert and tls.key")
            }
            (Some(_), false) if !config.kafka.tls_listen.eq_ignore_ascii_case("off") => {
                anyhow::bail!("[kafka] tls_listen needs the plaintext listener ([kafka] listen) on")
            }
            _ => None,
        };
        let kafka_tls_addr = match &kafka_tls {
            Some((l, _)) => Some(l.local_addr()?),
            None => None,
        };
        let mut msk_template = None;
        let (kafka_addr, kafka_task) = if let Some(l) = kafka_listener {
            let a = l.local_addr()?;
            let k = &config.kafka;
            let opts = weir_kafka::KafkaOptions {
                host: match k.advertised_host.is_empty() {
                    true => a.ip().to_string(),
                    false => k.advertised_host.clone(),
                },
                port: i32::from(a.port()),
                tls_port: kafka_tls_addr.map(|t| i32::from(t.port())),
                node_id: k.node_id,
                region: config.default_region.clone(),
                auto_create: k.auto_create_topics,
                default_partitions: k.default_partitions,
                max_connections: k.max_connections.max(1),
                idle: std::time::Duration::from_millis(k.idle_ms.max(1)),
                data_dir: Some(config.data_dir.join("kafka")),
                initial_rebalance_delay: std::time::Duration::from_millis(
                    k.initial_rebalance_delay_ms,
                ),
                sasl_users: k
                    .sasl_users
                    .split(',')
                    .filter_map(|u| u.split_once(':'))
                    .map(|(name, password)| (name.trim().to_string(), password.to_string()))
                    .collect(),
                iam_keys: config.auth.keys().map(|k| k.0).unwrap_or_default(),
                require_sasl: k.require_sasl,
                compaction_interval: std::time::Duration::from_millis(
                    k.compaction_interval_ms.max(1),
                ),
            };
            msk_template = Some((
                opts.clone(),
                a.ip(),
                kafka_tls.as_ref().map(|(_, t)| t.clone()),
            ));
            let door = weir_kafka::KafkaDoor::open(log.clone(), opts)
                .context("opening the Kafka front door's group offsets")?;
            let task = tokio::spawn(weir_kafka::serve(l, kafka_tls, door, async {
                let _ = kafka_stopped.await;
            }));
            (Some(a), Some(task))
        } else {
            (None, None)
        };
        // MSK's clusters: all served by this Kafka listener (and its TLS one).
        let advertised = |a: SocketAddr| match config.kafka.advertised_host.is_empty() {
            true => a.to_string(),
            false => format!("{}:{}", config.kafka.advertised_host, a.port()),
        };
        let clusters = weir_kafka::Clusters::open(
            Some(config.data_dir.join("kafka")),
            kafka_addr.map(advertised),
            kafka_tls_addr.map(advertised),
            config.default_region.clone(),
            config.kafka.cluster_create_delay_ms,
        )
        .context("opening the MSK clusters")?;
        // Each cluster on listeners of its own (reopened at their ports after a restart).
        let msk_doors = match msk_template {
            Some((template, ip, tls)) => {
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                let doors = Arc::new(crate::msk_doors::MskDoors::new(
                    log.clone(),
                    template,
                    ip,
                    config.kafka.advertised_host.clone(),
                    tls,
                    config.data_dir.clone(),
                    stop_rx,
                ));
                clusters
                    .set_doors(doors.clone(), log.now_ms())
                    .context("reopening the MSK clusters' listeners")?;
                Some((doors, stop_tx))
            }
            None => None,
        };
        let task = tokio::spawn(weir_aws_api::serve(
            listener,
            weir_aws_api::Engines {
                log: log.clone(),
                objects,
                delivery: delivery.clone(),
                catalog: catalog.clone(),
                athena,
                analytics,
                crawlers: crawlers.clone(),
                jobs: jobs.clone(),
                clusters,
            },
            api,
            async {
                let _ = stopped.await;
            },
        ));
        let housekeeping = every(config.housekeeping_interval_ms, log.clone(), |log| {
            log.housekeeping()
        });
        let delivery_housekeeping = every(config.housekeeping_interval_ms, delivery.clone(), |d| {
            d.housekeeping()
        });
        let autoscaling = every(config.kinesis.autoscale_interval_ms, log.clone(), |log| {
            if let Err(e) = log.autoscale() {
                tracing::error!(error = %e, "on-demand scaling failed");
            }
        });
        // Crawler schedules: every 30 s, start the crawlers whose cron fell due since the last
        // look (by the server's clock, which tests can move).
        let schedule_clock = clock.clone();
        let clock_now = move || {
            chrono::DateTime::from_timestamp_millis(schedule_clock.now_ms()).unwrap_or_default()
        };
        let schedules = tokio::spawn(async move {
            let mut since = clock_now();
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let now = clock_now();
                for name in crawlers.tick(since, now) {
                    tracing::info!(crawler = %name, "scheduled crawl started");
                }
                since = now;
            }
        });
        // The Flink gateway's URL last, before the comma (scripts read it up to there).
        let doors = format!(
            "{}{}",
            kafka_addr
                .map(|a| format!("; Kafka on {a}"))
                .unwrap_or_default()
                + &kafka_tls_addr
                    .map(|a| format!("; Kafka TLS on {a}"))
                    .unwrap_or_default(),
            flink_addr
                .map(|a| format!("; Flink SQL Gateway on http://{a}"))
                .unwrap_or_default()
        );
        tracing::info!(
            addr = %addr,
            data_dir = %config.data_dir.display(),
            ready_ms = started.elapsed().as_millis() as u64,
            memory_budget_mib = config.memory_budget_bytes() >> 20,
            query_memory_mib = config.query_memory_bytes() >> 20,
            firehose_buffer_mib = config.delivery_config().buffer_memory_bytes >> 20,
            read_memory_mib = config.read_memory_bytes() >> 20,
            max_connections = config.max_connections(),
            object_index_mib = config.index_memory_bytes() >> 20,
            "weir listening on {scheme}://{addr} (Kinesis, Firehose, S3, Glue, Athena){}, data in {}",
            doors,
            config.data_dir.display()
        );
        Ok(Server {
            addr,
            log,
            delivery,
            catalog,
            stream,
            flink_addr,
            flink_stop: Some(flink_stop),
            flink_task,
            kafka_addr,
            kafka_stop: Some(kafka_stop),
            kafka_task,
            msk_doors,
            stop: Some(stop),
            task: Some(task),
            background: vec![housekeeping, delivery_housekeeping, autoscaling, schedules],
        })
    }

    /// The endpoint URL clients use.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes open requests, and returns.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        for task in &self.background {
            task.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.flink_stop.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.kafka_stop.take() {
            let _ = stop.send(());
        }
        // The clusters' doors stop with the broker's (and no new one opens).
        if let Some((_, stop)) = &self.msk_doors {
            let _ = stop.send(true);
        }
        if let Some(task) = self.kafka_task.take() {
            let _ = task.await;
        }
        if let Some((doors, _)) = self.msk_doors.take() {
            doors.drain().await;
        }
        // The engines stop even when a front door ended with an error (reported after).
        let mut served: anyhow::Result<()> = Ok(());
        for task in [self.task.take(), self.flink_task.take()]
            .into_iter()
            .flatten()
        {
            let r = task.await.map_err(anyhow::Error::from).and_then(|r| Ok(r?));
            if served.is_ok() {
                served = r;
            }
        }
        // Jobs save a checkpoint and stay RUNNING, to be resumed by the next start.
        self.stream.shutdown().await;
        // Buffers are not flushed: their records stay in the intake log and are delivered
        // from the checkpoint after the next start.
        self.delivery.stop().await;
        // A checkpoint lets the next start skip scanning what is already on disk.
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || log.checkpoint()).await??;
        served
    }
}
