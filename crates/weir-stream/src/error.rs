//! The engine's errors. Texts follow Flink's where a Flink client would see them.

use crate::sql::SqlError;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A statement Flink's planner would refuse (its `ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// A statement that does not parse.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// Something the engine does not do (yet); the text says what.
    #[error("{0}")]
    Unsupported(String),
    /// An object that does not exist (a table, a job).
    #[error("{0}")]
    NotFound(String),
    /// DataFusion refused or failed a plan.
    #[error("{0}")]
    Plan(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Log(#[from] weir_log::LogError),
    #[error(transparent)]
    Delivery(#[from] weir_delivery::DeliveryError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// A stopping job could not finish a write (nothing after its last checkpoint is lost:
    /// it resumes from there unless it was stopped for good).
    #[error("{0}")]
    Interrupted(String),
}

pub type Result<T> = std::result::Result<T, StreamError>;
