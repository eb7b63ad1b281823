//! Buckets and objects on local disk.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{ObjectError, Result};

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
    /// The data file (in the bucket's `o/` folder).
    data_file: String,
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

struct Bucket {
    info: BucketInfo,
    objects: BTreeMap<String, ObjectInfo>,
    /// Syncs of the object directory, shared by the PUTs that commit at the same time.
    dir_sync: Arc<DirSync>,
}

/// Group commit of a directory's entries: each commit notes a generation after its rename, and
/// one fsync of the directory makes every rename noted before it durable, so concurrent PUTs
/// share the sync instead of taking turns.
#[derive(Default)]
struct DirSync {
    /// (generations noted, generations known durable).
    state: parking_lot::Mutex<(u64, u64)>,
    /// One directory fsync at a time.
    syncing: parking_lot::Mutex<()>,
}

impl DirSync {
    fn note(&self) -> u64 {
        let mut s = self.state.lock();
        s.0 += 1;
        s.0
    }

    /// Returns once generation `gen` is durable, syncing `dir` unless a sync since covered it.
    fn sync_through(&self, generation: u64, dir: &Path) -> io::Result<()> {
        if self.state.lock().1 >= generation {
            return Ok(());
        }
        let _one = self.syncing.lock();
        let target = {
            let s = self.state.lock();
            if s.1 >= generation {
                return Ok(());
            }
            s.0
        };
        sync_dir(dir)?;
        let mut s = self.state.lock();
        s.1 = s.1.max(target);
        Ok(())
    }
}

