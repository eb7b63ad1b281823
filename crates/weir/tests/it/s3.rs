//! The S3 front door through the AWS SDK for Rust (path-style addressing).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::harness::TestServer;

pub fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .force_path_style(true)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub async fn make_bucket(c: &aws_sdk_s3::Client, name: &str) {
    c.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
}

async fn exists(c: &aws_sdk_s3::Client, bucket: &str, key: impl Into<String>) -> bool {
    c.head_object().bucket(bucket).key(key).send().await.is_ok()
}

pub fn code<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => e.code().unwrap_or("?").to_string(),
        None => format!("not a service error: {err:?}"),
    }
}

#[tokio::test]
async fn buckets() {
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "alpha").await;
    c.create_bucket()
        .bucket("beta")
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("create in eu-west-1");
    let names: Vec<_> = c
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    c.head_bucket().bucket("alpha").send().await.expect("head");
    let loc = c
        .get_bucket_location()
        .bucket("beta")
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    let err = c
        .create_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect_err("again");
    assert_eq!(code(&err), "BucketAlreadyOwnedByYou");
    let err = c
        .create_bucket()
        .bucket("Bad_Name")
        .send()
        .await
        .expect_err("invalid");
    assert_eq!(code(&err), "InvalidBucketName");
    c.put_object()
        .bucket("alpha")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let err = c
        .delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(code(&err), "BucketNotEmpty");
    c.delete_object()
        .bucket("alpha")
        .key("k")
        .send()
        .await
        .expect("delete object");
    c.delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect("delete bucket");
    let err = c
        .head_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect_err("gone");
    assert!(err.into_service_error().is_not_found());
}

#[tokio::test]
async fn objects_round_trip_with_metadata_ranges_and_conditions() {
    let mut t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "data").await;
    let keys = [
        "plain",
        "dir/sub/file.json",
        "spaces and %percent+plus",
        "ünïcødé/ключ",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("object {i}: {}", "z".repeat(1000 * i));
        let put = c
            .put_object()
            .bucket("data")
            .key(*key)
            .content_type("application/json")
            .metadata("origin", "test")
            .body(ByteStream::from(body.clone().into_bytes()))
            .send()
            .await
            .expect("put");
        let md5 = format!("\"{:x}\"", md5::Md5::digest(body.as_bytes()));
        assert_eq!(put.e_tag(), Some(md5.as_str()));
    }
    t.restart().await;
    let c = s3(&t.endpoint());
    for (i, key) in keys.iter().enumerate() {
        let got = c
            .get_object()
            .bucket("data")
            .key(*key)
            .send()
            .await
            .expect("get");
        assert_eq!(got.content_type(), Some("application/json"));
        assert_eq!(
            got.metadata()
                .and_then(|m| m.get("origin"))
                .map(String::as_str),
            Some("test")
        );
        let body = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(
            body,
            format!("object {i}: {}", "z".repeat(1000 * i)).into_bytes()
        );
    }
    let head = c
        .head_object()
        .bucket("data")
        .key("dir/sub/file.json")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(1010));
    let part = c
        .get_object()
        .bucket("data")
        .key("dir/sub/file.json")
        .range("bytes=3-8")
        .send()
        .await
        .expect("range");
    assert_eq!(part.content_range(), Some("bytes 3-8/1010"));
    assert_eq!(
        part.body.collect().await.expect("b").into_bytes().as_ref(),
        b"ect 1:"
    );
    let err = c
        .get_object()
        .bucket("data")
        .key("plain")
        .range("bytes=500-")
        .send()
        .await
        .expect_err("past the end");
    assert_eq!(code(&err), "InvalidRange");
    let etag = head.e_tag().expect("etag").to_string();
    let err = c
        .get_object()
        .bucket("data")
        .key("dir/sub/file.json")
        .if_match("\"not-it\"")
        .send()
        .await
        .expect_err("precondition");
    assert_eq!(code(&err), "PreconditionFailed");
    c.get_object()
        .bucket("data")
        .key("dir/sub/file.json")
        .if_match(&etag)
        .send()
        .await
        .expect("matching etag");
    let err = c
        .get_object()
        .bucket("data")
        .key("missing")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&err), "NoSuchKey");
    let err = c
        .get_object()
        .bucket("nope")
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(code(&err), "NoSuchBucket");
    c.delete_object()
        .bucket("data")
        .key("plain")
        .send()
        .await
        .expect("delete");
    c.delete_object()
        .bucket("data")
        .key("plain")
        .send()
        .await
        .expect("deleting twice is fine");
    assert!(!exists(&c, "data", "plain").await);
}

