//! SyncGroup: the leader hands in every member's assignment; each member gets its own (a
//! follower's answer waits for the leader's).

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;

use crate::groups::Synced;
use crate::{errors, Broker};

pub async fn handle(b: &Broker, r: SyncGroupRequest) -> SyncGroupResponse {
    let reply = b.groups.sync(
        r.group_id.0.as_str(),
        r.generation_id,
        r.member_id.as_str(),
        (
            r.protocol_type.map(|s| s.to_string()),
            r.protocol_name.map(|s| s.to_string()),
        ),
        r.assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect(),
    );
    let stopped = Synced {
        error: errors::NOT_COORDINATOR,
        ..Synced::default()
    };
    let s = crate::groups::wait(b, reply, stopped).await;
    let mut out = SyncGroupResponse::default();
    out.error_code = s.error;
    out.protocol_type = s.protocol_type.map(StrBytes::from_string);
    out.protocol_name = s.protocol.map(StrBytes::from_string);
    out.assignment = s.assignment;
    out
}
