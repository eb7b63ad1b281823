//! Weir's object-store layer: buckets of objects kept under the data directory ([`ObjectStore`]),
//! or mapped by config to an external S3-compatible endpoint ([`RemoteBucket`]); [`Objects`]
//! is what services write through.
//!
//! Layout: `objects/<bucket>/bucket.json` (the bucket) and in `objects/<bucket>/o/` the bucket's
//! journal `journal-<generation>.log`: every object record in commit order (PUTs and DELETEs),
//! with the bytes of objects up to 64 KiB inside their record; a larger object's bytes are in a
//! data file `<sha256(key)>-<random>.data` that its record names, written and fsynced (and its
//! directory entry synced) before the record is appended. A record is visible once appended and
//! acknowledged once a journal fdatasync shared by the commits around it covers it; replaying
//! the journal gives the bucket, a torn tail is cut off, and data files no record names (a crash
//! between the two steps, or a replaced object) are removed at open. See `journal/`.

mod bucket;
mod error;
mod journal;
mod lake;
mod multipart;
mod remote;
mod store;

pub use error::{ObjectError, Result};
pub use journal::INLINE_MAX as INLINE_MAX_BYTES;
pub use lake::{ObjectSummary, Objects};
pub use multipart::{PartInfo, UploadInfo, MAX_PART_NUMBER, MIN_PART_BYTES};
pub use remote::{
    http_client, xml_values, HttpClient, RemoteBucket, RemoteBucketConfig, RemoteResponse,
};
pub use store::{
    BucketInfo, ListPage, ListRequest, ObjectBody, ObjectInfo, ObjectStore, PutObject,
};
