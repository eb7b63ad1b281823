//! The MSK control plane (`kafka`, REST-JSON): clusters and configurations, one file per
//! action. Each cluster is served by Kafka listeners of its own (weir-kafka `Clusters` and the
//! server's doors): its bootstrap strings name them (the plaintext one, and SASL/SCRAM and IAM
//! ones when the cluster enables them; a listener takes SASL on the same port), and its topics
//! are its own.

mod create_cluster;
mod create_cluster_v2;
mod create_configuration;
mod delete_cluster;
mod describe_cluster;
mod describe_cluster_v2;
mod describe_configuration;
mod describe_configuration_revision;
mod get_bootstrap_brokers;
mod list_clusters;
mod list_clusters_v2;
mod list_configurations;
mod list_nodes;
mod tags;

use std::collections::BTreeMap;

use base64::Engine;
use weir_kafka::{Cluster, ClusterError, Configuration};

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::value::{Key, Value};
use crate::{Ctx, Reply};

/// What recorded answers show beyond the model: nothing yet.
pub static OVERLAY: Overlay = Overlay {
    order: &[],
    required_unless: &[],
    required_unless_except: &[],
    also_required: &[],
    relaxed_patterns: &[],
    enum_order: &[],
};

/// The operations Weir serves.
pub const ACTIONS: &[&str] = &[
    "CreateCluster",
    "CreateClusterV2",
    "CreateConfiguration",
    "DeleteCluster",
    "DescribeCluster",
    "DescribeClusterV2",
    "DescribeConfiguration",
    "DescribeConfigurationRevision",
    "GetBootstrapBrokers",
    "ListClusters",
    "ListClustersV2",
    "ListConfigurations",
    "ListNodes",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
];

pub async fn dispatch(ctx: &Ctx, action: &str, input: Input) -> Result<Reply, ApiError> {
    let out = match action {
        "CreateCluster" => create_cluster::handle(ctx, input)?,
        "CreateClusterV2" => create_cluster_v2::handle(ctx, input)?,
        "CreateConfiguration" => create_configuration::handle(ctx, input)?,
        "DeleteCluster" => delete_cluster::handle(ctx, input)?,
        "DescribeCluster" => describe_cluster::handle(ctx, input)?,
        "DescribeClusterV2" => describe_cluster_v2::handle(ctx, input)?,
        "DescribeConfiguration" => describe_configuration::handle(ctx, input)?,
        "DescribeConfigurationRevision" => describe_configuration_revision::handle(ctx, input)?,
        "GetBootstrapBrokers" => get_bootstrap_brokers::handle(ctx, input)?,
        "ListClusters" => list_clusters::handle(ctx, input)?,
        "ListClustersV2" => list_clusters_v2::handle(ctx, input)?,
        "ListConfigurations" => list_configurations::handle(ctx, input)?,
        "ListNodes" => list_nodes::handle(ctx, input)?,
        "ListTagsForResource" => tags::list(ctx, input)?,
        "TagResource" => tags::tag(ctx, input)?,
        "UntagResource" => tags::untag(ctx, input)?,
        other => {
            return Err(crate::rest_json::bad_request(format!(
                "Weir does not serve {other} yet."
            )))
        }
    };
    Ok(Reply::Doc(out))
}

/// The one table from the control plane's errors to MSK's.
pub fn api_error(e: ClusterError) -> ApiError {
    match e {
        ClusterError::NotFound(m) => ApiError::new("NotFoundException", 404, m),
        ClusterError::Conflict(m) => ApiError::new("ConflictException", 409, m),
        ClusterError::Storage(m) => ApiError::new("InternalServerErrorException", 500, m),
    }
}

pub fn now_ms(ctx: &Ctx) -> i64 {
    ctx.log.now_ms()
}

