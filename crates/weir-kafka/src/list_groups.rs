//! ListGroups: every group this broker coordinates (states filter from v4).

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::Broker;

pub fn handle(b: &Broker, r: ListGroupsRequest) -> ListGroupsResponse {
    let mut out = ListGroupsResponse::default();
    out.groups = b
        .groups
        .list()
        .into_iter()
        .filter(|(_, _, state)| {
            r.states_filter.is_empty()
                || r.states_filter
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(state.name()))
        })
        .map(|(id, ptype, state)| {
            let mut g = ListedGroup::default();
            g.group_id = GroupId(StrBytes::from_string(id));
            g.protocol_type = StrBytes::from_string(ptype);
            g.group_state = StrBytes::from_static_str(state.name());
            g.group_type = StrBytes::from_static_str("classic");
            g
        })
        .collect();
    out
}