/// The object store; cheap to share behind an `Arc`.
pub struct ObjectStore {
    root: PathBuf,
    buckets: RwLock<BTreeMap<String, Bucket>>,
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

fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Copies `src` into `f`, feeding `md5`; returns the size.
pub(crate) fn copy_hashed(src: &mut impl Read, f: &mut File, md5: &mut Md5) -> io::Result<u64> {
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

/// Writes `bytes` to a new file at `path` and syncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_data()
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
        fs::create_dir_all(root)?;
        let mut buckets = BTreeMap::new();
        for entry in fs::read_dir(root)? {
            let dir = entry?.path();
            let Ok(bytes) = fs::read(dir.join("bucket.json")) else {
                continue;
            };
            let Ok(info) = serde_json::from_slice::<BucketInfo>(&bytes) else {
                tracing::warn!(dir = %dir.display(), "skipping a bucket with an unreadable record");
                continue;
            };
            let objects = load_objects(&dir.join("o"))?;
            buckets.insert(
                info.name.clone(),
                Bucket {
                    info,
                    objects,
                    dir_sync: Arc::default(),
                },
            );
        }
        Ok(ObjectStore {
            root: root.to_path_buf(),
            buckets: RwLock::new(buckets),
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
        fs::create_dir_all(dir.join("o"))?;
        fs::create_dir_all(dir.join("u"))?;
        sync_dir(&dir)?;
        let json = serde_json::to_vec(&info).map_err(io::Error::other)?;
        write_atomic(&dir.join("bucket.json"), &json)?;
        sync_dir(&self.root)?;
        buckets.insert(
            name.to_string(),
            Bucket {
                info: info.clone(),
                objects: BTreeMap::new(),
                dir_sync: Arc::default(),
            },
        );
        Ok(info)
    }

    /// DeleteBucket (only an empty one).
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        let mut buckets = self.buckets.write();
        let b = buckets
            .get(name)
            .ok_or_else(|| ObjectError::NoSuchBucket(name.to_string()))?;
        if !b.objects.is_empty() {
            return Err(ObjectError::BucketNotEmpty(name.to_string()));
        }
        let dir = self.bucket_dir(name);
        // Removing the record first makes the deletion durable even if the rest is interrupted.
        fs::remove_file(dir.join("bucket.json"))?;
        sync_dir(&dir)?;
        fs::remove_dir_all(&dir)?;
        buckets.remove(name);
        Ok(())
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
        self.put_with(bucket, key, put, |f, md5| {
            md5.update(&data);
            f.write_all(&data)?;
            Ok(data.len() as u64)
        })
    }

    /// PutObject of what `src` yields, copied into the object's data file as it is read (not
    /// held in memory); `put.data` is not used.
    pub fn put_object_from_reader(
        &self,
        bucket: &str,
        key: &str,
        mut src: impl Read,
        put: PutObject,
    ) -> Result<ObjectInfo> {
        self.put_with(bucket, key, put, |f, md5| copy_hashed(&mut src, f, md5))
    }

    /// Writes an object's data file with `write` (which feeds the MD5 and returns the size),
    /// then commits its record.
    fn put_with(
        &self,
        bucket: &str,
        key: &str,
        put: PutObject,
        write: impl FnOnce(&mut File, &mut Md5) -> io::Result<u64>,
    ) -> Result<ObjectInfo> {
        check_key(key)?;
        self.bucket(bucket)?;
        let mut md5 = Md5::new();
        let mut size = 0u64;
        let data_file = self.write_data_file(bucket, key, |f| {
            size = write(f, &mut md5)?;
            Ok(())
        })?;
        let etag = format!("\"{}\"", hex(&md5.finalize()));
        self.commit(bucket, ObjectInfo::new(key, size, etag, put, data_file))
    }

    /// CopyObject: `dst` gets `src`'s bytes, with `src`'s metadata or the given replacement.
    pub fn copy_object(
        &self,
        src: (&str, &str),
        dst: (&str, &str),
        replace: Option<PutObject>,
    ) -> Result<ObjectInfo> {
        check_key(dst.1)?;
        let from = self.head_object(src.0, src.1)?;
        self.bucket(dst.0)?;
        let src_path = self.bucket_dir(src.0).join("o").join(&from.data_file);
        let data_file = self.write_data_file(dst.0, dst.1, |f| {
            let mut r = File::open(&src_path)?;
            io::copy(&mut r, f).map(|_| ())
        })?;
        let mut info = ObjectInfo {
            key: dst.1.to_string(),
            last_modified_ms: now_ms(),
            data_file,
            ..from
        };
        if let Some(r) = replace {
            info.content_type = r.content_type;
            info.metadata = r.metadata;
            info.headers = r.headers;
        }
        self.commit(dst.0, info)
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

    /// Makes `info` (whose data file is written) the object: replaces its record atomically
    /// and durably, then removes the data file of the object it replaced. The record is
    /// written and synced outside the store's lock and the directory sync is shared with the
    /// commits around it, so concurrent PUTs proceed together.
    pub(crate) fn commit(&self, bucket: &str, info: ObjectInfo) -> Result<ObjectInfo> {
        let dir = self.bucket_dir(bucket).join("o");
        let record = serde_json::to_vec(&info).map_err(io::Error::other)?;
        let path = dir.join(format!("{}.json", key_hash(&info.key)));
        let tmp = path.with_extension(format!("{:016x}.tmp", rand::random::<u64>()));
        let abandon = |e: ObjectError| {
            let _ = fs::remove_file(&tmp);
            let _ = fs::remove_file(dir.join(&info.data_file));
            e
        };
        write_synced(&tmp, &record).map_err(|e| abandon(e.into()))?;
        let (replaced, generation, dir_sync) = {
            let mut buckets = self.buckets.write();
            let Some(b) = buckets.get_mut(bucket) else {
                return Err(abandon(ObjectError::NoSuchBucket(bucket.to_string())));
            };
            fs::rename(&tmp, &path).map_err(|e| abandon(e.into()))?;
            let replaced = b.objects.insert(info.key.clone(), info.clone());
            (replaced, b.dir_sync.note(), b.dir_sync.clone())
        };
        // If this sync fails the PUT is not acknowledged, though the new record is already
        // visible (and may or may not survive a crash), as with any failed S3 PUT; the data it
        // replaced stays on disk until the next open's orphan sweep.
        dir_sync.sync_through(generation, &dir)?;
        // Only once the new record is durable can the old data go.
        if let Some(old) = replaced {
            let _ = fs::remove_file(dir.join(old.data_file));
        }
        Ok(info)
    }

    /// HeadObject.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        let buckets = self.buckets.read();
        let b = buckets
            .get(bucket)
            .ok_or_else(|| ObjectError::NoSuchBucket(bucket.to_string()))?;
        b.objects
            .get(key)
            .cloned()
            .ok_or_else(|| ObjectError::NoSuchKey(key.to_string()))
    }

    /// GetObject: the object's bytes in `range` (inclusive; clamped to the object), or all.
    /// The object's record and its data file, open: reading the file gives this version
    /// whole even if the object is overwritten or deleted meanwhile (for streamed reads).
    pub fn open_object(&self, bucket: &str, key: &str) -> Result<(ObjectInfo, File)> {
        for _ in 0..2 {
            let info = self.head_object(bucket, key)?;
            let path = self.bucket_dir(bucket).join("o").join(&info.data_file);
            match File::open(&path) {
                Ok(f) => return Ok((info, f)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ObjectError::NoSuchKey(key.to_string()))
    }

    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<(ObjectInfo, Bytes)> {
        // A concurrent overwrite may remove the data file after the record was read: read the
        // record again and retry once.
        for _ in 0..2 {
            let info = self.head_object(bucket, key)?;
            let path = self.bucket_dir(bucket).join("o").join(&info.data_file);
            match read_range(&path, info.size, range) {
                Ok(bytes) => return Ok((info, bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ObjectError::NoSuchKey(key.to_string()))
    }

    /// DeleteObject (deleting a missing key succeeds, as in S3).
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        let dir = self.bucket_dir(bucket).join("o");
        let removed = {
            let mut buckets = self.buckets.write();
            let b = buckets
                .get_mut(bucket)
                .ok_or_else(|| ObjectError::NoSuchBucket(bucket.to_string()))?;
            match b.objects.remove(key) {
                Some(info) => {
                    fs::remove_file(dir.join(format!("{}.json", key_hash(key))))?;
                    sync_dir(&dir)?;
                    Some(info)
                }
                None => None,
            }
        };
        if let Some(info) = removed {
            let _ = fs::remove_file(dir.join(info.data_file));
        }
        Ok(())
    }

    /// ListObjects / ListObjectsV2: keys under `prefix`, rolled up at `delimiter`.
    pub fn list(&self, bucket: &str, req: &ListRequest) -> Result<ListPage> {
        let buckets = self.buckets.read();
        let b = buckets
            .get(bucket)
            .ok_or_else(|| ObjectError::NoSuchBucket(bucket.to_string()))?;
        let mut page = ListPage::default();
        let start = match &req.after {
            Some(a) if a.as_str() >= req.prefix.as_str() => std::ops::Bound::Excluded(a.clone()),
            _ => std::ops::Bound::Included(req.prefix.clone()),
        };
        let mut count = 0;
        for (key, info) in b.objects.range((start, std::ops::Bound::Unbounded)) {
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
                    page.objects.push(info.clone());
                }
            }
        }
        Ok(page)
    }
}

/// Reads bytes `range` (inclusive, clamped to `size`) of a data file.
fn read_range(path: &Path, size: u64, range: Option<(u64, u64)>) -> io::Result<Bytes> {
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let end = end.min(size.saturating_sub(1));
    if size == 0 || start > end {
        // Still check that the data file exists, so a vanished file is noticed.
        File::open(path)?;
        return Ok(Bytes::new());
    }
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut buf = vec![0u8; (end - start + 1) as usize];
    f.read_exact(&mut buf)?;
    Ok(Bytes::from(buf))
}

/// Reads a bucket's object records and removes data and temp files no record names.
fn load_objects(dir: &Path) -> Result<BTreeMap<String, ObjectInfo>> {
    let mut objects = BTreeMap::new();
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                let info: ObjectInfo = match fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                {
                    Some(i) => i,
                    None => {
                        tracing::warn!(file = %path.display(), "skipping an unreadable object record");
                        continue;
                    }
                };
                objects.insert(info.key.clone(), info);
            }
            _ => files.push(path),
        }
    }
    let referenced: std::collections::HashSet<&str> =
        objects.values().map(|o| o.data_file.as_str()).collect();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !referenced.contains(name) {
            let _ = fs::remove_file(&f);
        }
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(s: &ObjectStore, key: &str, data: &'static [u8]) -> ObjectInfo {
        s.put_object(
            "bkt",
            key,
            PutObject {
                data: Bytes::from_static(data),
                ..Default::default()
            },
        )
        .expect("put")
    }