/// `arn:aws:kafka:{region}:{account}:{kind}/{name}/{uuid}`, as MSK makes them.
pub fn arn(ctx: &Ctx, kind: &str, name: &str) -> String {
    // MSK's cluster uuids end in a revision suffix.
    format!(
        "arn:aws:kafka:{}:{}:{kind}/{name}/{}-1",
        ctx.region,
        ctx.log.config().account_id,
        weir_log::ids::uuid()
    )
}

/// A member given as a string (checked by the model already).
pub fn string(input: &mut Input, name: &str) -> Option<String> {
    match input.raw(name) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// A list-of-strings member (checked by the model already).
pub fn strings(input: &mut Input, name: &str) -> Vec<String> {
    input
        .raw(name)
        .map(crate::glue::common::strings)
        .unwrap_or_default()
}

pub fn tags_of(input: &mut Input, name: &str) -> BTreeMap<String, String> {
    match input.raw(name) {
        Some(Value::Map(items)) => items
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::Str(s) => Some((k.to_string(), s)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (Key::Owned(k.clone()), Value::str(v.clone())))
            .collect(),
    )
}

/// A request value kept as JSON (what was given is described back).
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => serde_json::json!(*i as i64),
        Value::Float(f) => serde_json::json!(f),
        Value::Str(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Timestamp(ms) => serde_json::json!(ms),
        Value::List(l) => J::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect()),
    }
}

