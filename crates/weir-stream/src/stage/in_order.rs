//! A pass-through plan node that says its rows are in order (by its first column, which is not
//! checked). A hash join probed by such an input keeps the probe rows' order for unmatched rows
//! too (DataFusion otherwise puts a batch's unmatched rows of an outer join after its matched
//! ones): a stream's rows left-joined with a lookup table come out in the order they came.
//! Only put above a stream's rows, after the plan is optimized (nothing may rely on the order).

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

#[derive(Debug)]
pub struct InOrder {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    /// Whether it claims the order (else it hides any order its input claims).
    ordered: bool,
}

impl InOrder {
    pub fn wrap(input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let schema = input.schema();
        let Some(first) = schema.fields().first() else {
            return input;
        };
        let sort = PhysicalSortExpr::new_default(Arc::new(Column::new(first.name(), 0)));
        let mut eq = EquivalenceProperties::new(schema.clone());
        if let Some(ordering) = LexOrdering::new(vec![sort]) {
            eq.add_ordering(ordering);
        }
        InOrder::with(input, eq, true)
    }

    /// `input` said to be in no order: the join above the ordered rows passes their order on,
    /// and what is above it must not take it as sorted.
    pub fn forget(input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let eq = EquivalenceProperties::new(input.schema());
        InOrder::with(input, eq, false)
    }

    fn with(
        input: Arc<dyn ExecutionPlan>,
        eq: EquivalenceProperties,
        ordered: bool,
    ) -> Arc<dyn ExecutionPlan> {
        let p = input.properties();
        let properties = Arc::new(PlanProperties::new(
            eq,
            p.output_partitioning().clone(),
            p.emission_type,
            p.boundedness,
        ));
        Arc::new(InOrder {
            input,
            properties,
            ordered,
        })
    }
}

impl DisplayAs for InOrder {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "InArrivalOrder")
    }
}

impl ExecutionPlan for InOrder {
    fn name(&self) -> &str {
        "InArrivalOrder"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match children.pop() {
            Some(input) if self.ordered => Ok(InOrder::wrap(input)),
            Some(input) => Ok(InOrder::forget(input)),
            None => Ok(self),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
