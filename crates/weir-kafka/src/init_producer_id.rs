//! InitProducerId: an id and epoch for an idempotent producer. Transactional producers are
//! refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), never left waiting.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::{errors, Broker};

pub fn handle(b: &Broker, r: InitProducerIdRequest) -> InitProducerIdResponse {
    let mut out = InitProducerIdResponse::default();
    out.producer_id = ProducerId(-1);
    out.producer_epoch = -1;
    if r.transactional_id.is_some() {
        out.error_code = errors::TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return out;
    }
    let known = (r.producer_id.0 >= 0)
        .then(|| b.producers.bump(r.producer_id.0, r.producer_epoch))
        .flatten();
    match known {
        Some(epoch) => {
            out.producer_id = r.producer_id;
            out.producer_epoch = epoch;
        }
        None => {
            out.producer_id = ProducerId(b.producers.allocate());
            out.producer_epoch = 0;
        }
    }
    out
}
