//! One client connection: size-prefixed requests read in order, each answered in order (a
//! produce with acks=0 gets no answer, as Kafka's).

use std::io;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::sasl::Session;
use crate::{
    alter_configs, api_versions, create_partitions, create_topics, delete_groups, delete_topics,
    describe_cluster, describe_configs, describe_groups, fetch, find_coordinator, heartbeat,
    incremental_alter_configs, init_producer_id, join_group, leave_group, list_groups,
    list_offsets, metadata, offset_commit, offset_fetch, produce, sasl_authenticate,
    sasl_handshake, shapes, sync_group, versions, Broker, Client,
};

/// How long a connection that failed authentication waits before it is closed.
const FAILED_AUTH_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// The largest request read (Kafka's `socket.request.max.bytes` default).
const MAX_REQUEST: usize = 100 * 1024 * 1024;

fn bad(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The next request's length prefix; `None` when the client closed, went idle past the
/// broker's limit, or the broker is stopping.
async fn next_length(b: &Broker, rd: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<i32>> {
    let mut stop = b.stop.clone();
    if *stop.borrow_and_update() {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    let read = tokio::time::timeout(b.opts.idle, rd.read_exact(&mut len));
    tokio::select! {
        got = read => match got {
            Ok(Ok(_)) => Ok(Some(i32::from_be_bytes(len))),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                tracing::debug!("a Kafka connection closed after its idle time");
                Ok(None)
            }
        },
        _ = stop.changed() => Ok(None),
    }
}

/// Serves one connection (plain TCP or TLS) that came in on the listener advertised as `port`.
pub async fn run<S>(
    broker: Arc<Broker>,
    stream: S,
    peer: std::net::SocketAddr,
    port: i32,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let host = format!("/{}", peer.ip());
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut session = Session::None;
    loop {
        let Some(n) = next_length(&broker, &mut rd).await? else {
            return Ok(());
        };
        if n < 8 || n as usize > MAX_REQUEST {
            return Err(bad(format!("a request of {n} bytes")));
        }
        // Memory follows the bytes that arrive, not the length a client claims.
        let mut body = Vec::with_capacity((n as usize).min(64 * 1024));
        (&mut rd).take(n as u64).read_to_end(&mut body).await?;
        if body.len() != n as usize {
            return Err(bad("a request cut short"));
        }
        let raw_key = i16::from_be_bytes([body[0], body[1]]);
        let version = i16::from_be_bytes([body[2], body[3]]);
        let correlation = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
        let key = ApiKey::try_from(raw_key).map_err(|_| bad(format!("API key {raw_key}")))?;
        let mut body = Bytes::from(body);
        let answer = if versions::supported(key, version) {
            // Kafka closes the connection of a request it cannot parse.
            shapes::check(raw_key, version, &body).map_err(|e| bad(format!("{key:?}: {e}")))?;
            let header = RequestHeader::decode(&mut body, key.request_header_version(version))
                .map_err(bad)?;
            let request = RequestKind::decode(key, &mut body, version).map_err(bad)?;
            let client = Client {
                id: header.client_id.map(|s| s.to_string()).unwrap_or_default(),
                host: host.clone(),
                port,
            };
            match request {
                RequestKind::SaslHandshake(r) => {
                    let (answer, close) = sasl_handshake::handle(&broker.creds, &mut session, r);
                    let answer = ResponseKind::SaslHandshake(answer);
                    write(&mut wr, correlation, key, version, &answer).await?;
                    if close {
                        return Err(bad("SASL handshake refused"));
                    }
                    continue;
                }
                RequestKind::SaslAuthenticate(r) => {
                    let (answer, close) = sasl_authenticate::handle(&broker, &mut session, r);
                    let answer = ResponseKind::SaslAuthenticate(answer);
                    write(&mut wr, correlation, key, version, &answer).await?;
                    if close {
                        // Kafka's connection.failed.authentication.delay.ms: guessing is slowed.
                        tokio::time::sleep(FAILED_AUTH_DELAY).await;
                        return Err(bad("SASL authentication failed"));
                    }
                    continue;
                }
                // Between a handshake and its authentication nothing else is taken.
                _ if matches!(session, Session::Chosen(_) | Session::ScramSent(_)) => {
                    return Err(bad(format!("{key:?} in the middle of SASL authentication")));
                }
                // A broker requiring SASL closes a connection asking anything else first.
                _ if broker.opts.require_sasl
                    && !session.authenticated()
                    && key != ApiKey::ApiVersions =>
                {
                    return Err(bad(format!("{key:?} before SASL authentication")));
                }
                request => handle(&broker, request, version, &client).await,
            }
        } else if key == ApiKey::ApiVersions {
            // An ApiVersions this broker does not know: its versions, in a v0 answer.
            let answer = api_versions::answer(crate::errors::UNSUPPORTED_VERSION);
            write(
                &mut wr,
                correlation,
                key,
                0,
                &ResponseKind::ApiVersions(answer),
            )
            .await?;
            continue;
        } else {
            // Kafka closes a connection sending a version it does not serve.
            return Err(bad(format!("{key:?} version {version} is not served")));
        };
        if let Some(answer) = answer {
            write(&mut wr, correlation, key, version, &answer).await?;
        }
    }
}

async fn write(
    wr: &mut (impl AsyncWrite + Unpin),
    correlation: i32,
    key: ApiKey,
    version: i16,
    answer: &ResponseKind,
) -> io::Result<()> {
    // A fetch's answer is sized before it is written (megabytes of records, copied once).
    let size = match answer {
        ResponseKind::Fetch(f) => f.compute_size(version).unwrap_or(0),
        _ => 0,
    };
    let mut buf = BytesMut::with_capacity(size + 256);
    buf.put_i32(0);
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation;
    header
        .encode(&mut buf, key.response_header_version(version))
        .map_err(bad)?;
    answer.encode(&mut buf, version).map_err(bad)?;
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    wr.write_all(&buf).await?;
    // TLS holds encrypted records until flushed: the answer must leave now.
    wr.flush().await
}

/// The answer to a request (none to a produce with acks=0).
async fn handle(
    b: &Broker,
    request: RequestKind,
    version: i16,
    client: &Client,
) -> Option<ResponseKind> {
    Some(match request {
        RequestKind::ApiVersions(_) => {
            ResponseKind::ApiVersions(api_versions::answer(crate::errors::NONE))
        }
        RequestKind::Metadata(r) => {
            ResponseKind::Metadata(metadata::handle(b, r, version, client.port))
        }
        RequestKind::Produce(r) => ResponseKind::Produce(produce::handle(b, r).await?),
        RequestKind::Fetch(r) => ResponseKind::Fetch(fetch::handle(b, r).await),
        RequestKind::ListOffsets(r) => ResponseKind::ListOffsets(list_offsets::handle(b, r)),
        RequestKind::InitProducerId(r) => {
            ResponseKind::InitProducerId(init_producer_id::handle(b, r))
        }
        RequestKind::FindCoordinator(r) => {
            ResponseKind::FindCoordinator(find_coordinator::handle(b, r, version, client.port))
        }
        RequestKind::JoinGroup(r) => {
            ResponseKind::JoinGroup(join_group::handle(b, r, version, client).await)
        }
        RequestKind::SyncGroup(r) => ResponseKind::SyncGroup(sync_group::handle(b, r).await),
        RequestKind::Heartbeat(r) => ResponseKind::Heartbeat(heartbeat::handle(b, r)),
        RequestKind::LeaveGroup(r) => ResponseKind::LeaveGroup(leave_group::handle(b, r, version)),
        RequestKind::OffsetCommit(r) => {
            ResponseKind::OffsetCommit(offset_commit::handle(b, r).await)
        }
        RequestKind::OffsetFetch(r) => {
            ResponseKind::OffsetFetch(offset_fetch::handle(b, r, version))
        }
        RequestKind::ListGroups(r) => ResponseKind::ListGroups(list_groups::handle(b, r)),
        RequestKind::DescribeGroups(r) => {
            ResponseKind::DescribeGroups(describe_groups::handle(b, r))
        }
        RequestKind::DeleteGroups(r) => {
            ResponseKind::DeleteGroups(delete_groups::handle(b, r).await)
        }
        RequestKind::CreateTopics(r) => {
            ResponseKind::CreateTopics(create_topics::handle(b, r, version))
        }
        RequestKind::CreatePartitions(r) => {
            ResponseKind::CreatePartitions(create_partitions::handle(b, r))
        }
        RequestKind::DeleteTopics(r) => {
            ResponseKind::DeleteTopics(delete_topics::handle(b, r, version))
        }
        RequestKind::DescribeConfigs(r) => {
            ResponseKind::DescribeConfigs(describe_configs::handle(b, r))
        }
        RequestKind::AlterConfigs(r) => ResponseKind::AlterConfigs(alter_configs::handle(b, r)),
        RequestKind::IncrementalAlterConfigs(r) => {
            ResponseKind::IncrementalAlterConfigs(incremental_alter_configs::handle(b, r))
        }
        RequestKind::DescribeCluster(r) => {
            ResponseKind::DescribeCluster(describe_cluster::handle(b, r, client.port))
        }
        // Not reached: `versions::supported` lets only the above through.
        _ => return None,
    })
}
