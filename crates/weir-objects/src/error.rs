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
    #[error("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")]
    NoSuchUpload(String),
    #[error("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")]
    InvalidPart(String),
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall,
    #[error("remote object store answered {status}: {message}")]
    Remote { status: u16, message: String },
    /// The objects' index would outgrow its share of the memory budget.
    #[error("Weir's object index is full: {0} bytes of memory are allowed for the records of all objects (raise [s3] index_memory_mb or memory_limit_mb, or delete objects).")]
    IndexFull(u64),
    #[error("storage failure: {0}")]
    Storage(#[from] std::io::Error),
}
