//! AWS errors as they go on the wire, and the one table mapping engine errors to them.

use weir_log::LogError;

/// An error response: the AWS error type, its HTTP status and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// The member the message goes in: AWS writes `message`, but `Message` for
    /// SerializationException, and no message at all for some protocol-level errors.
    pub message_key: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code,
            status,
            message: message.into(),
            message_key: Some("message"),
        }
    }
    /// An error whose body is only its type (`{"__type":"UnknownOperationException"}`).
    pub fn bare(code: &'static str, status: u16) -> Self {
        ApiError {
            code,
            status,
            message: String::new(),
            message_key: None,
        }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }
    pub fn serialization(message: impl Into<String>) -> Self {
        ApiError {
            message_key: Some("Message"),
            ..Self::new("SerializationException", 400, message)
        }
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgumentException", 400, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 400, message)
    }
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", 400, message)
    }
    /// AWS answers `{"__type":"InternalFailure"}` with no message; the message is for the log.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            message_key: None,
            ..Self::new("InternalFailure", 500, message)
        }
    }
}

/// The Kinesis front door's table: engine error kind → AWS error type and status.
impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        let message = e.to_string();
        match e {
            LogError::NotFound(_) => ApiError::new("ResourceNotFoundException", 400, message),
            LogError::InUse(_) => ApiError::new("ResourceInUseException", 400, message),
            LogError::LimitExceeded(_) => ApiError::new("LimitExceededException", 400, message),
            LogError::InvalidArgument(_) => ApiError::new("InvalidArgumentException", 400, message),
            LogError::Validation(_) => ApiError::new("ValidationException", 400, message),
            LogError::ExpiredIterator(_) => ApiError::new("ExpiredIteratorException", 400, message),
            LogError::Throughput(_) => {
                ApiError::new("ProvisionedThroughputExceededException", 400, message)
            }
            LogError::Storage(_) | LogError::Internal(_) => {
                tracing::error!(error = %message, "request failed inside Weir");
                ApiError::internal(message)
            }
        }
    }
}
