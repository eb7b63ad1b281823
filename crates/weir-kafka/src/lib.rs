//! Weir's Kafka front door: Kafka's wire protocol over the durable log Kinesis clients use. A
//! topic is a Weir stream (in the broker's region), partition N its shard N, an offset the
//! record's position in its shard; records are fsynced before a produce is answered, as every
//! Weir write. One broker: this listener. See `docs/plans/kafka.md` for what is served so far.

mod api_versions;
mod batch;
mod conn;
mod errors;
mod fetch;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod produce;
mod producers;
mod records;
mod shapes;
mod topics;
mod versions;

use std::future::Future;
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
}

/// What the connections share.
pub(crate) struct Broker {
    pub log: Log,
    pub opts: KafkaOptions,
    /// Turns true when the broker stops: connections close between requests.
    pub stop: watch::Receiver<bool>,
    pub producers: producers::Producers,
}

/// How long a stopping broker waits for connections to finish the request they are in.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves Kafka clients on `listener` until `shutdown` completes; then stops accepting, lets
/// each connection finish the request it is answering (up to a few seconds) and returns.
pub async fn serve(
    listener: TcpListener,
    log: Log,
    opts: KafkaOptions,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(opts.max_connections));
    let (stop_tx, stop) = watch::channel(false);
    let broker = Arc::new(Broker {
        log,
        opts,
        stop,
        producers: Default::default(),
    });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, "a Kafka connection refused: max_connections reached");
                        continue;
                    };
                    let _ = socket.set_nodelay(true);
                    let broker = broker.clone();
                    tokio::spawn(async move {
                        if let Err(e) = conn::run(broker, socket).await {
                            tracing::debug!(%peer, error = %e, "Kafka connection closed");
                        }
                        drop(slot);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a Kafka connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(broker.opts.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, slots.acquire_many(all)).await;
}
