//! Weir's object-store layer: buckets of objects kept under the data directory ([`ObjectStore`]),
//! or mapped by config to an external S3-compatible endpoint ([`RemoteBucket`]); [`Objects`]
//! is what services write through.
//!
//! Layout: `objects/<bucket>/bucket.json` (the bucket), and per object a data file
//! `objects/<bucket>/o/<sha256(key)>-<random>.data` plus its record
//! `objects/<bucket>/o/<sha256(key)>.json` naming that data file. Writing an object writes and
//! fsyncs a fresh data file, then atomically replaces the record (temp, fsync, rename, directory
//! fsync): the rename is the commit point, so a reader sees the old object or the new one, whole.
//! Data files no record names (a crash between the two steps, or a replaced object) are removed
//! at open.

mod error;
mod lake;
mod multipart;
mod remote;
mod store;

pub use error::{ObjectError, Result};
pub use lake::{ObjectSummary, Objects};
pub use multipart::{PartInfo, UploadInfo, MAX_PART_NUMBER, MIN_PART_BYTES};
pub use remote::{
    http_client, xml_values, HttpClient, RemoteBucket, RemoteBucketConfig, RemoteResponse,
};
pub use store::{BucketInfo, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject};
