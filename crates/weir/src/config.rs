//! Configuration: embedded defaults, then a TOML file, then `WEIR_…` environment variables,
//! then command-line flags. Field doc comments are the reference.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Everything `weir serve` can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Weir keeps its data (`WEIR_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Address of the AWS API port (`WEIR_LISTEN`).
    pub listen: String,
    /// Account id used in ARNs (`WEIR_ACCOUNT_ID`).
    pub account_id: String,
    /// Region assumed when a request is not signed (`WEIR_DEFAULT_REGION`).
    pub default_region: String,
    /// `"aws"` enforces AWS's throughput and API rate limits; `"none"` (default) is local speed.
    pub limits: Limits,
    /// How often retention and deleted-stream clean-up run, in milliseconds.
    pub housekeeping_interval_ms: u64,
    /// MiB of memory Weir's large consumers share (`WEIR_MEMORY_LIMIT_MB`): running Athena
    /// queries take a quarter (spilling beyond it), streaming jobs' operator state a quarter
    /// (window panes spill to files beyond it), Firehose buffers an eighth (spilling to files
    /// beyond it), read answers an eighth (reads wait for room) and the records of S3 objects
    /// an eighth (new keys refused beyond it), unless their own setting says otherwise;
    /// request bodies above 128 KiB a sixteenth (half the read answers' share), and connections
    /// are limited to one per 256 KiB of the last sixteenth. 0 (the default): a quarter of the machine's memory (or of the
    /// container's limit, if lower), at least 256 MiB.
    pub memory_limit_mb: usize,
    /// Connections served at once (`WEIR_MAX_CONNECTIONS`); more wait to be accepted. 0 (the
    /// default): one per 256 KiB of a sixteenth of the memory budget, at least 128.
    pub max_connections: usize,
    /// Kinesis Data Streams settings (`WEIR_KINESIS__<FIELD>`).
    pub kinesis: KinesisConfig,
    /// Request authentication (off unless keys are given).
    pub auth: AuthConfig,
    /// TLS on the API port (off unless a certificate and key are given).
    pub tls: TlsConfig,
    /// S3 settings (`[s3]`).
    pub s3: S3Config,
    /// Firehose settings (`[firehose]`).
    pub firehose: FirehoseConfig,
    /// `[[functions]]`: what Lambda ARNs resolve to (name; command = [...] reading the event
    /// on stdin and writing the result on stdout, or url = "http://..."; timeout_ms).
    pub functions: Vec<weir_delivery::lambda::FunctionConfig>,
    /// Athena (lake SQL) settings (`[athena]`).
    pub athena: AthenaConfig,
    /// Glue settings (`[glue]`).
    pub glue: GlueConfig,
    /// Streaming SQL and the Flink SQL Gateway (`[flink]`).
    pub flink: FlinkConfig,
    /// The Kafka front door (`[kafka]`).
    pub kafka: KafkaConfig,
}

