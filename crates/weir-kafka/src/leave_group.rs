//! LeaveGroup: members leave (one by id before v3, a list by id or instance id from v3); the
//! rest of the group rebalances.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::{errors, Broker};

pub fn handle(b: &Broker, r: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
    let group = r.group_id.0.as_str();
    let mut out = LeaveGroupResponse::default();
    if version < 3 {
        let codes = b.groups.leave(group, &[(r.member_id.to_string(), None)]);
        out.error_code = codes.first().copied().unwrap_or(errors::UNKNOWN_MEMBER_ID);
        return out;
    }
    let members: Vec<(String, Option<String>)> = r
        .members
        .iter()
        .map(|m| {
            let inst = m.group_instance_id.as_ref().map(|s| s.to_string());
            (m.member_id.to_string(), inst)
        })
        .collect();
    let codes = b.groups.leave(group, &members);
    out.members = r
        .members
        .into_iter()
        .zip(codes)
        .map(|(m, code)| {
            let mut x = MemberResponse::default();
            x.member_id = m.member_id;
            x.group_instance_id = m.group_instance_id;
            x.error_code = code;
            x
        })
        .collect();
    out
}
