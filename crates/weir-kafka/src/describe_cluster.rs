//! DescribeCluster: one broker, which is also the controller.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use crate::Broker;

pub fn handle(b: &Broker, r: DescribeClusterRequest, port: i32) -> DescribeClusterResponse {
    let mut out = DescribeClusterResponse::default();
    let mut broker = DescribeClusterBroker::default();
    broker.broker_id = BrokerId(b.opts.node_id);
    broker.host = StrBytes::from_string(b.opts.host.clone());
    broker.port = port;
    out.brokers = vec![broker];
    out.cluster_id = StrBytes::from_static_str(crate::CLUSTER_ID);
    out.controller_id = BrokerId(b.opts.node_id);
    out.endpoint_type = r.endpoint_type;
    // Not computed: Weir has no ACLs (Kafka's "not requested" value).
    out.cluster_authorized_operations = i32::MIN;
    out
}