/// Kafka front door settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Address of the Kafka listener (`WEIR_KAFKA__LISTEN`; Kafka's port, 9092, by default;
    /// `off` leaves it closed).
    pub listen: String,
    /// Address of the Kafka TLS listener (`WEIR_KAFKA__TLS_LISTEN`; MSK's TLS port is 9094;
    /// `off` by default). It uses `[tls]`'s certificate and key.
    pub tls_listen: String,
    /// The host clients are told to connect to (Metadata); empty: the listener's address.
    pub advertised_host: String,
    /// The broker's node id.
    pub node_id: i32,
    /// Whether producing to (or asking for the metadata of) an unknown topic creates it.
    pub auto_create_topics: bool,
    /// Partitions (shards) of a topic created on first use (Kafka's `num.partitions`).
    pub default_partitions: u32,
    /// Connections served at once; more are closed on accept (Kafka's `max.connections`).
    pub max_connections: usize,
    /// A connection sending nothing for this long is closed (Kafka's
    /// `connections.max.idle.ms`, 10 minutes).
    pub idle_ms: u64,
    /// How long the first rebalance of an empty consumer group waits for more members
    /// (Kafka's `group.initial.rebalance.delay.ms`; Kafka waits 3 s, Weir none by default, as
    /// Kafka's development setups do).
    pub initial_rebalance_delay_ms: u64,
    /// SASL users for PLAIN and SCRAM-SHA-256/512: `name:password` pairs, comma-separated
    /// (`WEIR_KAFKA__SASL_USERS`). MSK IAM tokens are checked against `[auth]` keys (any
    /// well-formed token is taken when there are none).
    pub sasl_users: String,
    /// Whether clients must authenticate (SASL) before anything but ApiVersions (off: SASL
    /// is checked when a client does it, as on MSK's SASL ports, and optional otherwise).
    pub require_sasl: bool,
    /// How long an MSK cluster (the `kafka` API) is CREATING, and DELETING, before it is ACTIVE
    /// or gone.
    pub cluster_create_delay_ms: i64,
    /// How often the partitions of compacted topics (`cleanup.policy=compact`) are looked at
    /// (Kafka's `log.cleaner.backoff.ms` is 15 s).
    pub compaction_interval_ms: u64,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            listen: "127.0.0.1:9092".into(),
            tls_listen: "off".into(),
            advertised_host: String::new(),
            node_id: 1,
            auto_create_topics: true,
            default_partitions: 1,
            max_connections: 1024,
            idle_ms: 600_000,
            initial_rebalance_delay_ms: 0,
            sasl_users: String::new(),
            require_sasl: false,
            cluster_create_delay_ms: 1000,
            compaction_interval_ms: 15_000,
        }
    }
}

/// Streaming SQL settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlinkConfig {
    /// Address of the Flink SQL Gateway REST API (`WEIR_FLINK__LISTEN`; Flink's port, 8083,
    /// by default; `off` leaves it closed).
    pub listen: String,
    /// How often a job saves a checkpoint when its `execution.checkpointing.interval` is not
    /// set, in milliseconds.
    pub checkpoint_interval_ms: u64,
    /// What all streaming jobs' operator state may hold in memory before window panes move
    /// to spill files (`WEIR_FLINK__STATE_MEMORY_MB`); 0 (the default): a quarter of
    /// `memory_limit_mb`.
    pub state_memory_mb: usize,
}

impl Default for FlinkConfig {
    fn default() -> Self {
        FlinkConfig {
            listen: "127.0.0.1:8083".into(),
            checkpoint_interval_ms: 10_000,
            state_memory_mb: 0,
        }
    }
}

/// Glue settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlueConfig {
    /// The Python interpreter Python shell jobs run with (`WEIR_GLUE__PYTHON`); boto3 (and
    /// whatever else the jobs import) must be installed for it.
    pub python: String,
}

impl Default for GlueConfig {
    fn default() -> Self {
        GlueConfig {
            python: "python3".into(),
        }
    }
}

/// Athena settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AthenaConfig {
    /// Queries that run at once; the others wait QUEUED.
    pub concurrency: usize,
    /// Bytes all running queries may hold; beyond it sorts, joins and aggregates spill to
    /// disk (under the data directory), and a query that still cannot fit fails saying so.
    /// 0 (the default): a quarter of `memory_limit_mb`.
    pub memory_limit_bytes: usize,
    /// Partitions one query is split into (default twice the cores: while one partition
    /// waits on a read, another decodes; TPC-H at SF1 ran 11% faster than with one per core).
    pub target_partitions: usize,
    /// Filter the rows a Parquet scan reads by the keys of the joins above it (and TopK
    /// bounds) where aggregates or other joins lie between (`WEIR_ATHENA__RUNTIME_FILTERS`;
    /// default true; off leaves those filters to skipping row groups by statistics).
    pub runtime_filters: bool,
}

impl Default for AthenaConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AthenaConfig {
            concurrency: 4,
            memory_limit_bytes: 0,
            target_partitions: cores * 2,
            runtime_filters: true,
        }
    }
}

