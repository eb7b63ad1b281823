//! The catalog's error kinds (front doors map them to their wire errors).

/// What went wrong in a catalog operation.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A database, table, version or partition that does not exist.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// A request the catalog cannot take as it is (bad expression, bad names, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// A concurrent change won (a stale VersionId).
    #[error("{0}")]
    ConcurrentModification(String),
    /// The catalog could not be made durable.
    #[error("catalog storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, CatalogError>;
