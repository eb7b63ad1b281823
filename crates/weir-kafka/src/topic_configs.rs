//! Topic configurations: Kafka's topic config names, types and defaults, the values set per
//! topic (kept in a file beside the offsets), and what they do on Weir. `retention.ms` is the
//! stream's retention (whole hours, 24 h to 365 days, as Kinesis keeps them); `max.message.bytes`
//! bounds each produced batch; `message.timestamp.type` = LogAppendTime makes fetched records
//! carry their arrival time; `cleanup.policy=compact` has the topic's partitions compacted (with
//! `min.compaction.lag.ms`, `delete.retention.ms`, `min.cleanable.dirty.ratio`). The others are
//! kept and described.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::PathBuf;

use parking_lot::Mutex;

/// How a config's value is checked (and the config_type DescribeConfigs v3 reports).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Bool,
    Int,
    Long,
    Double,
    /// One of these strings.
    Str(&'static [&'static str]),
    /// A comma-separated list of these.
    List(&'static [&'static str]),
}

impl Kind {
    /// Kafka's ConfigType code.
    pub fn code(self) -> i8 {
        match self {
            Kind::Bool => 1,
            Kind::Str(_) => 2,
            Kind::Int => 3,
            Kind::Long => 5,
            Kind::Double => 6,
            Kind::List(_) => 7,
        }
    }
}

pub const RETENTION_MS: &str = "retention.ms";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const TIMESTAMP_TYPE: &str = "message.timestamp.type";
pub const CLEANUP_POLICY: &str = "cleanup.policy";
/// Keys one compaction pass remembers (about 50 MB): Kafka's cleaner is bounded the same way
/// (`log.cleaner.dedupe.buffer.size`).
const COMPACTION_MAX_KEYS: usize = 1 << 20;
/// Kafka's `log.retention.hours`: topics made through Kafka keep records a week.
pub const DEFAULT_RETENTION_HOURS: u32 = 168;
/// Kafka's `message.max.bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

const LONG_MAX: &str = "9223372036854775807";

/// Every topic config described, with Kafka's defaults.
pub const TOPIC: &[(&str, &str, Kind)] = &[
    (CLEANUP_POLICY, "delete", Kind::List(&["delete", "compact"])),
    (
        "compression.type",
        "producer",
        Kind::Str(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
    ),
    ("delete.retention.ms", "86400000", Kind::Long),
    ("file.delete.delay.ms", "60000", Kind::Long),
    ("flush.messages", LONG_MAX, Kind::Long),
    ("flush.ms", LONG_MAX, Kind::Long),
    ("index.interval.bytes", "4096", Kind::Int),
    ("max.compaction.lag.ms", LONG_MAX, Kind::Long),
    (MAX_MESSAGE_BYTES, "1048588", Kind::Int),
    ("message.downconversion.enable", "true", Kind::Bool),
    ("message.timestamp.difference.max.ms", LONG_MAX, Kind::Long),
    (
        TIMESTAMP_TYPE,
        "CreateTime",
        Kind::Str(&["CreateTime", "LogAppendTime"]),
    ),
    ("min.cleanable.dirty.ratio", "0.5", Kind::Double),
    ("min.compaction.lag.ms", "0", Kind::Long),
    ("min.insync.replicas", "1", Kind::Int),
    ("preallocate", "false", Kind::Bool),
    ("retention.bytes", "-1", Kind::Long),
    (RETENTION_MS, "604800000", Kind::Long),
    ("segment.bytes", "1073741824", Kind::Int),
    ("segment.index.bytes", "10485760", Kind::Int),
    ("segment.jitter.ms", "0", Kind::Long),
    ("segment.ms", "604800000", Kind::Long),
    ("unclean.leader.election.enable", "false", Kind::Bool),
];

pub fn def(name: &str) -> Option<&'static (&'static str, &'static str, Kind)> {
    TOPIC.iter().find(|(n, _, _)| *n == name)
}

/// Checks a value for a topic config: the message Kafka's INVALID_CONFIG carries when not.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let Some((_, _, kind)) = def(name) else {
        return Err(format!("Unknown topic config name: {name}"));
    };
    let ok = match kind {
        Kind::Bool => value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"),
        Kind::Int => value.trim().parse::<i32>().is_ok(),
        Kind::Long => value.trim().parse::<i64>().is_ok(),
        Kind::Double => value.trim().parse::<f64>().is_ok(),
        Kind::Str(allowed) => allowed.contains(&value),
        Kind::List(allowed) => value
            .split(',')
            .map(str::trim)
            .all(|v| allowed.contains(&v)),
    };
    let positive = match name {
        MAX_MESSAGE_BYTES => value.trim().parse::<i32>().is_ok_and(|v| v > 0),
        RETENTION_MS => value.trim().parse::<i64>().is_ok_and(|v| v >= -1),
        _ => true,
    };
    match ok && positive {
        true => Ok(()),
        false => Err(format!("Invalid value {value} for configuration {name}")),
    }
}

