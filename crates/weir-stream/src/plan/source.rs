//! A source table's stage (decoded rows → the table's columns, computed columns and the
//! watermark expression) and the window over it.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::{quote, session, SourcePlan, SourceWatermark, TimeKind, WindowSpec, WATERMARK_COLUMN};
use crate::error::{Result, StreamError};
use crate::sql::{Column, WindowTvf};
use crate::stage::{Slot, SlotTable, Stage};
use crate::table::TableDef;

/// The name the source stage reads decoded rows under.
const RAW: &str = "__weir_raw";

pub(super) async fn plan_source(table: TableDef) -> Result<SourcePlan> {
    let ctx = session();
    let raw_slot = Slot::default();
    ctx.register_table(
        RAW,
        Arc::new(SlotTable::new(table.decoded.clone(), raw_slot.clone())),
    )?;
    let mut select: Vec<String> = table.flink.columns.iter().map(select_item).collect();
    // `ts - INTERVAL ...` (a fixed delay) is taken off the greatest time of each batch;
    // any other watermark expression is computed for every row.
    let delay = match &table.flink.watermark {
        Some(w) => fixed_delay(&ctx, &w.column, &w.expr).await,
        None => None,
    };
    if let (Some(w), None) = (&table.flink.watermark, delay) {
        select.push(format!("{} AS {WATERMARK_COLUMN}", w.expr));
    }
    let sql = format!("SELECT {} FROM {RAW}", select.join(", "));
    let physical = ctx.sql(&sql).await?.create_physical_plan().await?;
    let stage = Stage::new(&ctx, physical, vec![raw_slot]);
    let stage_schema = stage.schema();
    let watermark = match (&table.flink.watermark, delay) {
        (None, _) => None,
        (Some(w), Some(delay_ms)) => Some(SourceWatermark::Delayed {
            column: stage_schema.index_of(&w.column)?,
            delay_ms,
        }),
        (Some(_), None) => Some(SourceWatermark::Computed(stage_schema.fields().len() - 1)),
    };
    let fields: Vec<Field> = stage_schema
        .fields()
        .iter()
        .filter(|f| f.name() != WATERMARK_COLUMN)
        .map(|f| f.as_ref().clone())
        .collect();
    let table_schema = Arc::new(Schema::new(fields));
    if let Some(w) = &table.flink.watermark {
        let f = table_schema.field_with_name(&w.column).map_err(|_| {
            StreamError::Validation(format!(
                "The rowtime attribute field '{}' is not defined in the table schema",
                w.column
            ))
        })?;
        check_time_type(f.data_type(), "watermark definition")?;
    }
    Ok(SourcePlan {
        table,
        stage,
        watermark,
        rows_schema: table_schema.clone(),
        view: None,
        table_schema,
        window: None,
        decode: None,
    })
}

/// A view a window TVF reads: its one table's source, with the view's query (projections and
/// filters only) run over the table's rows. A time column the view passes on under its own
/// name stays a time attribute.
pub(super) async fn plan_view_source(
    name: &str,
    text: &str,
    lookup: &(dyn Fn(&str) -> Option<TableDef> + Sync),
    tables: &[String],
) -> Result<SourcePlan> {
    let refused = |why: &str| {
        StreamError::Unsupported(format!(
            "A window TVF over view '{name}' ({why}) is not supported by Weir's streaming \
             engine yet"
        ))
    };
    let query = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| StreamError::Sql(crate::sql::SqlError::Parse(e.to_string())))?;
    let read = super::relations(&query);
    let [base] = read.iter().collect::<Vec<_>>()[..] else {
        return Err(refused("it reads several tables"));
    };
    if tables.contains(base) {
        return Err(refused("the query reads its table too"));
    }
    let table = lookup(base).ok_or_else(|| super::object_not_found(base))?;
    if !table.is_source_capable() {
        return Err(StreamError::Validation(format!(
            "Connector of table '{base}' can only be used as a sink"
        )));
    }
    let mut source = plan_source(table).await?;
    let ctx = session();
    let slot = Slot::default();
    super::register_slot(&ctx, base.as_str(), source.rows_schema.clone(), &slot)?;
    let logical = ctx
        .state()
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            sqlparser::ast::Statement::Query(query),
        )))
        .await?;
    let optimized = ctx.state().optimize(&logical)?;
    if !matches!(
        super::shape::shape_of(&optimized, &[]),
        super::shape::Shape::Stateless
    ) {
        return Err(refused("it aggregates, joins or windows"));
    }
    let physical = ctx.state().create_physical_plan(&optimized).await?;
    let stage = Stage::new(&ctx, physical, vec![slot]);
    source.table_schema = stage.schema();
    source.view = Some(stage);
    Ok(source)
}

