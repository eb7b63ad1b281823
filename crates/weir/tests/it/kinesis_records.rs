//! PutRecord, PutRecords, GetShardIterator and GetRecords through the AWS SDK for Rust.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use md5::{Digest, Md5};

use crate::harness::{code, create_active, iterator, read_shard, TestServer};

fn hash(pk: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(pk.as_bytes()).into())
}

#[tokio::test]
async fn partition_keys_route_by_md5_and_order_holds() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 4).await;
    let quarter = u128::MAX / 4 + 1;
    let mut sent: Vec<(String, String, Vec<u8>)> = Vec::new();
    for i in 0..200 {
        let pk = format!("key-{}", i % 13);
        let data = format!("record-{i}").into_bytes();
        let r = k
            .put_record()
            .stream_name("s")
            .partition_key(&pk)
            .data(Blob::new(data.clone()))
            .send()
            .await
            .expect("put");
        let expected = format!("shardId-{:012}", hash(&pk) / quarter);
        assert_eq!(r.shard_id(), expected, "partition key {pk}");
        if let Some(prev) = sent.iter().rev().find(|(s, _, _)| s == r.shard_id()) {
            assert!(
                r.sequence_number() > prev.1.as_str(),
                "sequence numbers increase within a shard"
            );
        }
        sent.push((
            r.shard_id().to_string(),
            r.sequence_number().to_string(),
            data,
        ));
    }
    for shard in 0..4 {
        let id = format!("shardId-{shard:012}");
        let got = read_shard(&k, "s", &id).await;
        let want: Vec<_> = sent.iter().filter(|(s, _, _)| *s == id).collect();
        assert_eq!(got.len(), want.len());
        for (g, (_, seq, data)) in got.iter().zip(want) {
            assert_eq!(g.sequence_number(), seq);
            assert_eq!(g.data().as_ref(), data.as_slice());
            assert!(g.approximate_arrival_timestamp().is_some());
        }
    }
}

#[tokio::test]
async fn put_records_batches_and_explicit_hash_keys() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 2).await;
    let entries: Vec<_> = (0..500)
        .map(|i| {
            let b = PutRecordsRequestEntry::builder()
                .data(Blob::new(vec![(i % 251) as u8; 1000]))
                .partition_key(format!("pk{i}"));
            let b = if i % 2 == 0 {
                b.explicit_hash_key("0")
            } else {
                b
            };
            b.build().expect("entry")
        })
        .collect();
    let r = k
        .put_records()
        .stream_name("s")
        .set_records(Some(entries))
        .send()
        .await
        .expect("put records");
    assert_eq!(r.failed_record_count(), Some(0));
    assert_eq!(r.records().len(), 500);
    for (i, e) in r.records().iter().enumerate() {
        assert!(e.error_code().is_none());
        if i % 2 == 0 {
            assert_eq!(e.shard_id(), Some("shardId-000000000000"));
        }
    }
    let a = read_shard(&k, "s", "shardId-000000000000").await;
    let b = read_shard(&k, "s", "shardId-000000000001").await;
    assert_eq!(a.len() + b.len(), 500);
    // Within a shard, records come back in request order.
    let firsts: Vec<u8> = a.iter().map(|r| r.data().as_ref()[0]).collect();
    let expected: Vec<u8> = (0..500)
        .filter(|i| r.records()[*i].shard_id() == Some("shardId-000000000000"))
        .map(|i| (i % 251) as u8)
        .collect();
    assert_eq!(firsts, expected);
}

