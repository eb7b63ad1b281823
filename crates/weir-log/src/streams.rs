//! Control plane: create, delete, describe, list, retention, tags, encryption, monitoring.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::Rng;

use crate::error::{LogError, Result};
use crate::hashing::even_ranges;
use crate::log::{retention_cutoff, shard_dir, stream_dir, Log, Stream};
use crate::meta::{Encryption, ShardMeta, StreamMeta, StreamMode};
use crate::seqno;
use crate::shard::{sync_dir, ShardLog};
use crate::types::{
    shard_id, CreateStream, Limits, ShardFilter, ShardInfo, StreamInfo, StreamKey, StreamStatus,
};

/// Shards an on-demand stream starts with.
pub const ON_DEMAND_INITIAL_SHARDS: u32 = 4;
/// Retention bounds in hours.
pub const MIN_RETENTION_HOURS: u32 = 24;
pub const MAX_RETENTION_HOURS: u32 = 8760;
/// Capacity-mode switches AWS allows per stream in 24 hours.
pub const MAX_MODE_SWITCHES_PER_DAY: usize = 2;
/// Starts (and, apart, stops) of server-side encryption AWS allows per rolling 24 hours.
pub const MAX_ENCRYPTION_CHANGES_PER_DAY: usize = 25;
const DAY_MS: i64 = 24 * 3_600_000;

/// Tags one stream may carry.
pub const MAX_TAGS: usize = 50;
/// Every shard-level metric name a request may give, in AWS's order; `ALL` stands for the rest.
pub const METRIC_NAMES: [&str; 8] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
    "ALL",
];
/// Every shard-level metric (what `ALL` enables).
pub const ALL_METRICS: &[&str] = METRIC_NAMES.split_at(7).0;

/// Result of enabling or disabling enhanced monitoring.
#[derive(Debug, Clone)]
pub struct MonitoringChange {
    pub current: Vec<String>,
    pub desired: Vec<String>,
}

