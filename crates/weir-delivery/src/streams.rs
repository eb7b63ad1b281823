//! Control plane: create, delete, describe, list, update the destination, tags, encryption.

use crate::catalog::StreamMeta;
use crate::error::{DeliveryError, Result};
use crate::model::{
    Compression, CreateRequest, HttpEndpoint, HttpUpdate, S3Destination, S3Update, Source, Status,
    StreamEncryption, StreamInfo,
};
use crate::prefix::Prefixes;
use crate::Delivery;

/// An UpdateDestination of either kind.
pub enum DestinationUpdate {
    S3(Box<S3Update>),
    Http(Box<HttpUpdate>),
}

/// A replacing destination must name its bucket and role.
fn require_bucket(d: &S3Destination) -> Result<()> {
    if d.bucket_arn.is_empty() || d.role_arn.is_empty() {
        return Err(DeliveryError::InvalidArgument(
            "A destination that replaces one of another type needs its RoleARN and BucketARN."
                .into(),
        ));
    }
    Ok(())
}

/// Checks a destination as Firehose does at CreateDeliveryStream (`before` is `None`) and
/// UpdateDestination: prefixes, processors, and the rules of dynamic partitioning.
fn validate(
    d: &S3Destination,
    before: Option<&S3Destination>,
    functions: &[crate::lambda::FunctionConfig],
) -> Result<()> {
    let bad = |m: String| DeliveryError::InvalidArgument(m);
    let prefixes = Prefixes::of(d).map_err(bad)?;
    if let Some(b) = &d.backup {
        Prefixes::of(b).map_err(bad)?;
    }
    for p in d.processors() {
        match p.kind.as_str() {
            "MetadataExtraction" => {
                let query = p.parameter("MetadataExtractionQuery").ok_or_else(|| {
                    bad("MetadataExtraction needs a MetadataExtractionQuery parameter.".into())
                })?;
                crate::extract::check(query)
                    .map_err(|e| bad(format!("MetadataExtractionQuery is invalid: {e}")))?;
                match p.parameter("JsonParsingEngine") {
                    None | Some("JQ-1.6") => {}
                    Some(other) => {
                        return Err(bad(format!(
                            "JsonParsingEngine {other} is not supported; use JQ-1.6."
                        )))
                    }
                }
            }
            "Lambda" => {
                let arn = p
                    .parameter("LambdaArn")
                    .ok_or_else(|| bad("A Lambda processor needs a LambdaArn parameter.".into()))?;
                crate::lambda::resolve(functions, arn).map_err(bad)?;
                let int_in = |name: &str, lo: f64, hi: f64| -> Result<()> {
                    match p.parameter(name).map(str::parse::<f64>) {
                        None => Ok(()),
                        Some(Ok(v)) if (lo..=hi).contains(&v) => Ok(()),
                        Some(_) => Err(bad(format!(
                            "Lambda processor parameter {name} must be between {lo} and {hi}."
                        ))),
                    }
                };
                int_in("NumberOfRetries", 0.0, 300.0)?;
                int_in("BufferSizeInMBs", 0.2, 3.0)?;
                int_in("BufferIntervalInSeconds", 0.0, 900.0)?;
            }
            "RecordDeAggregation" => match p.parameter("SubRecordType") {
                None | Some("JSON") => {}
                Some("DELIMITED") => {
                    let ok = p.parameter("Delimiter").is_some_and(|d| {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD
                            .decode(d)
                            .is_ok_and(|v| !v.is_empty())
                    });
                    if !ok {
                        return Err(bad(
                            "RecordDeAggregation of DELIMITED records needs a base64-encoded \
                             Delimiter."
                                .into(),
                        ));
                    }
                }
                Some(other) => {
                    return Err(bad(format!(
                        "SubRecordType {other} is not JSON or DELIMITED."
                    )))
                }
            },
            _ => {}
        }
    }
    if d.backup_enabled && d.backup.is_none() {
        return Err(bad(
            "S3BackupMode Enabled needs an S3BackupConfiguration.".into()
        ));
    }
    if before.is_some_and(|b| b.backup_enabled) && !d.backup_enabled {
        return Err(bad(
            "Source record backup cannot be disabled once it is enabled.".into(),
        ));
    }
    let partitioning = d.partitioning_enabled();
    match before.map(S3Destination::partitioning_enabled) {
        Some(true) if !partitioning => {
            return Err(bad(
                "Dynamic partitioning cannot be disabled once it is enabled.".into(),
            ))
        }
        Some(false) if partitioning => {
            return Err(bad(
                "Dynamic partitioning can only be enabled when a Firehose stream is created."
                    .into(),
            ))
        }
        _ => {}
    }
    if partitioning {
        if d.buffering.size_mb < 64 {
            return Err(bad(format!(
                "BufferingHints.SizeInMBs must be at least 64 when dynamic partitioning is \
                 enabled, not {}.",
                d.buffering.size_mb
            )));
        }
        let has = |kind: &str| d.processors().iter().any(|p| p.kind == kind);
        let keys: Vec<(bool, &str)> = prefixes.prefix().partition_keys().collect();
        if keys.iter().any(|(lambda, _)| !lambda) && !has("MetadataExtraction") {
            return Err(bad(
                "Prefix uses partitionKeyFromQuery, which needs a MetadataExtraction processor."
                    .into(),
            ));
        }
        if keys.iter().any(|(lambda, _)| *lambda) && !has("Lambda") {
            return Err(bad(
                "Prefix uses partitionKeyFromLambda, which needs a Lambda processor.".into(),
            ));
        }
    }
    Ok(())
}

