//! Glue crawlers' engine: reading S3 targets in Weir's buckets, classifying and inferring
//! schemas as Glue's built-in classifiers do, grouping files into tables and partitions, and
//! writing them to the catalog under the crawler's policies. Schedules (`cron(...)`) and
//! exclude globs are here too. No wire formats: the Glue front door drives it.

pub mod apply;
pub mod crawl;
pub mod cron;
pub mod formats;
pub mod glob;
pub mod plan;
pub mod registry;
pub mod schema;
pub mod text;

use futures::StreamExt;
use weir_catalog::Catalog;
use weir_log::Clock as _;
use weir_objects::Objects;

/// The wall clock, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    weir_log::SystemClock.now_ms()
}

pub use apply::{Counts, Policy};
pub use crawl::Target;
pub use plan::Grouping;
pub use registry::{CrawlerError, Crawlers, Definition, LastCrawl, Record, S3Target};

/// Files classified at once.
const PARALLEL_READS: usize = 16;

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Run {
    pub crawler: String,
    pub region: String,
    pub database: String,
    pub table_prefix: String,
    pub targets: Vec<Target>,
    pub policy: Policy,
    pub grouping: Grouping,
    /// Folders (relative to their target, `bucket/prefix` keyed) crawled before, skipped when
    /// only new folders are crawled (`CRAWL_NEW_FOLDERS_ONLY`).
    pub known_folders: Option<std::collections::HashSet<String>>,
}

/// What a run did, and the folders it saw (for the next incremental run).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub counts: Counts,
    pub folders: Vec<String>,
}

/// `bucket/prefix/folder/` of the folder a file (relative to its target) is in.
fn folder_id(t: &Target, rel: &str) -> String {
    let folder = rel.rsplit_once('/').map_or("", |(f, _)| f);
    let prefix = t.prefix.trim_end_matches('/');
    [t.bucket.as_str(), prefix, folder]
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}/"))
        .collect()
}

/// Crawls every target and writes what it finds; `cancelled` is checked between files. Every
/// target is planned before anything is written, so a crawl over its TableThreshold writes
/// nothing.
pub async fn run(
    objects: &Objects,
    catalog: &Catalog,
    run: &Run,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let incremental = run.known_folders.is_some();
    let mut plans = Vec::with_capacity(run.targets.len());
    for t in &run.targets {
        let listed = crawl::list(objects, t).await?;
        let mut facts = Vec::with_capacity(listed.len());
        let mut reads = futures::stream::iter(listed.into_iter().filter(|(_, rel, _)| {
            let id = folder_id(t, rel);
            run.known_folders
                .as_ref()
                .is_none_or(|known| !known.contains(&id))
        }))
        .map(|(key, rel, size)| async move {
            crawl::classify(objects, &t.bucket, &key, &rel, size).await
        })
        .buffered(PARALLEL_READS);
        while let Some(f) = reads.next().await {
            if cancelled() {
                return Err("cancelled".into());
            }
            facts.push(f);
        }
        for f in &facts {
            out.folders.push(folder_id(t, &f.rel));
        }
        let mut grouping = run.grouping.clone();
        if let Some(level) = grouping.table_level {
            // The configuration counts levels from the bucket; the plan from the include path.
            let below_bucket = t.prefix.split('/').filter(|s| !s.is_empty()).count();
            grouping.table_level = Some(level.saturating_sub(below_bucket));
        }
        let dest = apply::Destination {
            catalog,
            region: &run.region,
            database: &run.database,
            crawler: &run.crawler,
            base: t.base(),
        };
        if incremental {
            // New folders of the crawler's tables are their new partitions; only the rest can
            // make tables.
            let (added, rest) = apply::attach(&dest, facts).map_err(|e| e.to_string())?;
            out.counts.partitions_added += added;
            facts = rest;
        }
        let planned = plan::plan(t.root_name(), &run.table_prefix, &facts, &grouping);
        plans.push((planned, dest));
    }
    let tables: usize = plans.iter().map(|(p, _)| p.len()).sum();
    if let Some(n) = run.grouping.table_threshold.filter(|n| tables > *n) {
        return Err(format!(
            "The number of tables detected by crawler exceeded the TableThreshold: Table Threshold value = {n}, Tables detected - {tables}"
        ));
    }
    let mut policy = run.policy.clone();
    if incremental {
        // Crawling new folders only forces both behaviours to LOG, as in Glue.
        policy.update = false;
        policy.delete = "LOG".into();
    }
    for (planned, dest) in &plans {
        let c = apply::apply(planned, dest, &policy, !incremental).map_err(|e| e.to_string())?;
        out.counts.created += c.created;
        out.counts.updated += c.updated;
        out.counts.deleted += c.deleted;
        out.counts.partitions_added += c.partitions_added;
    }
    out.folders.sort();
    out.folders.dedup();
    Ok(out)
}
