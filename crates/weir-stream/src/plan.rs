//! Planning a job: `INSERT INTO sink SELECT ...` read (window TVFs lifted out first), its source
//! table's columns computed by a source stage, its query planned by DataFusion over slots, and
//! the query's shape checked: stateless (filters, projections, window columns added to each
//! row) or a window aggregate (`GROUP BY window_start, window_end, ...`), whose query runs
//! once per window when the watermark passes the window's end.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast::{ObjectName, Query, Statement, TableObject};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::{Result, StreamError};
use crate::sql::{extract_window_tvfs, Column, WindowKind, WindowTvf};
use crate::stage::{Slot, SlotTable, Stage};
use crate::table::TableDef;

/// The name the source stage reads decoded rows under.
const RAW: &str = "__weir_raw";
/// The watermark column the source stage adds.
pub const WATERMARK_COLUMN: &str = "__weir_watermark";

/// A table's time attribute used by a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// A rowtime (`WATERMARK FOR`): windows close as the watermark passes them.
    Event,
    /// `PROCTIME()`: windows close by the wall clock.
    Processing,
}

/// A window TVF's parameters in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    pub kind: WindowKind,
    pub size_ms: i64,
    /// HOP's slide, CUMULATE's step; the size for TUMBLE.
    pub step_ms: i64,
    pub offset_ms: i64,
    /// The time column's place in the source stage's output.
    pub time_index: usize,
    pub time_kind: TimeKind,
    /// The window columns' type (the time column's, at millisecond precision).
    pub time_type: DataType,
    /// Whether the query aggregates per window (else each row gets its window columns).
    pub aggregate: bool,
}

/// A planned job.
pub struct JobPlan {
    pub source: TableDef,
    /// Decoded rows → the table's columns and `__weir_watermark` (when it has one).
    pub source_stage: Stage,
    /// The watermark column's place in the source stage's output.
    pub watermark_index: Option<usize>,
    /// The table's columns (the source stage's output without the watermark).
    pub table_schema: SchemaRef,
    pub window: Option<WindowSpec>,
    /// The query: over the table's rows, or over a window's rows with the window columns.
    pub query: Stage,
    pub sink: TableDef,
    /// The sink's physical columns, which the query's output is cast to by position.
    pub sink_schema: SchemaRef,
}

/// A session for planning streaming queries: identifiers keep their case (as in Flink), and
/// Trino's functions (shared with lake SQL) and `PROCTIME()` are registered.
pub fn session() -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(1)
        .with_information_schema(false)
        .with_coalesce_batches(false);
    let o = config.options_mut();
    o.sql_parser.enable_ident_normalization = false;
    o.optimizer.enable_dynamic_filter_pushdown = false;
    o.execution.time_zone = Some("+00:00".into());
    let ctx = SessionContext::new_with_config(config);
    weir_query::functions::register(&ctx);
    ctx.register_udf(crate::functions::proctime());
    ctx
}

/// Reads `INSERT INTO sink [(cols)] query` (the sink's name) or a query (no sink) after window
/// TVFs were lifted out.
pub fn parse_job(sql: &str) -> Result<(Option<String>, Box<Query>, Vec<WindowTvf>)> {
    let (rewritten, tvfs) = extract_window_tvfs(sql)?;
    let mut statements = Parser::parse_sql(&GenericDialect {}, &rewritten)
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    if statements.len() != 1 {
        return Err(StreamError::Validation(
            "Expected one INSERT INTO statement".into(),
        ));
    }
    match statements.remove(0) {
        Statement::Insert(ins) => {
            if ins.overwrite {
                return Err(StreamError::Unsupported(
                    "INSERT OVERWRITE is not supported by streaming sinks".into(),
                ));
            }
            let TableObject::TableName(name) = &ins.table else {
                return Err(StreamError::Validation("INSERT INTO names a table".into()));
            };
            let source = ins
                .source
                .ok_or_else(|| StreamError::Validation("INSERT INTO needs a query".into()))?;
            Ok((Some(last_part(name)), source, tvfs))
        }
        Statement::Query(q) => Ok((None, q, tvfs)),
        _ => Err(StreamError::Validation(
            "Expected an INSERT INTO statement".into(),
        )),
    }
}

