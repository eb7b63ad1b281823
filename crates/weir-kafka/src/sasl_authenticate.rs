//! SaslAuthenticate: one step of the chosen mechanism. A failure is answered
//! (SASL_AUTHENTICATION_FAILED with Kafka's message) and the connection then closed.

use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use kafka_protocol::protocol::StrBytes;

use crate::sasl::{self, Session};
use crate::{errors, Broker};

/// The answer, and whether the connection must close after it.
pub fn handle(
    b: &Broker,
    session: &mut Session,
    r: SaslAuthenticateRequest,
) -> (SaslAuthenticateResponse, bool) {
    let mut out = SaslAuthenticateResponse::default();
    match sasl::step(session, &b.creds, &r.auth_bytes, b.log.now_ms()) {
        Ok(bytes) => {
            out.auth_bytes = bytes.into();
            if let Session::Done(principal) = session {
                tracing::debug!(%principal, "a Kafka client authenticated");
            }
            (out, false)
        }
        Err(message) => {
            out.error_code = match message == sasl::NO_HANDSHAKE {
                true => errors::ILLEGAL_SASL_STATE,
                false => errors::SASL_AUTHENTICATION_FAILED,
            };
            out.error_message = Some(StrBytes::from_string(message));
            (out, true)
        }
    }
}
