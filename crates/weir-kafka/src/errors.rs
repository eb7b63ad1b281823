//! The one table from Weir's errors to Kafka's error codes (the codes are Kafka's
//! `org.apache.kafka.common.protocol.Errors`).

use weir_log::LogError;

use crate::batch::BatchError;

pub const NONE: i16 = 0;
pub const OFFSET_OUT_OF_RANGE: i16 = 1;
pub const CORRUPT_MESSAGE: i16 = 2;
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
pub const LEADER_NOT_AVAILABLE: i16 = 5;
pub const MESSAGE_TOO_LARGE: i16 = 10;
pub const OFFSET_METADATA_TOO_LARGE: i16 = 12;
pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
pub const NOT_COORDINATOR: i16 = 16;
pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
pub const INVALID_REQUIRED_ACKS: i16 = 21;
pub const ILLEGAL_GENERATION: i16 = 22;
pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
pub const INVALID_GROUP_ID: i16 = 24;
pub const UNKNOWN_MEMBER_ID: i16 = 25;
pub const INVALID_SESSION_TIMEOUT: i16 = 26;
pub const REBALANCE_IN_PROGRESS: i16 = 27;
pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
pub const ILLEGAL_SASL_STATE: i16 = 34;
pub const UNSUPPORTED_VERSION: i16 = 35;
pub const TOPIC_ALREADY_EXISTS: i16 = 36;
pub const INVALID_PARTITIONS: i16 = 37;
pub const INVALID_REPLICATION_FACTOR: i16 = 38;
pub const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
pub const INVALID_CONFIG: i16 = 40;
pub const INVALID_REQUEST: i16 = 42;
pub const POLICY_VIOLATION: i16 = 44;
pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
pub const INVALID_PRODUCER_EPOCH: i16 = 47;
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
pub const KAFKA_STORAGE_ERROR: i16 = 56;
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
pub const NON_EMPTY_GROUP: i16 = 68;
pub const GROUP_ID_NOT_FOUND: i16 = 69;
pub const UNSUPPORTED_COMPRESSION_TYPE: i16 = 76;
pub const MEMBER_ID_REQUIRED: i16 = 79;
pub const FENCED_INSTANCE_ID: i16 = 82;
pub const UNKNOWN_TOPIC_ID: i16 = 100;
pub const INVALID_RECORD: i16 = 87;
pub const UNKNOWN_SERVER_ERROR: i16 = -1;

/// A log error as Kafka's code for a partition.
pub fn code(e: &LogError) -> i16 {
    match e {
        LogError::NotFound(_) => UNKNOWN_TOPIC_OR_PARTITION,
        LogError::InUse(_) => LEADER_NOT_AVAILABLE,
        LogError::Validation(_) => MESSAGE_TOO_LARGE,
        LogError::InvalidArgument(_) => UNKNOWN_TOPIC_OR_PARTITION,
        LogError::Storage(_) => KAFKA_STORAGE_ERROR,
        LogError::LimitExceeded(_) => POLICY_VIOLATION,
        LogError::Throughput(_) | LogError::ExpiredIterator { .. } | LogError::Internal(_) => {
            UNKNOWN_SERVER_ERROR
        }
    }
}

/// A produced batch's fault as Kafka's code for its partition.
pub fn batch(e: &BatchError) -> i16 {
    match e {
        BatchError::Corrupt(_) => CORRUPT_MESSAGE,
        // Produce v3 and later carry magic-2 batches only.
        BatchError::Magic(_) => INVALID_RECORD,
        BatchError::Codec(_) => UNSUPPORTED_COMPRESSION_TYPE,
        BatchError::TooLarge(_) => MESSAGE_TOO_LARGE,
        BatchError::Invalid(_) => INVALID_RECORD,
    }
}
