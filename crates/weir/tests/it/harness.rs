//! Starting Weir in-process on a free port and building SDK clients for it.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
use weir::config::Config;
use weir::server::Server;

pub struct TestServer {
    pub server: Option<Server>,
    /// Kept so the data directory lives as long as the server.
    pub _dir: tempfile::TempDir,
    pub config: Config,
}

/// A config for tests: temp data dir, port 0, no CREATING delay unless asked.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    c.flink.listen = "127.0.0.1:0".into();
    c.kafka.listen = "127.0.0.1:0".into();
    c.kinesis.create_delay_ms = 0;
    c.kinesis.delete_delay_ms = 0;
    c.kinesis.update_delay_ms = 0;
    c.kinesis.segment_bytes = 256 * 1024;
    c.firehose.intake_segment_bytes = 256 * 1024;
    c.firehose.create_delay_ms = 0;
    c.firehose.delete_delay_ms = 0;
    c
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = test_config(dir.path());
        Self::start_with(dir, config).await
    }

    pub async fn start_with(dir: tempfile::TempDir, config: Config) -> TestServer {
        let server = Server::start(&config).await.expect("server starts");
        TestServer {
            server: Some(server),
            _dir: dir,
            config,
        }
    }

    /// A server whose clock the test moves.
    pub async fn start_with_clock(clock: std::sync::Arc<weir_log::ManualClock>) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = test_config(dir.path());
        Self::start_full(dir, config, clock).await
    }

    /// A server with this config and a clock the test moves.
    pub async fn start_full(
        dir: tempfile::TempDir,
        config: Config,
        clock: std::sync::Arc<weir_log::ManualClock>,
    ) -> TestServer {
        let server = Server::start_with_clock(&config, clock)
            .await
            .expect("server starts");
        TestServer {
            server: Some(server),
            _dir: dir,
            config,
        }
    }

    pub fn endpoint(&self) -> String {
        self.server.as_ref().expect("running").endpoint()
    }

    pub fn firehose(&self) -> aws_sdk_firehose::Client {
        firehose_client(&self.endpoint())
    }

    /// Delivers a delivery stream's buffers now (the engine's test hook).
    pub async fn flush(&self, name: &str) {
        self.server
            .as_ref()
            .expect("running")
            .delivery
            .flush("us-east-1", name)
            .await
            .expect("flush");
    }

    pub fn kinesis(&self) -> aws_sdk_kinesis::Client {
        kinesis_client(&self.endpoint(), "us-east-1")
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.expect("clean shutdown");
        }
        self.server = Some(Server::start(&self.config).await.expect("server restarts"));
    }
}

pub fn firehose_client(endpoint: &str) -> aws_sdk_firehose::Client {
    let conf = aws_sdk_firehose::Config::builder()
        .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_firehose::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_firehose::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_firehose::Client::from_conf(conf)
}

pub fn kinesis_client(endpoint: &str, region: &str) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

/// Creates a stream and waits (polling, with a deadline) until it is ACTIVE.
pub async fn create_active(client: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("create stream");
    wait_status(client, name, "ACTIVE").await;
}

pub async fn wait_status(client: &aws_sdk_kinesis::Client, name: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if summary(client, name).await.stream_status().as_str() == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stream {name} never became {status}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// DescribeStreamSummary of a stream by name.
pub async fn summary(
    client: &aws_sdk_kinesis::Client,
    name: &str,
) -> aws_sdk_kinesis::types::StreamDescriptionSummary {
    client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .expect("describe stream summary")
        .stream_description_summary
        .expect("a summary")
}

/// The AWS error code of an SDK error.
pub fn code<E, R>(err: &aws_sdk_kinesis::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => e.code().unwrap_or("?").to_string(),
        None => format!("not a service error: {err:?}"),
    }
}

/// Reads a shard from TRIM_HORIZON to its current end.
pub async fn read_shard(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    shard: &str,
) -> Vec<aws_sdk_kinesis::types::Record> {
    let mut it = iterator(
        client,
        stream,
        shard,
        aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon,
    )
    .await;
    let mut out = Vec::new();
    loop {
        let r = client
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .expect("get records");
        let n = r.records().len();
        out.extend(r.records().iter().cloned());
        match r.next_shard_iterator() {
            Some(next) if n > 0 => it = next.to_string(),
            _ => break,
        }
    }
    out
}

/// A shard iterator of the given type.
pub async fn iterator(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    shard: &str,
    kind: aws_sdk_kinesis::types::ShardIteratorType,
) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .send()
        .await
        .expect("get shard iterator")
        .shard_iterator
        .expect("an iterator")
}
