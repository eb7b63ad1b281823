//! DeleteGroups: an empty group and its committed offsets go (NON_EMPTY_GROUP while it has
//! members, GROUP_ID_NOT_FOUND for one never seen).

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::{errors, Broker};

pub async fn handle(b: &Broker, r: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let mut out = DeleteGroupsResponse::default();
    for id in r.groups_names {
        let groups = b.groups.clone();
        let name = id.0.to_string();
        let code = match tokio::task::spawn_blocking(move || groups.delete(&name)).await {
            Ok(Ok(())) => errors::NONE,
            Ok(Err(code)) => code,
            Err(_) => errors::COORDINATOR_NOT_AVAILABLE,
        };
        let mut res = DeletableGroupResult::default();
        res.group_id = id;
        res.error_code = code;
        out.results.push(res);
    }
    out
}