use md5::Digest as _;

#[tokio::test]
async fn listing_with_delimiters_and_pages() {
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "lst").await;
    let mut keys: Vec<String> = (0..25).map(|i| format!("logs/2025/{i:02}.log")).collect();
    keys.extend(["logs/readme", "top-a", "top-b", "x/y/z"].map(String::from));
    for k in &keys {
        c.put_object()
            .bucket("lst")
            .key(k)
            .body(ByteStream::from_static(b"1"))
            .send()
            .await
            .expect("put");
    }
    let root = c
        .list_objects_v2()
        .bucket("lst")
        .delimiter("/")
        .send()
        .await
        .expect("root");
    let prefixes: Vec<_> = root
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["logs/", "x/"]);
    let top: Vec<_> = root.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(top, ["top-a", "top-b"]);
    assert_eq!(root.key_count(), Some(4));
    // Pages of 10 under a prefix, following continuation tokens.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket("lst")
            .prefix("logs/2025/")
            .max_keys(10)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("page");
        all.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_string);
    }
    assert_eq!(all, keys[..25].to_vec());
    let after = c
        .list_objects_v2()
        .bucket("lst")
        .start_after("top-a")
        .send()
        .await
        .expect("after");
    let rest: Vec<_> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(rest, ["top-b", "x/y/z"]);
    // ListObjects v1 with a marker.
    let v1 = c
        .list_objects()
        .bucket("lst")
        .marker("logs/readme")
        .max_keys(2)
        .send()
        .await
        .expect("v1");
    let v1_keys: Vec<_> = v1.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(v1_keys, ["top-a", "top-b"]);
    assert_eq!(v1.is_truncated(), Some(true));
    // The paginator walks everything.
    let mut n = 0;
    let mut pages = c
        .list_objects_v2()
        .bucket("lst")
        .max_keys(7)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        n += p.expect("page").contents().len();
    }
    assert_eq!(n, keys.len());
}

#[tokio::test]
async fn multipart_uploads() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "mpu").await;
    let up = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("big/file.bin")
        .content_type("application/octet-stream")
        .metadata("kind", "multipart")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id").to_string();
    let sizes = [5 * 1024 * 1024 + 3, 5 * 1024 * 1024, 1234];
    let mut completed = Vec::new();
    let mut all = Vec::new();
    let mut md5s = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..*size).map(|j| ((j * 7 + i) % 251) as u8).collect();
        md5s.extend_from_slice(&md5::Md5::digest(&data));
        all.extend_from_slice(&data);
        let part = c
            .upload_part()
            .bucket("mpu")
            .key("big/file.bin")
            .upload_id(&id)
            .part_number(i as i32 + 1)
            .body(ByteStream::from(data))
            .send()
            .await
            .expect("upload part");
        completed.push(
            CompletedPart::builder()
                .part_number(i as i32 + 1)
                .set_e_tag(part.e_tag().map(str::to_string))
                .build(),
        );
    }
    let parts = c
        .list_parts()
        .bucket("mpu")
        .key("big/file.bin")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(parts.parts().len(), 3);
    let ups = c
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .expect("list uploads");
    assert_eq!(ups.uploads().len(), 1);
    // Not visible before completion.
    assert!(!exists(&c, "mpu", "big/file.bin").await);
    // A wrong ETag is an InvalidPart; completing with only the small part first is too small.
    let bad = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag("\"0000\"")
                .build(),
        )
        .build();
    let err = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big/file.bin")
        .upload_id(&id)
        .multipart_upload(bad)
        .send()
        .await
        .expect_err("bad etag");
    assert_eq!(code(&err), "InvalidPart");
    let done = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big/file.bin")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let expected_etag = format!("\"{:x}-3\"", md5::Md5::digest(&md5s));
    assert_eq!(done.e_tag(), Some(expected_etag.as_str()));
    let got = c
        .get_object()
        .bucket("mpu")
        .key("big/file.bin")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("kind"))
            .map(String::as_str),
        Some("multipart")
    );
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        all.as_slice()
    );
    assert!(c
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .expect("list")
        .uploads()
        .is_empty());

    // Aborting leaves nothing behind.
    let up = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("gone")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id").to_string();
    c.upload_part()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("part");
    // Parts other than the last must be at least 5 MiB.
    let p2 = c
        .upload_part()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"y"))
        .send()
        .await
        .expect("part 2");
    let listed = c
        .list_parts()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .send()
        .await
        .expect("parts");
    let small: Vec<CompletedPart> = listed
        .parts()
        .iter()
        .map(|p| {
            CompletedPart::builder()
                .set_part_number(p.part_number())
                .set_e_tag(p.e_tag().map(str::to_string))
                .build()
        })
        .collect();
    assert_eq!(small.len(), 2);
    assert!(p2.e_tag().is_some());
    let err = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(small))
                .build(),
        )
        .send()
        .await
        .expect_err("too small");
    assert_eq!(code(&err), "EntityTooSmall");
    c.abort_multipart_upload()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .send()
        .await
        .expect("abort");
    let err = c
        .list_parts()
        .bucket("mpu")
        .key("gone")
        .upload_id(&id)
        .send()
        .await
        .expect_err("aborted");
    assert_eq!(code(&err), "NoSuchUpload");
    assert!(!exists(&c, "mpu", "gone").await);
}

