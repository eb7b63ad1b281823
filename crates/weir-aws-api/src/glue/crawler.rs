//! What the crawler actions share: a crawler definition from a request (CreateCrawler, or the
//! members UpdateCrawler sends over an existing one), a crawler as Glue's `Crawler` shape, and
//! the crawler errors as Glue's.

use std::collections::BTreeMap;

use weir_crawler::{CrawlerError, Definition, Record, S3Target};

use super::common::{invalid, opt_string, strings, to_json};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;

/// The target lists Glue's `CrawlerTargets` has; all but S3 are kept, not crawled.
const TARGET_LISTS: [&str; 8] = [
    "S3Targets",
    "JdbcTargets",
    "MongoDBTargets",
    "DynamoDBTargets",
    "CatalogTargets",
    "DeltaTargets",
    "IcebergTargets",
    "HudiTargets",
];

impl From<CrawlerError> for ApiError {
    fn from(e: CrawlerError) -> Self {
        let message = e.to_string();
        let error = match e {
            CrawlerError::NotFound(_) => ApiError::new("EntityNotFoundException", 400, message),
            CrawlerError::AlreadyExists(_) => ApiError::new("AlreadyExistsException", 400, message),
            CrawlerError::Running(_) => ApiError::new("CrawlerRunningException", 400, message),
            CrawlerError::NotRunning(_) => {
                ApiError::new("CrawlerNotRunningException", 400, message)
            }
            CrawlerError::Stopping(_) => ApiError::new("CrawlerStoppingException", 400, message),
            CrawlerError::InvalidInput(_) => ApiError::new("InvalidInputException", 400, message),
            CrawlerError::NoSchedule(_) => ApiError::new("NoScheduleException", 400, message),
            CrawlerError::SchedulerRunning(_) => {
                ApiError::new("SchedulerRunningException", 400, message)
            }
            CrawlerError::SchedulerNotRunning(_) => {
                ApiError::new("SchedulerNotRunningException", 400, message)
            }
            CrawlerError::Storage(_) => {
                tracing::error!(error = %message, "Glue crawler request failed inside Weir");
                ApiError::new("InternalServiceException", 500, message)
            }
        };
        error.in_message_member()
    }
}

fn json_member(input: &mut Input, name: &str) -> Option<serde_json::Value> {
    input.raw(name).map(|v| to_json(v, false))
}

/// A string member where `""` clears it (as Terraform sends to remove a schedule).
fn clearable(input: &mut Input, name: &str, into: &mut Option<String>) {
    if input.has(name) {
        *into = opt_string(input, name).filter(|s| !s.is_empty());
    }
}

/// The request's members over `base` (a new crawler's defaults, or the crawler being updated).
pub fn definition(input: &mut Input, mut d: Definition) -> Result<Definition, ApiError> {
    if let Some(role) = opt_string(input, "Role") {
        // Glue keeps the role's name: an ARN's `role/` path is dropped.
        d.role = match role.split_once(":role/") {
            Some((_, name)) => name.to_string(),
            None => role,
        };
    }
    if input.has("DatabaseName") {
        d.database_name = opt_string(input, "DatabaseName");
    }
    clearable(input, "Description", &mut d.description);
    clearable(input, "Schedule", &mut d.schedule);
    clearable(input, "TablePrefix", &mut d.table_prefix);
    clearable(input, "Configuration", &mut d.configuration);
    clearable(
        input,
        "CrawlerSecurityConfiguration",
        &mut d.security_configuration,
    );
    if let Some(v) = input.raw("Classifiers") {
        d.classifiers = strings(v);
    }
    if let Some(targets) = json_member(input, "Targets") {
        d.s3_targets.clear();
        d.other_targets.clear();
        for list in TARGET_LISTS {
            let items = targets.get(list).cloned().unwrap_or_default();
            if list == "S3Targets" {
                for t in items.as_array().into_iter().flatten() {
                    let mut extra: BTreeMap<String, serde_json::Value> = t
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .collect();
                    let path = extra
                        .remove("Path")
                        .and_then(|p| p.as_str().map(str::to_string))
                        .ok_or_else(|| invalid("S3Target Path is required."))?;
                    let exclusions = extra
                        .remove("Exclusions")
                        .and_then(|e| serde_json::from_value(e).ok())
                        .unwrap_or_default();
                    let sample_size = extra
                        .remove("SampleSize")
                        .and_then(|s| s.as_u64())
                        .map(|n| n as usize);
                    d.s3_targets.push(S3Target {
                        path,
                        exclusions,
                        sample_size,
                        extra,
                    });
                }
            } else if !items.is_null() {
                d.other_targets.insert(list.to_string(), items);
            }
        }
    }
    if let Some(p) = json_member(input, "SchemaChangePolicy") {
        if let Some(u) = p["UpdateBehavior"].as_str() {
            d.update_behavior = u.to_string();
        }
        if let Some(x) = p["DeleteBehavior"].as_str() {
            d.delete_behavior = x.to_string();
        }
    }
    if let Some(p) = json_member(input, "RecrawlPolicy") {
        if let Some(r) = p["RecrawlBehavior"].as_str() {
            d.recrawl_behavior = r.to_string();
        }
    }
    if let Some(p) = json_member(input, "LineageConfiguration") {
        if let Some(l) = p["CrawlerLineageSettings"].as_str() {
            d.lineage = l.to_string();
        }
    }
    if let Some(p) = json_member(input, "LakeFormationConfiguration") {
        d.lake_formation = Some(p);
    }
    if d.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY"
        && (d.update_behavior != "LOG" || d.delete_behavior != "LOG")
    {
        return Err(invalid(
            "The SchemaChangePolicy for \"Crawl new folders only\" Amazon S3 target can have only LOG DeleteBehavior value and LOG UpdateBehavior value.",
        ));
    }
    Ok(d)
}

