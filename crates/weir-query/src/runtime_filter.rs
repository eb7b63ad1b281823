//! Join filters applied to the rows a scan reads.
//!
//! DataFusion hands a hash join's build-side keys (and a TopK's current bound) to the Parquet
//! scans under the probe side as *dynamic filters*. With `pushdown_filters` off — Weir's
//! default, because evaluating a query's own predicates inside the Parquet decoder was slower
//! overall — a scan uses them only to skip row groups by their statistics, and every row still
//! flows through the repartitions, aggregates and joins between the scan and the join that
//! made the filter: TPC-H q17 averages all 6M `lineitem` rows per part although only ~6,000
//! can meet the 204 chosen parts.
//!
//! [`RuntimeFilters`] (the last physical optimizer rule) puts a [`RuntimeFilterExec`] over each
//! such scan, evaluating the scan's dynamic filters on its batches. A dynamic filter is exactly
//! as strict as its producer allows (DataFusion pushes it only where dropping the rows it
//! rejects cannot change the answer), so this changes no result. Until its producer fills it a
//! filter is `true` and is skipped; one that keeps nearly every row turns itself off until it
//! changes, so a join that filters nothing costs a few batches' evaluations.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::filter::{batch_filter, FilterExec};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::recursive_query::RecursiveQueryExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    internal_err, ChildStats, ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan,
    PlanProperties, ReplaceChildrenOptions, Statistics, StatisticsArgs,
};
use futures::{ready, Stream, StreamExt};

/// Rows a filter is measured on before it may turn itself off.
const SAMPLE_ROWS: usize = 64 * 1024;

/// The physical optimizer rule that puts a [`RuntimeFilterExec`] over every Parquet scan
/// holding dynamic filters.
#[derive(Debug, Default)]
pub struct RuntimeFilters;

impl PhysicalOptimizerRule for RuntimeFilters {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(place(plan, &HashMap::new())?.data)
    }

    fn name(&self) -> &str {
        "weir_runtime_filters"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Operators that pass rows on as they come: a filter of the rows under them costs the same
/// hash lookup the join does anyway, so none is placed when only these lie between a scan and
/// the operator that makes its dynamic filter.
fn passes_rows(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.is::<ProjectionExec>()
        || plan.is::<FilterExec>()
        || plan.is::<CoalescePartitionsExec>()
        || plan.is::<RepartitionExec>()
        || plan.is::<CooperativeExec>()
}

/// `plan` with the filters placed. `open` holds the dynamic filters made above `plan`, by id,
/// and whether rows do more work than passing between their maker and `plan`.
fn place(
    plan: Arc<dyn ExecutionPlan>,
    open: &HashMap<u64, bool>,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    if let Some(filters) = scan_filters(&plan, open) {
        return Ok(Transformed::yes(Arc::new(RuntimeFilterExec::new(
            plan, filters,
        ))));
    }
    // A recursive query runs its recursive term again and again, resetting the operators'
    // state between runs; an aggregate's filter is not reset with it, and would carry the
    // last run's bound into the next. Nothing under one is touched.
    if plan.children().is_empty() || plan.is::<RecursiveQueryExec>() {
        return Ok(Transformed::no(plan));
    }
    let passes = passes_rows(&plan);
    let mut below: HashMap<u64, bool> = open
        .iter()
        .map(|(&id, &work)| (id, work || !passes))
        .collect();
    // An aggregate's min/max filter leaves out the aggregates whose argument is not a plain
    // column, so rows it rejects may still matter to those: only joins' and TopK's are used.
    if !plan.is::<AggregateExec>() {
        for e in plan.dynamic_expressions_produced() {
            if let Some(id) = e.expression_id() {
                below.insert(id, false);
            }
        }
    }
    let mut changed = false;
    let mut children = Vec::new();
    for child in plan.children() {
        let placed = place(Arc::clone(child), &below)?;
        changed |= placed.transformed;
        children.push(placed.data);
    }
    Ok(if changed {
        Transformed::yes(datafusion::physical_plan::replace_children_if_necessary(
            plan, children,
        )?)
    } else {
        Transformed::no(plan)
    })
}

/// The dynamic filters of a Parquet scan's predicate worth applying to its rows (made above it
/// with work between, per `open`), rewritten from the table's columns (the predicate's) to the
/// scan's output; a filter that needs a column the scan does not output as it is, is skipped.
fn scan_filters(
    plan: &Arc<dyn ExecutionPlan>,
    open: &HashMap<u64, bool>,
) -> Option<Vec<Arc<dyn PhysicalExpr>>> {
    let scan = plan.downcast_ref::<DataSourceExec>()?;
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    let source = config.file_source();
    if source.file_type() != "parquet" {
        return None;
    }
    let predicate = source.filter()?;
    let filters: Vec<_> = split_conjunction(&predicate)
        .into_iter()
        .filter(|e| e.is::<DynamicFilterPhysicalExpr>())
        .filter(|e| {
            e.expression_id()
                .is_some_and(|id| open.get(&id) == Some(&true))
        })
        .filter_map(|e| match source.projection() {
            // The projection maps only the columns it outputs unchanged (an alias of a
            // computed value is not the column) and fails on the others.
            Some(projection) => projection.project_expr(e).ok(),
            None => Some(Arc::clone(e)),
        })
        .collect();
    (!filters.is_empty()).then_some(filters)
}

/// A scan's dynamic filters applied to its batches.
pub struct RuntimeFilterExec {
    input: Arc<dyn ExecutionPlan>,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    metrics: ExecutionPlanMetricsSet,
}

impl RuntimeFilterExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, filters: Vec<Arc<dyn PhysicalExpr>>) -> Self {
        RuntimeFilterExec {
            input,
            filters,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl fmt::Debug for RuntimeFilterExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuntimeFilterExec({} filters)", self.filters.len())
    }
}