#[tokio::test]
async fn copy_and_delete_objects() {
    use aws_sdk_s3::types::{Delete, MetadataDirective, ObjectIdentifier};
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "src").await;
    make_bucket(&c, "dst").await;
    c.put_object()
        .bucket("src")
        .key("a b/orig")
        .metadata("m", "1")
        .body(ByteStream::from_static(b"copy me"))
        .send()
        .await
        .expect("put");
    let copied = c
        .copy_object()
        .bucket("dst")
        .key("copy")
        .copy_source("src/a%20b/orig")
        .send()
        .await
        .expect("copy");
    assert!(copied
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .is_some());
    let got = c
        .get_object()
        .bucket("dst")
        .key("copy")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        got.body.collect().await.expect("b").into_bytes().as_ref(),
        b"copy me"
    );
    c.copy_object()
        .bucket("dst")
        .key("replaced")
        .copy_source("src/a%20b/orig")
        .metadata_directive(MetadataDirective::Replace)
        .metadata("m", "2")
        .send()
        .await
        .expect("copy with new metadata");
    let head = c
        .head_object()
        .bucket("dst")
        .key("replaced")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("2")
    );

    for k in ["k1", "k2", "k&3"] {
        c.put_object()
            .bucket("dst")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let ids: Vec<_> = ["k1", "k2", "k&3", "never-existed"]
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build().expect("id"))
        .collect();
    let out = c
        .delete_objects()
        .bucket("dst")
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    assert_eq!(out.deleted().len(), 4);
    assert!(out.errors().is_empty());
    let left: Vec<_> = c
        .list_objects_v2()
        .bucket("dst")
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert_eq!(left, ["copy", "replaced"]);
}

#[tokio::test]
async fn virtual_hosted_style_addressing() {
    use http_body_util::{BodyExt, Full};
    let t = TestServer::start().await;
    s3(&t.endpoint())
        .create_bucket()
        .bucket("vhost")
        .send()
        .await
        .expect("create");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let port = t.endpoint().rsplit(':').next().expect("port").to_string();
    let put = http::Request::put(format!("{}/dir/obj.txt", t.endpoint()))
        .header("host", format!("vhost.localhost:{port}"))
        .body(Full::new(bytes::Bytes::from_static(b"hosted")))
        .expect("request");
    assert_eq!(client.request(put).await.expect("put").status(), 200);
    let get = http::Request::get(format!("{}/vhost/dir/obj.txt", t.endpoint()))
        .body(Full::new(bytes::Bytes::new()))
        .expect("request");
    let resp = client.request(get).await.expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .as_ref(),
        b"hosted"
    );
}