/// Firehose settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirehoseConfig {
    /// Milliseconds a new delivery stream stays CREATING.
    pub create_delay_ms: i64,
    /// Milliseconds a deleted delivery stream stays DELETING.
    pub delete_delay_ms: i64,
    /// Delivery streams allowed per region.
    pub stream_limit: usize,
    /// First back-off after a failed HTTP endpoint request, in ms (Firehose: 1 s, doubling).
    pub http_backoff_ms: u64,
    /// Intake segment files roll over past this many bytes; delivered records are freed a
    /// whole segment at a time, so this bounds what lingers after delivery.
    pub intake_segment_bytes: u64,
    /// MiB all delivery streams' buffers may hold in memory (`WEIR_FIREHOSE__BUFFER_MEMORY_MB`);
    /// beyond it the largest buffers spill to files under the data directory, and deliveries
    /// in flight wait for a share of as much again. 0 (the default): an eighth of
    /// `memory_limit_mb`.
    pub buffer_memory_mb: usize,
}

impl Default for FirehoseConfig {
    fn default() -> Self {
        let d = weir_delivery::DeliveryConfig::default();
        FirehoseConfig {
            create_delay_ms: d.create_delay_ms,
            delete_delay_ms: d.delete_delay_ms,
            stream_limit: d.stream_limit,
            http_backoff_ms: d.http_backoff_ms,
            intake_segment_bytes: d.segment_bytes,
            buffer_memory_mb: 0,
        }
    }
}

/// S3 settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// `[[s3.remote_buckets]]`: buckets that live on an external S3-compatible endpoint
    /// (bucket, endpoint, access_key_id, secret_access_key; optional remote_bucket, region,
    /// virtual_host, ca_file). Every Weir service reads and writes them there.
    pub remote_buckets: Vec<weir_objects::RemoteBucketConfig>,
    /// MiB the records of all local objects may take in memory (`WEIR_S3__INDEX_MEMORY_MB`); a
    /// PUT of a new key beyond it is refused (503 ServiceUnavailable). 0 (the default): an
    /// eighth of `memory_limit_mb`.
    pub index_memory_mb: usize,
}

/// Request authentication: with any key configured, every request's SigV4 signature is
/// verified against it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `[[auth.keys]]` entries.
    pub keys: Vec<AccessKey>,
    /// One more key from the environment (`WEIR_AUTH__ACCESS_KEY_ID`)…
    pub access_key_id: Option<String>,
    /// …and its secret (`WEIR_AUTH__SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// Take AWS JSON calls (Kinesis, Firehose) that carry no signature at all. Off by default:
    /// AWS answers them with MissingAuthenticationTokenException, and so does Weir. Any
    /// well-formed signature is accepted unless keys are configured. S3 takes anonymous
    /// requests either way.
    pub allow_unsigned: bool,
    /// Answer browsers' CORS requests to the Kinesis and Firehose APIs from any origin, as AWS
    /// does (browser SDKs, the coming console). Without keys this lets any web page you visit
    /// call those APIs on your Weir: configure keys, or turn this off. S3 never grants CORS.
    pub cors: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            keys: Vec::new(),
            access_key_id: None,
            secret_access_key: None,
            allow_unsigned: false,
            cors: true,
        }
    }
}

/// An access key pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl AuthConfig {
    /// The configured keys, or `None` when authentication is off.
    pub fn keys(&self) -> Option<weir_aws_api::auth::Keys> {
        let mut map: std::collections::HashMap<String, String> = self
            .keys
            .iter()
            .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()))
            .collect();
        if let (Some(id), Some(secret)) = (&self.access_key_id, &self.secret_access_key) {
            map.insert(id.clone(), secret.clone());
        }
        (!map.is_empty()).then_some(weir_aws_api::auth::Keys(map))
    }
}

/// TLS on the API port: PEM files of the certificate chain and the private key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Which service limits Weir enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Limits {
    /// None beyond what keeps data safe (request and record sizes, shard quota).
    #[default]
    None,
    /// AWS's per-shard throughput limits and control-plane request rates.
    Aws,
}