    /// Concurrent PUTs of the same keys (sharing directory syncs): the last commit of each key
    /// wins in memory and on disk, and every replaced data file is gone.
    #[test]
    fn concurrent_puts_commit_together() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Arc::new(ObjectStore::open(dir.path()).expect("open"));
        s.create_bucket("bkt", "us-east-1").expect("bucket");
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for round in 0..20u8 {
                        for k in 0..5u8 {
                            let put = PutObject {
                                data: Bytes::from(vec![t, round, k]),
                                ..Default::default()
                            };
                            s.put_object("bkt", &format!("k{k}"), put).expect("put");
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let before: Vec<Vec<u8>> = (0..5)
            .map(|k| {
                s.get_object("bkt", &format!("k{k}"), None)
                    .expect("get")
                    .1
                    .to_vec()
            })
            .collect();
        drop(s);
        let s = ObjectStore::open(dir.path()).expect("reopen");
        for (k, data) in before.iter().enumerate() {
            let got = s.get_object("bkt", &format!("k{k}"), None).expect("get");
            assert_eq!(&got.1.to_vec(), data);
        }
        let files = fs::read_dir(dir.path().join("bkt/o"))
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "data"))
            })
            .count();
        assert_eq!(files, 5, "one data file per key");
    }

    #[test]
    fn objects_survive_reopen_and_orphans_go() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let s = ObjectStore::open(dir.path()).expect("open");
            s.create_bucket("bkt", "us-east-1").expect("bucket");
            let info = put(&s, "a/b c%.txt", b"hello");
            assert_eq!(info.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
            put(&s, "a/b c%.txt", b"hello again");
        }
        std::fs::write(dir.path().join("bkt/o/deadbeef-0000.data"), b"orphan").expect("write");
        let s = ObjectStore::open(dir.path()).expect("reopen");
        let (info, data) = s.get_object("bkt", "a/b c%.txt", None).expect("get");
        assert_eq!(&data[..], b"hello again");
        assert_eq!(info.size, 11);
        assert_eq!(
            s.get_object("bkt", "a/b c%.txt", Some((6, 10)))
                .expect("range")
                .1
                .as_ref(),
            b"again"
        );
        let files = std::fs::read_dir(dir.path().join("bkt/o"))
            .expect("dir")
            .count();
        assert_eq!(files, 2, "one record and one data file");
    }

    #[test]
    fn listing_with_prefix_delimiter_and_pages() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = ObjectStore::open(dir.path()).expect("open");
        s.create_bucket("bkt", "us-east-1").expect("bucket");
        for k in ["a/1", "a/2", "b/1", "b/2/x", "c", "d"] {
            put(&s, k, b"x");
        }
        let req =
            |prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: usize| ListRequest {
                prefix: prefix.into(),
                delimiter: delimiter.map(Into::into),
                after: after.map(Into::into),
                max_keys: max,
            };
        let p = s
            .list("bkt", &req("", Some("/"), None, 1000))
            .expect("list");
        assert_eq!(p.common_prefixes, ["a/", "b/"]);
        assert_eq!(
            p.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
            ["c", "d"]
        );
        let p = s.list("bkt", &req("", Some("/"), None, 2)).expect("page 1");
        assert_eq!(
            (p.common_prefixes.len(), p.is_truncated, p.last.as_deref()),
            (2, true, Some("b/"))
        );
        let p = s
            .list("bkt", &req("", Some("/"), Some("b/"), 2))
            .expect("page 2");
        assert_eq!(p.objects.len(), 2);
        assert!(!p.is_truncated);
        let p = s.list("bkt", &req("b/", None, None, 1000)).expect("prefix");
        assert_eq!(p.objects.len(), 2);
        assert!(matches!(
            s.delete_bucket("bkt"),
            Err(ObjectError::BucketNotEmpty(_))
        ));
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my.bucket-1", "a1b"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "a_b",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