impl Log {
    /// CreateStream.
    pub fn create_stream(&self, req: CreateStream) -> Result<()> {
        // A deleted stream whose DELETING time is over frees its name now.
        self.purge_deleted()?;
        let cfg = &self.inner.config;
        let shard_count = match (req.mode, req.shard_count) {
            (StreamMode::OnDemand, _) => ON_DEMAND_INITIAL_SHARDS,
            (StreamMode::Provisioned, Some(n)) => n,
            (StreamMode::Provisioned, None) => {
                return Err(LogError::InvalidArgument(
                    "ShardCount is required for streams in PROVISIONED mode.".into(),
                ))
            }
        };
        if let Some(hours) = req.retention_hours {
            check_retention_bounds(hours)?;
        }
        let store = self.inner.meta_lock.lock();
        let mut state = self.inner.state.write();
        if state.streams.contains_key(&req.key) {
            return Err(LogError::InUse(format!(
                "Stream {} under account {} already exists.",
                req.key.name, cfg.account_id
            )));
        }
        let open: u32 = open_shards_in(&state.streams, &req.key.region);
        if open + shard_count > cfg.shard_limit {
            return Err(LogError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. \
                 Current shard count for the account: {}. Limit: {}. Number of additional \
                 shards that would have resulted from this request: {}. Refer to the AWS \
                 Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) \
                 for current limits and how to request higher limits.",
                cfg.account_id, req.key.region, open, cfg.shard_limit, shard_count
            )));
        }
        if req.mode == StreamMode::OnDemand {
            let on_demand = state
                .streams
                .iter()
                .filter(|(k, s)| k.region == req.key.region && s.meta.mode == StreamMode::OnDemand)
                .count() as u32;
            if on_demand >= cfg.on_demand_stream_limit {
                return Err(LogError::LimitExceeded(format!(
                    "This request would exceed the on-demand stream limit for the account {} in {}. Limit: {}.",
                    cfg.account_id, req.key.region, cfg.on_demand_stream_limit
                )));
            }
        }
        let now = self.now_ms();
        let mut uid: u64 = rand::thread_rng().gen();
        while state.by_uid.contains_key(&uid) {
            uid = rand::thread_rng().gen();
        }
        let shards_meta: Vec<ShardMeta> = even_ranges(shard_count)
            .into_iter()
            .enumerate()
            .map(|(i, (start, end))| ShardMeta {
                index: i as u32,
                starting_hash_key: start.to_string(),
                ending_hash_key: end.to_string(),
                parent: None,
                adjacent_parent: None,
                created_ms: now,
                closed: None,
                expired: false,
            })
            .collect();
        let mut shards = Vec::with_capacity(shards_meta.len());
        for sm in &shards_meta {
            let (shard, _) =
                ShardLog::open(&shard_dir(&cfg.data_dir, uid, sm.index), cfg.segment_bytes)?;
            shards.push(Arc::new(shard));
        }
        // The new directories' entries must be durable before the catalog names them.
        let dir = stream_dir(&cfg.data_dir, uid);
        sync_dir(&dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        let meta = StreamMeta {
            uid,
            region: req.key.region.clone(),
            name: req.key.name.clone(),
            created_ms: now,
            active_at_ms: now + cfg.create_delay_ms,
            updating_until_ms: None,
            deleted_at_ms: None,
            retention_hours: req.retention_hours.unwrap_or(MIN_RETENTION_HOURS),
            mode: req.mode,
            max_record_kib: req.max_record_kib.unwrap_or(1024),
            shards: shards_meta,
            tags: req.tags,
            encryption: None,
            shard_level_metrics: Vec::new(),
            scaling_history_ms: Vec::new(),
            mode_history_ms: Vec::new(),
            encryption_history_ms: Vec::new(),
            consumers: Vec::new(),
        };
        state.by_uid.insert(uid, req.key.clone());
        state
            .streams
            .insert(req.key.clone(), Stream { meta, shards });
        if let Err(e) = self.persist(&store, &state) {
            state.streams.remove(&req.key);
            state.by_uid.remove(&uid);
            return Err(e);
        }
        Ok(())
    }

    /// DeleteStream: the stream turns DELETING and disappears after the delete delay.
    /// Refused while consumers are registered unless `enforce_consumer_deletion`.
    pub fn delete_stream(&self, key: &StreamKey, enforce_consumer_deletion: bool) -> Result<()> {
        let delay = self.inner.config.delete_delay_ms;
        let now = self.now_ms();
        let account = self.inner.config.account_id.clone();
        self.update_stream(key, |meta| {
            let consumers = meta
                .consumers
                .iter()
                .filter(|c| c.deleted_at_ms.is_none_or(|t| t > now))
                .count();
            if consumers > 0 && !enforce_consumer_deletion {
                return Err(LogError::InUse(format!(
                    "Stream {} under account {account} has {consumers} registered consumer(s). Set \
                     EnforceConsumerDeletion to delete the stream with its consumers.",
                    meta.name
                )));
            }
            if meta.deleted_at_ms.is_none() {
                meta.deleted_at_ms = Some(now + delay);
            }
            Ok(())
        })?;
        if delay <= 0 {
            self.purge_deleted()?;
        }
        Ok(())
    }

    /// DescribeStream / DescribeStreamSummary.
    pub fn describe_stream(&self, key: &StreamKey) -> Result<StreamInfo> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        Ok(self.info_of(key, s))
    }

    fn info_of(&self, key: &StreamKey, s: &Stream) -> StreamInfo {
        let m = &s.meta;
        StreamInfo {
            name: m.name.clone(),
            stream_id: crate::types::stream_id(m.uid, m.created_ms),
            arn: self.stream_arn(key),
            status: self.status_of(m),
            mode: m.mode,
            created_ms: m.created_ms,
            retention_hours: m.retention_hours,
            shards: m
                .shards
                .iter()
                .filter(|sh| !sh.expired)
                .map(shard_info)
                .collect(),
            encryption: m.encryption.clone(),
            shard_level_metrics: m.shard_level_metrics.clone(),
            max_record_kib: m.max_record_kib,
            consumer_count: m
                .consumers
                .iter()
                .filter(|c| c.deleted_at_ms.is_none_or(|t| t > self.now_ms()))
                .count() as u32,
        }
    }

    /// Whether the stream has server-side encryption on (cheap; for PutRecord answers).
    pub fn is_encrypted(&self, key: &StreamKey) -> bool {
        let state = self.inner.state.read();
        self.lookup(&state, key)
            .is_ok_and(|s| s.meta.encryption.is_some())
    }

    /// ListStreams: every stream of a region, in name order.
    pub fn list_streams(&self, region: &str) -> Vec<StreamInfo> {
        let state = self.inner.state.read();
        state
            .streams
            .iter()
            .filter(|(k, s)| k.region == region && !self.is_gone(&s.meta))
            .map(|(k, s)| self.info_of(k, s))
            .collect()
    }

    /// ListShards with an optional filter, in shard order.
    pub fn list_shards(
        &self,
        key: &StreamKey,
        filter: Option<&ShardFilter>,
    ) -> Result<Vec<ShardInfo>> {
        let now = self.now_ms();
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        let trim_horizon = retention_cutoff(now, s.meta.retention_hours);
        let shards = s
            .meta
            .shards
            .iter()
            .filter(|sh| !sh.expired)
            .map(shard_info);
        // A shard added without a parent (CreatePartitions through Kafka) took its hash keys
        // from an open shard: it counts as open since the stream began, so that the shards
        // listed at a time still cover every hash key.
        let open_at = |sh: &ShardInfo, t: i64| {
            (sh.created_ms <= t || sh.parent_shard_id.is_none())
                && sh.closed_ms.is_none_or(|c| c > t)
        };
        let keep = |sh: &ShardInfo| -> bool {
            match filter {
                None => true,
                Some(ShardFilter::AfterShardId(id)) => {
                    crate::types::parse_shard_id(id).is_none_or(|after| sh.index > after)
                }
                Some(ShardFilter::AtLatest) => sh.is_open(),
                Some(ShardFilter::AtTrimHorizon) => {
                    open_at(sh, trim_horizon.max(s.meta.created_ms))
                }
                Some(ShardFilter::FromTrimHorizon) => sh.closed_ms.is_none_or(|c| c > trim_horizon),
                Some(ShardFilter::AtTimestamp(t)) => open_at(sh, (*t).max(s.meta.created_ms)),
                Some(ShardFilter::FromTimestamp(t)) => sh.closed_ms.is_none_or(|c| c > *t),
            }
        };
        Ok(shards.filter(|sh| keep(sh)).collect())
    }

    /// IncreaseStreamRetentionPeriod.
    pub fn increase_retention(&self, key: &StreamKey, hours: u32) -> Result<()> {
        check_retention_bounds(hours)?;
        self.update_active_stream(key, |meta| {
            if hours < meta.retention_hours {
                return Err(LogError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be shorter than \
                     existing retention period ({} hours). Use DecreaseRetentionPeriod API.",
                    meta.name, meta.retention_hours
                )));
            }
            meta.retention_hours = hours;
            Ok(())
        })
    }

    /// The stream's largest record (KiB, 1024 to 10240), as Kinesis's UpdateMaxRecordSize.
    pub fn set_max_record_kib(&self, key: &StreamKey, kib: u32) -> Result<()> {
        if !(1024..=10240).contains(&kib) {
            return Err(LogError::InvalidArgument(format!(
                "MaxRecordSizeInKiB {kib} is outside 1024 to 10240."
            )));
        }
        self.update_active_stream(key, |meta| {
            meta.max_record_kib = kib;
            Ok(())
        })
    }

    /// DecreaseStreamRetentionPeriod.
    pub fn decrease_retention(&self, key: &StreamKey, hours: u32) -> Result<()> {
        check_retention_bounds(hours)?;
        self.update_active_stream(key, |meta| {
            if hours > meta.retention_hours {
                return Err(LogError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {} can not be longer than \
                     existing retention period ({} hours). Use IncreaseRetentionPeriod API.",
                    meta.name, meta.retention_hours
                )));
            }
            meta.retention_hours = hours;
            Ok(())
        })
    }

    /// AddTagsToStream / TagResource.
    pub fn add_tags(&self, key: &StreamKey, tags: BTreeMap<String, String>) -> Result<()> {
        let account = &self.inner.config.account_id;
        self.update_stream(key, |meta| {
            let texts = tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
            check_tag_chars("add tags to", &meta.name, account, texts)?;
            let mut merged = meta.tags.clone();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                // AWS answers InvalidArgumentException here, not LimitExceededException.
                return Err(LogError::InvalidArgument(format!(
                    "Failed to add tags to stream {} under account {} because a given stream cannot \
                     have more than {MAX_TAGS} tags associated with it.",
                    meta.name, self.inner.config.account_id
                )));
            }
            meta.tags = merged;
            Ok(())
        })
    }

    /// RemoveTagsFromStream / UntagResource.
    pub fn remove_tags(&self, key: &StreamKey, keys: &[String]) -> Result<()> {
        let account = &self.inner.config.account_id;
        self.update_stream(key, |meta| {
            let texts = keys.iter().map(String::as_str);
            check_tag_chars("remove tags from", &meta.name, account, texts)?;
            for k in keys {
                meta.tags.remove(k);
            }
            Ok(())
        })
    }

    /// The stream's tags in key order.
    pub fn tags(&self, key: &StreamKey) -> Result<BTreeMap<String, String>> {
        let state = self.inner.state.read();
        let s = self.lookup(&state, key)?;
        Ok(s.meta.tags.clone())
    }

    /// StartStreamEncryption / StopStreamEncryption (`None` stops). The stream is UPDATING for
    /// the update delay.
    pub fn set_encryption(&self, key: &StreamKey, encryption: Option<Encryption>) -> Result<()> {
        let now = self.now_ms();
        let until = now + self.inner.config.update_delay_ms;
        let enforce = self.inner.config.aws_limits;
        let account = self.inner.config.account_id.clone();
        self.update_active_stream(key, |meta| {
            // With AWS's limits: 25 starts and 25 stops per rolling 24 hours.
            let start = encryption.is_some();
            meta.encryption_history_ms
                .retain(|(t, _)| now - *t < DAY_MS);
            let recent = meta
                .encryption_history_ms
                .iter()
                .filter(|(_, s)| *s == start)
                .count();
            if enforce && recent >= MAX_ENCRYPTION_CHANGES_PER_DAY {
                return Err(LogError::LimitExceeded(format!(
                    "Stream {} under account {account} has {} server-side encryption \
                     {MAX_ENCRYPTION_CHANGES_PER_DAY} times in the last 24 hours.",
                    meta.name,
                    if start { "started" } else { "stopped" },
                )));
            }
            meta.encryption_history_ms.push((now, start));
            meta.encryption = encryption;
            meta.updating_until_ms = Some(until);
            Ok(())
        })
    }

    /// UpdateStreamMode. The stream is UPDATING for the update delay.
    pub fn update_stream_mode(&self, key: &StreamKey, mode: StreamMode) -> Result<()> {
        let now = self.now_ms();
        let until = now + self.inner.config.update_delay_ms;
        let enforce = self.inner.config.aws_limits;
        let account = self.inner.config.account_id.clone();
        self.update_active_stream(key, |meta| {
            if meta.mode == mode {
                return Err(LogError::InvalidArgument(format!(
                    "Stream {} is already in the requested capacity mode.",
                    meta.name
                )));
            }
            // With AWS's limits: two switches per 24 hours.
            meta.mode_history_ms.retain(|t| now - *t < DAY_MS);
            if enforce && meta.mode_history_ms.len() >= MAX_MODE_SWITCHES_PER_DAY {
                return Err(LogError::LimitExceeded(format!(
                    "Stream {} under account {account} has already switched its capacity mode \
                     {MAX_MODE_SWITCHES_PER_DAY} times in the last 24 hours.",
                    meta.name
                )));
            }
            meta.mode_history_ms.push(now);
            meta.mode = mode;
            meta.updating_until_ms = Some(until);
            Ok(())
        })
    }

    /// EnableEnhancedMonitoring (`enable`) or DisableEnhancedMonitoring.
    pub fn change_monitoring(
        &self,
        key: &StreamKey,
        metrics: &[String],
        enable: bool,
    ) -> Result<MonitoringChange> {
        let expand = |names: &[String]| -> Vec<String> {
            if names.iter().any(|n| n == "ALL") {
                ALL_METRICS.iter().map(|s| s.to_string()).collect()
            } else {
                names.to_vec()
            }
        };
        let asked = expand(metrics);
        let mut change = MonitoringChange {
            current: Vec::new(),
            desired: Vec::new(),
        };
        self.update_active_stream(key, |meta| {
            change.current = meta.shard_level_metrics.clone();
            let mut next: Vec<String> = if enable {
                let mut v = meta.shard_level_metrics.clone();
                v.extend(asked.iter().cloned());
                v
            } else {
                meta.shard_level_metrics
                    .iter()
                    .filter(|m| !asked.contains(m))
                    .cloned()
                    .collect()
            };
            next.sort_by_key(|m| ALL_METRICS.iter().position(|a| a == m));
            next.dedup();
            meta.shard_level_metrics = next.clone();
            change.desired = next;
            Ok(())
        })?;
        Ok(change)
    }

    /// DescribeLimits for a region.
    pub fn limits(&self, region: &str) -> Limits {
        let state = self.inner.state.read();
        Limits {
            shard_limit: self.inner.config.shard_limit,
            open_shard_count: open_shards_in(&state.streams, region),
            on_demand_stream_count: state
                .streams
                .iter()
                .filter(|(k, s)| k.region == region && s.meta.mode == StreamMode::OnDemand)
                .count() as u32,
            on_demand_stream_count_limit: self.inner.config.on_demand_stream_limit,
        }
    }

    /// Applies `f` to a stream's metadata (not one being deleted) and persists it.
    fn update_stream<F>(&self, key: &StreamKey, f: F) -> Result<()>
    where
        F: FnOnce(&mut StreamMeta) -> Result<()>,
    {
        self.update_inner(key, false, f)
    }

    /// Like `update_stream`, but the stream must be ACTIVE (ResourceInUseException otherwise).
    fn update_active_stream<F>(&self, key: &StreamKey, f: F) -> Result<()>
    where
        F: FnOnce(&mut StreamMeta) -> Result<()>,
    {
        self.update_inner(key, true, f)
    }

    /// Like `update_stream`, with the log at hand (consumer changes need its clock and names).
    pub(crate) fn update_consumers<F>(&self, key: &StreamKey, f: F) -> Result<()>
    where
        F: FnOnce(&Log, &mut StreamMeta) -> Result<()>,
    {
        self.update_inner(key, false, |meta| f(self, meta))
    }

    fn update_inner<F>(&self, key: &StreamKey, need_active: bool, f: F) -> Result<()>
    where
        F: FnOnce(&mut StreamMeta) -> Result<()>,
    {
        let store = self.inner.meta_lock.lock();
        let mut state = self.inner.state.write();
        let status = {
            let s = self.lookup(&state, key)?;
            self.status_of(&s.meta)
        };
        let in_use = |status: StreamStatus| {
            LogError::InUse(format!(
                "Stream {} under account {} not ACTIVE, instead in state {}",
                key.name,
                self.inner.config.account_id,
                status.as_str()
            ))
        };
        if status == StreamStatus::Deleting || (need_active && status != StreamStatus::Active) {
            return Err(in_use(status));
        }
        let Some(s) = state.streams.get_mut(key) else {
            return Err(self.not_found(key));
        };
        let before = s.meta.clone();
        f(&mut s.meta)?;
        if let Err(e) = self.persist(&store, &state) {
            if let Some(s) = state.streams.get_mut(key) {
                s.meta = before;
            }
            return Err(e);
        }
        Ok(())
    }
}