impl DisplayAs for RuntimeFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RuntimeFilterExec: ")?;
        for (i, e) in self.filters.iter().enumerate() {
            if i > 0 {
                write!(f, " AND ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for RuntimeFilterExec {
    fn name(&self) -> &str {
        "RuntimeFilterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for e in &self.filters {
            if f(e)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // The filters are bound to the input's columns by position.
        match children.pop() {
            Some(input) if children.is_empty() && input.schema() == self.input.schema() => Ok(
                Arc::new(RuntimeFilterExec::new(input, self.filters.clone())),
            ),
            _ => internal_err!("RuntimeFilterExec takes one input with its input's schema"),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(match input_stats.first() {
            Some(s) => Arc::new(s.as_ref().clone().to_inexact()),
            None => Arc::new(Statistics::new_unknown(&self.schema())),
        })
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        CardinalityEffect::LowerEqual
    }

    fn execute(
        &self,
        partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        Ok(Box::pin(FilterStream {
            input: self.input.execute(partition, ctx)?,
            filters: self.filters.clone(),
            generation: 0,
            rows_in: 0,
            rows_out: 0,
            off: false,
            metrics: BaselineMetrics::new(&self.metrics, partition),
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

struct FilterStream {
    input: SendableRecordBatchStream,
    filters: Vec<Arc<dyn PhysicalExpr>>,
    /// The filters' generations summed when last measured: a change starts a new measure.
    generation: u64,
    rows_in: usize,
    rows_out: usize,
    /// Turned off: the filters as they are keep nearly every row.
    off: bool,
    metrics: BaselineMetrics,
}

impl FilterStream {
    /// The batch's rows the filters keep (the batch itself while none is filled in, or they
    /// are turned off); `None` when they keep none.
    fn apply(&mut self, batch: RecordBatch) -> Result<Option<RecordBatch>> {
        // A dynamic filter starts at generation 1 (`true`) and moves on as it is filled.
        let generation: u64 = self
            .filters
            .iter()
            .map(|f| f.snapshot_generation())
            .filter(|&g| g > 1)
            .sum();
        if generation != self.generation {
            (self.generation, self.rows_in, self.rows_out, self.off) = (generation, 0, 0, false);
        }
        if generation == 0 || self.off || batch.num_rows() == 0 {
            return Ok(Some(batch));
        }
        let _timer = self.metrics.elapsed_compute().timer();
        self.rows_in += batch.num_rows();
        let mut out = batch;
        for f in self.filters.iter().filter(|f| f.snapshot_generation() > 1) {
            if out.num_rows() > 0 {
                out = batch_filter(&out, f)?;
            }
        }
        self.rows_out += out.num_rows();
        if self.rows_in >= SAMPLE_ROWS && self.rows_out * 10 > self.rows_in * 9 {
            self.off = true;
        }
        Ok((out.num_rows() > 0).then_some(out))
    }
}

impl Stream for FilterStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let poll = match ready!(self.input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => match self.apply(batch) {
                    Ok(Some(out)) => Some(Ok(out)),
                    Ok(None) => continue,
                    Err(e) => Some(Err(e)),
                },
                other => other,
            };
            return self.metrics.record_poll(Poll::Ready(poll));
        }
    }
}

impl RecordBatchStream for FilterStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::tree_node::TreeNode;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::SessionContext;

    /// The answer of `sql` over `f` (k = v % 1000, x = v for v in 1..=200,000, in Parquet), and
    /// the rows each runtime filter let through.
    async fn run(
        dir: &std::path::Path,
        sql: &str,
        with_rule: bool,
    ) -> (String, Vec<Option<usize>>) {
        // One partition: no round-robin repartition between a projection and its scan, so
        // DataFusion folds projections (computed ones too) into the scan.
        let mut state = SessionStateBuilder::new()
            .with_config(datafusion::prelude::SessionConfig::new().with_target_partitions(1))
            .with_default_features();
        if with_rule {
            state = state.with_physical_optimizer_rule(Arc::new(RuntimeFilters));
        }
        let ctx = SessionContext::new_with_state(state.build());
        let file = dir.join("f.parquet");
        if !file.exists() {
            ctx.sql(&format!(
                "COPY (SELECT v % 1000 AS k, v AS x FROM generate_series(1, 200000) t(v)) \
                 TO '{}' STORED AS PARQUET",
                file.display()
            ))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        }
        ctx.register_parquet("f", file.to_str().unwrap(), Default::default())
            .await
            .unwrap();
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let batches = datafusion::physical_plan::collect(plan.clone(), ctx.task_ctx())
            .await
            .unwrap();
        let mut filtered = Vec::new();
        plan.apply(|p| {
            if p.is::<RuntimeFilterExec>() {
                filtered.push(p.metrics().and_then(|m| m.output_rows()));
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        let answer = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        (answer, filtered)
    }

    /// A semi join's keys reach the rows of the scan under an aggregate, and the answer is the
    /// one without the filter.
    #[tokio::test]
    async fn join_keys_filter_the_rows_under_an_aggregate() {
        let dir = tempfile::tempdir().unwrap();
        let sql = "SELECT count(*), sum(s) FROM (SELECT k, sum(x) s FROM f GROUP BY k) a \
                   WHERE k IN (SELECT k FROM f WHERE x IN (7, 8, 9))";
        let (without, none) = run(dir.path(), sql, false).await;
        let (with, filtered) = run(dir.path(), sql, true).await;
        assert!(none.is_empty());
        // The scan's 200,000 rows came down to the 600 of the three keys.
        assert_eq!(filtered, vec![Some(600)]);
        assert_eq!(with, without);
        assert!(with.contains("| 3 "), "{with}");
    }

    /// A scan read straight by the join that filters it gets no second filter.
    #[tokio::test]
    async fn no_filter_where_the_join_reads_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let sql = "SELECT count(*) FROM f a JOIN (SELECT k FROM f WHERE x IN (7, 8, 9)) b \
                   ON a.k = b.k";
        let (with, filtered) = run(dir.path(), sql, true).await;
        assert!(filtered.is_empty());
        assert!(with.contains("| 600 "), "{with}");
    }

    /// A filter on a column the scan outputs as something else (`k + 1 AS k`, the projection
    /// pushed into the scan) is not applied to the output column of that name.
    #[tokio::test]
    async fn a_shadowing_alias_is_not_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let sql = "SELECT count(*), sum(s) FROM (SELECT k, sum(x) s FROM \
                   (SELECT k + 1 AS k, x FROM f) t GROUP BY k) a \
                   WHERE k IN (SELECT k FROM f WHERE x IN (7, 8, 9))";
        let (without, _) = run(dir.path(), sql, false).await;
        let (with, _) = run(dir.path(), sql, true).await;
        assert_eq!(with, without);
        assert!(with.contains("| 3 "), "{with}");
    }
}
