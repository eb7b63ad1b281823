//! Reading an S3 target: the objects under the include path (less the excluded, hidden and
//! empty ones), each classified from as few bytes as its format needs — an Avro header, an ORC
//! or Parquet footer, or a sample of a text file's start (gzip, bzip2 and zstd decompressed).

use std::io::Read;

use weir_objects::Objects;

use crate::formats::{self, Magic};
use crate::glob::Glob;
use crate::plan::FileFacts;
use crate::text::{self, Text, SAMPLE_BYTES};

/// Bytes of an ORC file's end read for its metadata (orc-rust asks for 16 KiB first).
const ORC_TAIL: u64 = 256 << 10;
/// Bytes of an Avro file's start read for its header.
const AVRO_HEAD: u64 = 64 << 10;

/// An S3 target as the crawl sees it.
#[derive(Debug, Clone)]
pub struct Target {
    pub bucket: String,
    /// The include path's key prefix (`""`, `sales/`, or one object's key).
    pub prefix: String,
    pub exclusions: Vec<Glob>,
    /// Files read per leaf folder (all when `None`).
    pub sample_size: Option<usize>,
}

impl Target {
    /// `s3://bucket/path` (or `bucket/path`) with its exclude patterns.
    pub fn parse(
        path: &str,
        exclusions: &[String],
        sample_size: Option<usize>,
    ) -> Result<Target, String> {
        let rest = path.strip_prefix("s3://").unwrap_or(path);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("Invalid S3 target path: {path}"));
        }
        Ok(Target {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            exclusions: exclusions
                .iter()
                .map(|e| Glob::new(e))
                .collect::<Result<_, _>>()?,
            sample_size,
        })
    }

    /// The folder the include path names (the bucket for the whole bucket).
    pub fn root_name(&self) -> &str {
        self.prefix
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.bucket)
    }

    /// `s3://bucket/prefix/`: the include path as a folder, which table locations start with.
    pub fn base(&self) -> String {
        if self.prefix.is_empty() || self.prefix.ends_with('/') {
            format!("s3://{}/{}", self.bucket, self.prefix)
        } else {
            format!("s3://{}/{}/", self.bucket, self.prefix)
        }
    }

    /// Where a key below the include path starts its relative part.
    fn relative<'a>(&self, key: &'a str) -> Option<&'a str> {
        let rel = key.strip_prefix(&self.prefix)?;
        if self.prefix.is_empty() || self.prefix.ends_with('/') {
            return Some(rel);
        }
        // A prefix that is not a folder: the object itself, or a folder of that name.
        if rel.is_empty() {
            return key.rsplit('/').next();
        }
        rel.strip_prefix('/')
    }
}

/// Objects a crawler skips: folder markers, Hadoop/Spark/Athena bookkeeping, hidden files.
fn ignored(rel: &str, size: u64) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    size == 0
        || rel.ends_with('/')
        || name.ends_with("$folder$")
        || name.starts_with('_')
        || name.starts_with('.')
        || name.ends_with(".crc")
        || name.ends_with(".metadata")
        || name.ends_with("-manifest.csv")
}

/// Decompresses a sample's start as far as it goes (a cut stream ends the sample).
fn decompress(head: &[u8]) -> (Vec<u8>, &'static str) {
    let mut out = Vec::new();
    let limit = SAMPLE_BYTES as u64;
    let kind = if head.starts_with(&[0x1f, 0x8b]) {
        let _ = flate2::read::MultiGzDecoder::new(head)
            .take(limit)
            .read_to_end(&mut out);
        "gzip"
    } else if head.starts_with(b"BZh") {
        let _ = bzip2::read::MultiBzDecoder::new(head)
            .take(limit)
            .read_to_end(&mut out);
        "bzip2"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        if let Ok(d) = zstd::stream::read::Decoder::new(head) {
            let _ = d.take(limit).read_to_end(&mut out);
        }
        "zstd"
    } else {
        out.extend_from_slice(&head[..head.len().min(SAMPLE_BYTES)]);
        "none"
    };
    (out, kind)
}

/// The last `n` bytes of a file of `size` bytes whose first bytes `head` holds: taken from
/// `head` when it is the whole file, read otherwise.
async fn tail(
    objects: &Objects,
    bucket: &str,
    key: &str,
    size: u64,
    head: &[u8],
    n: u64,
) -> Vec<u8> {
    if head.len() as u64 == size {
        return head[head.len().saturating_sub(n as usize)..].to_vec();
    }
    range(objects, bucket, key, size - n, n).await
}

async fn range(objects: &Objects, bucket: &str, key: &str, start: u64, len: u64) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    objects
        .get_range(bucket, key, start, start + len - 1)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// What one object is.
