//! Planning a job: `INSERT INTO sink SELECT ...` read (window TVFs lifted out first), its source
//! table's columns computed by a source stage, its query planned by DataFusion over slots, and
//! the query's shape checked: stateless (filters, projections, window columns added to each
//! row) or a window aggregate (`GROUP BY window_start, window_end, ...`), whose query runs
//! once per window when the watermark passes the window's end.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{ScalarValue, TableReference};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast::{Query, Statement};

use crate::error::{Result, StreamError};
use crate::sql::WindowKind;
use crate::stage::{Slot, SlotTable, Stage};

mod explain;
mod interval;
mod over;
mod parse;
mod partial;
mod shape;
mod source;
pub mod stages;
mod topn;
use crate::table::TableDef;
pub use interval::{IntervalJoin, Outer};
pub use over::{marked_schema, OverPlan};
pub use parse::{last_part, parse_job, ParsedJob};
pub use partial::PartialPlan;
use shape::{shape_of, Shape};
pub use topn::{ranked_schema, TopNPlan};

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
    /// The time column's place in the source's table columns (each source has its own).
    pub time_index: usize,
    pub time_kind: TimeKind,
    /// The window columns' type (the time column's, at millisecond precision).
    pub time_type: DataType,
    /// Whether the query aggregates (or joins) per window (else each row gets its window
    /// columns).
    pub aggregate: bool,
    /// SESSION's `PARTITION BY` columns (places in the source's table columns).
    pub partition: Vec<usize>,
    /// A session lasting its gap from its first row (KDA's stagger windows).
    pub fixed: bool,
}

/// A source table of a job.
pub struct SourcePlan {
    pub table: TableDef,
    /// Decoded rows → the table's columns and `__weir_watermark` (when it has one).
    pub stage: Stage,
    /// How the table's watermark is found in the stage's output.
    pub watermark: Option<SourceWatermark>,
    /// The stage's output without the watermark (the table's columns).
    pub rows_schema: SchemaRef,
    /// A view windowed by a TVF over this table: its query over the table's rows.
    pub view: Option<Stage>,
    /// The columns the query sees: the table's, or the view's.
    pub table_schema: SchemaRef,
    /// The window over this table (with its own time column), in window queries.
    pub window: Option<WindowSpec>,
    /// The physical columns decoded from records when the job reads only some (the others
    /// are left null); `None`: all.
    pub decode: Option<Vec<usize>>,
}

/// A source's watermark.
#[derive(Clone, Copy, Debug)]
pub enum SourceWatermark {
    /// `ts - INTERVAL ...` of a fixed length: the greatest time of column `column` less
    /// `delay_ms` (the same as the greatest of each row's, without computing each).
    Delayed { column: usize, delay_ms: i64 },
    /// Any other expression: computed per row into the last column (dropped from the rows).
    Computed(usize),
}

/// A table joined `FOR SYSTEM_TIME AS OF`: its rows stay in its slot across runs.
pub struct LookupPlan {
    pub table: TableDef,
    pub slot: Slot,
}