impl Delivery {
    /// Firehose's rules for an enabled record format conversion, in its order: the
    /// destination's compression, its buffer size, the configuration's members, then the Glue
    /// table (which must exist, with columns Weir can write).
    fn validate_conversion(&self, d: &S3Destination, region: &str) -> Result<()> {
        let bad = |m: String| DeliveryError::InvalidArgument(m);
        let Some(c) = d.conversion() else {
            return Ok(());
        };
        if d.compression != Compression::Uncompressed {
            return Err(bad(
                "The S3 destination's compression format must be set to UNCOMPRESSED when data \
                 format conversion is enabled. To enable compression within the converted output \
                 format, set the appropriate serialization option in the output format \
                 configuration."
                    .into(),
            ));
        }
        if d.buffering.size_mb < 64 {
            return Err(bad(
                "BufferingHints.SizeInMBs must be at least 64 when data format conversion is \
                 enabled."
                    .into(),
            ));
        }
        c.check().map_err(bad)?;
        let schema = c.schema.clone().unwrap_or_default();
        let account = &self.inner.config.account_id;
        let table = crate::convert::TableRef::of(&schema, account, region);
        table
            .plan(&self.inner.tables, c)
            .map(|_| ())
            .map_err(|e| bad(e.message))
    }
}

/// Tags a delivery stream may carry.
pub const MAX_TAGS: usize = 50;