/// The physical columns of `table` that must be decoded for the table columns `used` (by
/// position) and its watermark: what the source stage scans when it computes only those.
/// `None` when that is all of them. Columns that may not be null are always decoded.
pub(super) async fn decoded_columns(
    table: &TableDef,
    watermark: Option<SourceWatermark>,
    used: &std::collections::BTreeSet<usize>,
) -> Result<Option<Vec<usize>>> {
    // A CSV row is read whole.
    if !matches!(table.format, Some(crate::table::Format::Json { .. })) {
        return Ok(None);
    }
    let mut used = used.clone();
    let mut select = Vec::new();
    if let Some(w) = &table.flink.watermark {
        // The rowtime column (perhaps computed), and a watermark computed per row.
        let rowtime = table
            .flink
            .columns
            .iter()
            .position(|c| c.name() == w.column);
        used.extend(rowtime);
        if matches!(watermark, Some(SourceWatermark::Computed(_))) {
            select.push(format!("{} AS {WATERMARK_COLUMN}", w.expr));
        }
    }
    select.extend(
        (table.flink.columns.iter().enumerate())
            .filter(|(k, _)| used.contains(k))
            .map(|(_, c)| select_item(c)),
    );
    if select.is_empty() {
        return Ok(None);
    }
    let ctx = session();
    let slot = Slot::default();
    ctx.register_table(
        RAW,
        Arc::new(SlotTable::new(table.decoded.clone(), slot.clone())),
    )?;
    // A plan that does not come together decodes every column.
    let sql = format!("SELECT {} FROM {RAW}", select.join(", "));
    let Ok(frame) = ctx.sql(&sql).await else {
        return Ok(None);
    };
    let Ok(physical) = frame.create_physical_plan().await else {
        return Ok(None);
    };
    let stage = Stage::new(&ctx, physical, vec![slot]);
    let Some(read) = stage.columns_read(0) else {
        return Ok(None);
    };
    let physical_len = table.decoded.fields().len() - table.metadata.len();
    let decode: Vec<usize> = (0..physical_len)
        .filter(|c| read.contains(c) || !table.decoded.field(*c).is_nullable())
        .collect();
    Ok((decode.len() < physical_len).then_some(decode))
}

/// A table column as the source stage selects it from the decoded rows.
fn select_item(c: &Column) -> String {
    match c {
        Column::Physical { name, .. } => quote(name),
        Column::Computed { name, expr } => format!("{expr} AS {}", quote(name)),
    }
}

/// The delay of a watermark `column` or `column - INTERVAL ...` in milliseconds, when it is
/// the same at any time (days or less: a month's or a year's length varies); `None` otherwise.
async fn fixed_delay(
    ctx: &datafusion::prelude::SessionContext,
    column: &str,
    expr: &str,
) -> Option<i64> {
    use sqlparser::ast::{BinaryOperator, Expr};
    let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(expr)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let is_column = |e: &Expr| matches!(e, Expr::Identifier(id) if id.value == column);
    let interval = match &parsed {
        e if is_column(e) => return Some(0),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Minus,
            right,
        } if is_column(left) && matches!(**right, Expr::Interval(_)) => right.to_string(),
        _ => return None,
    };
    // Days or less (a month or a year has no fixed length).
    super::interval_ms(ctx, &interval)
        .await
        .ok()
        .filter(|ms| *ms >= 0)
}