#[tokio::test]
async fn every_iterator_type() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 1).await;
    let mut seqs = Vec::new();
    for i in 0..10u8 {
        let r = k
            .put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(vec![i]))
            .send()
            .await
            .expect("put");
        seqs.push(r.sequence_number().to_string());
    }
    // AWS's 56-digit numbers: shard 0, positions 1..=10 in order.
    for (i, seq) in seqs.iter().enumerate() {
        assert_eq!(seq.len(), 56, "{seq}");
        let p = weir_log::seqno::parse(seq).expect("parses");
        assert_eq!((p.shard_index, p.position), (0, i as u64 + 1));
    }
    let shard = "shardId-000000000000";
    let read =
        |kind: ShardIteratorType, seq: Option<String>, ts: Option<aws_smithy_types::DateTime>| {
            let k = k.clone();
            async move {
                let it = k
                    .get_shard_iterator()
                    .stream_name("s")
                    .shard_id(shard)
                    .shard_iterator_type(kind)
                    .set_starting_sequence_number(seq)
                    .set_timestamp(ts)
                    .send()
                    .await
                    .expect("iterator")
                    .shard_iterator
                    .expect("it");
                let r = k
                    .get_records()
                    .shard_iterator(it)
                    .send()
                    .await
                    .expect("get");
                assert!(
                    r.next_shard_iterator().is_some(),
                    "an open shard always gives a next iterator"
                );
                r.records()
                    .iter()
                    .map(|r| r.data().as_ref()[0])
                    .collect::<Vec<u8>>()
            }
        };
    assert_eq!(
        read(ShardIteratorType::TrimHorizon, None, None).await,
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(
        read(
            ShardIteratorType::AtSequenceNumber,
            Some(seqs[4].clone()),
            None
        )
        .await,
        (4..10).collect::<Vec<_>>()
    );
    assert_eq!(
        read(
            ShardIteratorType::AfterSequenceNumber,
            Some(seqs[4].clone()),
            None
        )
        .await,
        (5..10).collect::<Vec<_>>()
    );
    assert!(read(ShardIteratorType::Latest, None, None).await.is_empty());
    let past = aws_smithy_types::DateTime::from_secs(1_000_000_000);
    assert_eq!(
        read(ShardIteratorType::AtTimestamp, None, Some(past))
            .await
            .len(),
        10
    );
    // A timestamp in the future is refused, as AWS refuses it.
    let err = k
        .get_shard_iterator()
        .stream_name("s")
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(aws_smithy_types::DateTime::from_secs(4_000_000_000))
        .send()
        .await
        .expect_err("future");
    assert_eq!(code(&err), "InvalidArgumentException");
    let msg = aws_sdk_kinesis::error::ProvideErrorMetadata::message(&err).unwrap_or("");
    assert!(
        msg.starts_with(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. \
             timestampInMillis: 4000000000000, currentTimestampInMillis: "
        ),
        "{msg}"
    );

    // LATEST sees what is written after it; Limit caps a read; MillisBehindLatest is 0 at the tip.
    let it = iterator(&k, "s", shard, ShardIteratorType::Latest).await;
    for i in 10..13u8 {
        k.put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(vec![i]))
            .send()
            .await
            .expect("put");
    }
    let r = k
        .get_records()
        .shard_iterator(&it)
        .limit(2)
        .send()
        .await
        .expect("get");
    assert_eq!(
        r.records()
            .iter()
            .map(|r| r.data().as_ref()[0])
            .collect::<Vec<_>>(),
        vec![10, 11]
    );
    assert!(r.millis_behind_latest().is_some());
    let r = k
        .get_records()
        .shard_iterator(r.next_shard_iterator().expect("next"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.records().len(), 1);
    assert_eq!(r.millis_behind_latest(), Some(0));
    let r = k
        .get_records()
        .shard_iterator(r.next_shard_iterator().expect("next"))
        .send()
        .await
        .expect("get");
    assert!(r.records().is_empty());
    assert!(r.next_shard_iterator().is_some());
    assert_eq!(r.millis_behind_latest(), Some(0));
}

#[tokio::test]
async fn iterators_expire_after_five_minutes() {
    let clock = weir_log::ManualClock::new(1_750_000_000_000);
    let t = TestServer::start_with_clock(clock.clone()).await;
    let k = t.kinesis();
    create_active(&k, "s", 1).await;
    let it = iterator(
        &k,
        "s",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    clock.advance_ms(299_000);
    let r = k
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect("still valid");
    clock.advance_ms(2_000);
    let err = k
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(code(&err), "ExpiredIteratorException");
    assert_eq!(
        aws_sdk_kinesis::error::ProvideErrorMetadata::message(&err),
        Some(
            "Iterator expired. The iterator was created at time Sun Jun 15 15:06:40 UTC 2025 while \
             right now it is Sun Jun 15 15:11:41 UTC 2025 which is further in the future than the \
             tolerated delay of 300000 milliseconds."
        )
    );
    // AWS's iterator shape: base64 of 00..01 and a multiple of 16 bytes from 152 on.
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&it)
        .expect("base64");
    assert_eq!(raw[..8], [0, 0, 0, 0, 0, 0, 0, 1]);
    assert!(raw.len() >= 152 && (raw.len() - 152).is_multiple_of(16));
    // The next iterator was issued later and is still good.
    k.get_records()
        .shard_iterator(r.next_shard_iterator().expect("next"))
        .send()
        .await
        .expect("fresh iterator");
}

#[tokio::test]
async fn large_records_and_get_records_byte_cap() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "s", 1).await;
    // Twelve records of 1 MiB: one GetRecords returns at most 10 MiB.
    for i in 0..12u8 {
        k.put_record()
            .stream_name("s")
            .partition_key("p")
            .data(Blob::new(vec![i; 1024 * 1024]))
            .send()
            .await
            .expect("put 1 MiB");
    }
    let it = iterator(
        &k,
        "s",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    let r = k
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect("get");
    assert_eq!(r.records().len(), 10);
    assert!(r.millis_behind_latest().is_some());
    let r2 = k
        .get_records()
        .shard_iterator(r.next_shard_iterator().expect("n"))
        .send()
        .await
        .expect("get");
    assert_eq!(r2.records().len(), 2);
    assert_eq!(
        r2.records()[1].data().as_ref(),
        vec![11u8; 1024 * 1024].as_slice()
    );
}

#[tokio::test]
async fn an_iterator_outliving_its_stream_names_the_missing_shard() {
    let t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "gone", 2).await;
    let it = iterator(
        &k,
        "gone",
        "shardId-000000000001",
        ShardIteratorType::TrimHorizon,
    )
    .await;
    k.delete_stream()
        .stream_name("gone")
        .send()
        .await
        .expect("delete");
    let err = k
        .get_records()
        .shard_iterator(&it)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert_eq!(
        aws_sdk_kinesis::error::ProvideErrorMetadata::message(&err),
        Some("Shard shardId-000000000001 in stream gone under account 000000000000 does not exist")
    );
}