pub async fn classify(
    objects: &Objects,
    bucket: &str,
    key: &str,
    rel: &str,
    size: u64,
) -> FileFacts {
    let mut facts = FileFacts {
        rel: rel.to_string(),
        size,
        class: "UNKNOWN".into(),
        compression: "none".into(),
        layout: String::new(),
        columns: Vec::new(),
        records: 0,
    };
    let head_len = size.min(SAMPLE_BYTES as u64);
    let mut head = range(objects, bucket, key, 0, head_len.min(AVRO_HEAD)).await;
    let described = match formats::magic(&head) {
        Some(Magic::Avro) => formats::avro(&head).map(|d| ("avro", d)),
        Some(Magic::Parquet) => {
            // Most footers fit in the last 64 KiB: one read, and a second only for a big one.
            let last = tail(objects, bucket, key, size, &head, size.min(AVRO_HEAD)).await;
            match formats::parquet_footer_len(&last[last.len().saturating_sub(8)..]) {
                Some(n) if n <= last.len() as u64 => {
                    formats::parquet(&last[last.len() - n as usize..]).map(|d| ("parquet", d))
                }
                Some(n) if n <= size => {
                    formats::parquet(&tail(objects, bucket, key, size, &head, n).await)
                        .map(|d| ("parquet", d))
                }
                _ => Err("no Parquet footer".into()),
            }
        }
        Some(Magic::Orc) => formats::orc(
            size,
            tail(objects, bucket, key, size, &head, size.min(ORC_TAIL))
                .await
                .into(),
        )
        .map(|d| ("orc", d)),
        None => Err(String::new()),
    };
    match described {
        Ok((class, d)) => {
            facts.class = class.into();
            facts.columns = d.columns;
            facts.records = d.rows.unwrap_or(0);
            if let Some(s) = d.avro_schema {
                facts.layout = s;
            }
            return facts;
        }
        Err(e) if !e.is_empty() => {
            tracing::debug!(bucket, key, error = %e, "crawler could not read the file's schema");
            return facts;
        }
        Err(_) => {}
    }
    if head_len > head.len() as u64 {
        // Text needs a bigger sample: read on from where the first read ended.
        let more = range(
            objects,
            bucket,
            key,
            head.len() as u64,
            head_len - head.len() as u64,
        );
        head.extend(more.await);
    }
    let (sample, compression) = decompress(&head);
    let truncated = (head.len() as u64) < size || sample.len() >= SAMPLE_BYTES;
    facts.compression = compression.into();
    let (records, bytes) = match text::classify(&sample, truncated) {
        Some(Text::Json {
            columns,
            records,
            bytes,
        }) => {
            facts.class = "json".into();
            facts.columns = columns;
            (records, bytes)
        }
        Some(Text::Csv(c)) => {
            facts.class = "csv".into();
            facts.layout = crate::plan::csv_layout(c.delimiter, c.quoted, c.header);
            facts.columns = c.columns;
            (c.records, c.bytes)
        }
        None => return facts,
    };
    // Records in the whole file, estimated from the sample's share of it.
    let share = if compression == "none" {
        bytes.max(1) as f64
    } else {
        head.len().max(1) as f64
    };
    facts.records = (records as f64 * (size as f64 / share).max(1.0)).round() as u64;
    facts
}

/// The objects under the target to classify, as (key, key relative to the include path, size),
/// at most `sample_size` per folder.
pub async fn list(objects: &Objects, t: &Target) -> Result<Vec<(String, String, u64)>, String> {
    let listed = objects
        .list_objects(&t.bucket, &t.prefix)
        .await
        .map_err(|e| format!("Unable to list s3://{}/{}: {e}", t.bucket, t.prefix))?;
    let mut out = Vec::new();
    let mut per_folder: std::collections::HashMap<String, usize> = Default::default();
    for o in listed {
        let Some(rel) = t.relative(&o.key) else {
            continue;
        };
        if ignored(rel, o.size) || t.exclusions.iter().any(|g| g.matches(rel)) {
            continue;
        }
        if let Some(n) = t.sample_size {
            let folder = rel.rsplit_once('/').map_or("", |(f, _)| f).to_string();
            let seen = per_folder.entry(folder).or_default();
            if *seen >= n {
                continue;
            }
            *seen += 1;
        }
        out.push((o.key.clone(), rel.to_string(), o.size));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_ignored_objects() {
        let t = Target::parse("s3://b/data/sales/", &["**.tmp".into()], None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.bucket.as_str(), t.prefix.as_str(), t.root_name()),
            ("b", "data/sales/", "sales")
        );
        assert_eq!(t.relative("data/sales/x/y.json"), Some("x/y.json"));
        let t = Target::parse("s3://b/data/sales", &[], None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.relative("data/sales/x.json"), Some("x.json"));
        assert_eq!(t.relative("data/salesman/x.json"), None);
        let t = Target::parse("s3://bucket", &[], None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.root_name(), "bucket");
        assert!(ignored("a/_SUCCESS", 3) && ignored("a/.hidden", 3) && ignored("a/x.json", 0));
        assert!(!ignored("a/x.json", 3));
        let (out, kind) = decompress(b"plain");
        assert_eq!((out.as_slice(), kind), (&b"plain"[..], "none"));
    }
}