/// A table's own name from `catalog.database.table`.
pub fn last_part(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default()
}

/// The tables a query reads, by their own names.
fn relations(query: &Query) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let _ = sqlparser::ast::visit_relations(query, |name| {
        out.insert(last_part(name));
        ControlFlow::<()>::Continue(())
    });
    out
}

/// Plans a job: `sink` and the query's tables come from `lookup`.
pub async fn plan_job(
    sink: Option<TableDef>,
    query: Box<Query>,
    tvfs: Vec<WindowTvf>,
    lookup: &(dyn Fn(&str) -> Option<TableDef> + Sync),
) -> Result<JobPlan> {
    let names = relations(&query);
    let mut sources = BTreeSet::new();
    for n in &names {
        match tvfs.iter().find(|t| &t.relation == n) {
            Some(t) => sources.insert(t.table.clone()),
            None => sources.insert(n.clone()),
        };
    }
    // Several window TVFs are allowed when they are the same window over the same table (a
    // query joining per-window aggregates, as Nexmark's q5): the whole query then runs per
    // window. The table itself may not be read beside its windows.
    let same_windows = tvfs.windows(2).all(|w| {
        let (a, b) = (&w[0], &w[1]);
        (
            a.kind,
            &a.table,
            &a.time_column,
            &a.size,
            &a.step,
            &a.offset,
            &a.partition_by,
        ) == (
            b.kind,
            &b.table,
            &b.time_column,
            &b.size,
            &b.step,
            &b.offset,
            &b.partition_by,
        )
    });
    let only_windows =
        tvfs.is_empty() || names.iter().all(|n| tvfs.iter().any(|t| &t.relation == n));
    if sources.len() != 1 || !same_windows || !only_windows {
        return Err(StreamError::Unsupported(
            "Weir's streaming engine runs queries over one source table, or over one window of \
             it (joins of tables, unions and different windows in one query are not supported \
             yet)"
                .into(),
        ));
    }
    let source_name = sources.into_iter().next().unwrap_or_default();
    let source = lookup(&source_name).ok_or_else(|| object_not_found(&source_name))?;
    if !source.is_source_capable() {
        return Err(StreamError::Validation(format!(
            "Connector of table '{source_name}' can only be used as a sink"
        )));
    }
    let ctx = session();
    // The source stage.
    let raw_slot = Slot::default();
    ctx.register_table(
        RAW,
        Arc::new(SlotTable::new(source.decoded.clone(), raw_slot.clone())),
    )?;
    let mut select = Vec::new();
    for c in &source.flink.columns {
        match c {
            Column::Physical { name, .. } => select.push(quote(name)),
            Column::Computed { name, expr } => select.push(format!("{expr} AS {}", quote(name))),
        }
    }
    if let Some(w) = &source.flink.watermark {
        select.push(format!("{} AS {WATERMARK_COLUMN}", w.expr));
    }
    let sql = format!("SELECT {} FROM {RAW}", select.join(", "));
    let df = ctx.sql(&sql).await?;
    let physical = df.create_physical_plan().await?;
    let source_stage = Stage::new(&ctx, physical, vec![raw_slot]);
    let stage_schema = source_stage.schema();
    let watermark_index = source
        .flink
        .watermark
        .as_ref()
        .map(|_| stage_schema.fields().len() - 1);
    let table_fields: Vec<Field> = stage_schema
        .fields()
        .iter()
        .filter(|f| f.name() != WATERMARK_COLUMN)
        .map(|f| f.as_ref().clone())
        .collect();
    let table_schema = Arc::new(Schema::new(table_fields));
    if let Some(w) = &source.flink.watermark {
        let f = table_schema.field_with_name(&w.column).map_err(|_| {
            StreamError::Validation(format!(
                "The rowtime attribute field '{}' is not defined in the table schema",
                w.column
            ))
        })?;
        check_time_type(f.data_type(), "watermark definition")?;
    }

    // The query.
    let query_ctx = session();
    let slot = Slot::default();
    let mut window = None;
    match tvfs.first() {
        Some(tvf) => {
            let time_index = table_schema.index_of(&tvf.time_column).map_err(|_| {
                StreamError::Validation(format!(
                    "Unknown identifier '{}' in DESCRIPTOR",
                    tvf.time_column
                ))
            })?;
            let time_field = table_schema.field(time_index);
            let is_rowtime = source
                .flink
                .watermark
                .as_ref()
                .is_some_and(|w| w.column == tvf.time_column);
            let is_proctime = source.flink.columns.iter().any(|c| {
                matches!(c, Column::Computed { name, expr } if name == &tvf.time_column
                    && expr.trim().eq_ignore_ascii_case("PROCTIME()"))
            });
            let time_kind = if is_rowtime {
                TimeKind::Event
            } else if is_proctime {
                TimeKind::Processing
            } else {
                return Err(StreamError::Validation(format!(
                    "The window function requires the timecol is a time attribute type, but is \
                     {}.",
                    crate::types::flink_type_name(time_field.data_type())
                )));
            };
            let tz = match time_field.data_type() {
                DataType::Timestamp(_, tz) => tz.clone(),
                _ => None,
            };
            let time_type = DataType::Timestamp(TimeUnit::Millisecond, tz);
            let mut fields: Vec<Field> = table_schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            for n in ["window_start", "window_end", "window_time"] {
                fields.push(Field::new(n, time_type.clone(), false));
            }
            let window_schema = Arc::new(Schema::new(fields));
            for t in &tvfs {
                query_ctx.register_table(
                    t.relation.as_str(),
                    Arc::new(SlotTable::new(window_schema.clone(), slot.clone())),
                )?;
            }
            let size_ms = interval_ms(&query_ctx, &tvf.size).await?;
            let step_ms = match &tvf.step {
                Some(s) => interval_ms(&query_ctx, s).await?,
                None => size_ms,
            };
            let offset_ms = match &tvf.offset {
                Some(s) => interval_ms(&query_ctx, s).await?,
                None => 0,
            };
            check_window(tvf.kind, size_ms, step_ms)?;
            window = Some(WindowSpec {
                kind: tvf.kind,
                size_ms,
                step_ms,
                offset_ms,
                time_index,
                time_kind,
                time_type,
                aggregate: false,
            });
        }
        None => {
            query_ctx.register_table(
                source_name.as_str(),
                Arc::new(SlotTable::new(table_schema.clone(), slot.clone())),
            )?;
        }
    }
    let mut query = query;
    alias_duplicates(&mut query);
    let logical = query_ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(query))))
        .await?;
    let logical = query_ctx.state().optimize(&logical)?;
    let shape = shape_of(&logical);
    match (&mut window, shape) {
        (_, Shape::Unsupported(what)) => {
            return Err(StreamError::Unsupported(format!(
                "{what} is not supported by Weir's streaming engine yet"
            )))
        }
        (Some(w), Shape::WindowAggregate) => w.aggregate = true,
        (Some(WindowSpec { kind, .. }), Shape::Stateless) if *kind == WindowKind::Session => {
            return Err(StreamError::Unsupported(
                "SESSION windows are supported with GROUP BY window_start, window_end".into(),
            ))
        }
        (_, Shape::Stateless) => {}
        (_, Shape::Aggregate) => {
            return Err(match &sink {
                Some(sink) => StreamError::Validation(format!(
                    "Table sink 'default_catalog.default_database.{}' doesn't support consuming \
                     update changes which is produced by node GroupAggregate",
                    sink.name()
                )),
                None => StreamError::Unsupported(
                    "Updating results (GROUP BY without a window) are not supported by Weir's \
                     streaming engine yet; aggregate per window with a window TVF"
                        .into(),
                ),
            })
        }
        (None, Shape::WindowAggregate) => unreachable_shape()?,
    }
    let physical = query_ctx.state().create_physical_plan(&logical).await?;
    let query = Stage::new(&query_ctx, physical, vec![slot]);
    let out = query.schema();
    // A query without a sink collects its rows for the client that asked.
    let sink = sink.unwrap_or_else(|| crate::table::collect_table(&out));
    let sink_columns = sink.physical_columns();
    if out.fields().len() != sink_columns.len() {
        return Err(StreamError::Validation(format!(
            "Column types of query result and sink for 'default_catalog.default_database.{}' \
             do not match.\nCause: Different number of columns.\n\nQuery schema: [{}]\nSink \
             schema:  [{}]",
            sink.name(),
            out.fields()
                .iter()
                .map(|f| format!(
                    "{}: {}",
                    f.name(),
                    crate::types::flink_type_name(f.data_type())
                ))
                .collect::<Vec<_>>()
                .join(", "),
            sink_columns
                .iter()
                .map(|(n, t)| format!("{n}: {}", crate::types::flink_type_name(t)))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // A client's rows keep the query's own columns (with their nullability).
    let sink_schema = if matches!(sink.connector, crate::table::Connector::Collect) {
        out.clone()
    } else {
        Arc::new(Schema::new(
            sink_columns
                .into_iter()
                .map(|(n, t)| Field::new(n, t, true))
                .collect::<Vec<_>>(),
        ))
    };
    Ok(JobPlan {
        source,
        source_stage,
        watermark_index,
        table_schema,
        window,
        query,
        sink,
        sink_schema,
    })
}

fn unreachable_shape() -> Result<()> {
    Err(StreamError::Unsupported(
        "a window aggregate without a window TVF".into(),
    ))
}

fn object_not_found(name: &str) -> StreamError {
    StreamError::Validation(format!(
        "Object '{name}' not found within 'default_catalog.default_database'"
    ))
}

fn check_time_type(t: &DataType, what: &str) -> Result<()> {
    match t {
        DataType::Timestamp(TimeUnit::Millisecond | TimeUnit::Second, _) => Ok(()),
        other => Err(StreamError::Validation(format!(
            "Invalid data type of time field for {what}. The field must be of type TIMESTAMP(p) \
             or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the time \
             field type is {}",
            crate::types::flink_type_name(other)
        ))),
    }
}

fn check_window(kind: WindowKind, size: i64, step: i64) -> Result<()> {
    if size <= 0 || step <= 0 {
        return Err(StreamError::Validation(
            "Window size and slide must be positive".into(),
        ));
    }
    match kind {
        WindowKind::Hop if size % step != 0 => Err(StreamError::Validation(format!(
            "HOP table function based aggregate requires size must be an integral multiple of \
             slide, but got size {size} ms and slide {step} ms."
        ))),
        WindowKind::Cumulate if size % step != 0 => Err(StreamError::Validation(format!(
            "CUMULATE table function based aggregate requires maxSize must be an integral \
             multiple of step, but got maxSize {size} ms and step {step} ms."
        ))),
        _ => Ok(()),
    }
}

/// An interval literal's length in milliseconds (months refused: windows are fixed-length).
async fn interval_ms(ctx: &SessionContext, text: &str) -> Result<i64> {
    let batches = ctx.sql(&format!("SELECT {text}")).await?.collect().await?;
    let value = batches
        .first()
        .filter(|b| b.num_rows() == 1 && b.num_columns() == 1)
        .map(|b| ScalarValue::try_from_array(b.column(0), 0))
        .transpose()?;
    match value {
        Some(ScalarValue::IntervalMonthDayNano(Some(v))) if v.months == 0 => {
            Ok(v.days as i64 * 86_400_000 + v.nanoseconds / 1_000_000)
        }
        Some(ScalarValue::IntervalDayTime(Some(v))) => {
            Ok(v.days as i64 * 86_400_000 + v.milliseconds as i64)
        }
        _ => Err(StreamError::Validation(format!(
            "A window's size must be an interval of days or less: {text}"
        ))),
    }
}

enum Shape {
    Stateless,
    WindowAggregate,
    Aggregate,
    Unsupported(&'static str),
}

fn shape_of(plan: &LogicalPlan) -> Shape {
    let mut shape = Shape::Stateless;
    let _ = plan.apply(|node| {
        use datafusion::common::tree_node::TreeNodeRecursion;
        let found = match node {
            LogicalPlan::Aggregate(a) => {
                // Grouped by the window's bounds, under whatever names.
                let bounds: BTreeSet<&str> = a
                    .group_expr
                    .iter()
                    .filter_map(|e| match e {
                        Expr::Column(c) => window_origin(&a.input, &c.name),
                        _ => None,
                    })
                    .collect();
                if bounds.len() == 2 {
                    Some(Shape::WindowAggregate)
                } else {
                    Some(Shape::Aggregate)
                }
            }
            // A join on equal window bounds (Flink's window join, or joined window
            // aggregates) is computed per window.
            LogicalPlan::Join(j) if joins_on_window_bounds(j) => Some(Shape::WindowAggregate),
            LogicalPlan::Join(_) => Some(Shape::Unsupported("A join")),
            LogicalPlan::Window(_) => Some(Shape::Unsupported("An OVER window")),
            LogicalPlan::Union(_) => Some(Shape::Unsupported("UNION")),
            LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
                Some(Shape::Unsupported("ORDER BY or LIMIT on a stream"))
            }
            LogicalPlan::Distinct(_) => Some(Shape::Aggregate),
            _ => None,
        };
        match found {
            Some(s) => {
                let stop = !matches!(s, Shape::WindowAggregate);
                shape = s;
                Ok(if stop {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            }
            None => Ok(TreeNodeRecursion::Continue),
        }
    });
    shape
}

/// Whether a join's equalities include `window_start = window_start` and
/// `window_end = window_end` (through aliases, projections and group keys).
fn joins_on_window_bounds(j: &datafusion::logical_expr::Join) -> bool {
    let mut covered = BTreeSet::new();
    for (l, r) in &j.on {
        let (Expr::Column(l), Expr::Column(r)) = (l, r) else {
            continue;
        };
        match (
            window_origin(&j.left, &l.name),
            window_origin(&j.right, &r.name),
        ) {
            (Some(a), Some(b)) if a == b => {
                covered.insert(a);
            }
            _ => {}
        }
    }
    covered.len() == 2
}

/// `window_start` or `window_end` when the column `name` of `plan` is one of a window
/// relation's bounds.
fn window_origin(plan: &LogicalPlan, name: &str) -> Option<&'static str> {
    let column_of = |e: &Expr| match e.clone().unalias() {
        Expr::Column(c) => Some(c.name),
        _ => None,
    };
    match plan {
        LogicalPlan::Projection(p) => {
            let i = p.schema.fields().iter().position(|f| f.name() == name)?;
            window_origin(&p.input, &column_of(p.expr.get(i)?)?)
        }
        LogicalPlan::Aggregate(a) => {
            let i = a.schema.fields().iter().position(|f| f.name() == name)?;
            window_origin(&a.input, &column_of(a.group_expr.get(i)?)?)
        }
        LogicalPlan::SubqueryAlias(s) => window_origin(&s.input, name),
        LogicalPlan::Filter(f) => window_origin(&f.input, name),
        LogicalPlan::TableScan(t) if t.table_name.table().starts_with("__weir_window_") => {
            match name {
                "window_start" => Some("window_start"),
                "window_end" => Some("window_end"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A sink takes the query's columns by position, so Flink allows `SELECT a, a`; DataFusion
/// wants distinct names: a repeated column gets Flink's name for an unnamed one, `EXPR$<i>`.
fn alias_duplicates(query: &mut Query) {
    use sqlparser::ast::{Ident, SelectItem, SetExpr};
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, item) in select.projection.iter_mut().enumerate() {
        if let SelectItem::UnnamedExpr(e) = item {
            let name = match &*e {
                sqlparser::ast::Expr::Identifier(id) => id.value.clone(),
                sqlparser::ast::Expr::CompoundIdentifier(ids) => {
                    ids.last().map(|i| i.value.clone()).unwrap_or_default()
                }
                other => other.to_string(),
            };
            if !seen.insert(name) {
                let expr = e.clone();
                *item = SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::new(format!("EXPR${i}")),
                };
            }
        } else if let SelectItem::ExprWithAlias { alias, .. } = item {
            seen.insert(alias.value.clone());
        }
    }
}

/// An identifier quoted for DataFusion.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
