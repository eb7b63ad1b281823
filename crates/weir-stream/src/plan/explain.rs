//! `EXPLAIN`'s text, in Flink's three sections: the statement as planned (DataFusion's logical
//! plan under Flink's `LogicalSink`), the optimized plan, and how Weir runs it — its sources
//! with their watermarks, the window state, and DataFusion's physical plan of the query that
//! runs per input (or per fired window).

use std::fmt::Write;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{displayable, ExecutionPlan};

use super::{SourcePlan, WindowSpec};
use crate::sql::WindowKind;
use crate::table::TableDef;

/// The query's plans: as planned, optimized, and physical.
pub(super) struct Plans<'a> {
    pub logical: &'a LogicalPlan,
    pub optimized: &'a LogicalPlan,
    pub physical: &'a dyn ExecutionPlan,
}

pub(super) fn explain(
    sink: &TableDef,
    sources: &[SourcePlan],
    window: Option<&WindowSpec>,
    partial: bool,
    operator: Option<&str>,
    plans: Plans,
) -> String {
    let Plans {
        logical,
        optimized,
        physical,
    } = plans;
    let sink_line = format!(
        "LogicalSink(table=[default_catalog.default_database.{}], fields=[{}])",
        sink.name(),
        sink.physical_columns()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut out = String::new();
    let _ = writeln!(out, "== Abstract Syntax Tree ==\n{sink_line}");
    indent(&mut out, &logical.display_indent().to_string());
    let _ = writeln!(out, "\n== Optimized Physical Plan ==\n{sink_line}");
    indent(&mut out, &optimized.display_indent().to_string());
    let _ = writeln!(out, "\n== Optimized Execution Plan ==\n{sink_line}");
    for s in sources {
        let t = &s.table;
        // Columns decoded when not all are (Flink's projection push-down shows the same).
        let project = s.decode.as_ref().map_or_else(String::new, |cols| {
            let names: Vec<&str> = cols
                .iter()
                .map(|c| t.decoded.field(*c).name().as_str())
                .collect();
            format!(", project=[{}]", names.join(", "))
        });
        let mut line = format!(
            "TableSourceScan(table=[[default_catalog, default_database, {}{project}]], \
             fields=[{}])",
            t.name(),
            s.table_schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(w) = &t.flink.watermark {
            line = format!(
                "WatermarkAssigner(rowtime=[{}], watermark=[{}])\n   +- {line}",
                w.column, w.expr
            );
        }
        let _ = writeln!(out, "+- {line}");
    }
    if let Some(w) = window {
        let kind = match w.kind {
            WindowKind::Tumble => format!("TUMBLE(size=[{} ms])", w.size_ms),
            WindowKind::Hop => format!("HOP(slide=[{} ms], size=[{} ms])", w.step_ms, w.size_ms),
            WindowKind::Cumulate => {
                format!(
                    "CUMULATE(step=[{} ms], max_size=[{} ms])",
                    w.step_ms, w.size_ms
                )
            }
            WindowKind::Session => format!("SESSION(gap=[{} ms])", w.size_ms),
        };
        let emit = match (w.aggregate, partial) {
            (true, true) => {
                "keeps partial aggregates per pane, finished per window when the watermark \
                 passes its end"
            }
            (true, false) => {
                "the query runs over each window's rows when the watermark passes its end"
            }
            _ => "each row gets its windows' columns",
        };
        let _ = writeln!(out, "+- WindowState(window=[{kind}], {emit})");
    }
    if let Some(op) = operator {
        let _ = writeln!(out, "+- {op}");
    }
    indent(&mut out, &displayable(physical).indent(true).to_string());
    out.trim_end().to_string()
}

fn indent(out: &mut String, plan: &str) {
    for line in plan.lines() {
        let _ = writeln!(out, "+- {line}");
    }
}