/// A new crawler's definition before the request's members: Glue's defaults.
pub fn defaults(name: String) -> Definition {
    Definition {
        name,
        update_behavior: "UPDATE_IN_DATABASE".into(),
        delete_behavior: "DEPRECATE_IN_DATABASE".into(),
        recrawl_behavior: "CRAWL_EVERYTHING".into(),
        lineage: "DISABLE".into(),
        ..Default::default()
    }
}

fn opt(members: &mut Vec<(&'static str, Value)>, name: &'static str, v: &Option<String>) {
    if let Some(v) = v {
        members.push((name, Value::str(v.clone())));
    }
}

/// A crawler as GetCrawler answers it.
pub fn render(r: &Record, now_ms: i64) -> Value {
    let d = &r.def;
    let mut members: Vec<(&'static str, Value)> = vec![
        ("Name", Value::str(d.name.clone())),
        ("Role", Value::str(d.role.clone())),
    ];
    let mut targets: Vec<(&'static str, Value)> = Vec::new();
    for list in TARGET_LISTS {
        let items = if list == "S3Targets" {
            Value::List(
                d.s3_targets
                    .iter()
                    .map(|t| {
                        let mut m = serde_json::Map::new();
                        m.insert("Path".into(), t.path.clone().into());
                        m.insert("Exclusions".into(), t.exclusions.clone().into());
                        if let Some(n) = t.sample_size {
                            m.insert("SampleSize".into(), n.into());
                        }
                        m.extend(t.extra.clone());
                        super::common::from_json(serde_json::Value::Object(m), false)
                    })
                    .collect(),
            )
        } else {
            d.other_targets
                .get(list)
                .map_or(Value::List(Vec::new()), |v| {
                    super::common::from_json(v.clone(), false)
                })
        };
        targets.push((list, items));
    }
    members.push(("Targets", Value::map(targets)));
    opt(&mut members, "DatabaseName", &d.database_name);
    opt(&mut members, "Description", &d.description);
    members.push((
        "Classifiers",
        Value::List(d.classifiers.iter().cloned().map(Value::Str).collect()),
    ));
    members.push((
        "RecrawlPolicy",
        Value::map([("RecrawlBehavior", Value::str(d.recrawl_behavior.clone()))]),
    ));
    members.push((
        "SchemaChangePolicy",
        Value::map([
            ("UpdateBehavior", Value::str(d.update_behavior.clone())),
            ("DeleteBehavior", Value::str(d.delete_behavior.clone())),
        ]),
    ));
    members.push((
        "LineageConfiguration",
        Value::map([("CrawlerLineageSettings", Value::str(d.lineage.clone()))]),
    ));
    members.push(("State", Value::str(r.state.clone())));
    opt(&mut members, "TablePrefix", &d.table_prefix);
    if let Some(s) = &d.schedule {
        members.push((
            "Schedule",
            Value::map([
                ("ScheduleExpression", Value::str(s.clone())),
                (
                    "State",
                    Value::str(
                        r.schedule_state
                            .clone()
                            .unwrap_or_else(|| "SCHEDULED".into()),
                    ),
                ),
            ]),
        ));
    }
    let elapsed = r
        .current
        .as_ref()
        .map_or(0, |c| (now_ms - c.start_ms).max(0));
    members.push(("CrawlElapsedTime", Value::Int(elapsed as i128)));
    members.push(("CreationTime", Value::Timestamp(r.created_ms)));
    members.push(("LastUpdated", Value::Timestamp(r.updated_ms)));
    if let Some(lc) = &r.last_crawl {
        let mut l: Vec<(&'static str, Value)> = vec![("Status", Value::str(lc.status.clone()))];
        if let Some(e) = &lc.error {
            l.push(("ErrorMessage", Value::str(e.clone())));
        }
        l.push(("LogGroup", Value::str("/aws-glue/crawlers")));
        l.push(("LogStream", Value::str(d.name.clone())));
        l.push(("MessagePrefix", Value::str(lc.message_prefix.clone())));
        l.push(("StartTime", Value::Timestamp(lc.start_ms)));
        members.push(("LastCrawl", Value::map(l)));
    }
    members.push(("Version", Value::Int(r.version as i128)));
    opt(&mut members, "Configuration", &d.configuration);
    opt(
        &mut members,
        "CrawlerSecurityConfiguration",
        &d.security_configuration,
    );
    members.push((
        "LakeFormationConfiguration",
        d.lake_formation.clone().map_or_else(
            || {
                Value::map([
                    ("UseLakeFormationCredentials", Value::Bool(false)),
                    ("AccountId", Value::str("")),
                ])
            },
            |v| super::common::from_json(v, false),
        ),
    ));
    Value::map(members)
}
