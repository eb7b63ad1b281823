//! Bad input through the SDK: the right AWS error type, and nothing stored changes.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};

use crate::harness::{code, create_active, iterator, read_shard, TestServer};

#[tokio::test]
async fn bad_records_are_refused_and_store_nothing() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 1).await;
    k.put_record()
        .stream_name("s")
        .partition_key("ok")
        .data(Blob::new("kept"))
        .send()
        .await
        .expect("put");

    // (partition key, explicit hash key, data length, expected error code)
    let cases = [
        (
            "big".to_string(),
            None,
            1024 * 1024 + 1,
            "ValidationException",
        ),
        (String::new(), None, 1, "ValidationException"),
        ("k".repeat(257), None, 1, "ValidationException"),
        (
            "k".to_string(),
            Some("340282366920938463463374607431768211456"),
            1,
            "InvalidArgumentException",
        ),
        ("k".to_string(), Some("12abc"), 1, "ValidationException"),
    ];
    for (pk, hash_key, len, want) in cases {
        let err = k
            .put_record()
            .stream_name("s")
            .partition_key(&pk)
            .set_explicit_hash_key(hash_key.map(str::to_string))
            .data(Blob::new(vec![7u8; len]))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            code(&err),
            want,
            "key of {} chars, hash key {hash_key:?}, {len} bytes",
            pk.len()
        );
    }

    let many: Vec<_> = (0..501)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .data(Blob::new("x"))
                .partition_key(format!("{i}"))
                .build()
                .expect("entry")
        })
        .collect();
    let err = k
        .put_records()
        .stream_name("s")
        .set_records(Some(many))
        .send()
        .await
        .expect_err("501 entries");
    assert_eq!(code(&err), "ValidationException");

    let mixed = vec![
        PutRecordsRequestEntry::builder()
            .data(Blob::new("fine"))
            .partition_key("a")
            .build()
            .expect("e"),
        PutRecordsRequestEntry::builder()
            .data(Blob::new(vec![1u8; 1024 * 1024 + 1]))
            .partition_key("b")
            .build()
            .expect("e"),
    ];
    let err = k
        .put_records()
        .stream_name("s")
        .set_records(Some(mixed))
        .send()
        .await
        .expect_err("one too big");
    assert_eq!(code(&err), "ValidationException");

    let err = k
        .put_record()
        .stream_name("nope")
        .partition_key("k")
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = k
        .create_stream()
        .stream_name("bad name")
        .shard_count(1)
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(code(&err), "ValidationException");
    let err = k
        .create_stream()
        .stream_name("zero")
        .shard_count(0)
        .send()
        .await
        .expect_err("zero shards");
    assert_eq!(code(&err), "ValidationException");

    // Only the first record was stored.
    let got = read_shard(&k, "s", "shardId-000000000000").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data().as_ref(), b"kept");
}

#[tokio::test]
async fn bad_iterators_are_refused() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 2).await;
    let err = k
        .get_records()
        .shard_iterator("bm90IGFuIGl0ZXJhdG9y")
        .send()
        .await
        .expect_err("garbage");
    assert_eq!(code(&err), "InvalidArgumentException");

    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000009")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect_err("no such shard");
    assert_eq!(code(&err), "ResourceNotFoundException");

    let r = k
        .put_record()
        .stream_name("s")
        .partition_key("k")
        .explicit_hash_key("0")
        .data(Blob::new("x"))
        .send()
        .await
        .expect("put");
    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000001")
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(r.sequence_number())
        .send()
        .await
        .expect_err("sequence number of another shard");
    assert_eq!(code(&err), "InvalidArgumentException");

    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .send()
        .await
        .expect_err("missing sequence number");
    assert_eq!(code(&err), "InvalidArgumentException");
    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .send()
        .await
        .expect_err("missing timestamp");
    assert_eq!(code(&err), "InvalidArgumentException");
    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number("123")
        .send()
        .await
        .expect_err("foreign sequence number");
    assert_eq!(code(&err), "InvalidArgumentException");

    // An iterator of a deleted stream no longer reads.
    let it = iterator(
        &k,
        "s",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    k.delete_stream()
        .stream_name("s")
        .send()
        .await
        .expect("delete");
    let err = k
        .get_records()
        .shard_iterator(it)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(code(&err), "ResourceNotFoundException");
}
