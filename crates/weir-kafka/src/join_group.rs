//! JoinGroup: a member joins (or rejoins) its group; the answer waits for the rebalance to
//! complete. The leader's answer lists every member with its metadata.

use std::time::Duration;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::StrBytes;

use crate::groups::{Join, Joined};
use crate::{errors, Broker, Client};

pub fn ms(v: i32) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

pub async fn handle(
    b: &Broker,
    r: JoinGroupRequest,
    version: i16,
    client: &Client,
) -> JoinGroupResponse {
    // Before v1 the session timeout doubles as the rebalance timeout.
    let rebalance = if version >= 1 {
        r.rebalance_timeout_ms
    } else {
        r.session_timeout_ms
    };
    let reply = b.groups.join(Join {
        group: r.group_id.0.to_string(),
        member_id: r.member_id.to_string(),
        instance_id: r.group_instance_id.map(|s| s.to_string()),
        client_id: client.id.clone(),
        client_host: client.host.clone(),
        session: ms(r.session_timeout_ms),
        rebalance: ms(rebalance),
        protocol_type: r.protocol_type.to_string(),
        protocols: r
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect(),
        id_required: version >= 4,
    });
    let stopped = Joined {
        error: errors::NOT_COORDINATOR,
        generation: -1,
        ..Joined::default()
    };
    let j = crate::groups::wait(b, reply, stopped).await;
    let mut out = JoinGroupResponse::default();
    out.error_code = j.error;
    out.generation_id = j.generation;
    out.protocol_type = j.protocol_type.map(StrBytes::from_string);
    // A null protocol name is only allowed from v7.
    out.protocol_name = match (j.protocol, version >= 7) {
        (Some(p), _) => Some(StrBytes::from_string(p)),
        (None, true) => None,
        (None, false) => Some(StrBytes::default()),
    };
    out.leader = StrBytes::from_string(j.leader);
    out.member_id = StrBytes::from_string(j.member_id);
    out.members = j
        .members
        .into_iter()
        .map(|(id, inst, meta)| {
            let mut m = JoinGroupResponseMember::default();
            m.member_id = StrBytes::from_string(id);
            m.group_instance_id = inst.map(StrBytes::from_string);
            m.metadata = meta;
            m
        })
        .collect();
    out
}