impl Delivery {
    /// CreateDeliveryStream: the stream is CREATING for the configured delay, then ACTIVE.
    pub async fn create(&self, req: CreateRequest) -> Result<String> {
        self.validate_conversion(&req.destination, &req.region)?;
        validate(&req.destination, None, &self.inner.config.functions)?;
        if let Some(h) = &req.http {
            validate(
                &req.destination.for_http(h),
                None,
                &self.inner.config.functions,
            )?;
        }
        if !matches!(req.source, Source::DirectPut { .. }) {
            self.source_of(&req.source)?;
        }
        let now = self.now_ms();
        let meta = {
            let _guard = self.inner.meta_lock.lock();
            let mut state = self.inner.state.write();
            let key = (req.region.clone(), req.name.clone());
            if let Some(existing) = state.get(&key) {
                if !existing.is_gone(now) {
                    return Err(DeliveryError::InUse(format!(
                        "Firehose {} under accountId {} already exists",
                        req.name, self.inner.config.account_id
                    )));
                }
            }
            let in_region = state
                .values()
                .filter(|m| m.region == req.region && m.deleted_at_ms.is_none())
                .count();
            if in_region >= self.inner.config.stream_limit {
                return Err(DeliveryError::LimitExceeded(format!(
                    "You have already consumed your firehose quota of {} hoses. Firehose names: …",
                    self.inner.config.stream_limit
                )));
            }
            let meta = StreamMeta {
                uid: rand::random::<u64>() >> 1,
                region: req.region.clone(),
                name: req.name.clone(),
                source: req.source,
                destination_id: "destinationId-000000000001".into(),
                destination: req.destination,
                http: req.http,
                version_id: 1,
                created_ms: now,
                updated_ms: None,
                active_at_ms: now + self.inner.config.create_delay_ms,
                deleted_at_ms: None,
                tags: req.tags,
                encryption: req.encryption,
                delivery_start_ms: now,
                taps: Vec::new(),
            };
            state.insert(key, meta.clone());
            drop(state);
            meta
        };
        if let Err(e) = self.prepare_source(&meta).await {
            self.inner
                .state
                .write()
                .remove(&(meta.region.clone(), meta.name.clone()));
            return Err(e);
        }
        {
            let _guard = self.inner.meta_lock.lock();
            self.persist()?;
        }
        self.spawn_worker(&meta);
        Ok(self.arn(&meta.region, &meta.name))
    }

