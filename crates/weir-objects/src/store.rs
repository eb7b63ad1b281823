//! Buckets and objects on local disk.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::bucket::{Bucket, IndexBudget};
use crate::error::{ObjectError, Result};
use crate::journal::{self, INLINE_MAX};

/// A bucket as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    pub region: String,
    pub created_ms: i64,
}

/// An object's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// Quoted, as S3 sends it: `"<md5 hex>"`.
    pub etag: String,
    pub last_modified_ms: i64,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` without the prefix, lower-case names.
    pub metadata: BTreeMap<String, String>,
    /// Other stored headers returned on GET/HEAD (content-encoding, cache-control, …).
    pub headers: BTreeMap<String, String>,
    /// The data file (in the bucket's `o/` folder); empty for an object kept in the journal.
    #[serde(default)]
    pub(crate) data_file: String,
}

impl ObjectInfo {
    /// A record for a freshly written data file.
    pub(crate) fn new(
        key: &str,
        size: u64,
        etag: String,
        meta: PutObject,
        data_file: String,
    ) -> ObjectInfo {
        ObjectInfo {
            key: key.to_string(),
            size,
            etag,
            last_modified_ms: now_ms(),
            content_type: meta.content_type,
            metadata: meta.metadata,
            headers: meta.headers,
            data_file,
        }
    }
}

/// What PutObject stores besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct PutObject {
    pub data: Bytes,
    pub content_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// List keys (and common prefixes) strictly after this one.
    pub after: Option<String>,
    pub max_keys: usize,
}

/// One page of a listing, in key order.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix returned (where the next page starts after).
    pub last: Option<String>,
}

/// An object's bytes, open for reading: a data file (which keeps this version whole even if the
/// object is overwritten or deleted meanwhile) or, for a small object, its bytes.
pub enum ObjectBody {
    File(File),
    Bytes(Bytes),
}

impl ObjectBody {
    /// `len` bytes from `start` (within the object).
    pub fn read_range(&self, start: u64, len: u64) -> io::Result<Bytes> {
        match self {
            ObjectBody::Bytes(b) => {
                let end = (start + len).min(b.len() as u64);
                Ok(b.slice(start.min(end) as usize..end as usize))
            }
            ObjectBody::File(f) => {
                let mut buf = vec![0u8; len as usize];
                f.read_exact_at(&mut buf, start)?;
                Ok(Bytes::from(buf))
            }
        }
    }
}

impl Read for ObjectBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ObjectBody::File(f) => f.read(buf),
            ObjectBody::Bytes(b) => {
                let n = buf.len().min(b.len());
                buf[..n].copy_from_slice(&b[..n]);
                bytes::Buf::advance(b, n);
                Ok(n)
            }
        }
    }
}

/// The object store; cheap to share behind an `Arc`.
pub struct ObjectStore {
    root: PathBuf,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    /// Journal size above which a mostly-garbage journal is compacted.
    compact_above: u64,
    /// The memory the objects' records may take, across buckets.
    index: Arc<IndexBudget>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(crate) fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Copies `src` into `f`, feeding `md5`; returns the size.
pub(crate) fn copy_hashed(
    src: &mut (impl Read + ?Sized),
    f: &mut File,
    md5: &mut Md5,
) -> io::Result<u64> {
    // Small: a fresh buffer is zeroed on every PUT.
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            return Ok(size);
        }
        md5.update(&buf[..n]);
        f.write_all(&buf[..n])?;
        size += n as u64;
    }
}

/// An ETag as S3 sends it: the MD5 in hex, quoted.
pub(crate) fn quoted_md5(md5: Md5) -> String {
    format!("\"{}\"", hex(&md5.finalize()))
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(ObjectError::InvalidArgument(
            "Object keys must be 1 to 1,024 bytes long.".into(),
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically and durably.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Writes what `write` writes to `path` atomically and durably (nothing is left if it fails).
pub(crate) fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = path.with_extension(format!("{:016x}.tmp", rand::random::<u64>()));
    let mut f = File::create(&tmp)?;
    if let Err(e) = write(&mut f).and_then(|()| f.sync_data()) {
        drop(f);
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    drop(f);
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// S3's bucket naming rules (general purpose buckets).
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let ok_chars = b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-');
    let edges = b.first().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.last().is_some_and(|c| c.is_ascii_alphanumeric());
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    (3..=63).contains(&b.len())
        && ok_chars
        && edges
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && !ip_like
        && !name.starts_with("xn--")
        && !name.ends_with("-s3alias")
}

impl ObjectStore {
    /// Opens the store under `root`, loading every bucket and removing unreferenced data files.
    pub fn open(root: &Path) -> Result<ObjectStore> {
        Self::open_with(root, journal::COMPACT_ABOVE)
    }

    /// [`ObjectStore::open`] compacting journals above `compact_above` bytes.
    pub(crate) fn open_with(root: &Path, compact_above: u64) -> Result<ObjectStore> {
        fs::create_dir_all(root)?;
        let mut buckets = BTreeMap::new();
        let index = Arc::new(IndexBudget::default());
        for entry in fs::read_dir(root)? {
            let dir = entry?.path();
            let Ok(bytes) = fs::read(dir.join("bucket.json")) else {
                continue;
            };
            let Ok(info) = serde_json::from_slice::<BucketInfo>(&bytes) else {
                tracing::warn!(dir = %dir.display(), "skipping a bucket with an unreadable record");
                continue;
            };
            let bucket = Bucket::load(info, &dir.join("o"), compact_above, index.clone())?;
            buckets.insert(bucket.info.name.clone(), Arc::new(bucket));
        }
        Ok(ObjectStore {
            root: root.to_path_buf(),
            buckets: RwLock::new(buckets),
            compact_above,
            index,
        })
    }

    pub(crate) fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// CreateBucket.
    pub fn create_bucket(&self, name: &str, region: &str) -> Result<BucketInfo> {
        if !valid_bucket_name(name) {
            return Err(ObjectError::InvalidBucketName(name.to_string()));
        }
        let mut buckets = self.buckets.write();
        if buckets.contains_key(name) {
            return Err(ObjectError::BucketAlreadyOwnedByYou(name.to_string()));
        }
        let info = BucketInfo {
            name: name.to_string(),
            region: region.to_string(),
            created_ms: now_ms(),
        };
        let dir = self.bucket_dir(name);
        if dir.exists() {
            // What an interrupted DeleteBucket left (its record already gone).
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(dir.join("o"))?;
        fs::create_dir_all(dir.join("u"))?;
        sync_dir(&dir)?;
        let bucket = Arc::new(Bucket::load(
            info.clone(),
            &dir.join("o"),
            self.compact_above,
            self.index.clone(),
        )?);
        let json = serde_json::to_vec(&info).map_err(io::Error::other)?;
        write_atomic(&dir.join("bucket.json"), &json)?;
        sync_dir(&self.root)?;
        buckets.insert(name.to_string(), bucket);
        Ok(info)
    }

    /// DeleteBucket (only an empty one).
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        let mut buckets = self.buckets.write();
        let b = buckets
            .get(name)
            .ok_or_else(|| ObjectError::NoSuchBucket(name.to_string()))?
            .clone();
        let objects = b.objects.write();
        if !objects.is_empty() {
            return Err(ObjectError::BucketNotEmpty(name.to_string()));
        }
        let dir = self.bucket_dir(name);
        // Removing the record first makes the deletion durable even if the rest is interrupted.
        fs::remove_file(dir.join("bucket.json"))?;
        sync_dir(&dir)?;
        b.mark_deleted();
        buckets.remove(name);
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    /// Limits the memory the records of all objects may take (0: no limit); a PUT that would
    /// grow them past it is refused with [`ObjectError::IndexFull`].
    pub fn set_index_limit(&self, bytes: u64) {
        self.index.set_limit(bytes);
    }

    /// The memory the records of all objects take (estimated).
    pub fn index_bytes(&self) -> u64 {
        self.index.used()
    }

    fn bucket_ref(&self, name: &str) -> Result<Arc<Bucket>> {
        self.buckets
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| ObjectError::NoSuchBucket(name.to_string()))
    }

    /// HeadBucket / GetBucketLocation.
    pub fn bucket(&self, name: &str) -> Result<BucketInfo> {
        self.buckets
            .read()
            .get(name)
            .map(|b| b.info.clone())
            .ok_or_else(|| ObjectError::NoSuchBucket(name.to_string()))
    }

    /// ListBuckets, in name order.
    pub fn list_buckets(&self) -> Vec<BucketInfo> {
        self.buckets
            .read()
            .values()
            .map(|b| b.info.clone())
            .collect()
    }

    /// PutObject: the object is visible whole once this returns, and survives a crash.
    pub fn put_object(&self, bucket: &str, key: &str, put: PutObject) -> Result<ObjectInfo> {
        let data = put.data.clone();
        self.put_from(bucket, key, &mut &data[..], put, None)
    }

    /// PutObject of what `src` yields: a small object goes into the bucket's journal, a larger
    /// one is copied into its data file as it is read (not held in memory); `put.data` is not
    /// used.
    pub fn put_object_from_reader(
        &self,
        bucket: &str,
        key: &str,
        mut src: impl Read,
        put: PutObject,
    ) -> Result<ObjectInfo> {
        self.put_from(bucket, key, &mut src, put, None)
    }

    /// Whether `key` may be written into `bucket` (checked before a body is read).
    pub fn check_put(&self, bucket: &str, key: &str) -> Result<()> {
        check_key(key)?;
        self.bucket(bucket).map(|_| ())
    }

    /// Stores what `src` yields as `key`, with `etag` or the MD5 of the bytes.
    fn put_from(
        &self,
        bucket: &str,
        key: &str,
        src: &mut dyn Read,
        put: PutObject,
        etag: Option<String>,
    ) -> Result<ObjectInfo> {
        self.check_put(bucket, key)?;
        let mut head = Vec::new();
        src.take(INLINE_MAX as u64 + 1).read_to_end(&mut head)?;
        let mut md5 = Md5::new();
        md5.update(&head);
        if head.len() <= INLINE_MAX {
            let etag = etag.unwrap_or_else(|| quoted_md5(md5));
            let info = ObjectInfo::new(key, head.len() as u64, etag, put, String::new());
            return self.commit(bucket, info, Some(&head));
        }
        // A large body is not written out only to be refused for want of room for its record.
        let sketch = ObjectInfo::new(key, 0, "\"\"".repeat(17), put.clone(), "x".repeat(86));
        let replaced = self.head_object(bucket, key).ok();
        if !self.index.has_room(
            crate::bucket::index_cost(&sketch),
            replaced.map_or(0, |r| crate::bucket::index_cost(&r)),
        ) {
            return Err(ObjectError::IndexFull(self.index.limit()));
        }
        let mut size = head.len() as u64;
        let data_file = self.write_data_file(bucket, key, |f| {
            f.write_all(&head)?;
            size += copy_hashed(src, f, &mut md5)?;
            Ok(())
        })?;
        let etag = etag.unwrap_or_else(|| quoted_md5(md5));
        self.commit(
            bucket,
            ObjectInfo::new(key, size, etag, put, data_file),
            None,
        )
    }

    /// CopyObject: `dst` gets `src`'s bytes, with `src`'s metadata or the given replacement.
    pub fn copy_object(
        &self,
        src: (&str, &str),
        dst: (&str, &str),
        replace: Option<PutObject>,
    ) -> Result<ObjectInfo> {
        check_key(dst.1)?;
        let (from, mut body) = self.open_object(src.0, src.1)?;
        let meta = replace.unwrap_or(PutObject {
            data: Bytes::new(),
            content_type: from.content_type,
            metadata: from.metadata,
            headers: from.headers,
        });
        self.put_from(dst.0, dst.1, &mut body, meta, Some(from.etag))
    }

    /// Writes and fsyncs a fresh data file for `key` with `write`; returns its name.
    pub(crate) fn write_data_file(
        &self,
        bucket: &str,
        key: &str,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<String> {
        let dir = self.bucket_dir(bucket).join("o");
        let name = format!("{}-{:016x}.data", key_hash(key), rand::random::<u64>());
        let mut f = File::create(dir.join(&name))?;
        if let Err(e) = write(&mut f).and_then(|()| f.sync_data()) {
            let _ = fs::remove_file(dir.join(&name));
            return Err(e.into());
        }
        Ok(name)
    }

    /// Makes `info` the object: its bytes are `inline`, or its data file is written and synced.
    /// The record is appended to the bucket's journal and visible at once; the PUT is answered
    /// once a journal sync (shared with the commits around it) made it durable. Only then does
    /// the data file of the object it replaced go.
    pub(crate) fn commit(
        &self,
        bucket: &str,
        info: ObjectInfo,
        inline: Option<&[u8]>,
    ) -> Result<ObjectInfo> {
        let b = match self.bucket_ref(bucket) {
            Ok(b) => b,
            Err(e) => {
                if !info.data_file.is_empty() {
                    let dir = self.bucket_dir(bucket).join("o");
                    let _ = fs::remove_file(dir.join(&info.data_file));
                }
                return Err(e);
            }
        };
        if inline.is_none() {
            // The data file's directory entry must be durable before a record names it.
            let generation = b.dir_sync.note();
            if let Err(e) = b.dir_sync.sync_through(generation, || sync_dir(&b.dir)) {
                let _ = fs::remove_file(b.dir.join(&info.data_file));
                return Err(e.into());
            }
        }
        let info = b.put(info, inline)?.wait()?;
        b.compact();
        Ok(info)
    }

    /// PutObject of a body already in memory, waiting for durability without holding a
    /// thread when it is small (its record goes into the journal from here, unless the
    /// bucket's lock is busy; one waiter syncs for all); a larger one is written on a blocking
    /// thread.
    pub async fn put_object_async(
        self: &Arc<Self>,
        bucket: &str,
        key: &str,
        put: PutObject,
    ) -> Result<ObjectInfo> {
        let b = self.bucket_ref(bucket)?;
        if put.data.len() > INLINE_MAX || b.journal.is_broken() {
            let (store, bucket, key) = (self.clone(), bucket.to_string(), key.to_string());
            return tokio::task::spawn_blocking(move || store.put_object(&bucket, &key, put))
                .await
                .map_err(io::Error::other)?;
        }
        check_key(key)?;
        let data = put.data.clone();
        let etag = quoted_md5(Md5::new_with_prefix(&data));
        let info = ObjectInfo::new(key, data.len() as u64, etag, put, String::new());
        let locked = b.objects.try_write().map(|mut objects| {
            // `info` is only cloned here, when the lock is free.
            b.put_locked(&mut objects, info.clone(), Some(&data))
        });
        let pending = match locked {
            Some(pending) => pending?,
            None => {
                let b = b.clone();
                tokio::task::spawn_blocking(move || b.put(info, Some(&data)))
                    .await
                    .map_err(io::Error::other)??
            }
        };
        if b.journal.wants_compaction() {
            tokio::task::spawn_blocking(move || b.compact());
        }
        pending.durable().await
    }

    /// HeadObject.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        Ok(self.bucket_ref(bucket)?.get(key)?.info)
    }

    /// The object's record and its bytes, open: reading them gives this version whole even if
    /// the object is overwritten or deleted meanwhile (for streamed reads).
    pub fn open_object(&self, bucket: &str, key: &str) -> Result<(ObjectInfo, ObjectBody)> {
        let b = self.bucket_ref(bucket)?;
        // A concurrent overwrite may remove the data file after the record was read: read the
        // record again and retry once.
        for _ in 0..2 {
            let stored = b.get(key)?;
            if let Some(bytes) = stored.read_inline()? {
                return Ok((stored.info, ObjectBody::Bytes(bytes)));
            }
            match File::open(b.dir.join(&stored.info.data_file)) {
                Ok(f) => return Ok((stored.info, ObjectBody::File(f))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ObjectError::NoSuchKey(key.to_string()))
    }

    /// GetObject: the object's bytes in `range` (inclusive; clamped to the object), or all.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<(ObjectInfo, Bytes)> {
        let (info, body) = self.open_object(bucket, key)?;
        let (start, end) = range.unwrap_or((0, info.size.saturating_sub(1)));
        let end = end.min(info.size.saturating_sub(1));
        if info.size == 0 || start > end {
            return Ok((info, Bytes::new()));
        }
        let bytes = body.read_range(start, end - start + 1)?;
        Ok((info, bytes))
    }

    /// DeleteObject (deleting a missing key succeeds, as in S3): a tombstone in the journal.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.delete_objects(bucket, &[key])
    }

    /// DeleteObjects: one tombstone per key present and one sync for all of them.
    pub fn delete_objects(&self, bucket: &str, keys: &[&str]) -> Result<()> {
        let b = self.bucket_ref(bucket)?;
        let (generation, files) = b.delete(keys)?;
        b.journal.sync_through(generation)?;
        for f in files {
            let _ = fs::remove_file(f);
        }
        b.compact();
        Ok(())
    }

    /// ListObjects / ListObjectsV2: keys under `prefix`, rolled up at `delimiter`.
    pub fn list(&self, bucket: &str, req: &ListRequest) -> Result<ListPage> {
        let b = self.bucket_ref(bucket)?;
        let objects = b.objects.read();
        let mut page = ListPage::default();
        let start = match &req.after {
            Some(a) if a.as_str() >= req.prefix.as_str() => std::ops::Bound::Excluded(a.clone()),
            _ => std::ops::Bound::Included(req.prefix.clone()),
        };
        let mut count = 0;
        for (key, stored) in objects.range((start, std::ops::Bound::Unbounded)) {
            if !key.starts_with(&req.prefix) {
                break;
            }
            let rolled = req
                .delimiter
                .as_deref()
                .filter(|d| !d.is_empty())
                .and_then(|d| {
                    key[req.prefix.len()..]
                        .find(d)
                        .map(|i| key[..req.prefix.len() + i + d.len()].to_string())
                });
            if let Some(cp) = &rolled {
                if page.common_prefixes.last() == Some(cp)
                    || req.after.as_deref() == Some(cp.as_str())
                {
                    continue;
                }
            }
            if count == req.max_keys {
                page.is_truncated = true;
                break;
            }
            count += 1;
            match rolled {
                Some(cp) => {
                    page.last = Some(cp.clone());
                    page.common_prefixes.push(cp);
                }
                None => {
                    page.last = Some(key.clone());
                    page.objects.push(stored.info.clone());
                }
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
