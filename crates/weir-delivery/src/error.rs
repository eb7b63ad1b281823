//! Delivery error kinds; the Firehose front door maps each to an AWS error type.

pub type Result<T, E = DeliveryError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InUse(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    /// PutRecord on a delivery stream whose source is a Kinesis stream.
    #[error("{0}")]
    InvalidSource(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("log: {0}")]
    Log(#[from] weir_log::LogError),
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
}