/// The window a TVF puts over a source (its time column must be a time attribute).
pub(super) fn window_of(
    source: &SourcePlan,
    tvf: &WindowTvf,
    size_ms: i64,
    step_ms: i64,
    offset_ms: i64,
) -> Result<WindowSpec> {
    let schema = &source.table_schema;
    let time_index = schema.index_of(&tvf.time_column).map_err(|_| {
        StreamError::Validation(format!(
            "Unknown identifier '{}' in DESCRIPTOR",
            tvf.time_column
        ))
    })?;
    let time_field = schema.field(time_index);
    let Some(time_kind) = time_attribute(source, &tvf.time_column) else {
        return Err(StreamError::Validation(format!(
            "The window function requires the timecol is a time attribute type, but is {}.",
            crate::types::flink_type_name(time_field.data_type())
        )));
    };
    let tz = match time_field.data_type() {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let partition = tvf
        .partition_by
        .iter()
        .map(|c| {
            schema.index_of(c).map_err(|_| {
                StreamError::Validation(format!(
                    "Unknown identifier '{c}' in SESSION's PARTITION BY"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(WindowSpec {
        partition,
        kind: tvf.kind,
        size_ms,
        step_ms,
        offset_ms,
        time_index,
        time_kind,
        time_type: DataType::Timestamp(TimeUnit::Millisecond, tz),
        aggregate: false,
        fixed: tvf.fixed,
    })
}

/// Whether a column of a source is its rowtime (`WATERMARK FOR`) or a `PROCTIME()` column.
pub(super) fn time_attribute(source: &SourcePlan, column: &str) -> Option<TimeKind> {
    let flink = &source.table.flink;
    if flink.watermark.as_ref().is_some_and(|w| w.column == column) {
        return Some(TimeKind::Event);
    }
    flink
        .columns
        .iter()
        .any(|c| {
            matches!(c, Column::Computed { name, expr } if name == column
                && expr.trim().eq_ignore_ascii_case("PROCTIME()"))
        })
        .then_some(TimeKind::Processing)
}

/// A table's columns with `window_start`, `window_end` and `window_time`.
pub(super) fn window_schema(table: &SchemaRef, time_type: &DataType) -> SchemaRef {
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (n, t) in crate::window::window_columns(time_type) {
        fields.push(Field::new(n, t, false));
    }
    Arc::new(Schema::new(fields))
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

#[cfg(test)]
mod tests {
    use super::fixed_delay;

    #[tokio::test]
    async fn fixed_delays_are_read_from_watermark_expressions() {
        let ctx = super::session();
        let delay = |e: &'static str| {
            let ctx = ctx.clone();
            async move { fixed_delay(&ctx, "ts", e).await }
        };
        assert_eq!(delay("ts - INTERVAL '4' SECOND").await, Some(4000));
        assert_eq!(delay("`ts` - INTERVAL '0.5' SECOND").await, Some(500));
        assert_eq!(delay("ts").await, Some(0));
        assert_eq!(delay("ts - INTERVAL '1' DAY").await, Some(86_400_000));
        // Not the same length at every time, or not a delay of the time column.
        assert_eq!(delay("ts - INTERVAL '1' MONTH").await, None);
        assert_eq!(delay("ts - INTERVAL '4' YEAR").await, None);
        assert_eq!(delay("other - INTERVAL '4' SECOND").await, None);
        assert_eq!(delay("ts + INTERVAL '4' SECOND").await, None);
        assert_eq!(delay("ts - INTERVAL '-4' SECOND").await, None);
    }
}
