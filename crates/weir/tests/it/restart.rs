//! A restart finds every stream and record again.

use aws_sdk_kinesis::primitives::Blob;

use crate::harness::{create_active, read_shard, TestServer};

#[tokio::test]
async fn restart_keeps_streams_and_records() {
    let mut t = TestServer::start().await;
    let k = t.kinesis();
    create_active(&k, "keep", 3).await;
    create_active(&k, "other", 1).await;
    k.increase_stream_retention_period()
        .stream_name("keep")
        .retention_period_hours(100)
        .send()
        .await
        .expect("retention");
    k.add_tags_to_stream()
        .stream_name("keep")
        .tags("team", "data")
        .send()
        .await
        .expect("tags");
    let mut sent = Vec::new();
    for i in 0..300 {
        let r = k
            .put_record()
            .stream_name("keep")
            .partition_key(format!("pk{i}"))
            .data(Blob::new(format!("value-{i}-{}", "z".repeat(2000))))
            .send()
            .await
            .expect("put");
        sent.push((r.shard_id().to_string(), r.sequence_number().to_string()));
    }
    t.restart().await;
    let k = t.kinesis();
    let d = k
        .describe_stream()
        .stream_name("keep")
        .send()
        .await
        .expect("describe");
    let d = d.stream_description().expect("d");
    assert_eq!(d.stream_status().as_str(), "ACTIVE");
    assert_eq!(d.shards().len(), 3);
    assert_eq!(d.retention_period_hours(), 100);
    let tags = k
        .list_tags_for_stream()
        .stream_name("keep")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags()[0].value(), Some("data"));
    assert_eq!(
        k.list_streams().send().await.expect("list").stream_names(),
        ["keep", "other"]
    );
    let mut total = 0;
    for shard in [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ] {
        let got = read_shard(&k, "keep", shard).await;
        let want: Vec<_> = sent
            .iter()
            .filter(|(s, _)| s == shard)
            .map(|(_, q)| q.clone())
            .collect();
        assert_eq!(
            got.iter()
                .map(|r| r.sequence_number().to_string())
                .collect::<Vec<_>>(),
            want
        );
        total += got.len();
    }
    assert_eq!(total, 300);
    // Writing continues with higher sequence numbers.
    let r = k
        .put_record()
        .stream_name("keep")
        .partition_key("pk0")
        .data(Blob::new("after"))
        .send()
        .await
        .expect("put after restart");
    let last = sent
        .iter()
        .filter(|(s, _)| s == r.shard_id())
        .map(|(_, q)| q.clone())
        .next_back()
        .expect("some");
    assert!(r.sequence_number() > last.as_str());
}
