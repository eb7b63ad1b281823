//! SaslHandshake: the client names its mechanism; an unknown one is refused with the list
//! (and the connection closed after, as Kafka does).

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::protocol::StrBytes;

use crate::errors;
use crate::sasl::{Credentials, Session};

/// The answer, and whether the connection must close after it.
pub fn handle(
    creds: &Credentials,
    session: &mut Session,
    r: SaslHandshakeRequest,
) -> (SaslHandshakeResponse, bool) {
    let mut out = SaslHandshakeResponse::default();
    let offered = creds.mechanisms();
    out.mechanisms = offered
        .iter()
        .map(|m| StrBytes::from_static_str(m))
        .collect();
    match offered.iter().find(|m| **m == r.mechanism.as_str()) {
        Some(m) if matches!(session, Session::None) => {
            *session = Session::Chosen(m);
            (out, false)
        }
        Some(_) => {
            out.error_code = errors::ILLEGAL_SASL_STATE;
            (out, true)
        }
        None => {
            out.error_code = errors::UNSUPPORTED_SASL_MECHANISM;
            (out, true)
        }
    }
}
