//! The object-store layer every Weir service writes through: buckets on local disk by default,
//! and buckets mapped by config to an external S3-compatible endpoint.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::{ObjectError, Result};
use crate::remote::{RemoteBucket, RemoteBucketConfig};
use crate::store::{ListRequest, ObjectStore, PutObject};

/// Local buckets plus the mapped ones.
/// An object as a listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    /// 0 when the store does not say (mapped buckets).
    pub last_modified_ms: i64,
}

#[derive(Clone)]
pub struct Objects {
    local: Arc<ObjectStore>,
    remote: Arc<HashMap<String, Arc<RemoteBucket>>>,
}

impl Objects {
    pub fn new(local: ObjectStore, mapped: &[RemoteBucketConfig]) -> Result<Objects> {
        let mut remote = HashMap::new();
        for config in mapped {
            if !crate::store::valid_bucket_name(&config.bucket) {
                return Err(ObjectError::InvalidBucketName(config.bucket.clone()));
            }
            let bucket = RemoteBucket::new(config.clone())?;
            if remote
                .insert(config.bucket.clone(), Arc::new(bucket))
                .is_some()
            {
                return Err(ObjectError::InvalidArgument(format!(
                    "bucket {} is mapped twice",
                    config.bucket
                )));
            }
        }
        Ok(Objects {
            local: Arc::new(local),
            remote: Arc::new(remote),
        })
    }

    /// The local store (the S3 front door serves unmapped buckets from it).
    pub fn local(&self) -> &Arc<ObjectStore> {
        &self.local
    }

    /// The external bucket `bucket` is mapped to, if it is.
    pub fn remote(&self, bucket: &str) -> Option<&Arc<RemoteBucket>> {
        self.remote.get(bucket)
    }

    /// Names of the mapped buckets.
    pub fn mapped(&self) -> impl Iterator<Item = &str> {
        self.remote.keys().map(String::as_str)
    }

    /// Writes an object (atomically and durably when local); returns its ETag.
    pub async fn put(&self, bucket: &str, key: &str, put: PutObject) -> Result<String> {
        if let Some(r) = self.remote(bucket) {
            return r.put_object(key, put).await;
        }
        let (local, b, k) = (self.local.clone(), bucket.to_string(), key.to_string());
        Ok(blocking(move || local.put_object(&b, &k, put)).await?.etag)
    }

    /// Writes an object from a file: streamed into a local bucket, read whole for a mapped
    /// one. `put.data` is not used. Returns its ETag.
    pub async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
        put: PutObject,
    ) -> Result<String> {
        if let Some(r) = self.remote(bucket) {
            let p = path.to_path_buf();
            let data = blocking(move || std::fs::read(p).map_err(ObjectError::Storage)).await?;
            let put = PutObject {
                data: Bytes::from(data),
                ..put
            };
            return r.put_object(key, put).await;
        }
        let (local, b, k, p) = (
            self.local.clone(),
            bucket.to_string(),
            key.to_string(),
            path.to_path_buf(),
        );
        Ok(blocking(move || {
            let file = std::fs::File::open(&p).map_err(ObjectError::Storage)?;
            local.put_object_from_reader(&b, &k, file, put)
        })
        .await?
        .etag)
    }

    /// Reads a whole object.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Bytes> {
        if let Some(r) = self.remote(bucket) {
            return r.get_object(key).await;
        }
        let (local, b, k) = (self.local.clone(), bucket.to_string(), key.to_string());
        blocking(move || local.get_object(&b, &k, None).map(|(_, data)| data)).await
    }

    /// Reads bytes `first..=last` of an object (fewer at its end).
    pub async fn get_range(&self, bucket: &str, key: &str, first: u64, last: u64) -> Result<Bytes> {
        if let Some(r) = self.remote(bucket) {
            return r.get_object_range(key, first, last).await;
        }
        let (local, b, k) = (self.local.clone(), bucket.to_string(), key.to_string());
        blocking(move || {
            local
                .get_object(&b, &k, Some((first, last)))
                .map(|(_, data)| data)
        })
        .await
    }

    /// Deletes an object (absent objects are not an error, as in S3).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        if let Some(r) = self.remote(bucket) {
            return r.delete_object(key).await;
        }
        let (local, b, k) = (self.local.clone(), bucket.to_string(), key.to_string());
        blocking(move || local.delete_object(&b, &k)).await
    }

    /// Every key under `prefix`, in order.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        if let Some(r) = self.remote(bucket) {
            return r.list_keys(prefix).await;
        }
        let (local, b, p) = (self.local.clone(), bucket.to_string(), prefix.to_string());
        blocking(move || {
            let mut keys = Vec::new();
            let mut after = None;
            loop {
                let page = local.list(
                    &b,
                    &ListRequest {
                        prefix: p.clone(),
                        delimiter: None,
                        after: after.take(),
                        max_keys: 1000,
                    },
                )?;
                keys.extend(page.objects.into_iter().map(|o| o.key));
                if !page.is_truncated {
                    return Ok(keys);
                }
                after = page.last;
            }
        })
        .await
    }

    /// Every object under `prefix` (key, size, last modified), in key order.
    pub async fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectSummary>> {
        if let Some(r) = self.remote(bucket) {
            return Ok(r
                .list_sizes(prefix)
                .await?
                .into_iter()
                .map(|(key, size)| ObjectSummary {
                    key,
                    size,
                    last_modified_ms: 0,
                })
                .collect());
        }
        let (local, b, p) = (self.local.clone(), bucket.to_string(), prefix.to_string());
        blocking(move || {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let page = local.list(
                    &b,
                    &ListRequest {
                        prefix: p.clone(),
                        delimiter: None,
                        after: after.take(),
                        max_keys: 1000,
                    },
                )?;
                out.extend(page.objects.into_iter().map(|o| ObjectSummary {
                    key: o.key,
                    size: o.size,
                    last_modified_ms: o.last_modified_ms,
                }));
                if !page.is_truncated {
                    return Ok(out);
                }
                after = page.last;
            }
        })
        .await
    }

    /// Whether the bucket exists (a mapped bucket is taken to exist).
    pub async fn bucket_exists(&self, bucket: &str) -> bool {
        if self.remote(bucket).is_some() {
            return true;
        }
        self.local.bucket(bucket).is_ok()
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ObjectError::Storage(std::io::Error::other(e.to_string())))?
}
