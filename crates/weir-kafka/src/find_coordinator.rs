//! FindCoordinator: this broker coordinates every group. Transaction coordinators are refused
//! (transactions are not served), never left to be retried.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use crate::{errors, Broker};

/// The error code and message for a key of `key_type` (0 group, 1 transaction).
fn verdict(key_type: i8) -> (i16, Option<&'static str>) {
    match key_type {
        0 => (errors::NONE, None),
        1 => (
            errors::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            Some("Weir does not serve Kafka transactions."),
        ),
        _ => (
            errors::INVALID_REQUEST,
            Some("Unknown coordinator key type."),
        ),
    }
}

/// `port`: the listener the client came in on (its coordinator is reached the same way).
pub fn handle(
    b: &Broker,
    r: FindCoordinatorRequest,
    version: i16,
    port: i32,
) -> FindCoordinatorResponse {
    let (code, message) = verdict(r.key_type);
    let ok = code == errors::NONE;
    let node = BrokerId(if ok { b.opts.node_id } else { -1 });
    let host = StrBytes::from_string(if ok {
        b.opts.host.clone()
    } else {
        String::new()
    });
    let port = if ok { port } else { -1 };
    let message = message.map(StrBytes::from_static_str);
    let mut out = FindCoordinatorResponse::default();
    if version >= 4 {
        out.coordinators = r
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let mut c = Coordinator::default();
                c.key = key;
                c.node_id = node;
                c.host = host.clone();
                c.port = port;
                c.error_code = code;
                c.error_message = message.clone();
                c
            })
            .collect();
    } else {
        out.error_code = code;
        out.error_message = message;
        out.node_id = node;
        out.host = host;
        out.port = port;
    }
    out
}