/// A planned job.
pub struct JobPlan {
    /// The tables read; the query's input `i` is source `i`'s rows.
    pub sources: Vec<SourcePlan>,
    pub lookups: Vec<LookupPlan>,
    pub window: Option<WindowSpec>,
    /// The query: over the tables' rows, or over a window's rows with the window columns.
    pub query: Stage,
    pub sink: TableDef,
    /// The sink's physical columns, which the query's output is cast to by position.
    pub sink_schema: SchemaRef,
    /// `EXPLAIN`'s text.
    pub explain: String,
    /// The interval join the query runs, if it is one.
    pub interval: Option<IntervalJoin>,
    /// The deduplication the query runs, if it is one.
    pub dedup: Option<DedupPlan>,
    /// The Top-N the query runs, if it is one (its output is a changelog; the query reads
    /// the table's rows with their ranks, `topn::ranked_schema`).
    pub top: Option<TopNPlan>,
    /// The OVER aggregation the query runs, if it is one.
    pub over: Option<OverPlan>,
    /// The window aggregate split into partial aggregation stages, when it can be (or the
    /// updating aggregate, with `changelog`).
    pub partial: Option<PartialPlan>,
    /// The query is an updating aggregate: its output is a changelog.
    pub changelog: bool,
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
    // (Set one by one: the umbrella option passes to the others only when set by name.)
    o.optimizer.enable_dynamic_filter_pushdown = false;
    o.optimizer.enable_join_dynamic_filter_pushdown = false;
    o.optimizer.enable_topk_dynamic_filter_pushdown = false;
    o.optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    o.execution.time_zone = Some("+00:00".into());
    // Partial aggregates must hold one row per group (states are merged by key).
    o.execution.skip_partial_aggregation_probe_ratio_threshold = 1.0;
    let ctx = SessionContext::new_with_config(config);
    // COUNT(DISTINCT x) stays one aggregate (its accumulators merge partial states).
    ctx.remove_optimizer_rule("single_distinct_aggregation_to_group_by");
    // These copy a field access's argument (a call included) to where the field is read, so
    // a stateful call (KDA's RANDOM_CUT_FOREST) would run once per field read.
    ctx.remove_optimizer_rule("extract_leaf_expressions");
    ctx.remove_optimizer_rule("push_down_leaf_projections");
    weir_query::functions::register(&ctx);
    ctx.register_udf(crate::functions::proctime());
    ctx.register_udf(crate::functions::to_timestamp_ltz());
    ctx.register_udaf(crate::kda_distinct::udaf());
    for f in crate::kda_functions::all()
        .into_iter()
        .chain(crate::kda_parse::all())
        .chain(crate::kda_analytic::all())
    {
        ctx.register_udf(f);
    }
    ctx
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
    parsed: ParsedJob,
    lookup: &(dyn Fn(&str) -> Option<TableDef> + Sync),
) -> Result<JobPlan> {
    let ParsedJob {
        query,
        tvfs,
        lookups: lookup_names,
        windowed_views: parsed_views,
        ..
    } = parsed;
    let names: BTreeSet<String> = relations(&query)
        .into_iter()
        .filter(|n| !lookup_names.contains(n))
        .collect();
    // The tables read, in a fixed order (the query's inputs).
    let mut tables: Vec<String> = Vec::new();
    for n in &names {
        let t = tvfs
            .iter()
            .find(|t| &t.relation == n)
            .map_or(n.clone(), |t| t.table.clone());
        if !tables.contains(&t) {
            tables.push(t);
        }
    }
    // Window queries run per window: every relation is a window TVF, all the same window.
    let same_windows = tvfs.windows(2).all(|w| {
        let (a, b) = (&w[0], &w[1]);
        (a.kind, &a.size, &a.step, &a.offset, &a.partition_by)
            == (b.kind, &b.size, &b.step, &b.offset, &b.partition_by)
    });
    let only_windows =
        tvfs.is_empty() || names.iter().all(|n| tvfs.iter().any(|t| &t.relation == n));
    // A query without a table (`VALUES`, constants) is bounded: it runs once.
    if !same_windows || !only_windows {
        return Err(StreamError::Unsupported(
            "Weir's streaming engine runs a query over tables, or over one window of them \
             (tables beside windows, or different windows, in one query are not supported yet)"
                .into(),
        ));
    }
    let mut sources = Vec::new();
    for name in &tables {
        if let Some(text) = parsed_views.get(name) {
            sources.push(source::plan_view_source(name, text, lookup, &tables).await?);
            continue;
        }
        let table = lookup(name).ok_or_else(|| object_not_found(name))?;
        if !table.is_source_capable() {
            return Err(StreamError::Validation(format!(
                "Connector of table '{name}' can only be used as a sink"
            )));
        }
        sources.push(source::plan_source(table).await?);
    }

    // The query, one input slot per table.
    let query_ctx = session();
    let slots: Vec<Slot> = tables.iter().map(|_| Slot::default()).collect();
    let mut window = None;
    match tvfs.first() {
        Some(first) => {
            let size_ms = interval_ms(&query_ctx, &first.size).await?;
            let step_ms = match &first.step {
                Some(s) => interval_ms(&query_ctx, s).await?,
                None => size_ms,
            };
            let offset_ms = match &first.offset {
                Some(s) => interval_ms(&query_ctx, s).await?,
                None => 0,
            };
            check_window(first.kind, size_ms, step_ms)?;
            for tvf in &tvfs {
                let i = tables.iter().position(|t| t == &tvf.table).unwrap_or(0);
                let spec = source::window_of(&sources[i], tvf, size_ms, step_ms, offset_ms)?;
                if let Some(w) = &sources[i].window {
                    if w.time_index != spec.time_index {
                        return Err(StreamError::Unsupported(format!(
                            "Windows over table '{}' by different time columns",
                            tvf.table
                        )));
                    }
                }
                if let Some(w) = &window {
                    let w: &WindowSpec = w;
                    if w.time_kind != spec.time_kind {
                        return Err(StreamError::Validation(
                            "Windows of one query must all be on event time or all on \
                             processing time"
                                .into(),
                        ));
                    }
                }
                register_slot(
                    &query_ctx,
                    tvf.relation.as_str(),
                    source::window_schema(&sources[i].table_schema, &spec.time_type),
                    &slots[i],
                )?;
                window.get_or_insert_with(|| spec.clone());
                sources[i].window = Some(spec);
            }
        }
        None => {
            for (i, name) in tables.iter().enumerate() {
                register_slot(
                    &query_ctx,
                    name.as_str(),
                    sources[i].table_schema.clone(),
                    &slots[i],
                )?;
            }
        }
    }
    // Lookup tables: read whole into slots that keep their rows across runs.
    let mut lookups = Vec::new();
    for name in &lookup_names {
        let table = lookup(name).ok_or_else(|| object_not_found(name))?;
        if !matches!(table.connector, crate::table::Connector::Filesystem { .. }) {
            return Err(StreamError::Validation(format!(
                "Table '{name}' cannot be looked up: Weir looks up filesystem tables (files in \
                 its S3), which it reads whole and reloads after 'lookup.join.cache.ttl'"
            )));
        }
        let slot = Slot::default();
        register_slot(&query_ctx, name.as_str(), table.decoded.clone(), &slot)?;
        lookups.push(LookupPlan { table, slot });
    }
    let mut query = query;
    alias_duplicates(&mut query);
    let logical = query_ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(
            query.clone(),
        ))))
        .await?;
    let mut optimized = query_ctx.state().optimize(&logical)?;
    let shape = shape_of(&optimized, &lookup_names);
    let mut interval = None;
    let mut over = None;
    let mut changelog = false;
    let mut dedup = None;
    let mut top = None;
    match (&mut window, shape) {
        (None, Shape::Rank(rank)) if sources.len() == 1 && lookups.is_empty() => {
            let source = &sources[0];
            if !topn::row_operators_only(&optimized) {
                return Err(StreamError::Unsupported(
                    "A Top-N or deduplication under an aggregate, a join or another operator \
                     is not supported by Weir's streaming engine yet"
                        .into(),
                ));
            }
            let n = topn::rank_limit(&optimized, &rank.rn).ok_or_else(|| {
                StreamError::Unsupported(
                    "A ROW_NUMBER over the stream not kept up to a number (Top-N over the stream \
                     without rn <= N) is not \
                     supported by Weir's streaming engine yet"
                        .into(),
                )
            })?;
            match (n, topn::first_by_proctime(source, &rank)) {
                ((1, 1), Some(keys)) => dedup = Some(DedupPlan { keys }),
                _ => {
                    topn::check_sink(sink.as_ref(), "Rank")?;
                    let numbered = topn::shows_rank(&optimized, &rank.rn);
                    top = Some(topn::top_n(source, &rank, n, numbered)?);
                    let schema = topn::ranked_schema(&source.table_schema);
                    let ranked = replan(&query_ctx, &tables[0], schema, &slots[0], query).await?;
                    optimized = query_ctx.state().optimize(&topn::with_ranks(ranked)?)?;
                }
            }
        }
        (_, Shape::Rank(..)) => {
            return Err(StreamError::Unsupported(
                "Top-N over a window TVF, several tables or a lookup join (ROW_NUMBER \
                 partitioned by other than a window's bounds) is not supported by Weir's \
                 streaming engine yet"
                    .into(),
            ))
        }
        (None, Shape::Over(frame)) if sources.len() == 1 && lookups.is_empty() => {
            let source = &sources[0];
            let time_index = source.table_schema.index_of(&frame.order.name).ok();
            let time_kind = source::time_attribute(source, &frame.order.name);
            let (Some(time_index), Some(time_kind)) = (time_index, time_kind) else {
                return Err(StreamError::Validation(
                    "OVER windows' ordering in stream mode must be defined on a time attribute."
                        .into(),
                ));
            };
            let schema = over::marked_schema(&source.table_schema);
            let marked = replan(&query_ctx, &tables[0], schema, &slots[0], query).await?;
            optimized = query_ctx
                .state()
                .optimize(&over::only_new_rows(marked, frame.rows.is_some())?)?;
            let rows = match frame.rows {
                Some((n, partition)) => Some((
                    n,
                    partition
                        .iter()
                        .map(|c| source.table_schema.index_of(&c.name))
                        .collect::<std::result::Result<Vec<_>, _>>()?,
                )),
                None => None,
            };
            let keys = frame
                .keys
                .iter()
                .filter_map(|k| source.table_schema.index_of(k).ok())
                .collect();
            over = Some(OverPlan {
                time_index,
                range_ms: frame.range_ms,
                rows,
                time_kind,
                keys,
            });
        }
        (_, Shape::Over(_)) => {
            return Err(StreamError::Unsupported(
                "An OVER window over a window TVF, several tables or a lookup join is not \
                 supported by Weir's streaming engine yet"
                    .into(),
            ))
        }
        (None, Shape::IntervalJoin(b, l, r, keys, kind)) => {
            if sources.len() != 2 || scans(&optimized) != 2 || !lookups.is_empty() {
                return Err(StreamError::Unsupported(
                    "An interval join beside other reads of its tables is not supported by \
                     Weir's streaming engine yet"
                        .into(),
                ));
            }
            let mut join = match b {
                Some(b) => interval::interval_join(&sources, &tables, *b, &l, &r)?,
                None => {
                    let at = |t: &str| tables.iter().position(|x| x == t).unwrap_or(0);
                    IntervalJoin::regular(at(&l), at(&r))
                }
            };
            join.keys = interval::join_keys(&sources, &join, &keys);
            if kind != datafusion::logical_expr::JoinType::Inner {
                // Each side's rows meet by their key alone: every equality must be a pair
                // of columns of one type.
                if join.keys.len() != keys.len() {
                    return Err(StreamError::Unsupported(
                        "An outer join of streams on columns of different types (or on \
                         computed values) is not supported by Weir's streaming engine yet"
                            .into(),
                    ));
                }
                topn::check_sink(sink.as_ref(), "Join")?;
                join.outer = interval::Outer::of(kind);
            }
            interval = Some(join);
        }
        (Some(_), Shape::IntervalJoin(..)) => {
            return Err(StreamError::Unsupported(
                "A join of windows that is not on their window_start and window_end is not \
                 supported by Weir's streaming engine yet"
                    .into(),
            ))
        }
        (_, Shape::Unsupported(what)) => {
            return Err(StreamError::Unsupported(format!(
                "{what} is not supported by Weir's streaming engine yet"
            )))
        }
        (Some(w), Shape::WindowAggregate) => {
            w.aggregate = true;
            // Sessions are per key: the PARTITION BY columns and the GROUP BY keys.
            let keys = match w.kind {
                WindowKind::Session if sources.len() == 1 => session_keys(&optimized)?,
                WindowKind::Session => {
                    return Err(StreamError::Unsupported(
                        "SESSION windows over several tables (window joins) are not supported"
                            .into(),
                    ))
                }
                _ => Vec::new(),
            };
            for s in &mut sources {
                if let Some(sw) = s.window.as_mut() {
                    sw.aggregate = true;
                    for k in &keys {
                        let i = s.table_schema.index_of(k).map_err(|_| {
                            StreamError::Unsupported(format!(
                                "A SESSION window grouped by '{k}', which is not a column of \
                                 '{}'",
                                s.table.name()
                            ))
                        })?;
                        if !sw.partition.contains(&i) {
                            sw.partition.push(i);
                        }
                    }
                    *w = sw.clone();
                }
            }
        }
        (Some(WindowSpec { kind, .. }), Shape::Stateless) if *kind == WindowKind::Session => {
            return Err(StreamError::Unsupported(
                "SESSION windows are supported with GROUP BY window_start, window_end".into(),
            ))
        }
        (_, Shape::Stateless) => {}
        // An updating aggregate's changes go to sinks that take them (Flink's print and
        // blackhole, and a client's query).
        (None, Shape::Aggregate)
            if sink.as_ref().is_none_or(|s| {
                matches!(
                    s.connector,
                    crate::table::Connector::Print | crate::table::Connector::Blackhole
                )
            }) =>
        {
            changelog = true;
        }
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
    let physical = query_ctx.state().create_physical_plan(&optimized).await?;
    let physical = probe_with_streams(physical, &slots, &lookups)?;
    // A window aggregate over one table keeps partial aggregates (not SESSION windows, whose
    // sessions merge rows).
    let partial = match &window {
        Some(w) if w.aggregate && w.kind != WindowKind::Session && sources.len() == 1 => {
            partial::split(&query_ctx, &physical, &slots[0], true)?
        }
        None if changelog => {
            let split = match (sources.len(), lookups.is_empty()) {
                (1, true) => partial::split(&query_ctx, &physical, &slots[0], false)?,
                _ => None,
            };
            match split {
                Some(p) if p.above.is_some() => Some(p),
                _ => {
                    return Err(StreamError::Unsupported(
                        "Updating results of this shape (an aggregate over several tables or \
                         joins, with HAVING, or aggregates of aggregates) are not supported \
                         by Weir's streaming engine yet"
                            .into(),
                    ))
                }
            }
        }
        _ => None,
    };
    let query = Stage::new(&query_ctx, physical, slots);
    let mut out = query.schema();
    // A Top-N's query carries each row's key last (for the operator, not the sink).
    if top.is_some() {
        let n = out.fields().len().saturating_sub(1);
        out = Arc::new(out.project(&(0..n).collect::<Vec<_>>())?);
    }
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
    // How Weir runs the query's stateful operator (windows are described apart).
    let operator = if sources.is_empty() {
        Some("Bounded(runs once, then the job finishes)".to_string())
    } else if let Some(j) = &interval {
        Some(match j.regular {
            true if j.outer.any() => format!(
                "RegularJoin(joinType=[{}], each side's rows kept for table.exec.state.ttl; \
                 changelog: a null-padded row is retracted when its key's first match comes)",
                j.outer.name()
            ),
            true => "RegularJoin(inner, append-only; each side's rows kept for \
                     table.exec.state.ttl)"
                .to_string(),
            false => format!(
                "IntervalJoin(lower=[{} ms], upper=[{} ms]; each side's rows kept until the \
                 watermark passes their reach)",
                j.lower_ms, j.upper_ms
            ),
        })
    } else if let Some(o) = &over {
        Some(format!(
            "OverAggregate(range=[{} ms], rows=[{}]; a row is emitted once the watermark \
             passes it)",
            o.range_ms,
            o.rows
                .as_ref()
                .map_or("-".to_string(), |(n, _)| n.to_string())
        ))
    } else if let Some(t) = &top {
        Some(t.explain(&sources[0].table_schema))
    } else if dedup.is_some() {
        Some("Deduplicate(keep first row by processing time, append-only)".to_string())
    } else if changelog {
        Some("GroupAggregate(one partial state row per group; changelog +I/-U/+U)".to_string())
    } else {
        None
    };
    // Only the columns the job reads are decoded (a stateless query, or a window aggregate
    // kept as partial states: what their plans scan is all that is read).
    let plain =
        interval.is_none() && over.is_none() && dedup.is_none() && top.is_none() && !changelog;
    for (i, sp) in sources.iter_mut().enumerate() {
        let used = match (&window, &partial) {
            _ if !plain || sp.view.is_some() => None,
            (None, _) => query.columns_read(i),
            (Some(w), Some(p)) if w.aggregate && sp.window.is_some() => {
                p.partial.columns_read(0).map(|mut read| {
                    read.retain(|c| *c < sp.rows_schema.fields().len());
                    read.insert(w.time_index);
                    read.extend(w.partition.iter().copied());
                    read
                })
            }
            _ => None,
        };
        if let Some(used) = used {
            sp.decode = source::decoded_columns(&sp.table, sp.watermark, &used).await?;
        }
    }
    let explain = explain::explain(
        &sink,
        &sources,
        window.as_ref(),
        partial.is_some(),
        operator.as_deref(),
        explain::Plans {
            logical: &logical,
            optimized: &optimized,
            physical: query.plan(),
        },
    );
    Ok(JobPlan {
        dedup,
        top,
        interval,
        over,
        partial,
        changelog,
        explain,
        sources,
        lookups,
        window,
        query,
        sink,
        sink_schema,
    })
}

