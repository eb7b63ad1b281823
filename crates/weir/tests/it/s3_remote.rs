//! A bucket mapped to an external S3-compatible endpoint: a second Weir (with SigV4 keys on)
//! plays the external store; the SDK talks to the first, and what it wrote is found in the
//! second under the remote bucket's name.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use bytes::Bytes;

use crate::harness::{test_config, TestServer};
use crate::s3::{code, make_bucket, s3};

const KEY_ID: &str = "AKIDREMOTE";
const SECRET: &str = "remote-secret";

/// The external store (keys required) with bucket `backing`, and a Weir mapping `lake` to it.
async fn pair() -> (TestServer, TestServer) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.auth.keys.push(weir::config::AccessKey {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
    });
    let external = TestServer::start_with(dir, config).await;
    let signed = external_client(&external);
    make_bucket(&signed, "backing").await;

    let dir = tempfile::tempdir().expect("tmp");
    let mut config = test_config(dir.path());
    config.s3.remote_buckets.push(mapping(&external));
    let weir = TestServer::start_with(dir, config).await;
    (external, weir)
}

fn mapping(external: &TestServer) -> weir_objects::RemoteBucketConfig {
    weir_objects::RemoteBucketConfig {
        bucket: "lake".into(),
        endpoint: external.endpoint(),
        remote_bucket: Some("backing".into()),
        region: "us-east-1".into(),
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        virtual_host: false,
        ca_file: None,
    }
}

fn external_client(external: &TestServer) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(external.endpoint())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            KEY_ID, SECRET, None, None, "test",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn body_of(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Bytes {
    c.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
}

#[tokio::test]
async fn a_mapped_bucket_lives_on_the_external_endpoint() {
    let (external, weir) = pair().await;
    let c = s3(&weir.endpoint());
    let ext = external_client(&external);
    make_bucket(&c, "local").await;

    // ListBuckets shows the mapped bucket beside the local one.
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .expect("list buckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(names, ["lake", "local"]);

    // PutObject (the SDK's aws-chunked body with a CRC32 trailer), metadata, odd keys.
    let key = "year=2026/ünï côdé %.json";
    c.put_object()
        .bucket("lake")
        .key(key)
        .content_type("application/json")
        .metadata("origin", "weir")
        .body(ByteStream::from_static(b"{\"a\":1}\n{\"a\":2}\n"))
        .send()
        .await
        .expect("put through weir");
    assert_eq!(
        &body_of(&ext, "backing", key).await[..],
        b"{\"a\":1}\n{\"a\":2}\n"
    );
    let head = ext
        .head_object()
        .bucket("backing")
        .key(key)
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("weir")
    );
    // The local store holds nothing of it.
    let err = c
        .head_object()
        .bucket("local")
        .key(key)
        .send()
        .await
        .expect_err("local");
    assert!(err.into_service_error().is_not_found());

    // GET with a range, HEAD, and a missing key's S3 error, all answered by the endpoint.
    let part = c
        .get_object()
        .bucket("lake")
        .key(key)
        .range("bytes=2-4")
        .send()
        .await
        .expect("range");
    assert_eq!(part.content_range(), Some("bytes 2-4/16"));
    assert_eq!(
        &part.body.collect().await.expect("b").into_bytes()[..],
        b"a\":"
    );
    let h = c
        .head_object()
        .bucket("lake")
        .key(key)
        .send()
        .await
        .expect("head");
    assert_eq!(h.content_length(), Some(16));
    let e = c
        .get_object()
        .bucket("lake")
        .key("missing")
        .send()
        .await
        .expect_err("404");
    assert_eq!(code(&e), "NoSuchKey");

    // Listing with a delimiter and pages.
    for i in 0..5 {
        c.put_object()
            .bucket("lake")
            .key(format!("logs/{i}.txt"))
            .body(ByteStream::from(vec![b'x'; i]))
            .send()
            .await
            .expect("put");
    }
    let top = c
        .list_objects_v2()
        .bucket("lake")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let prefixes: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["logs/", "year=2026/"]);
    let mut pages = c
        .list_objects_v2()
        .bucket("lake")
        .prefix("logs/")
        .max_keys(2)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        keys.extend(
            page.expect("page")
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    assert_eq!(
        keys,
        (0..5).map(|i| format!("logs/{i}.txt")).collect::<Vec<_>>()
    );

    // CopyObject inside the mapped bucket; copying from a local bucket is refused clearly.
    c.copy_object()
        .bucket("lake")
        .key("copy.json")
        .copy_source(format!("lake/{}", weir_sigv4::uri_encode(key, false)))
        .send()
        .await
        .expect("copy");
    assert_eq!(
        &body_of(&ext, "backing", "copy.json").await[..],
        b"{\"a\":1}\n{\"a\":2}\n"
    );
    let e = c
        .copy_object()
        .bucket("lake")
        .key("x")
        .copy_source("local/whatever")
        .send()
        .await
        .expect_err("cross copy");
    assert_eq!(code(&e), "NotImplemented");

    // DeleteObjects and DeleteObject.
    let ids: Vec<ObjectIdentifier> = (0..5)
        .map(|i| {
            ObjectIdentifier::builder()
                .key(format!("logs/{i}.txt"))
                .build()
                .expect("id")
        })
        .collect();
    c.delete_objects()
        .bucket("lake")
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    c.delete_object()
        .bucket("lake")
        .key("copy.json")
        .send()
        .await
        .expect("delete");
    let left: Vec<String> = ext
        .list_objects_v2()
        .bucket("backing")
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert_eq!(left, [key]);
}

#[tokio::test]
async fn multipart_uploads_to_a_mapped_bucket() {
    let (external, weir) = pair().await;
    let c = s3(&weir.endpoint());
    let up = c
        .create_multipart_upload()
        .bucket("lake")
        .key("big.bin")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id");
    let parts = [vec![1u8; 5 * 1024 * 1024 + 7], vec![2u8; 1000]];
    let mut done = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let p = c
            .upload_part()
            .bucket("lake")
            .key("big.bin")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .expect("part");
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(p.e_tag().expect("etag"))
                .build(),
        );
    }
    let listed = c
        .list_parts()
        .bucket("lake")
        .key("big.bin")
        .upload_id(id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(listed.parts().len(), 2);
    let complete = c
        .complete_multipart_upload()
        .bucket("lake")
        .key("big.bin")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert!(complete.e_tag().expect("etag").ends_with("-2\""));
    let got = body_of(&external_client(&external), "backing", "big.bin").await;
    assert_eq!(got.len(), parts[0].len() + parts[1].len());
    assert_eq!(&got[..parts[0].len()], &parts[0][..]);
}

