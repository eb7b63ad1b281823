//! Weir's object-store layer: buckets of objects kept under the data directory ([`ObjectStore`]),
//! or mapped by config to an external S3-compatible endpoint ([`RemoteBucket`]); [`Objects`]
//! is what services write through.
//!
//! Layout: `objects/<bucket>/bucket.json` (the bucket), per object a data file
//! `objects/<bucket>/o/<sha256(key)>-<random>.data`, and the bucket's records in one journal,
//! `objects/<bucket>/o/records.log` (`journal.rs`). Writing an object writes and fdatasyncs a
//! fresh data file, makes its directory entry durable, then appends its record to the journal
//! (group commit: concurrent PUTs share the write and its fdatasync); the record's durable
//! append is the commit point, so a reader sees the old object or the new one, whole. Records
//! kept one file per key (`<sha256(key)>.json`, older versions) are read before the journal
//! and removed when it is next rewritten. Data files no record names (a crash between the
//! steps, or a replaced object) are removed at open.

mod error;
mod journal;
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
