//! Weir's Kafka front door: Kafka's wire protocol over the durable log Kinesis clients use. A
//! topic is a Weir stream (in the broker's region), partition N its shard N, an offset the
//! record's position in its shard; records are fsynced before a produce is answered, as every
//! Weir write. One broker: this listener. See `docs/plans/kafka.md` for what is served so far.

mod alter_configs;
mod api_versions;
mod batch;
mod clusters;
mod compaction;
mod conn;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_topics;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod errors;
mod fetch;
mod find_coordinator;
mod groups;
mod heartbeat;
mod incremental_alter_configs;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod metadata;
mod offset_commit;
mod offset_fetch;
mod produce;
mod producers;
mod records;
mod sasl;
mod sasl_authenticate;
mod sasl_handshake;
mod shapes;
mod sync_group;
mod topic_configs;
mod topics;
mod versions;

pub use clusters::{
    Cluster, ClusterDoors, ClusterError, ClusterListeners, ClusterState, Clusters, Configuration,
};

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use weir_log::Log;

/// How the broker presents itself and treats unknown topics.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// The host and port clients are told to connect to (Metadata's broker).
    pub host: String,
    pub port: i32,
    /// The TLS listener's port, when there is one.
    pub tls_port: Option<i32>,
    pub node_id: i32,
    /// The region whose streams are the topics.
    pub region: String,
    /// Whether a produce or metadata request naming an unknown topic creates it.
    pub auto_create: bool,
    /// Partitions (shards) of a topic created on first use.
    pub default_partitions: u32,
    /// Connections served at once; more are closed as they are accepted.
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle: Duration,
    /// Where committed offsets are kept (memory only when None).
    pub data_dir: Option<PathBuf>,
    /// How long the first rebalance of an empty group waits for more members (Kafka's
    /// `group.initial.rebalance.delay.ms`).
    pub initial_rebalance_delay: Duration,
    /// SASL users (PLAIN, SCRAM): name → password.
    pub sasl_users: HashMap<String, String>,
    /// Access keys MSK IAM tokens are verified with (empty: any well-formed one is taken).
    pub iam_keys: HashMap<String, String>,
    /// Whether a client must authenticate before anything but ApiVersions and SASL.
    pub require_sasl: bool,
    /// How often compacted topics' partitions are looked at (Kafka's
    /// `log.cleaner.backoff.ms` between passes).
    pub compaction_interval: Duration,
}

/// Who sent a request (group members are described with it).
pub(crate) struct Client {
    pub id: String,
    /// As Kafka shows it: `/` and the address.
    pub host: String,
    /// The port of the listener it came in on (what Metadata tells it).
    pub port: i32,
}

/// What the connections share.
pub(crate) struct Broker {
    pub log: Log,
    pub opts: KafkaOptions,
    /// Turns true when the broker stops: connections close between requests.
    pub stop: watch::Receiver<bool>,
    pub producers: producers::Producers,
    pub groups: Arc<groups::Coordinator>,
    pub topic_configs: topic_configs::TopicConfigs,
    pub creds: sasl::Credentials,
}

/// A TLS listener's server configuration.
pub type TlsConfig = Arc<tokio_rustls::rustls::ServerConfig>;

/// The cluster id clients see (Metadata, DescribeCluster).
pub(crate) const CLUSTER_ID: &str = "weir";

/// The Kafka front door, opened (committed offsets read) and ready to serve.
pub struct KafkaDoor {
    broker: Broker,
    stop_tx: watch::Sender<bool>,
}

impl KafkaDoor {
    pub fn open(log: Log, opts: KafkaOptions) -> std::io::Result<KafkaDoor> {
        let groups =
            groups::Coordinator::open(opts.data_dir.clone(), opts.initial_rebalance_delay)?;
        let topic_configs = topic_configs::TopicConfigs::open(opts.data_dir.clone())?;
        let (stop_tx, stop) = watch::channel(false);
        let creds = sasl::Credentials {
            users: opts.sasl_users.clone(),
            keys: opts.iam_keys.clone(),
            strict: opts.require_sasl,
        };
        Ok(KafkaDoor {
            broker: Broker {
                log,
                opts,
                stop,
                producers: Default::default(),
                groups: Arc::new(groups),
                topic_configs,
                creds,
            },
            stop_tx,
        })
    }
}

/// How long a TLS client has to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// How long a stopping broker waits for connections to finish the request they are in.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves Kafka clients on `listener` (and TLS clients on `tls`, with its server
/// configuration) until `shutdown` completes; then stops accepting, lets each connection
/// finish the request it is answering (up to a few seconds) and returns.
pub async fn serve(
    listener: TcpListener,
    tls: Option<(TcpListener, TlsConfig)>,
    door: KafkaDoor,
    shutdown: impl Future<Output = ()>,
) {
    let KafkaDoor { broker, stop_tx } = door;
    let slots = Arc::new(Semaphore::new(broker.opts.max_connections));
    let broker = Arc::new(broker);
    // Sessions expire and rebalances pass their deadlines on this clock.
    let groups = broker.groups.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(250));
        loop {
            every.tick().await;
            groups.tick(std::time::Instant::now());
        }
    });
    let compactor = tokio::spawn(compaction::run(broker.clone()));
    let (tls_listener, acceptor) = match tls {
        Some((l, config)) => {
            // Kafka clients negotiate no application protocol.
            let mut config = (*config).clone();
            config.alpn_protocols.clear();
            (
                Some(l),
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
            )
        }
        None => (None, None),
    };
    let tls_accept = || async {
        match &tls_listener {
            Some(l) => l.accept().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(shutdown);
    loop {
        let (accepted, secure) = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => (a, false),
            a = tls_accept() => (a, true),
        };
        let (socket, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a Kafka connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "a Kafka connection refused: max_connections reached");
            continue;
        };
        let _ = socket.set_nodelay(true);
        let broker = broker.clone();
        let acceptor = acceptor.clone().filter(|_| secure);
        tokio::spawn(async move {
            let served = match acceptor {
                None => conn::run(broker.clone(), socket, peer, broker.opts.port).await,
                Some(acceptor) => {
                    let port = broker.opts.tls_port.unwrap_or(broker.opts.port);
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(socket)).await {
                        Ok(Ok(stream)) => conn::run(broker.clone(), stream, peer, port).await,
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(std::io::Error::other("TLS handshake timed out")),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "Kafka connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    drop(tls_listener);
    ticker.abort();
    compactor.abort();
    let _ = stop_tx.send(true);
    let all = u32::try_from(broker.opts.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(all)).await;
}