pub fn from_json(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i as i128),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::str(s.clone()),
        J::Array(a) => Value::List(a.iter().map(from_json).collect()),
        J::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Key::Owned(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

/// A member of a cluster's kept request (`spec`), or null.
pub fn spec(c: &Cluster, path: &[&str]) -> Value {
    let mut v = &c.spec;
    for p in path {
        match v.get(p) {
            Some(x) => v = x,
            None => return Value::Null,
        }
    }
    from_json(v)
}

/// A serverless cluster asked for through an API of provisioned clusters only.
pub fn provisioned_only(c: &Cluster) -> Result<(), ApiError> {
    match c.kind.as_str() {
        "SERVERLESS" => Err(crate::rest_json::bad_request(
            "This operation cannot be performed on serverless clusters.",
        )),
        _ => Ok(()),
    }
}

/// The cluster named by the `ClusterArn` member.
pub fn cluster_of(ctx: &Ctx, input: &mut Input) -> Result<Cluster, ApiError> {
    let arn = string(input, "ClusterArn").unwrap_or_default();
    ctx.clusters.cluster(&arn, now_ms(ctx)).ok_or_else(|| {
        api_error(ClusterError::NotFound(format!(
            "The cluster {arn} does not exist."
        )))
    })
}

/// Whether the cluster's client authentication turns on a mechanism (`Sasl.Scram`, `Sasl.Iam`,
/// `Unauthenticated`), for provisioned (`spec.ClientAuthentication`) and serverless ones.
pub fn auth_enabled(c: &Cluster, path: &[&str]) -> bool {
    let roots: [&[&str]; 3] = [
        &["ClientAuthentication"],
        &["Provisioned", "ClientAuthentication"],
        &["Serverless", "ClientAuthentication"],
    ];
    roots.iter().any(|root| {
        let full: Vec<&str> = root.iter().chain(path).copied().collect();
        matches!(spec(c, &full), Value::Map(ref m) if m.iter().any(|(k, v)| k == "Enabled" && *v == Value::Bool(true)))
    })
}

/// The configuration summary MSK lists and describes.
pub fn configuration_value(c: &Configuration) -> Value {
    let (created, desc, _) = c.revisions.first().cloned().unwrap_or_default();
    let latest = c.revisions.len();
    let (latest_at, latest_desc, _) = c.revisions.last().cloned().unwrap_or_default();
    Value::map([
        ("Arn", Value::str(c.arn.clone())),
        ("CreationTime", Value::Timestamp(created)),
        (
            "Description",
            Value::str(if c.description.is_empty() {
                desc
            } else {
                c.description.clone()
            }),
        ),
        (
            "KafkaVersions",
            Value::List(c.kafka_versions.iter().cloned().map(Value::Str).collect()),
        ),
        (
            "LatestRevision",
            Value::map([
                ("CreationTime", Value::Timestamp(latest_at)),
                ("Description", Value::str(latest_desc)),
                ("Revision", Value::Int(latest as i128)),
            ]),
        ),
        ("Name", Value::str(c.name.clone())),
        ("State", Value::str("ACTIVE")),
    ])
}

/// Pages a list: `MaxResults` items from the `NextToken` offset.
pub fn page(input: &mut Input, items: Vec<Value>) -> (Vec<Value>, Value) {
    let max = match input.raw("MaxResults") {
        Some(Value::Int(n)) if n > 0 => n as usize,
        _ => 100,
    };
    let from = string(input, "NextToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(from).take(max).collect();
    let next = match from + page.len() < total {
        true => Value::str((from + page.len()).to_string()),
        false => Value::Null,
    };
    (page, next)
}

/// The named members of a request, kept as JSON.
pub fn take_spec(input: &mut Input, names: &[&str]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for name in names {
        if let Some(v) = input.raw(name).filter(|v| *v != Value::Null) {
            out.insert(name.to_string(), to_json(&v));
        }
    }
    serde_json::Value::Object(out)
}

/// A new cluster from a creation request's parts.
pub fn new_cluster(
    ctx: &Ctx,
    name: String,
    kind: &str,
    spec: serde_json::Value,
    tags: BTreeMap<String, String>,
) -> Cluster {
    Cluster {
        arn: arn(ctx, "cluster", &name),
        name,
        region: ctx.region.clone(),
        kind: kind.to_string(),
        created_ms: now_ms(ctx),
        deleted_ms: None,
        spec,
        tags,
        version: 1,
        listeners: None,
    }
}

/// MSK's current-version string (`K` and a number, bumped by each update).
pub fn current_version(c: &Cluster) -> Value {
    Value::str(format!("K{}", c.version))
}

/// The provisioned part of a cluster, as DescribeCluster and DescribeClusterV2 show it.
pub fn provisioned_members(c: &Cluster) -> Vec<(&'static str, Value)> {
    // A cluster made by CreateClusterV2 keeps its settings under `Provisioned`.
    let root: &[&str] = match c.spec.get("Provisioned") {
        Some(_) => &["Provisioned"],
        None => &[],
    };
    let at = |name: &str| {
        let path: Vec<&str> = root.iter().copied().chain([name]).collect();
        spec(c, &path)
    };
    let kafka_version = at("KafkaVersion");
    let configuration = at("ConfigurationInfo");
    let (config_arn, revision) = match &configuration {
        Value::Map(m) => (
            m.iter()
                .find(|(k, _)| k == "Arn")
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            m.iter()
                .find(|(k, _)| k == "Revision")
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
        ),
        _ => (Value::Null, Value::Null),
    };
    vec![
        ("BrokerNodeGroupInfo", at("BrokerNodeGroupInfo")),
        ("ClientAuthentication", at("ClientAuthentication")),
        (
            "CurrentBrokerSoftwareInfo",
            Value::map([
                ("ConfigurationArn", config_arn),
                ("ConfigurationRevision", revision),
                ("KafkaVersion", kafka_version),
            ]),
        ),
        ("EncryptionInfo", at("EncryptionInfo")),
        (
            "EnhancedMonitoring",
            match at("EnhancedMonitoring") {
                Value::Null => Value::str("DEFAULT"),
                v => v,
            },
        ),
        ("OpenMonitoring", at("OpenMonitoring")),
        ("LoggingInfo", at("LoggingInfo")),
        ("NumberOfBrokerNodes", at("NumberOfBrokerNodes")),
        (
            "StorageMode",
            match at("StorageMode") {
                Value::Null => Value::str("LOCAL"),
                v => v,
            },
        ),
    ]
}
