//! Firehose through the AWS SDK for Rust: the control plane, validation, and delivery into
//! Weir's S3 checked byte for byte. Shared helpers live here; tests by area in the submodules.

mod control;
mod delivery;
mod endpoint;
mod processing;
mod sources;

pub use std::io::Read;

pub use aws_sdk_firehose::primitives::Blob;
pub use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, ExtendedS3DestinationConfiguration,
    ExtendedS3DestinationUpdate, ProcessingConfiguration, Processor, ProcessorParameter,
    ProcessorParameterName, ProcessorType, Record, Tag,
};

pub use crate::harness::{code, firehose_client, TestServer};
pub use crate::s3::{make_bucket, s3};

pub const ROLE: &str = "arn:aws:iam::000000000000:role/firehose";

/// PutRecordBatch of `records`; every one must be accepted.
pub async fn put_batch<D: AsRef<[u8]>>(
    fh: &aws_sdk_firehose::Client,
    name: &str,
    records: impl IntoIterator<Item = D>,
) {
    let records = records
        .into_iter()
        .map(|d| {
            Record::builder()
                .data(Blob::new(d.as_ref().to_vec()))
                .build()
                .expect("record")
        })
        .collect();
    let out = fh
        .put_record_batch()
        .delivery_stream_name(name)
        .set_records(Some(records))
        .send()
        .await
        .expect("batch");
    assert_eq!(out.failed_put_count(), 0);
}

pub fn destination(
    bucket: &str,
) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
}

fn append_delimiter() -> Processor {
    Processor::builder()
        .r#type(ProcessorType::AppendDelimiterToRecord)
        .build()
        .expect("processor")
}

pub fn newline_delimiter() -> ProcessingConfiguration {
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(append_delimiter())
        .build()
}

/// `first` (a Lambda, say), then a newline after each record.
pub fn then_newline(first: Processor) -> ProcessingConfiguration {
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(first)
        .processors(append_delimiter())
        .build()
}

pub async fn keys(c: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pages = c
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        out.extend(
            p.expect("list")
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    out
}

pub async fn object(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> (Vec<u8>, Option<String>) {
    let got = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    let enc = got.content_encoding().map(str::to_string);
    (got.body.collect().await.expect("body").to_vec(), enc)
}

pub fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// Checks `<prefix><name>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><ext>` and returns the prefix.
pub fn split_key<'a>(key: &'a str, name: &str, version: u32, ext: &str) -> &'a str {
    let rest = key
        .strip_suffix(ext)
        .unwrap_or_else(|| panic!("{key} ends with {ext}"));
    let marker = format!("{name}-{version}-");
    let at = rest
        .rfind(&marker)
        .unwrap_or_else(|| panic!("{key} has {marker}"));
    let tail = &rest[at + marker.len()..];
    let (when, uuid) = tail.split_at(19);
    assert_eq!(when.len(), 19, "{key}");
    assert!(
        when.bytes()
            .enumerate()
            .all(|(i, b)| if [4, 7, 10, 13, 16].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }),
        "{key}"
    );
    let uuid = uuid.strip_prefix('-').unwrap_or_else(|| panic!("{key}"));
    assert_eq!(uuid.len(), 36, "{key}");
    assert_eq!(uuid.matches('-').count(), 4, "{key}");
    &key[..at]
}

pub fn gunzip_if(b: &[u8]) -> Vec<u8> {
    if b.starts_with(&[0x1f, 0x8b]) {
        gunzip(b)
    } else {
        b.to_vec()
    }
}

pub fn param(name: ProcessorParameterName, value: &str) -> ProcessorParameter {
    ProcessorParameter::builder()
        .parameter_name(name)
        .parameter_value(value)
        .build()
        .expect("parameter")
}

pub fn partitioning_processors(query: &str) -> ProcessingConfiguration {
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::RecordDeAggregation)
                .parameters(param(ProcessorParameterName::SubRecordType, "JSON"))
                .build()
                .expect("p"),
        )
        .processors(
            Processor::builder()
                .r#type(ProcessorType::MetadataExtraction)
                .parameters(param(
                    ProcessorParameterName::MetadataExtractionQuery,
                    query,
                ))
                .parameters(param(ProcessorParameterName::JsonParsingEngine, "JQ-1.6"))
                .build()
                .expect("p"),
        )
        .processors(
            Processor::builder()
                .r#type(ProcessorType::AppendDelimiterToRecord)
                .build()
                .expect("p"),
        )
        .build()
}

/// A KPL aggregate: magic, protobuf AggregatedRecord, MD5 of the protobuf.
pub fn kpl_aggregate(records: &[&[u8]]) -> Vec<u8> {
    use md5::Digest as _;
    fn ld(field: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3) | 2];
        let mut n = bytes.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(bytes);
        v
    }
    let mut body = ld(1, b"pk");
    for r in records {
        let mut rec = vec![0x08, 0x00];
        rec.extend(ld(3, r));
        body.extend(ld(3, &rec));
    }
    let mut out = vec![0xF3, 0x89, 0x9A, 0xC2];
    out.extend_from_slice(&body);
    out.extend_from_slice(&md5::Md5::digest(&body));
    out
}

/// Asks a (child-process) server to deliver a delivery stream's buffers now.
pub async fn flush_over_http(endpoint: &str, name: &str) {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let req = http::Request::post(format!("{endpoint}/_weir/firehose/us-east-1/{name}/flush"))
        .body(Full::new(bytes::Bytes::new()))
        .expect("request");
    let resp = client.request(req).await.expect("flush");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}
