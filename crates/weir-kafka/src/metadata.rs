//! Metadata: the one broker, and each topic's partitions (its shards, by index; all led by
//! this broker).

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use weir_log::StreamStatus;

use crate::{errors, topics, Broker};

/// `port`: the listener the client came in on, the one it is told to use (plaintext or TLS).
pub fn handle(b: &Broker, r: MetadataRequest, version: i16, port: i32) -> MetadataResponse {
    let named: Option<Vec<String>> = r.topics.as_ref().map(|ts| {
        ts.iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.0.as_str().to_string()))
            .collect()
    });
    // v0: an empty list asks for every topic; later, a null list does.
    let (names, explicit) = match named {
        Some(n) if !(n.is_empty() && version == 0) => (n, true),
        _ => (
            b.log
                .list_streams(&b.opts.region)
                .into_iter()
                .filter(|s| matches!(s.status, StreamStatus::Active | StreamStatus::Updating))
                .map(|s| s.name)
                .collect(),
            false,
        ),
    };
    // Before v4 a named topic is always created when missing (the broker's setting decides).
    let create = explicit && (version < 4 || r.allow_auto_topic_creation);
    let node = BrokerId(b.opts.node_id);
    let mut out = MetadataResponse::default();
    let mut broker = MetadataResponseBroker::default();
    broker.node_id = node;
    broker.host = StrBytes::from_string(b.opts.host.clone());
    broker.port = port;
    out.brokers = vec![broker];
    out.cluster_id = Some(StrBytes::from_static_str(crate::CLUSTER_ID));
    out.controller_id = node;
    out.topics = names
        .into_iter()
        .map(|name| {
            let mut t = MetadataResponseTopic::default();
            t.name = Some(TopicName(StrBytes::from_string(name.clone())));
            match topics::partitions(b, &name, create) {
                Ok(parts) => {
                    t.partitions = parts
                        .iter()
                        .map(|p| {
                            let mut m = MetadataResponsePartition::default();
                            m.error_code = errors::NONE;
                            m.partition_index = p.index as i32;
                            m.leader_id = node;
                            m.leader_epoch = 0;
                            m.replica_nodes = vec![node];
                            m.isr_nodes = vec![node];
                            m
                        })
                        .collect();
                }
                Err(code) => t.error_code = code,
            }
            t
        })
        .collect();
    out
}
