//! The Glue front door (`AWSGlue.<Action>`): the Data Catalog, crawlers and Python shell jobs,
//! one file per action, and the tables mapping catalog, crawler and job errors to Glue's error
//! types.

mod batch_create_partition;
mod batch_delete_partition;
mod batch_delete_table;
mod batch_delete_table_version;
mod batch_get_crawlers;
mod batch_get_jobs;
mod batch_get_partition;
mod batch_stop_job_run;
mod batch_update_partition;
pub(crate) mod common;
mod crawler;
mod create_crawler;
mod create_database;
mod create_job;
mod create_partition;
mod create_table;
mod delete_crawler;
mod delete_database;
mod delete_job;
mod delete_partition;
mod delete_table;
mod delete_table_version;
mod get_crawler;
mod get_crawler_metrics;
mod get_crawlers;
mod get_database;
mod get_databases;
mod get_job;
mod get_job_run;
mod get_job_runs;
mod get_jobs;
mod get_partition;
mod get_partitions;
mod get_table;
mod get_table_version;
mod get_table_versions;
mod get_tables;
mod get_tags;
mod job;
mod list_crawlers;
mod list_jobs;
mod search_tables;
mod start_crawler;
mod start_crawler_schedule;
mod start_job_run;
mod stop_crawler;
mod stop_crawler_schedule;
mod tag_resource;
mod tags;
mod untag_resource;
mod update_crawler;
mod update_crawler_schedule;
mod update_database;
mod update_job;
mod update_partition;
mod update_table;

pub use get_tables::name_filter;
use weir_catalog::CatalogError;

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "AWSGlue";

/// The actions Weir serves.
pub const ACTIONS: &[&str] = &[
    "BatchCreatePartition",
    "BatchDeletePartition",
    "BatchDeleteTable",
    "BatchDeleteTableVersion",
    "BatchGetCrawlers",
    "BatchGetJobs",
    "BatchGetPartition",
    "BatchStopJobRun",
    "BatchUpdatePartition",
    "CreateCrawler",
    "CreateDatabase",
    "CreateJob",
    "CreatePartition",
    "CreateTable",
    "DeleteCrawler",
    "DeleteDatabase",
    "DeleteJob",
    "DeletePartition",
    "DeleteTable",
    "DeleteTableVersion",
    "GetCrawler",
    "GetCrawlerMetrics",
    "GetCrawlers",
    "GetDatabase",
    "GetDatabases",
    "GetJob",
    "GetJobRun",
    "GetJobRuns",
    "GetJobs",
    "GetPartition",
    "GetPartitions",
    "GetTable",
    "GetTableVersion",
    "GetTableVersions",
    "GetTables",
    "GetTags",
    "ListCrawlers",
    "ListJobs",
    "SearchTables",
    "StartCrawler",
    "StartCrawlerSchedule",
    "StartJobRun",
    "StopCrawler",
    "StopCrawlerSchedule",
    "TagResource",
    "UntagResource",
    "UpdateCrawler",
    "UpdateCrawlerSchedule",
    "UpdateDatabase",
    "UpdateJob",
    "UpdatePartition",
    "UpdateTable",
];

/// Glue's answers follow its model.
pub static OVERLAY: Overlay = Overlay {
    order: &[],
    required_unless: &[],
    required_unless_except: &[],
    also_required: &[],
    relaxed_patterns: &[],
    enum_order: &[],
};

