//! Prefix and ErrorOutputPrefix expressions (`!{namespace:value}`), validated as Firehose does
//! and evaluated for each object: `timestamp` (the oldest record's arrival, every instance the
//! same instant), `firehose:random-string` (11 characters, new each time),
//! `firehose:error-output-type`, `partitionKeyFromQuery` / `partitionKeyFromLambda`.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use rand::Rng;

use crate::model::S3Destination;
use crate::timefmt::{time_zone, Pattern};

/// Longest evaluated prefix.
pub const MAX_EVALUATED: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Timestamp(Pattern),
    RandomString,
    ErrorOutputType,
    PartitionKey { from_lambda: bool, key: String },
}

/// A parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefix(Vec<Part>);

impl Prefix {
    pub fn parse(text: &str) -> Result<Prefix, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("!{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("the expression starting at '!{{{after}' is not closed"))?;
            let expr = &after[..end];
            let (ns, value) = expr
                .split_once(':')
                .ok_or_else(|| format!("'!{{{expr}}}' is not of the form !{{namespace:value}}"))?;
            parts.push(match ns {
                "timestamp" => Part::Timestamp(Pattern::parse(value)?),
                "firehose" => match value {
                    "random-string" => Part::RandomString,
                    "error-output-type" => Part::ErrorOutputType,
                    _ => {
                        return Err(format!(
                            "'{value}' is not a firehose namespace value (random-string, \
                             error-output-type)"
                        ))
                    }
                },
                "partitionKeyFromQuery" | "partitionKeyFromLambda" if !value.is_empty() => {
                    Part::PartitionKey {
                        from_lambda: ns == "partitionKeyFromLambda",
                        key: value.to_string(),
                    }
                }
                _ => return Err(format!("'{ns}' is not a valid namespace in '!{{{expr}}}'")),
            });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Prefix(parts))
    }

    fn has(&self, f: impl Fn(&Part) -> bool) -> bool {
        self.0.iter().any(f)
    }
    pub fn has_expressions(&self) -> bool {
        self.has(|p| !matches!(p, Part::Literal(_)))
    }
    pub fn has_timestamp(&self) -> bool {
        self.has(|p| matches!(p, Part::Timestamp(_)))
    }
    pub fn has_error_output_type(&self) -> bool {
        self.has(|p| matches!(p, Part::ErrorOutputType))
    }
    pub fn has_partition_keys(&self) -> bool {
        self.has(|p| matches!(p, Part::PartitionKey { .. }))
    }
    /// The `partitionKeyFromQuery` / `partitionKeyFromLambda` keys used.
    pub fn partition_keys(&self) -> impl Iterator<Item = (bool, &str)> {
        self.0.iter().filter_map(|p| match p {
            Part::PartitionKey { from_lambda, key } => Some((*from_lambda, key.as_str())),
            _ => None,
        })
    }

    /// Evaluates the prefix at `ms` in `tz`.
    pub fn evaluate(
        &self,
        ms: i64,
        tz: &TimeZone,
        error_type: Option<&str>,
        keys: &BTreeMap<String, String>,
    ) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Timestamp(pattern) => out.push_str(&pattern.format(ms, tz)),
                Part::RandomString => out.push_str(&random_string()),
                Part::ErrorOutputType => out.push_str(error_type.unwrap_or_default()),
                Part::PartitionKey { from_lambda, key } => out.push_str(
                    keys.get(&partition_key_name(*from_lambda, key))
                        .map(String::as_str)
                        .unwrap_or_default(),
                ),
            }
        }
        out
    }
}

/// How a partition key is named in a partition's key map: query keys by their name, Lambda
/// keys apart from them (a query and a Lambda may both produce `id`).
pub fn partition_key_name(from_lambda: bool, key: &str) -> String {
    if from_lambda {
        format!("lambda:{key}")
    } else {
        key.to_string()
    }
}

