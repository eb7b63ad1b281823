//! DeleteTopics: the topics' streams are deleted (with their configs); by name — Weir's
//! topics have no ids, so a delete by id finds nothing (UNKNOWN_TOPIC_ID).

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse};
use kafka_protocol::protocol::StrBytes;
use weir_log::LogError;

use crate::{errors, topics, Broker};

fn delete(b: &Broker, name: &str) -> i16 {
    match b.log.delete_stream(&topics::key(b, name), true) {
        Ok(()) => {
            if let Err(e) = b.topic_configs.replace(name, Default::default()) {
                tracing::warn!(topic = %name, error = %e, "a deleted topic's configs stayed");
            }
            errors::NONE
        }
        Err(LogError::NotFound(_)) => errors::UNKNOWN_TOPIC_OR_PARTITION,
        Err(e) => errors::code(&e),
    }
}

pub fn handle(b: &Broker, r: DeleteTopicsRequest, version: i16) -> DeleteTopicsResponse {
    let mut out = DeleteTopicsResponse::default();
    if version < 6 {
        for name in r.topic_names {
            let mut res = DeletableTopicResult::default();
            res.error_code = delete(b, name.0.as_str());
            res.name = Some(name);
            out.responses.push(res);
        }
        return out;
    }
    for t in r.topics {
        let mut res = DeletableTopicResult::default();
        res.topic_id = t.topic_id;
        match t.name {
            Some(name) => {
                res.error_code = delete(b, name.0.as_str());
                res.name = Some(name);
            }
            None => {
                res.error_code = errors::UNKNOWN_TOPIC_ID;
                res.error_message = Some(StrBytes::from_static_str(
                    "Weir's topics are named, not numbered: delete them by name.",
                ));
            }
        }
        out.responses.push(res);
    }
    out
}