/// The stream retention (hours) a topic's configs ask for: a topic only compacted (`compact`
/// without `delete` in its `cleanup.policy`) keeps records as long as Kinesis keeps anything,
/// as Kafka applies no time retention to it; otherwise its `retention.ms`, or a week.
pub fn stream_retention_hours(values: &BTreeMap<String, String>) -> u32 {
    let policy: Vec<&str> = values
        .get(CLEANUP_POLICY)
        .map(|p| p.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if policy.contains(&"compact") && !policy.contains(&"delete") {
        return retention_hours(-1);
    }
    match values.get(RETENTION_MS) {
        Some(ms) => retention_hours(ms.trim().parse().unwrap_or(-1)),
        None => DEFAULT_RETENTION_HOURS,
    }
}

/// The stream retention (hours) a `retention.ms` asks for: -1 (forever) is the longest
/// Kinesis keeps, anything else rounded up to whole hours within 24 h – 365 days.
pub fn retention_hours(ms: i64) -> u32 {
    if ms < 0 {
        return 8760;
    }
    let hours = (ms as u64).div_ceil(3_600_000);
    hours.clamp(24, 8760) as u32
}

const FILE: &str = "topic-configs.json";

/// The values set per topic (the ones not kept by the stream itself).
pub struct TopicConfigs {
    /// Where `topic-configs.json` lives (memory only when None).
    dir: Option<PathBuf>,
    set: Mutex<HashMap<String, BTreeMap<String, String>>>,
}

impl TopicConfigs {
    pub fn open(dir: Option<PathBuf>) -> io::Result<TopicConfigs> {
        let path = dir.as_ref().map(|d| d.join(FILE));
        let set = match &path {
            Some(p) => match std::fs::read(p) {
                Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "Kafka topic configs unreadable: defaults used");
                    HashMap::new()
                }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => HashMap::new(),
                Err(e) => return Err(e),
            },
            None => HashMap::new(),
        };
        Ok(TopicConfigs {
            dir,
            set: Mutex::new(set),
        })
    }

    /// The values set on a topic.
    pub fn of(&self, topic: &str) -> BTreeMap<String, String> {
        self.set.lock().get(topic).cloned().unwrap_or_default()
    }

    /// A config's value on a topic (set, else Kafka's default).
    pub fn value(&self, topic: &str, name: &str) -> Option<String> {
        let set = self.set.lock();
        match set.get(topic).and_then(|m| m.get(name)) {
            Some(v) => Some(v.clone()),
            None => def(name).map(|(_, d, _)| d.to_string()),
        }
    }

    pub fn max_message_bytes(&self, topic: &str) -> usize {
        self.value(topic, MAX_MESSAGE_BYTES)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    pub fn log_append_time(&self, topic: &str) -> bool {
        self.value(topic, TIMESTAMP_TYPE).as_deref() == Some("LogAppendTime")
    }

    /// How a topic is compacted; None unless its `cleanup.policy` has `compact`.
    pub fn compaction(&self, topic: &str) -> Option<weir_log::CompactionPolicy> {
        let policy = self.value(topic, CLEANUP_POLICY)?;
        if !policy.split(',').any(|p| p.trim() == "compact") {
            return None;
        }
        let num = |name: &str| -> Option<f64> {
            self.value(topic, name).and_then(|v| v.trim().parse().ok())
        };
        Some(weir_log::CompactionPolicy {
            min_lag_ms: num("min.compaction.lag.ms").unwrap_or(0.0) as i64,
            delete_retention_ms: num("delete.retention.ms").unwrap_or(86_400_000.0) as i64,
            min_dirty_ratio: num("min.cleanable.dirty.ratio").unwrap_or(0.5),
            max_keys: COMPACTION_MAX_KEYS,
        })
    }

    /// The topics whose `cleanup.policy` is set (compacted ones among them).
    pub fn topics_with_policy(&self) -> Vec<String> {
        let set = self.set.lock();
        set.iter()
            .filter(|(_, m)| m.contains_key(CLEANUP_POLICY))
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Replaces a topic's values (none: forgets the topic), durably.
    pub fn replace(&self, topic: &str, values: BTreeMap<String, String>) -> io::Result<()> {
        let mut set = self.set.lock();
        match values.is_empty() {
            true => set.remove(topic),
            false => set.insert(topic.to_string(), values),
        };
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)?;
        weir_log::meta::write_atomic(dir, FILE, &serde_json::to_vec_pretty(&*set)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_kind() {
        assert_eq!(check("cleanup.policy", "compact,delete"), Ok(()));
        let with = |pairs: &[(&str, &str)]| {
            stream_retention_hours(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert_eq!(with(&[]), DEFAULT_RETENTION_HOURS);
        assert_eq!(with(&[(RETENTION_MS, "172800000")]), 48);
        // Compacted only: no time retention (the longest Kinesis keeps).
        assert_eq!(
            with(&[(CLEANUP_POLICY, "compact"), (RETENTION_MS, "172800000")]),
            8760
        );
        assert_eq!(
            with(&[
                (CLEANUP_POLICY, "compact,delete"),
                (RETENTION_MS, "172800000")
            ]),
            48
        );
        assert!(check("cleanup.policy", "shred").is_err());
        assert!(check("retention.ms", "soon").is_err());
        assert!(check("max.message.bytes", "0").is_err());
        assert!(check("no.such.config", "1")
            .unwrap_err()
            .contains("Unknown"));
        assert_eq!(check("message.timestamp.type", "LogAppendTime"), Ok(()));
        assert_eq!(retention_hours(-1), 8760);
        assert_eq!(retention_hours(3_600_000), 24);
        assert_eq!(retention_hours(604_800_000), 168);
        assert_eq!(retention_hours(604_800_001), 169);
    }
}
