//! DescribeGroups: a group's state, protocol and members (metadata and assignments once
//! stable); an unknown group is described as Dead, as Kafka does.

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::Broker;

pub fn handle(b: &Broker, r: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let mut out = DescribeGroupsResponse::default();
    out.groups = r
        .groups
        .into_iter()
        .map(|id| {
            let mut g = DescribedGroup::default();
            // Not computed: Weir has no ACLs (Kafka's "not requested" value).
            g.authorized_operations = i32::MIN;
            match b.groups.describe(id.0.as_str()) {
                None => g.group_state = StrBytes::from_static_str("Dead"),
                Some(d) => {
                    g.group_state = StrBytes::from_static_str(d.state.name());
                    g.protocol_type = StrBytes::from_string(d.protocol_type);
                    g.protocol_data = StrBytes::from_string(d.protocol);
                    g.members = d
                        .members
                        .into_iter()
                        .map(|(mid, inst, client, host, meta, assignment)| {
                            let mut m = DescribedGroupMember::default();
                            m.member_id = StrBytes::from_string(mid);
                            m.group_instance_id = inst.map(StrBytes::from_string);
                            m.client_id = StrBytes::from_string(client);
                            m.client_host = StrBytes::from_string(host);
                            m.member_metadata = meta;
                            m.member_assignment = assignment;
                            m
                        })
                        .collect();
                }
            }
            g.group_id = id;
            g
        })
        .collect();
    out
}