    /// DeleteDeliveryStream: DELETING for the configured delay, then gone. Its worker stops
    /// and records not yet delivered are discarded, as AWS discards them.
    pub async fn delete(&self, region: &str, name: &str) -> Result<()> {
        let meta = self.lookup(region, name)?;
        if meta.deleted_at_ms.is_some() {
            return Err(DeliveryError::InUse(format!(
                "Firehose {name} is already being deleted."
            )));
        }
        {
            let _guard = self.inner.meta_lock.lock();
            if let Some(m) = self
                .inner
                .state
                .write()
                .get_mut(&(region.to_string(), name.to_string()))
            {
                m.deleted_at_ms = Some(self.now_ms() + self.inner.config.delete_delay_ms);
            }
            self.persist()?;
        }
        let handle = self.inner.workers.lock().remove(&meta.uid);
        if let Some(h) = handle {
            h.stop().await;
        }
        if let Source::DirectPut { .. } = meta.source {
            let key = Self::intake_key(&meta);
            match self.inner.intake.delete_stream(&key, true) {
                Ok(()) | Err(weir_log::LogError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.inner.files.remove_checkpoint(meta.uid)?;
        Ok(())
    }

    /// DescribeDeliveryStream.
    pub fn describe(&self, region: &str, name: &str) -> Result<StreamInfo> {
        let m = self.lookup(region, name)?;
        Ok(self.info(&m))
    }

    fn info(&self, m: &StreamMeta) -> StreamInfo {
        StreamInfo {
            name: m.name.clone(),
            arn: self.arn(&m.region, &m.name),
            status: self.status_of(m),
            source: m.source.clone(),
            version_id: m.version_id,
            created_ms: m.created_ms,
            updated_ms: m.updated_ms,
            destination_id: m.destination_id.clone(),
            destination: m.destination.clone(),
            http: m.http.clone(),
            encryption: m.encryption.clone(),
            delivery_start_ms: m.delivery_start_ms,
        }
    }

    /// ListDeliveryStreams: names in order, optionally of one source type.
    pub fn list(&self, region: &str, source_type: Option<&str>) -> Vec<String> {
        let now = self.now_ms();
        self.inner
            .state
            .read()
            .values()
            .filter(|m| m.region == region && !m.is_gone(now))
            .filter(|m| source_type.is_none_or(|t| m.source.type_name() == t))
            .map(|m| m.name.clone())
            .collect()
    }

    /// UpdateDestination: merges `update` into the destination when the version matches, and
    /// bumps the version (new objects carry it in their names).
    pub fn update_destination(
        &self,
        region: &str,
        name: &str,
        current_version: u64,
        destination_id: &str,
        update: DestinationUpdate,
    ) -> Result<()> {
        let _guard = self.inner.meta_lock.lock();
        let m = self.lookup(region, name)?;
        match self.status_of(&m) {
            Status::Active => {}
            s => {
                return Err(DeliveryError::InUse(format!(
                    "Firehose {name} is not ACTIVE (it is {}).",
                    s.as_str()
                )))
            }
        }
        if m.version_id != current_version {
            return Err(DeliveryError::ConcurrentModification(format!(
                "Cannot update firehose: {name} since the current version id: {} and specified \
                 version id: {current_version} do not match",
                m.version_id
            )));
        }
        if m.destination_id != destination_id {
            return Err(DeliveryError::InvalidArgument(format!(
                "Destination Id {destination_id} not found for firehose: {name}"
            )));
        }
        let functions = &self.inner.config.functions;
        let (next, next_http) = match (update, &m.http) {
            (DestinationUpdate::S3(u), None) => {
                let next = u.apply(&m.destination);
                self.validate_conversion(&next, &m.region)?;
                validate(&next, Some(&m.destination), functions)?;
                (next, None)
            }
            (DestinationUpdate::Http(u), Some(h)) => {
                let next = match u.s3.clone() {
                    Some(s3) => s3.apply(&m.destination),
                    None => m.destination.clone(),
                };
                let h = u.apply(h);
                validate(&next, None, functions)?;
                validate(&next.for_http(&h), None, functions)?;
                (next, Some(h))
            }
            // A different destination type replaces the destination, as in AWS.
            (DestinationUpdate::S3(u), Some(_)) => {
                let next = (*u).apply(&S3Destination::empty());
                require_bucket(&next)?;
                self.validate_conversion(&next, &m.region)?;
                validate(&next, None, functions)?;
                (next, None)
            }
            (DestinationUpdate::Http(u), None) => {
                let mut u = *u;
                let next =
                    u.s3.take()
                        .map(|s3| s3.apply(&S3Destination::empty()))
                        .unwrap_or_else(S3Destination::empty);
                require_bucket(&next)?;
                let h = u.apply(&HttpEndpoint::empty());
                if h.url.is_empty() {
                    return Err(DeliveryError::InvalidArgument(
                        "Replacing the destination with an HTTP endpoint needs its \
                             EndpointConfiguration.Url."
                            .into(),
                    ));
                }
                validate(&next, None, functions)?;
                validate(&next.for_http(&h), None, functions)?;
                (next, Some(h))
            }
        };
        let now = self.now_ms();
        if let Some(s) = self
            .inner
            .state
            .write()
            .get_mut(&(region.to_string(), name.to_string()))
        {
            s.destination = next;
            s.http = next_http;
            s.version_id += 1;
            s.updated_ms = Some(now);
        }
        self.persist()
    }

    /// TagDeliveryStream: adds or replaces tags (at most 50 in all).
    pub fn tag(&self, region: &str, name: &str, tags: Vec<(String, String)>) -> Result<()> {
        self.modify(region, name, |m| {
            for (k, v) in tags {
                match m.tags.iter_mut().find(|(tk, _)| *tk == k) {
                    Some(t) => t.1 = v,
                    None => m.tags.push((k, v)),
                }
            }
            if m.tags.len() > MAX_TAGS {
                return Err(DeliveryError::LimitExceeded(format!(
                    "A Firehose stream cannot have more than {MAX_TAGS} tags."
                )));
            }
            m.tags.sort();
            Ok(())
        })
    }

    /// Sends a copy of every record put from now on to `stream` of the main log (in the
    /// delivery stream's region), as well as to the destination.
    pub fn tap(&self, region: &str, name: &str, stream: &str) -> Result<()> {
        self.modify(region, name, |m| {
            if !matches!(m.source, crate::model::Source::DirectPut { .. }) {
                return Err(DeliveryError::InvalidSource(format!(
                    "Firehose {name} reads a stream ({}): read that stream instead",
                    m.source.type_name()
                )));
            }
            if !m.taps.iter().any(|t| t == stream) {
                m.taps.push(stream.to_string());
            }
            Ok(())
        })
    }

    /// Stops copying records to `stream`.
    pub fn untap(&self, region: &str, name: &str, stream: &str) -> Result<()> {
        self.modify(region, name, |m| {
            m.taps.retain(|t| t != stream);
            Ok(())
        })
    }

    /// UntagDeliveryStream.
    pub fn untag(&self, region: &str, name: &str, keys: &[String]) -> Result<()> {
        self.modify(region, name, |m| {
            m.tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
    }

    /// ListTagsForDeliveryStream: tags in key order.
    pub fn tags(&self, region: &str, name: &str) -> Result<Vec<(String, String)>> {
        let mut tags = self.lookup(region, name)?.tags;
        tags.sort();
        Ok(tags)
    }

    /// Start/StopDeliveryStreamEncryption (DirectPut streams only, as in AWS).
    pub fn set_encryption(
        &self,
        region: &str,
        name: &str,
        encryption: Option<StreamEncryption>,
    ) -> Result<()> {
        self.modify(region, name, |m| {
            if !matches!(m.source, Source::DirectPut { .. }) {
                return Err(DeliveryError::InvalidArgument(format!(
                    "Firehose {name} reads a stream ({}); server-side encryption is \
                     set on the source stream.",
                    m.source.type_name()
                )));
            }
            m.encryption = match encryption {
                Some(e) => Some(e),
                None => m.encryption.take().map(|e| StreamEncryption {
                    enabled: false,
                    ..e
                }),
            };
            Ok(())
        })
    }

    /// Applies `f` to a live, not-deleting stream and persists the catalog.
    fn modify(
        &self,
        region: &str,
        name: &str,
        f: impl FnOnce(&mut StreamMeta) -> Result<()>,
    ) -> Result<()> {
        let _guard = self.inner.meta_lock.lock();
        let m = self.lookup(region, name)?;
        if m.deleted_at_ms.is_some() {
            return Err(DeliveryError::InUse(format!(
                "Firehose {name} is being deleted."
            )));
        }
        {
            let mut state = self.inner.state.write();
            let Some(s) = state.get_mut(&(region.to_string(), name.to_string())) else {
                return Err(self.not_found(name));
            };
            let mut next = s.clone();
            f(&mut next)?;
            *s = next;
        }
        self.persist()
    }

    /// The stream a Kinesis or MSK source reads (it must exist).
    pub(crate) fn source_of(&self, source: &Source) -> Result<weir_log::StreamKey> {
        match source {
            Source::KinesisStream { stream_arn, .. } => self.source_key(stream_arn),
            Source::Msk {
                cluster_arn,
                region,
                topic,
                ..
            } => {
                let key = weir_log::StreamKey::new(region.as_str(), topic);
                self.inner.streams.describe_stream(&key).map_err(|_| {
                    DeliveryError::InvalidArgument(format!(
                        "Topic {topic} does not exist in MSK cluster {cluster_arn}."
                    ))
                })?;
                Ok(key)
            }
            Source::DirectPut { .. } => Err(DeliveryError::InvalidArgument(
                "A DirectPut Firehose stream reads no stream.".into(),
            )),
        }
    }

    /// The Kinesis stream an ARN names (it must exist).
    pub(crate) fn source_key(&self, arn: &str) -> Result<weir_log::StreamKey> {
        let bad = || DeliveryError::InvalidArgument(format!("{arn} is not a Kinesis stream ARN."));
        let rest = arn.strip_prefix("arn:aws:kinesis:").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, ':');
        let (Some(region), Some(_account), Some(resource)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let name = resource.strip_prefix("stream/").ok_or_else(bad)?;
        let key = weir_log::StreamKey::new(region, name);
        self.inner.streams.describe_stream(&key).map_err(|_| {
            DeliveryError::InvalidArgument(format!(
                "Kinesis stream {arn} does not exist or is not accessible."
            ))
        })?;
        Ok(key)
    }
}
