//! SaslHandshake: the client names its mechanism; an unknown one is refused with the list.

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::protocol::StrBytes;

use crate::errors;
use crate::sasl::{Session, MECHANISMS};

pub fn handle(session: &mut Session, r: SaslHandshakeRequest) -> SaslHandshakeResponse {
    let mut out = SaslHandshakeResponse::default();
    out.mechanisms = MECHANISMS
        .iter()
        .map(|m| StrBytes::from_static_str(m))
        .collect();
    match MECHANISMS.iter().find(|m| **m == r.mechanism.as_str()) {
        Some(m) if !session.authenticated() => *session = Session::Chosen(m),
        Some(_) => out.error_code = errors::ILLEGAL_SASL_STATE,
        None => out.error_code = errors::UNSUPPORTED_SASL_MECHANISM,
    }
    out
}