/// 11 random lower-case hexadecimal characters.
fn random_string() -> String {
    let mut rng = rand::thread_rng();
    (0..11)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// The prefixes of a destination, checked and ready to evaluate.
#[derive(Debug, Clone)]
pub struct Prefixes {
    prefix: Prefix,
    error: Prefix,
    tz: TimeZone,
}

impl Prefixes {
    /// Checks a destination's Prefix, ErrorOutputPrefix, CustomTimeZone and their interplay with
    /// dynamic partitioning, as Firehose does at CreateDeliveryStream and UpdateDestination.
    pub fn of(d: &S3Destination) -> Result<Prefixes, String> {
        let text = d.prefix.as_deref().unwrap_or_default();
        let mut prefix = Prefix::parse(text).map_err(|e| format!("Prefix is invalid: {e}"))?;
        let error_text = d.error_output_prefix.as_deref().filter(|e| !e.is_empty());
        if prefix.has_error_output_type() {
            return Err(
                "Prefix cannot contain !{firehose:error-output-type}; it belongs in \
                        ErrorOutputPrefix."
                    .into(),
            );
        }
        let partitioning = d.partitioning_enabled();
        if prefix.has_partition_keys() && !partitioning {
            return Err(
                "Prefix uses partitionKeyFromQuery/partitionKeyFromLambda expressions, which need \
                 dynamic partitioning to be enabled."
                    .into(),
            );
        }
        if partitioning && !prefix.has_partition_keys() {
            return Err(
                "When dynamic partitioning is enabled, Prefix must use at least one \
                 partitionKeyFromQuery or partitionKeyFromLambda expression."
                    .into(),
            );
        }
        if partitioning && error_text.is_none() {
            return Err(
                "ErrorOutputPrefix is required when dynamic partitioning is enabled.".into(),
            );
        }
        let error = match error_text {
            None if prefix.has_expressions() => {
                return Err(
                    "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions."
                        .into(),
                )
            }
            // Unset: <prefix><error-output-type>/yyyy/MM/dd/HH/.
            None => Prefix::parse(&format!(
                "{text}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd/HH}}/"
            ))?,
            Some(e) => {
                let p =
                    Prefix::parse(e).map_err(|e| format!("ErrorOutputPrefix is invalid: {e}"))?;
                if p.has_partition_keys() {
                    return Err("ErrorOutputPrefix cannot use partition key expressions.".into());
                }
                if p.has_expressions() && !p.has_error_output_type() {
                    return Err(
                        "ErrorOutputPrefix must contain !{firehose:error-output-type} when \
                                it contains expressions."
                            .into(),
                    );
                }
                p
            }
        };
        // Without a timestamp (or partition keys), Firehose appends yyyy/MM/dd/HH/.
        if !prefix.has_timestamp() && !prefix.has_partition_keys() {
            prefix = Prefix::parse(&format!("{text}!{{timestamp:yyyy/MM/dd/HH/}}"))?;
        }
        let tz = time_zone(d.custom_time_zone.as_deref())
            .map_err(|e| format!("CustomTimeZone is invalid: {e}"))?;
        Ok(Prefixes { prefix, error, tz })
    }

    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// The evaluated prefix of delivered objects.
    pub fn delivered(&self, ms: i64, keys: &BTreeMap<String, String>) -> String {
        self.prefix.evaluate(ms, &self.tz, None, keys)
    }

    /// The evaluated prefix of error output of `error_type` (e.g. `processing-failed`).
    pub fn failed(&self, ms: i64, error_type: &str) -> String {
        self.error
            .evaluate(ms, &self.tz, Some(error_type), &BTreeMap::new())
    }

    /// `<name>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>`, in the destination's zone.
    pub fn object_name(&self, stream: &str, version: u64, ms: i64, ext: &str) -> String {
        let when = Pattern::parse("yyyy-MM-dd-HH-mm-ss")
            .map(|p| p.format(ms, &self.tz))
            .unwrap_or_default();
        format!("{stream}-{version}-{when}-{}{ext}", uuid())
    }
}

pub use weir_log::ids::uuid;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DynamicPartitioning, S3Destination};

    // 10:30 UTC on 2018-08-27.
    const T: i64 = 1_535_365_800_000;

    fn dest(prefix: Option<&str>, error: Option<&str>) -> S3Destination {
        S3Destination {
            bucket_arn: "arn:aws:s3:::b".into(),
            prefix: prefix.map(str::to_string),
            error_output_prefix: error.map(str::to_string),
            ..S3Destination::empty()
        }
    }

    fn eval(prefix: Option<&str>, error: Option<&str>) -> Result<(String, String), String> {
        let p = Prefixes::of(&dest(prefix, error))?;
        Ok((
            p.delivered(T, &BTreeMap::new()),
            p.failed(T, "processing-failed"),
        ))
    }

    /// The documented examples.
    #[test]
    fn documented_examples() {
        assert_eq!(
            eval(
                None,
                Some("myFirehoseFailures/!{firehose:error-output-type}/")
            )
            .unwrap(),
            (
                "2018/08/27/10/".into(),
                "myFirehoseFailures/processing-failed/".into()
            )
        );
        assert!(eval(Some("!{timestamp:yyyy/MM/dd}"), None).is_err());
        let (p, e) = eval(
            Some("myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}"),
            Some("myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}"),
        )
        .unwrap();
        assert!(
            p.starts_with("myFirehose/DeliveredYear=2018/anyMonth/rand="),
            "{p}"
        );
        assert_eq!(
            p.len(),
            "myFirehose/DeliveredYear=2018/anyMonth/rand=".len() + 11
        );
        assert_eq!(e, "myFirehoseFailures/processing-failed/2018/anyMonth/27");
        assert_eq!(
            eval(
                Some("myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"),
                Some("myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"),
            )
            .unwrap(),
            (
                "myPrefix/year=2018/month=08/day=27/hour=10/".into(),
                "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed".into()
            )
        );
        assert_eq!(
            eval(Some("logs/"), None).unwrap(),
            (
                "logs/2018/08/27/10/".into(),
                "logs/processing-failed/2018/08/27/10/".into()
            )
        );
    }

    #[test]
    fn rules() {
        assert!(eval(Some("a/!{firehose:error-output-type}/"), Some("e/")).is_err());
        assert!(eval(Some("a/"), Some("e/!{timestamp:yyyy}/")).is_err());
        assert!(eval(Some("a/!{timestamp:yyyy"), Some("e/")).is_err());
        assert!(eval(Some("a/!{nope:x}/"), Some("e/")).is_err());
        assert!(eval(Some("a/!{firehose:other}/"), Some("e/")).is_err());
        assert!(eval(Some("a/!{partitionKeyFromQuery:id}/"), Some("e/")).is_err());
        let mut d = dest(
            Some("a/!{partitionKeyFromQuery:id}/"),
            Some("e/!{firehose:error-output-type}/"),
        );
        d.dynamic_partitioning = Some(DynamicPartitioning {
            enabled: Some(true),
            retry_duration_s: None,
        });
        let p = Prefixes::of(&d).unwrap();
        let keys = BTreeMap::from([("id".to_string(), "42".to_string())]);
        assert_eq!(p.delivered(T, &keys), "a/42/");
        d.prefix = Some("a/".into());
        assert!(Prefixes::of(&d).is_err());
    }

    #[test]
    fn object_names_and_time_zones() {
        let mut d = dest(Some("p/"), None);
        d.custom_time_zone = Some("Asia/Tokyo".into());
        let p = Prefixes::of(&d).unwrap();
        assert_eq!(p.delivered(T, &BTreeMap::new()), "p/2018/08/27/19/");
        let name = p.object_name("stream", 3, T, ".gz");
        assert!(name.starts_with("stream-3-2018-08-27-19-30-00-"), "{name}");
        assert!(name.ends_with(".gz"));
        assert_eq!(name.len(), "stream-3-2018-08-27-19-30-00-".len() + 36 + 3);
        d.custom_time_zone = Some("Nowhere/Special".into());
        assert!(Prefixes::of(&d).is_err());
    }
}
