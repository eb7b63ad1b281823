//! What the control plane answers when it refuses; the front doors map each kind to the
//! Kinesis Data Analytics exception of the same name.

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InUse(String),
    #[error("{0}")]
    ConcurrentModification(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    CodeValidation(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    TooManyTags(String),
    #[error("{0}")]
    InvalidConfiguration(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{message}")]
    UnableToDetectSchema {
        message: String,
        raw: Vec<String>,
        processed: Vec<String>,
    },
    #[error("application storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, AnalyticsError>;