/// The layer engines write through (`weir_objects::Objects`) reaches the mapped bucket too.
#[tokio::test]
async fn services_write_through_the_layer_to_the_endpoint() {
    let (external, _weir) = pair().await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = weir_objects::ObjectStore::open(dir.path()).expect("store");
    let objects = weir_objects::Objects::new(store, &[mapping(&external)]).expect("layer");
    for i in 0..3 {
        let put = weir_objects::PutObject {
            data: Bytes::from(format!("record {i}")),
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        let etag = objects
            .put("lake", &format!("out/{i} a+b.txt"), put)
            .await
            .expect("put");
        assert!(etag.starts_with('"'), "{etag}");
    }
    assert_eq!(
        objects.list_keys("lake", "out/").await.expect("list"),
        ["out/0 a+b.txt", "out/1 a+b.txt", "out/2 a+b.txt"]
    );
    assert_eq!(
        &objects.get("lake", "out/1 a+b.txt").await.expect("get")[..],
        b"record 1"
    );
    objects
        .delete("lake", "out/1 a+b.txt")
        .await
        .expect("delete");
    let e = objects
        .get("lake", "out/1 a+b.txt")
        .await
        .expect_err("gone");
    assert!(
        matches!(e, weir_objects::ObjectError::NoSuchKey(_)),
        "{e:?}"
    );
    let ext = external_client(&external);
    assert_eq!(
        &body_of(&ext, "backing", "out/2 a+b.txt").await[..],
        b"record 2"
    );

    // A wrong secret is the endpoint's refusal, reported as a remote error.
    let mut wrong = mapping(&external);
    wrong.secret_access_key = "nope".into();
    let store = weir_objects::ObjectStore::open(dir.path()).expect("store");
    let objects = weir_objects::Objects::new(store, &[wrong]).expect("layer");
    let e = objects
        .get("lake", "out/2 a+b.txt")
        .await
        .expect_err("refused");
    assert!(
        matches!(e, weir_objects::ObjectError::Remote { status: 403, .. }),
        "{e:?}"
    );
}
