//! Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::Broker;

pub fn handle(b: &Broker, r: HeartbeatRequest) -> HeartbeatResponse {
    let mut out = HeartbeatResponse::default();
    out.error_code =
        b.groups
            .heartbeat(r.group_id.0.as_str(), r.generation_id, r.member_id.as_str());
    out
}