/// `kill -9` while objects are being written: every acknowledged object survives whole, and an
/// unfinished multipart upload never becomes an object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_objects_survive_sigkill() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().expect("tmp");
    let mut server = crate::crash::spawn_server(dir.path());
    s3(&server.endpoint)
        .create_bucket()
        .bucket("crash")
        .send()
        .await
        .expect("create");
    type Acked = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let acked: Acked = Arc::default();
    for cycle in 0..3u32 {
        let c = s3(&server.endpoint);
        let up = c
            .create_multipart_upload()
            .bucket("crash")
            .key(format!("unfinished-{cycle}"))
            .send()
            .await
            .expect("mpu");
        c.upload_part()
            .bucket("crash")
            .key(format!("unfinished-{cycle}"))
            .upload_id(up.upload_id().expect("id"))
            .part_number(1)
            .body(ByteStream::from(vec![9u8; 1000]))
            .send()
            .await
            .expect("part");
        let mut writers = Vec::new();
        for w in 0..4u32 {
            let (c, acked) = (c.clone(), acked.clone());
            writers.push(tokio::spawn(async move {
                for n in 0u32.. {
                    let key = format!("c{cycle}/w{w}/n{n}");
                    // Overwrites too: the same key rewritten must read back as its last acked body.
                    let body =
                        format!("{key}:{}", "v".repeat((n as usize * 131) % 70_000)).into_bytes();
                    match c
                        .put_object()
                        .bucket("crash")
                        .key(&key)
                        .body(ByteStream::from(body.clone()))
                        .send()
                        .await
                    {
                        Ok(_) => acked.lock().expect("lock").push((key, body)),
                        Err(_) => return,
                    }
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            50 + rand::random::<u64>() % 200,
        ))
        .await;
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        for w in writers {
            let _ = w.await;
        }
        server = crate::crash::spawn_server(dir.path());
        let c = s3(&server.endpoint);
        let acked_now = acked.lock().expect("lock").clone();
        for (key, body) in acked_now {
            let got = c
                .get_object()
                .bucket("crash")
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{key} lost: {e:?}"));
            assert_eq!(
                got.body
                    .collect()
                    .await
                    .expect("body")
                    .into_bytes()
                    .as_ref(),
                body.as_slice(),
                "{key} intact"
            );
        }
        assert!(
            !exists(&c, "crash", format!("unfinished-{cycle}")).await,
            "an unfinished upload is not an object"
        );
    }
    assert!(!acked.lock().expect("lock").is_empty());
    server.child.kill().expect("kill");
    let _ = server.child.wait();
}

#[tokio::test]
async fn every_checksum_algorithm_is_verified() {
    use aws_sdk_s3::types::ChecksumAlgorithm;
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "sums").await;
    let body = b"The quick brown fox jumps over the lazy dog".to_vec();
    for algo in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        c.put_object()
            .bucket("sums")
            .key(algo.as_str())
            .checksum_algorithm(algo.clone())
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{algo:?}: {e:?}"));
    }
    // Wrong values sent as headers are refused and nothing is stored.
    let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let e = c
        .put_object()
        .bucket("sums")
        .key("bad-sha1")
        .checksum_sha1(wrong)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect_err("bad sha1");
    assert_eq!(code(&e), "BadDigest");
    let e = c
        .put_object()
        .bucket("sums")
        .key("bad-crc64")
        .checksum_crc64_nvme("AAAAAAAAAAA=")
        .body(ByteStream::from(body))
        .send()
        .await
        .expect_err("bad crc64nvme");
    assert_eq!(code(&e), "BadDigest");
    assert!(!exists(&c, "sums", "bad-sha1").await);
    assert!(!exists(&c, "sums", "bad-crc64").await);
}

#[tokio::test]
async fn large_objects_are_streamed_whole_and_in_ranges() {
    let t = TestServer::start().await;
    let c = s3(&t.endpoint());
    make_bucket(&c, "big").await;
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    c.put_object()
        .bucket("big")
        .key("blob")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .expect("put");
    let got = c
        .get_object()
        .bucket("big")
        .key("blob")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_length(), Some(data.len() as i64));
    let body = got.body.collect().await.expect("body").into_bytes();
    assert!(body[..] == data[..], "whole object streamed intact");
    let (s, e) = (1_000_001usize, 11_500_000usize);
    let got = c
        .get_object()
        .bucket("big")
        .key("blob")
        .range(format!("bytes={s}-{e}"))
        .send()
        .await
        .expect("range");
    assert_eq!(got.content_length(), Some((e - s + 1) as i64));
    let body = got.body.collect().await.expect("body").into_bytes();
    assert!(body[..] == data[s..=e], "streamed range intact");
}
