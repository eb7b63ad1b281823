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
    /// Other members of the error's shape: lists of strings (UnableToDetectSchemaException's
    /// RawInputRecords).
    pub lists: Vec<(&'static str, Vec<String>)>,
}

impl ApiError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code,
            status,
            message: message.into(),
            message_key: Some("message"),
            lists: Vec::new(),
        }
    }
    /// The same error with a list member beside its message.
    pub fn with_list(mut self, member: &'static str, items: Vec<String>) -> Self {
        self.lists.push((member, items));
        self
    }
    /// An error whose body is only its type (`{"__type":"UnknownOperationException"}`).
    pub fn bare(code: &'static str, status: u16) -> Self {
        ApiError {
            code,
            status,
            message: String::new(),
            message_key: None,
            lists: Vec::new(),
        }
    }
    /// The same error with its message in `Message` (as Glue's and Athena's models name it).
    pub fn in_message_member(self) -> Self {
        ApiError {
            message_key: Some("Message"),
            ..self
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
            LogError::ExpiredIterator {
                issued_ms,
                now_ms,
                lifetime_ms,
            } => ApiError::new(
                "ExpiredIteratorException",
                400,
                format!(
                    "Iterator expired. The iterator was created at time {} while right now it is {} \
                     which is further in the future than the tolerated delay of {lifetime_ms} \
                     milliseconds.",
                    java_date(issued_ms),
                    java_date(now_ms)
                ),
            ),
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

/// A time as Java's `Date.toString()` prints it in UTC (`Thu Jan 22 01:22:02 UTC 2015`), the
/// form of AWS's ExpiredIteratorException messages.
pub fn java_date(ms: i64) -> String {
    use crate::s3::time::{DAYS, MONTHS};
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = weir_sigv4::civil_from_days(days);
    format!(
        "{} {} {day:02} {:02}:{:02}:{:02} UTC {year}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_as_java_prints_them() {
        use super::java_date;
        assert_eq!(java_date(1_421_889_722_000), "Thu Jan 22 01:22:02 UTC 2015");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_709_251_199_999), "Thu Feb 29 23:59:59 UTC 2024");
    }
}
