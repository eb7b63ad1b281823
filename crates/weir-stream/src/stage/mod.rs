//! A query planned once by DataFusion and run again for every piece of input: its table is a
//! `SlotTable` whose scan reads whatever batches were put in the slot before the run. The
//! stateless parts of a job (projections, filters, scalar functions) and a window's query at
//! its firing are such stages, so a run's output is exactly what its input produced.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{reset_plan_states, Boundedness, EmissionType};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use datafusion::prelude::SessionContext;
use parking_lot::Mutex;

mod in_order;
mod keys;

pub use in_order::InOrder;

/// The batches the next run reads.
#[derive(Clone, Default)]
pub struct Slot(Arc<Mutex<Vec<RecordBatch>>>);

impl Slot {
    pub fn put(&self, batches: Vec<RecordBatch>) {
        *self.0.lock() = batches;
    }
}

/// A table reading a slot.
pub struct SlotTable {
    schema: SchemaRef,
    slot: Slot,
}

impl SlotTable {
    pub fn new(schema: SchemaRef, slot: Slot) -> SlotTable {
        SlotTable { schema, slot }
    }
}

impl fmt::Debug for SlotTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotTable").finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for SlotTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(Arc::new(SlotExec::new(
            schema,
            projection.cloned(),
            self.slot.clone(),
        )))
    }
}

/// A plan reading a slot's batches whole.
pub fn slot_exec(schema: SchemaRef, slot: Slot) -> Arc<dyn ExecutionPlan> {
    Arc::new(SlotExec::new(schema, None, slot))
}

impl SlotExec {
    fn new(schema: SchemaRef, projection: Option<Vec<usize>>, slot: Slot) -> SlotExec {
        SlotExec {
            properties: Arc::new(PlanProperties::new(
                EquivalenceProperties::new(schema.clone()),
                Partitioning::UnknownPartitioning(1),
                EmissionType::Incremental,
                Boundedness::Bounded,
            )),
            schema,
            projection,
            slot,
        }
    }
}

#[derive(Debug)]
struct SlotExec {
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    slot: Slot,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Slot")
    }
}

impl DisplayAs for SlotExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "StreamInput")
    }
}

impl ExecutionPlan for SlotExec {
    fn name(&self) -> &str {
        "StreamInput"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        _partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let batches = self.slot.0.lock().clone();
        let batches = match &self.projection {
            Some(p) => batches
                .iter()
                .map(|b| b.project(p))
                .collect::<Result<Vec<_>, _>>()?,
            None => batches,
        };
        Ok(Box::pin(MemoryStream::try_new(
            batches,
            self.schema.clone(),
            None,
        )?))
    }
}

/// Whether `plan` reads `slot` anywhere below it.
pub fn reads(plan: &Arc<dyn ExecutionPlan>, slot: &Slot) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        if let Some(s) = node.downcast_ref::<SlotExec>() {
            if Arc::ptr_eq(&s.slot.0, &slot.0) {
                found = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// A physical plan and the slots it reads.
pub struct Stage {
    plan: Arc<dyn ExecutionPlan>,
    inputs: Vec<Slot>,
    task: Arc<TaskContext>,
}

impl Stage {
    pub fn new(ctx: &SessionContext, plan: Arc<dyn ExecutionPlan>, inputs: Vec<Slot>) -> Stage {
        Stage {
            plan,
            inputs,
            task: ctx.task_ctx(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.plan.schema()
    }

    /// The columns this plan reads of input `i`: `None` when a scan reads all of them.
    pub fn columns_read(&self, i: usize) -> Option<std::collections::BTreeSet<usize>> {
        let slot = self.inputs.get(i)?;
        let mut read = std::collections::BTreeSet::new();
        let mut whole = false;
        let _ = self.plan.apply(|node| {
            if let Some(s) = node.downcast_ref::<SlotExec>() {
                if Arc::ptr_eq(&s.slot.0, &slot.0) {
                    match &s.projection {
                        Some(p) => read.extend(p.iter().copied()),
                        None => whole = true,
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        (!whole).then_some(read)
    }

    /// A copy that runs apart from this one (at the same time, on another core): its own
    /// slots. Tables whose slot is not an input (lookup tables) stay shared.
    pub fn fork(&self) -> DfResult<Stage> {
        let fresh: Vec<Slot> = self.inputs.iter().map(|_| Slot::default()).collect();
        let plan = self
            .plan
            .clone()
            .transform_up(|node| {
                let Some(s) = node.downcast_ref::<SlotExec>() else {
                    return Ok(Transformed::no(node));
                };
                let Some(k) = self
                    .inputs
                    .iter()
                    .position(|i| Arc::ptr_eq(&i.0, &s.slot.0))
                else {
                    return Ok(Transformed::no(node));
                };
                let copy = SlotExec::new(s.schema.clone(), s.projection.clone(), fresh[k].clone());
                Ok(Transformed::yes(Arc::new(copy) as Arc<dyn ExecutionPlan>))
            })?
            .data;
        Ok(Stage {
            plan,
            inputs: fresh,
            task: self.task.clone(),
        })
    }

    pub fn plan(&self) -> &dyn ExecutionPlan {
        self.plan.as_ref()
    }

    /// Runs the plan over `input` (for its first slot) and returns every batch it produced.
    pub async fn run(&self, input: Vec<RecordBatch>) -> DfResult<Vec<RecordBatch>> {
        self.run_at(0, input).await
    }

    /// Runs the plan with `input` in slot `i` and the other slots empty.
    pub async fn run_at(&self, i: usize, input: Vec<RecordBatch>) -> DfResult<Vec<RecordBatch>> {
        let mut inputs: Vec<Vec<RecordBatch>> = self.inputs.iter().map(|_| Vec::new()).collect();
        if let Some(slot) = inputs.get_mut(i) {
            *slot = input;
        }
        self.run_all(inputs).await
    }

    /// Runs the plan with one input per slot.
    pub async fn run_all(&self, inputs: Vec<Vec<RecordBatch>>) -> DfResult<Vec<RecordBatch>> {
        for (slot, input) in self.inputs.iter().zip(inputs) {
            slot.put(input);
        }
        // Operators keep per-execution state (a hash join's build side): a fresh copy per run.
        let plan = reset_plan_states(self.plan.clone())?;
        let out = datafusion::physical_plan::collect(plan, self.task.clone()).await;
        for s in &self.inputs {
            s.put(Vec::new());
        }
        Ok(out?.into_iter().filter(|b| b.num_rows() > 0).collect())
    }
}
