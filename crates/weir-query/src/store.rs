//! DataFusion's view of Weir's object store: one `object_store::ObjectStore` per bucket over
//! `weir_objects::Objects` (local buckets read straight from their data files, mapped buckets
//! through their endpoint), and a registry that makes them on demand for `s3://<bucket>` URLs.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::execution::object_store::ObjectStoreRegistry;
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use url::Url;
use weir_objects::ObjectBody;
use weir_objects::{ObjectError, Objects, PutObject};

const NAME: &str = "weir";

/// A bucket of Weir's object store.
#[derive(Clone)]
pub struct BucketStore {
    objects: Objects,
    bucket: String,
}

impl fmt::Display for BucketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "weir://{}", self.bucket)
    }
}

impl fmt::Debug for BucketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BucketStore({})", self.bucket)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("weir object store registry")
    }
}

/// An object key from a path (paths keep keys percent-encoded where they had to).
fn key_of(p: &Path) -> String {
    let raw = p.as_ref();
    if !raw.contains('%') {
        return raw.to_string();
    }
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn meta(key: &str, size: u64, modified_ms: i64) -> ObjectMeta {
    ObjectMeta {
        location: Path::from(key),
        last_modified: chrono::DateTime::from_timestamp_millis(modified_ms).unwrap_or_default(),
        size,
        e_tag: None,
        version: None,
    }
}

fn err(e: ObjectError, key: &str) -> object_store::Error {
    match e {
        ObjectError::NoSuchKey(_) | ObjectError::NoSuchBucket(_) => object_store::Error::NotFound {
            path: key.to_string(),
            source: Box::new(e),
        },
        other => object_store::Error::Generic {
            store: NAME,
            source: Box::new(other),
        },
    }
}

fn not_implemented(op: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: op.to_string(),
        implementer: NAME.to_string(),
    }
}

impl BucketStore {
    pub fn new(objects: Objects, bucket: &str) -> BucketStore {
        BucketStore {
            objects,
            bucket: bucket.to_string(),
        }
    }
}

#[async_trait]
impl ObjectStore for BucketStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        _opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let key = key_of(location);
        let data = Bytes::from(payload);
        let etag = self
            .objects
            .put(
                &self.bucket,
                &key,
                PutObject {
                    data,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| err(e, &key))?;
        Ok(PutResult {
            e_tag: Some(etag),
            version: None,
        })
    }

    async fn put_multipart_opts(
        &self,
        _location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(not_implemented("put_multipart"))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let key = key_of(location);
        if let Some(remote) = self.objects.remote(&self.bucket) {
            let data = remote.get_object(&key).await.map_err(|e| err(e, &key))?;
            let m = meta(&key, data.len() as u64, 0);
            options.check_preconditions(&m)?;
            let range = range_of(&options, m.size)?;
            let body = data.slice(range.start as usize..range.end as usize);
            return Ok(GetResult {
                payload: GetResultPayload::Stream(
                    futures::stream::once(async move { Ok(body) }).boxed(),
                ),
                meta: m,
                range,
                attributes: Attributes::default(),
            });
        }
        let local = self.objects.local().clone();
        let bucket = self.bucket.clone();
        let (info, file) = tokio::task::spawn_blocking(move || {
            local.open_object(&bucket, &key).map_err(|e| err(e, &key))
        })
        .await
        .map_err(|e| object_store::Error::Generic {
            store: NAME,
            source: Box::new(e),
        })??;
        let m = meta(&info.key, info.size, info.last_modified_ms);
        options.check_preconditions(&m)?;
        let range = range_of(&options, m.size)?;
        let payload = match file {
            ObjectBody::File(file) => {
                GetResultPayload::File(file, std::path::PathBuf::from(&info.key))
            }
            ObjectBody::Bytes(bytes) => {
                let body = bytes.slice(range.start as usize..range.end as usize);
                GetResultPayload::Stream(futures::stream::once(async move { Ok(body) }).boxed())
            }
        };
        Ok(GetResult {
            payload,
            meta: m,
            range,
            attributes: Attributes::default(),
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let objects = self.objects.clone();
        let bucket = self.bucket.clone();
        locations
            .then(move |l| {
                let (objects, bucket) = (objects.clone(), bucket.clone());
                async move {
                    let l = l?;
                    let key = key_of(&l);
                    objects
                        .delete(&bucket, &key)
                        .await
                        .map_err(|e| err(e, &key))?;
                    Ok(l)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let objects = self.objects.clone();
        let bucket = self.bucket.clone();
        let prefix = prefix
            .map(|p| format!("{}/", key_of(p)))
            .unwrap_or_default();
        futures::stream::once(async move {
            objects
                .list_objects(&bucket, &prefix)
                .await
                .map_err(|e| err(e, &prefix))
        })
        .flat_map(|r| match r {
            Ok(list) => futures::stream::iter(
                list.into_iter()
                    .filter(|o| !o.key.ends_with('/'))
                    .map(|o| Ok(meta(&o.key, o.size, o.last_modified_ms)))
                    .collect::<Vec<_>>(),
            )
            .boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let prefix = prefix
            .map(|p| format!("{}/", key_of(p)))
            .unwrap_or_default();
        let all = self
            .objects
            .list_objects(&self.bucket, &prefix)
            .await
            .map_err(|e| err(e, &prefix))?;
        let mut out = ListResult {
            common_prefixes: Vec::new(),
            objects: Vec::new(),
        };
        for o in all {
            let rest = &o.key[prefix.len()..];
            match rest.split_once('/') {
                Some((dir, _)) => {
                    let p = Path::from(format!("{prefix}{dir}"));
                    if out.common_prefixes.last() != Some(&p) {
                        out.common_prefixes.push(p);
                    }
                }
                None => out.objects.push(meta(&o.key, o.size, o.last_modified_ms)),
            }
        }
        Ok(out)
    }

    async fn copy_opts(
        &self,
        _from: &Path,
        _to: &Path,
        _options: CopyOptions,
    ) -> object_store::Result<()> {
        Err(not_implemented("copy"))
    }
}

fn range_of(options: &GetOptions, size: u64) -> object_store::Result<Range<u64>> {
    match &options.range {
        Some(r) => r.as_range(size).map_err(|e| object_store::Error::Generic {
            store: NAME,
            source: Box::new(e),
        }),
        None => Ok(0..size),
    }
}

/// Makes a `BucketStore` for every `s3://<bucket>` URL DataFusion asks about.
pub struct Registry {
    objects: Objects,
    stores: parking_lot::Mutex<std::collections::HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Registry {
    pub fn new(objects: Objects) -> Registry {
        Registry {
            objects,
            stores: Default::default(),
        }
    }
}

impl ObjectStoreRegistry for Registry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.stores
            .lock()
            .insert(url.host_str().unwrap_or("").to_string(), store)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let bucket = url.host_str().unwrap_or("").to_string();
        if !matches!(url.scheme(), "s3" | "s3a" | "s3n") || bucket.is_empty() {
            return Err(datafusion::error::DataFusionError::Execution(format!(
                "No suitable object store found for {url}: Weir reads s3:// locations"
            )));
        }
        let mut stores = self.stores.lock();
        let store = stores
            .entry(bucket.clone())
            .or_insert_with(|| Arc::new(BucketStore::new(self.objects.clone(), &bucket)));
        Ok(store.clone())
    }
}
