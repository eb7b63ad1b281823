//! Weir's Kafka front door: Kafka's wire protocol over the durable log Kinesis clients use. A
//! topic is a Weir stream (in the broker's region), partition N its shard N, an offset the
//! record's position in its shard; records are fsynced before a produce is answered, as every
//! Weir write. One broker: this listener. See `docs/plans/kafka.md` for what is served so far.

mod api_versions;
mod conn;
mod errors;
mod fetch;
mod list_offsets;
mod metadata;
mod produce;
mod records;
mod topics;
mod versions;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
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
}

/// What the connections share.
pub(crate) struct Broker {
    pub log: Log,
    pub opts: KafkaOptions,
}

/// Serves Kafka clients on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    log: Log,
    opts: KafkaOptions,
    shutdown: impl Future<Output = ()>,
) {
    let broker = Arc::new(Broker { log, opts });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    let broker = broker.clone();
                    tokio::spawn(async move {
                        if let Err(e) = conn::run(broker, socket).await {
                            tracing::debug!(%peer, error = %e, "Kafka connection closed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a Kafka connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}