/// Lookup joins built on the lookup tables and probed with the stream's rows, so those keep
/// their order: DataFusion builds a hash join on its left side, and a left join emits its
/// unmatched build rows last.
fn probe_with_streams(
    plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    streams: &[Slot],
    lookups: &[LookupPlan],
) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::common::JoinType;
    use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
    if lookups.is_empty() {
        return Ok(plan);
    }
    let streamed = |p: &Arc<dyn datafusion::physical_plan::ExecutionPlan>| {
        streams.iter().any(|s| crate::stage::reads(p, s))
    };
    Ok(plan
        .transform_up(|node| {
            if let Some(j) = node.downcast_ref::<HashJoinExec>() {
                // A side reading no stream reads lookup tables only.
                if !streamed(j.right())
                    && streamed(j.left())
                    && matches!(j.join_type(), JoinType::Inner | JoinType::Left)
                {
                    // The stream's rows, said to be in order, keep it through an outer join.
                    let ordered =
                        datafusion::physical_plan::execution_plan::replace_children_if_necessary(
                            node.clone(),
                            vec![
                                crate::stage::InOrder::wrap(j.left().clone()),
                                j.right().clone(),
                            ],
                        )?;
                    let Some(j) = ordered.downcast_ref::<HashJoinExec>() else {
                        return Ok(Transformed::no(node));
                    };
                    let swapped = j.swap_inputs(PartitionMode::CollectLeft)?;
                    return Ok(Transformed::yes(crate::stage::InOrder::forget(swapped)));
                }
            }
            Ok(Transformed::no(node))
        })?
        .data)
}