/// Kinesis Data Streams settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KinesisConfig {
    /// Open shards allowed per region (DescribeLimits' ShardLimit).
    pub shard_limit: u32,
    /// On-demand streams allowed per region.
    pub on_demand_stream_limit: u32,
    /// Milliseconds a new stream stays CREATING.
    pub create_delay_ms: i64,
    /// Milliseconds a deleted stream stays DELETING.
    pub delete_delay_ms: i64,
    /// Milliseconds an updated stream stays UPDATING.
    pub update_delay_ms: i64,
    /// Segment files roll over past this many bytes.
    pub segment_bytes: u64,
    /// How long one SubscribeToShard call streams before Weir ends it (AWS: 5 minutes).
    pub subscription_lifetime_ms: u64,
    /// How often on-demand streams are checked for hot and cold shards, in milliseconds.
    pub autoscale_interval_ms: u64,
    /// The on-demand scaling policy (`[kinesis.on_demand]`: window_ms, split_fraction,
    /// merge_fraction, quiet_ms, min_shards).
    pub on_demand: weir_log::OnDemandPolicy,
    /// MiB that read answers (GetRecords, SubscribeToShard events, S3 GetObject bodies above
    /// 64 KiB) may hold at once, from the read until sent; a read that finds no room waits.
    /// 0 (the default): an eighth of `memory_limit_mb`.
    pub read_memory_mb: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("weir-data"),
            listen: "127.0.0.1:4566".into(),
            account_id: "000000000000".into(),
            default_region: "us-east-1".into(),
            limits: Limits::None,
            housekeeping_interval_ms: 30_000,
            memory_limit_mb: 0,
            max_connections: 0,
            kinesis: KinesisConfig::default(),
            auth: AuthConfig::default(),
            tls: TlsConfig::default(),
            s3: S3Config::default(),
            firehose: FirehoseConfig::default(),
            functions: Vec::new(),
            athena: AthenaConfig::default(),
            glue: GlueConfig::default(),
            flink: FlinkConfig::default(),
            kafka: KafkaConfig::default(),
        }
    }
}

impl Default for KinesisConfig {
    fn default() -> Self {
        let log = weir_log::LogConfig::default();
        KinesisConfig {
            shard_limit: log.shard_limit,
            on_demand_stream_limit: log.on_demand_stream_limit,
            create_delay_ms: log.create_delay_ms,
            delete_delay_ms: log.delete_delay_ms,
            update_delay_ms: log.update_delay_ms,
            segment_bytes: log.segment_bytes,
            subscription_lifetime_ms: 300_000,
            autoscale_interval_ms: 1000,
            on_demand: log.on_demand,
            read_memory_mb: 0,
        }
    }
}

impl Config {
    /// `memory_limit_mb` in bytes, or its default: a quarter of the machine (or container),
    /// at least 256 MiB.
    pub fn memory_budget_bytes(&self) -> usize {
        if self.memory_limit_mb > 0 {
            return self.memory_limit_mb.saturating_mul(1 << 20);
        }
        detected_budget_bytes()
    }

    /// What running Athena queries may hold.
    pub fn query_memory_bytes(&self) -> usize {
        match self.athena.memory_limit_bytes {
            0 => self.memory_budget_bytes() / 4,
            bytes => bytes,
        }
    }

    /// What streaming jobs' operator state may hold in memory.
    pub fn state_memory_bytes(&self) -> usize {
        match self.flink.state_memory_mb {
            0 => self.memory_budget_bytes() / 4,
            mb => mb.saturating_mul(1 << 20),
        }
    }

    /// What the records of all local objects may take in memory.
    pub fn index_memory_bytes(&self) -> usize {
        match self.s3.index_memory_mb {
            0 => self.memory_budget_bytes() / 8,
            mb => mb << 20,
        }
    }

    /// Connections served at once.
    pub fn max_connections(&self) -> usize {
        match self.max_connections {
            0 => (self.memory_budget_bytes() / 16 / (256 << 10)).max(128),
            n => n,
        }
    }

    /// What read answers may hold at once.
    pub fn read_memory_bytes(&self) -> usize {
        match self.kinesis.read_memory_mb {
            0 => self.memory_budget_bytes() / 8,
            mb => mb << 20,
        }
    }