/// Runs one action.
pub async fn dispatch(ctx: &Ctx, action: &str, input: Input) -> Result<Reply, ApiError> {
    let doc = match action {
        "BatchCreatePartition" => batch_create_partition::handle(ctx, input).await,
        "BatchDeletePartition" => batch_delete_partition::handle(ctx, input).await,
        "BatchDeleteTable" => batch_delete_table::handle(ctx, input).await,
        "BatchDeleteTableVersion" => batch_delete_table_version::handle(ctx, input).await,
        "BatchGetCrawlers" => batch_get_crawlers::handle(ctx, input).await,
        "BatchGetJobs" => batch_get_jobs::handle(ctx, input).await,
        "BatchGetPartition" => batch_get_partition::handle(ctx, input).await,
        "BatchStopJobRun" => batch_stop_job_run::handle(ctx, input).await,
        "BatchUpdatePartition" => batch_update_partition::handle(ctx, input).await,
        "CreateCrawler" => create_crawler::handle(ctx, input).await,
        "CreateDatabase" => create_database::handle(ctx, input).await,
        "CreateJob" => create_job::handle(ctx, input).await,
        "CreatePartition" => create_partition::handle(ctx, input).await,
        "CreateTable" => create_table::handle(ctx, input).await,
        "DeleteCrawler" => delete_crawler::handle(ctx, input).await,
        "DeleteDatabase" => delete_database::handle(ctx, input).await,
        "DeleteJob" => delete_job::handle(ctx, input).await,
        "DeletePartition" => delete_partition::handle(ctx, input).await,
        "DeleteTable" => delete_table::handle(ctx, input).await,
        "DeleteTableVersion" => delete_table_version::handle(ctx, input).await,
        "GetCrawler" => get_crawler::handle(ctx, input).await,
        "GetCrawlerMetrics" => get_crawler_metrics::handle(ctx, input).await,
        "GetCrawlers" => get_crawlers::handle(ctx, input).await,
        "GetDatabase" => get_database::handle(ctx, input).await,
        "GetDatabases" => get_databases::handle(ctx, input).await,
        "GetJob" => get_job::handle(ctx, input).await,
        "GetJobRun" => get_job_run::handle(ctx, input).await,
        "GetJobRuns" => get_job_runs::handle(ctx, input).await,
        "GetJobs" => get_jobs::handle(ctx, input).await,
        "GetPartition" => get_partition::handle(ctx, input).await,
        "GetPartitions" => get_partitions::handle(ctx, input).await,
        "GetTable" => get_table::handle(ctx, input).await,
        "GetTableVersion" => get_table_version::handle(ctx, input).await,
        "GetTableVersions" => get_table_versions::handle(ctx, input).await,
        "GetTables" => get_tables::handle(ctx, input).await,
        "GetTags" => get_tags::handle(ctx, input).await,
        "ListCrawlers" => list_crawlers::handle(ctx, input).await,
        "ListJobs" => list_jobs::handle(ctx, input).await,
        "SearchTables" => search_tables::handle(ctx, input).await,
        "StartCrawler" => start_crawler::handle(ctx, input).await,
        "StartCrawlerSchedule" => start_crawler_schedule::handle(ctx, input).await,
        "StartJobRun" => start_job_run::handle(ctx, input).await,
        "StopCrawler" => stop_crawler::handle(ctx, input).await,
        "StopCrawlerSchedule" => stop_crawler_schedule::handle(ctx, input).await,
        "TagResource" => tag_resource::handle(ctx, input).await,
        "UntagResource" => untag_resource::handle(ctx, input).await,
        "UpdateCrawler" => update_crawler::handle(ctx, input).await,
        "UpdateCrawlerSchedule" => update_crawler_schedule::handle(ctx, input).await,
        "UpdateDatabase" => update_database::handle(ctx, input).await,
        "UpdateJob" => update_job::handle(ctx, input).await,
        "UpdatePartition" => update_partition::handle(ctx, input).await,
        "UpdateTable" => update_table::handle(ctx, input).await,
        _ => Err(ApiError::unknown_operation(format!(
            "Unknown operation {TARGET_PREFIX}.{action}."
        ))),
    }?;
    Ok(Reply::Doc(doc))
}

/// The Glue front door's table: catalog error kind → Glue error type and status.
impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        let message = e.to_string();
        let error = match e {
            CatalogError::NotFound(_) => ApiError::new("EntityNotFoundException", 400, message),
            CatalogError::AlreadyExists(_) => ApiError::new("AlreadyExistsException", 400, message),
            CatalogError::InvalidInput(_) => ApiError::new("InvalidInputException", 400, message),
            CatalogError::ConcurrentModification(_) => {
                ApiError::new("ConcurrentModificationException", 400, message)
            }
            CatalogError::Storage(_) => {
                tracing::error!(error = %message, "Glue request failed inside Weir");
                ApiError::new("InternalServiceException", 500, message)
            }
        };
        error.in_message_member()
    }
}
