//! Engine error kinds. Front doors map each kind to their wire (one table per front door).

use std::io;

/// Result alias for the log engine.
pub type Result<T, E = LogError> = std::result::Result<T, E>;

/// What went wrong, and whose fault it is. Messages are written for users.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The named stream (or shard) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The resource exists already or is in a state that forbids the request.
    #[error("{0}")]
    InUse(String),
    /// An account or request limit would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The caller gave an argument the service cannot act on.
    #[error("{0}")]
    InvalidArgument(String),
    /// A field failed a declared constraint (length, range, pattern).
    #[error("{0}")]
    Validation(String),
    /// A per-shard throughput limit was exceeded (only with AWS limits on).
    #[error("{0}")]
    Throughput(String),
    /// A shard iterator is older than its lifetime: when it was issued and when it was used
    /// (epoch milliseconds; the front door words the message).
    #[error("Iterator expired: issued at {issued_ms} ms, used at {now_ms} ms, lifetime {lifetime_ms} ms.")]
    ExpiredIterator {
        issued_ms: i64,
        now_ms: i64,
        lifetime_ms: i64,
    },
    /// The storage layer failed; likely the machine's fault (disk full, I/O error).
    #[error("storage failure: {0}")]
    Storage(#[from] io::Error),
    /// A broken invariant inside Weir: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}
