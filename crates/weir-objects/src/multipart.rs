//! Multipart uploads. An upload lives in `objects/<bucket>/u/<upload id>/`: `upload.json` (key
//! and the object's metadata) and per part `<n>.part` with `<n>.json` (its ETag and size).
//! Completing concatenates the named parts into a new data file and commits it like any PUT, so
//! an upload that crashes before completing never becomes visible.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::error::{ObjectError, Result};
use crate::store::{
    copy_hashed, hex, now_ms, quoted_md5, sync_dir, write_atomic, write_atomic_with, ObjectInfo,
    ObjectStore, PutObject,
};

/// Every part but the last must be at least this large.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// Part numbers run from 1 to this.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// An upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadInfo {
    pub upload_id: String,
    pub key: String,
    pub initiated_ms: i64,
    pub content_type: Option<String>,
    pub metadata: std::collections::BTreeMap<String, String>,
    pub headers: std::collections::BTreeMap<String, String>,
}

/// A stored part.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartInfo {
    pub number: u32,
    /// Quoted MD5 of the part.
    pub etag: String,
    pub size: u64,
    pub last_modified_ms: i64,
}

impl ObjectStore {
    fn upload_dir(&self, bucket: &str, upload_id: &str) -> Result<PathBuf> {
        if upload_id.is_empty() || !upload_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ObjectError::NoSuchUpload(upload_id.to_string()));
        }
        Ok(self.bucket_dir(bucket).join("u").join(upload_id))
    }

    /// The upload's record, checked to belong to `key`.
    pub fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadInfo> {
        self.bucket(bucket)?;
        let dir = self.upload_dir(bucket, upload_id)?;
        let info: UploadInfo = fs::read(dir.join("upload.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| ObjectError::NoSuchUpload(upload_id.to_string()))?;
        if info.key != key {
            return Err(ObjectError::NoSuchUpload(upload_id.to_string()));
        }
        Ok(info)
    }

    /// CreateMultipartUpload.
    pub fn create_upload(&self, bucket: &str, key: &str, meta: PutObject) -> Result<UploadInfo> {
        self.bucket(bucket)?;
        let upload_id = format!("{:032x}", rand::random::<u128>());
        let dir = self.upload_dir(bucket, &upload_id)?;
        fs::create_dir_all(&dir)?;
        let info = UploadInfo {
            upload_id,
            key: key.to_string(),
            initiated_ms: now_ms(),
            content_type: meta.content_type,
            metadata: meta.metadata,
            headers: meta.headers,
        };
        write_atomic(
            &dir.join("upload.json"),
            &serde_json::to_vec(&info).map_err(io::Error::other)?,
        )?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(info)
    }

    /// UploadPart: stores part `number` durably; returns it.
    pub fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        data: &[u8],
    ) -> Result<PartInfo> {
        self.upload_part_from_reader(bucket, key, upload_id, number, data)
    }

    /// UploadPart of what `src` yields, written to the part's file as it is read.
    pub fn upload_part_from_reader(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        mut src: impl Read,
    ) -> Result<PartInfo> {
        if !(1..=MAX_PART_NUMBER).contains(&number) {
            return Err(ObjectError::InvalidArgument(format!(
                "Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive"
            )));
        }
        self.upload(bucket, key, upload_id)?;
        let dir = self.upload_dir(bucket, upload_id)?;
        let mut md5 = Md5::new();
        let mut size = 0;
        write_atomic_with(&dir.join(format!("{number}.part")), |f| {
            size = copy_hashed(&mut src, f, &mut md5)?;
            Ok(())
        })?;
        let part = PartInfo {
            number,
            etag: quoted_md5(md5),
            size,
            last_modified_ms: now_ms(),
        };
        write_atomic(
            &dir.join(format!("{number}.json")),
            &serde_json::to_vec(&part).map_err(io::Error::other)?,
        )?;
        Ok(part)
    }

    /// ListParts: the parts stored so far, by number.
    pub fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<PartInfo>> {
        self.upload(bucket, key, upload_id)?;
        let dir = self.upload_dir(bucket, upload_id)?;
        let mut parts: Vec<PartInfo> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.ends_with(".json") && n != "upload.json"
            })
            .filter_map(|e| {
                fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// ListMultipartUploads: uploads in progress under `prefix`, by key then start time.
    pub fn list_uploads(&self, bucket: &str, prefix: &str) -> Result<Vec<UploadInfo>> {
        self.bucket(bucket)?;
        let dir = self.bucket_dir(bucket).join("u");
        let mut ups: Vec<UploadInfo> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| fs::read(e.path().join("upload.json")).ok())
                .filter_map(|b| serde_json::from_slice::<UploadInfo>(&b).ok())
                .filter(|u| u.key.starts_with(prefix))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        ups.sort_by(|a, b| (&a.key, a.initiated_ms).cmp(&(&b.key, b.initiated_ms)));
        Ok(ups)
    }

    /// AbortMultipartUpload.
    pub fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        self.upload(bucket, key, upload_id)?;
        fs::remove_dir_all(self.upload_dir(bucket, upload_id)?)?;
        Ok(())
    }

    /// CompleteMultipartUpload with the client's (part number, ETag) list.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        chosen: &[(u32, String)],
    ) -> Result<ObjectInfo> {
        let upload = self.upload(bucket, key, upload_id)?;
        let stored = self.list_parts(bucket, key, upload_id)?;
        if chosen.is_empty() {
            return Err(ObjectError::InvalidArgument(
                "You must specify at least one part".into(),
            ));
        }
        if chosen.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(ObjectError::InvalidPartOrder);
        }
        let mut parts = Vec::with_capacity(chosen.len());
        for (number, etag) in chosen {
            let p = stored
                .iter()
                .find(|p| p.number == *number && p.etag.trim_matches('"') == etag.trim_matches('"'))
                .ok_or_else(|| ObjectError::InvalidPart(format!("part {number}")))?;
            parts.push(p.clone());
        }
        if parts[..parts.len() - 1]
            .iter()
            .any(|p| p.size < MIN_PART_BYTES)
        {
            return Err(ObjectError::EntityTooSmall);
        }
        let dir = self.upload_dir(bucket, upload_id)?;
        let data_file = self.write_data_file(bucket, key, |f: &mut File| {
            for p in &parts {
                let mut r = File::open(dir.join(format!("{}.part", p.number)))?;
                io::copy(&mut r, f)?;
            }
            f.flush()
        })?;
        // S3's multipart ETag: MD5 of the parts' binary MD5s, then "-<number of parts>".
        let mut md5s = Vec::with_capacity(parts.len() * 16);
        for p in &parts {
            let h = p.etag.trim_matches('"');
            for i in (0..h.len()).step_by(2) {
                md5s.push(u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0));
            }
        }
        let info = ObjectInfo::new(
            key,
            parts.iter().map(|p| p.size).sum(),
            format!("\"{}-{}\"", hex(&Md5::digest(&md5s)), parts.len()),
            PutObject {
                content_type: upload.content_type,
                metadata: upload.metadata,
                headers: upload.headers,
                ..PutObject::default()
            },
            data_file,
        );
        let info = self.commit(bucket, info, None)?;
        fs::remove_dir_all(&dir)?;
        Ok(info)
    }
}
