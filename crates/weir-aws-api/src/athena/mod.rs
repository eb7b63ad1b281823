//! The Athena front door (`AmazonAthena.<Action>`): one file per action, and the table mapping
//! the Athena control plane's errors to Athena's error types.

mod batch_get_named_query;
mod batch_get_prepared_statement;
mod batch_get_query_execution;
pub(crate) mod common;
mod create_named_query;
mod create_prepared_statement;
mod create_work_group;
mod delete_named_query;
mod delete_prepared_statement;
mod delete_work_group;
mod get_data_catalog;
mod get_database;
mod get_named_query;
mod get_prepared_statement;
mod get_query_execution;
mod get_query_results;
mod get_query_runtime_statistics;
mod get_table_metadata;
mod get_work_group;
mod list_data_catalogs;
mod list_databases;
mod list_named_queries;
mod list_prepared_statements;
mod list_query_executions;
mod list_table_metadata;
mod list_work_groups;
mod named_query;
mod prepared_statement;
mod start_query_execution;
mod stop_query_execution;
mod update_named_query;
mod update_prepared_statement;
mod update_work_group;

use weir_athena::AthenaError;

use crate::error::ApiError;
use crate::input::Input;
use crate::model::Overlay;
use crate::{Ctx, Reply};

/// The X-Amz-Target prefix of this service.
pub const TARGET_PREFIX: &str = "AmazonAthena";

/// The actions Weir serves.
pub const ACTIONS: &[&str] = &[
    "BatchGetNamedQuery",
    "BatchGetPreparedStatement",
    "BatchGetQueryExecution",
    "CreateNamedQuery",
    "CreatePreparedStatement",
    "CreateWorkGroup",
    "DeleteNamedQuery",
    "DeletePreparedStatement",
    "DeleteWorkGroup",
    "GetDataCatalog",
    "GetDatabase",
    "GetNamedQuery",
    "GetPreparedStatement",
    "GetQueryExecution",
    "GetQueryResults",
    "GetQueryRuntimeStatistics",
    "GetTableMetadata",
    "GetWorkGroup",
    "ListDataCatalogs",
    "ListDatabases",
    "ListNamedQueries",
    "ListPreparedStatements",
    "ListQueryExecutions",
    "ListTableMetadata",
    "ListWorkGroups",
    "StartQueryExecution",
    "StopQueryExecution",
    "UpdateNamedQuery",
    "UpdatePreparedStatement",
    "UpdateWorkGroup",
];

/// Athena's answers follow its model.
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
        "BatchGetNamedQuery" => batch_get_named_query::handle(ctx, input).await,
        "BatchGetPreparedStatement" => batch_get_prepared_statement::handle(ctx, input).await,
        "BatchGetQueryExecution" => batch_get_query_execution::handle(ctx, input).await,
        "CreateNamedQuery" => create_named_query::handle(ctx, input).await,
        "CreatePreparedStatement" => create_prepared_statement::handle(ctx, input).await,
        "CreateWorkGroup" => create_work_group::handle(ctx, input).await,
        "DeleteNamedQuery" => delete_named_query::handle(ctx, input).await,
        "DeletePreparedStatement" => delete_prepared_statement::handle(ctx, input).await,
        "DeleteWorkGroup" => delete_work_group::handle(ctx, input).await,
        "GetDataCatalog" => get_data_catalog::handle(ctx, input).await,
        "GetDatabase" => get_database::handle(ctx, input).await,
        "GetNamedQuery" => get_named_query::handle(ctx, input).await,
        "GetPreparedStatement" => get_prepared_statement::handle(ctx, input).await,
        "GetQueryExecution" => get_query_execution::handle(ctx, input).await,
        "GetQueryResults" => get_query_results::handle(ctx, input).await,
        "GetQueryRuntimeStatistics" => get_query_runtime_statistics::handle(ctx, input).await,
        "GetTableMetadata" => get_table_metadata::handle(ctx, input).await,
        "GetWorkGroup" => get_work_group::handle(ctx, input).await,
        "ListDataCatalogs" => list_data_catalogs::handle(ctx, input).await,
        "ListDatabases" => list_databases::handle(ctx, input).await,
        "ListNamedQueries" => list_named_queries::handle(ctx, input).await,
        "ListPreparedStatements" => list_prepared_statements::handle(ctx, input).await,
        "ListQueryExecutions" => list_query_executions::handle(ctx, input).await,
        "ListTableMetadata" => list_table_metadata::handle(ctx, input).await,
        "ListWorkGroups" => list_work_groups::handle(ctx, input).await,
        "StartQueryExecution" => start_query_execution::handle(ctx, input).await,
        "StopQueryExecution" => stop_query_execution::handle(ctx, input).await,
        "UpdateNamedQuery" => update_named_query::handle(ctx, input).await,
        "UpdatePreparedStatement" => update_prepared_statement::handle(ctx, input).await,
        "UpdateWorkGroup" => update_work_group::handle(ctx, input).await,
        _ => Err(ApiError::unknown_operation(format!(
            "Unknown operation {TARGET_PREFIX}.{action}."
        ))),
    }?;
    Ok(Reply::Doc(doc))
}

/// Athena's MetadataException (catalog objects that do not exist).
fn metadata(message: String) -> ApiError {
    ApiError::new("MetadataException", 400, message).in_message_member()
}

/// The Athena front door's table: control-plane error kind → Athena error type and status.
fn error(e: AthenaError) -> ApiError {
    let message = e.to_string();
    match e {
        AthenaError::InvalidRequest(_) => {
            ApiError::new("InvalidRequestException", 400, message).in_message_member()
        }
        AthenaError::NotFound(_) => {
            ApiError::new("ResourceNotFoundException", 400, message).in_message_member()
        }
        AthenaError::Storage(_) => {
            tracing::error!(error = %message, "Athena request failed inside Weir");
            ApiError::new("InternalServerException", 500, message).in_message_member()
        }
    }
}