/// Registers a table read from a slot under its name as written (Flink's names keep their
/// case; DataFusion would lowercase a name parsed from text).
pub(crate) fn register_slot(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    slot: &Slot,
) -> Result<()> {
    ctx.register_table(
        TableReference::bare(name),
        Arc::new(SlotTable::new(schema, slot.clone())),
    )?;
    Ok(())
}

/// The query planned again with its one table read with other columns (the table's and
/// Weir's own: an OVER's marker, a Top-N's rank and key).
async fn replan(
    ctx: &SessionContext,
    table: &str,
    schema: SchemaRef,
    slot: &Slot,
    query: Box<Query>,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    ctx.deregister_table(TableReference::bare(table))?;
    register_slot(ctx, table, schema, slot)?;
    Ok(ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(query))))
        .await?)
}

/// A deduplication keeping each key's first row (by processing time).
#[derive(Debug, Clone)]
pub struct DedupPlan {
    /// The key columns' places in the source's table columns.
    pub keys: Vec<usize>,
}

/// How many table scans a plan has.
fn scans(plan: &datafusion::logical_expr::LogicalPlan) -> usize {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut n = 0;
    let _ = plan.apply(|p| {
        n += usize::from(matches!(
            p,
            datafusion::logical_expr::LogicalPlan::TableScan(_)
        ));
        Ok(TreeNodeRecursion::Continue)
    });
    n
}