    /// Defaults, overlaid with `file` (if any) and then the `WEIR_…` variables in `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut doc =
            toml::Value::try_from(Config::default()).context("encoding the default config")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let file_doc: toml::Value =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            merge(&mut doc, file_doc);
        }
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("WEIR_") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
            // Variables that name no setting (WEIR_LOG, WEIR_BIN of scripts, …) are not ours.
            let known = doc.as_table().is_some_and(|t| t.contains_key(&path[0]));
            if !known {
                continue;
            }
            set_path(&mut doc, &path, parse_scalar(&v));
        }
        let mut cfg: Config = doc.try_into().context("invalid configuration")?;
        // The machine is looked at once: every share is taken from the resolved budget.
        if cfg.memory_limit_mb == 0 {
            cfg.memory_limit_mb = (detected_budget_bytes() >> 20).max(1);
        }
        Ok(cfg)
    }

    /// The log engine's settings.
    pub fn delivery_config(&self) -> weir_delivery::DeliveryConfig {
        weir_delivery::DeliveryConfig {
            data_dir: self.data_dir.join("delivery"),
            account_id: self.account_id.clone(),
            create_delay_ms: self.firehose.create_delay_ms,
            delete_delay_ms: self.firehose.delete_delay_ms,
            stream_limit: self.firehose.stream_limit,
            functions: self.functions.clone(),
            http_backoff_ms: self.firehose.http_backoff_ms,
            segment_bytes: self.firehose.intake_segment_bytes,
            buffer_memory_bytes: match self.firehose.buffer_memory_mb {
                0 => self.memory_budget_bytes() / 8,
                mb => mb << 20,
            },
        }
    }

    pub fn log_config(&self) -> weir_log::LogConfig {
        weir_log::LogConfig {
            data_dir: self.data_dir.clone(),
            account_id: self.account_id.clone(),
            segment_bytes: self.kinesis.segment_bytes,
            create_delay_ms: self.kinesis.create_delay_ms,
            delete_delay_ms: self.kinesis.delete_delay_ms,
            update_delay_ms: self.kinesis.update_delay_ms,
            shard_limit: self.kinesis.shard_limit,
            on_demand_stream_limit: self.kinesis.on_demand_stream_limit,
            on_demand: self.kinesis.on_demand.clone(),
            aws_limits: self.limits == Limits::Aws,
        }
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn set_path(doc: &mut toml::Value, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = doc;
    for p in parents {
        let toml::Value::Table(t) = cur else { return };
        cur = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    if let toml::Value::Table(t) = cur {
        t.insert(last.clone(), value);
    }
}

fn parse_scalar(s: &str) -> toml::Value {
    if let Ok(i) = s.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = s.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(s.to_string())
    }
}

/// The default memory budget: a quarter of the machine's memory, or of the container's limit
/// (cgroup v2, then v1) where that is lower; at least 256 MiB.
fn detected_budget_bytes() -> usize {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<usize>().ok())
        })
        .map_or(0, |kib| kib.saturating_mul(1024));
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    });
    let available = match cgroup {
        Some(limit) if limit > 0 && (machine == 0 || limit < machine) => limit,
        _ => machine,
    };
    (available / 4).max(256 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every TOML example in the README is a valid configuration (fields the docs show exist).
    #[test]
    fn readme_examples_parse() {
        let readme = include_str!("../../../README.md");
        let mut blocks = 0;
        for block in readme.split("```toml").skip(1) {
            let text = block.split("```").next().unwrap_or_default();
            toml::from_str::<Config>(text)
                .unwrap_or_else(|e| panic!("README example does not parse: {e}\n{text}"));
            blocks += 1;
        }
        assert!(blocks >= 4, "{blocks} examples");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("weir.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\n[kinesis]\nshard_limit = 7\n",
        )
        .expect("write");
        let env = vec![
            ("WEIR_KINESIS__SHARD_LIMIT".to_string(), "9".to_string()),
            ("WEIR_DATA_DIR".to_string(), "/tmp/x".to_string()),
            ("HOME".to_string(), "/root".to_string()),
            ("WEIR_BIN".to_string(), "target/debug/weir".to_string()),
        ];
        let cfg = Config::load(Some(&file), env).expect("load");
        assert_eq!(cfg.listen, "127.0.0.1:9999");
        assert_eq!(cfg.kinesis.shard_limit, 9);
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(cfg.kinesis.create_delay_ms, 100);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("weir.toml");
        std::fs::write(&file, "lisen = \"x\"\n").expect("write");
        assert!(Config::load(Some(&file), Vec::new()).is_err());
    }
}