fn check_retention_bounds(hours: u32) -> Result<()> {
    if hours < MIN_RETENTION_HOURS {
        return Err(LogError::InvalidArgument(format!(
            "Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested retention \
             period ({hours} hours) is too short."
        )));
    }
    if hours > MAX_RETENTION_HOURS {
        return Err(LogError::InvalidArgument(format!(
            "Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested retention \
             period ({hours} hours) is too long."
        )));
    }
    Ok(())
}

fn open_shards_in(streams: &BTreeMap<StreamKey, Stream>, region: &str) -> u32 {
    streams
        .iter()
        .filter(|(k, _)| k.region == region)
        .map(|(_, s)| open_shard_count(&s.meta.shards))
        .sum()
}

/// Shards not closed by a reshard.
pub(crate) fn open_shard_count(shards: &[ShardMeta]) -> u32 {
    shards.iter().filter(|sh| sh.closed.is_none()).count() as u32
}

/// AWS's two checks of tag characters, once the stream is known: first the characters tags may
/// have at all, then the ones adding and removing tags refuse besides (`verb`: "add tags to").
fn check_tag_chars<'a>(
    verb: &str,
    stream: &str,
    account: &str,
    texts: impl Iterator<Item = &'a str> + Clone,
) -> Result<()> {
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "_./=+-%@".contains(c);
    if texts.clone().any(|t| !t.chars().all(allowed)) {
        return Err(LogError::InvalidArgument(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white \
             space, _ . / = + - % @."
                .into(),
        ));
    }
    if texts.clone().any(|t| t.contains('%')) {
        return Err(LogError::InvalidArgument(format!(
            "Failed to {verb} stream {stream} under account {account} because some tags contained \
             illegal characters. The allowed characters are Unicode letters, white-spaces, \
             '_',',','/','=','+','-','@'."
        )));
    }
    Ok(())
}

pub(crate) fn shard_info(sm: &ShardMeta) -> ShardInfo {
    ShardInfo {
        shard_id: shard_id(sm.index),
        index: sm.index,
        starting_hash_key: sm.range().0,
        ending_hash_key: sm.range().1,
        parent_shard_id: sm.parent.map(shard_id),
        adjacent_parent_shard_id: sm.adjacent_parent.map(shard_id),
        starting_sequence_number: seqno::format(sm.created_ms, sm.index, 0, sm.created_ms),
        ending_sequence_number: sm
            .closed
            .map(|(end, at)| seqno::format(sm.created_ms, sm.index, end, at)),
        created_ms: sm.created_ms,
        closed_ms: sm.closed.map(|(_, t)| t),
    }
}