/// The GROUP BY columns of a SESSION window's one aggregate (window bounds left out); refused
/// for other shapes (Flink runs sessions as keyed window aggregates only).
fn session_keys(plan: &datafusion::logical_expr::LogicalPlan) -> Result<Vec<String>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{Expr, LogicalPlan};
    let refused = |what: &str| {
        StreamError::Unsupported(format!(
            "SESSION windows {what} are not supported by Weir's streaming engine yet"
        ))
    };
    let mut aggregates = Vec::new();
    let mut other = false;
    plan.apply(|p| {
        match p {
            LogicalPlan::Aggregate(a) => aggregates.push(a.group_expr.clone()),
            LogicalPlan::Join(_) | LogicalPlan::Window(_) | LogicalPlan::Union(_) => other = true,
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let [groups] = aggregates.as_slice() else {
        return Err(refused("with more than one aggregate"));
    };
    if other {
        return Err(refused("in joins, unions or Top-N"));
    }
    let mut keys = Vec::new();
    for g in groups {
        match g {
            Expr::Column(c)
                if matches!(
                    c.name.as_str(),
                    "window_start" | "window_end" | "window_time"
                ) => {}
            Expr::Column(c) => keys.push(c.name.clone()),
            _ => return Err(refused("grouped by an expression")),
        }
    }
    Ok(keys)
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
