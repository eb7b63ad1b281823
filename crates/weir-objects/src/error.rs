//! Object-store error kinds; the S3 front door maps each to S3's error code.

/// Result alias for the object store.
pub type Result<T, E = ObjectError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket(String),
    #[error("The specified key does not exist.")]
    NoSuchKey(String),
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou(String),
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty(String),
    #[error("The specified bucket is not valid.")]
    InvalidBucketName(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("storage failure: {0}")]
    Storage(#[from] std::io::Error),
}
