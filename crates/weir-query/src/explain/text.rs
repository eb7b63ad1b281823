//! Expressions, literals and types as Trino's plan printer writes them: quoted symbol
//! references in parentheses (`("x" > BIGINT '1')`), typed literals, and Trino's type names
//! (`varchar`, `decimal(12,2)`, `timestamp(3)`, `array(integer)`, `row(a integer)`).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator, SortExpr};

/// Trino's display name of a type.
pub fn type_name(dt: &DataType) -> String {
    let precision = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    match dt {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Timestamp(u, None) => format!("timestamp({})", precision(u)),
        DataType::Timestamp(u, Some(_)) => {
            format!("timestamp({}) with time zone", precision(u))
        }
        DataType::Time32(u) | DataType::Time64(u) => format!("time({})", precision(u)),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => format!("array({})", type_name(f.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map({}, {})",
                type_name(kv[0].data_type()),
                type_name(kv[1].data_type())
            ),
            _ => "map".into(),
        },
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{} {}", f.name(), type_name(f.data_type())))
                .collect();
            format!("row({})", inner.join(", "))
        }
        DataType::Dictionary(_, v) => type_name(v),
        other => crate::types::athena_type(other).0.to_string(),
    }
}

/// A literal as Trino writes it in a plan.
pub fn literal(v: &ScalarValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    let text = v.to_string();
    match v {
        ScalarValue::Boolean(_) | ScalarValue::Int32(_) => text,
        ScalarValue::Int8(_) => format!("TINYINT '{text}'"),
        ScalarValue::Int16(_) | ScalarValue::UInt8(_) => format!("SMALLINT '{text}'"),
        ScalarValue::Int64(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_) => format!("BIGINT '{text}'"),
        ScalarValue::Float32(_) => format!("REAL '{text}'"),
        ScalarValue::Float64(_) => format!("DOUBLE '{text}'"),
        ScalarValue::Decimal32(..)
        | ScalarValue::Decimal64(..)
        | ScalarValue::Decimal128(..)
        | ScalarValue::Decimal256(..) => format!("DECIMAL '{text}'"),
        ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_) => {
            format!("'{}'", text.replace('\'', "''"))
        }
        ScalarValue::Date32(_) | ScalarValue::Date64(_) => format!("DATE '{text}'"),
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => {
            format!("TIMESTAMP '{}'", text.replacen('T', " ", 1))
        }
        _ => text,
    }
}

/// The plain text of a literal (the IO plan's range values): `1`, `abc`, `2024-01-02`.
pub fn value(v: &ScalarValue) -> String {
    let text = v.to_string();
    match v {
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => text.replacen('T', " ", 1),
        _ => text,
    }
}

fn op(o: &Operator) -> String {
    match o {
        Operator::NotEq => "<>".into(),
        Operator::IsDistinctFrom => "IS DISTINCT FROM".into(),
        Operator::IsNotDistinctFrom => "IS NOT DISTINCT FROM".into(),
        other => other.to_string(),
    }
}

fn list(exprs: &[Expr]) -> String {
    exprs.iter().map(expr).collect::<Vec<_>>().join(", ")
}

/// An expression as Trino's plan printer writes it.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::Alias(a) => expr(&a.expr),
        Expr::Column(c) => format!("\"{}\"", c.name),
        Expr::OuterReferenceColumn(_, c) => format!("\"{}\"", c.name),
        Expr::Literal(v, _) => literal(v),
        Expr::BinaryExpr(b) => format!("({} {} {})", expr(&b.left), op(&b.op), expr(&b.right)),
        Expr::Not(x) => format!("(NOT {})", expr(x)),
        Expr::IsNull(x) => format!("({} IS NULL)", expr(x)),
        Expr::IsNotNull(x) => format!("(NOT ({} IS NULL))", expr(x)),
        Expr::Negative(x) => format!("(-{})", expr(x)),
        Expr::Between(b) => format!(
            "({}{} BETWEEN {} AND {})",
            if b.negated { "NOT " } else { "" },
            expr(&b.expr),
            expr(&b.low),
            expr(&b.high)
        ),
        Expr::Like(l) => format!(
            "({} {}{} {})",
            expr(&l.expr),
            if l.negated { "NOT " } else { "" },
            if l.case_insensitive { "ILIKE" } else { "LIKE" },
            expr(&l.pattern)
        ),
        Expr::InList(i) => format!(
            "({} {}IN ({}))",
            expr(&i.expr),
            if i.negated { "NOT " } else { "" },
            list(&i.list)
        ),
        Expr::Case(c) => {
            let mut s = String::from("CASE");
            if let Some(operand) = &c.expr {
                s.push(' ');
                s.push_str(&expr(operand));
            }
            for (when, then) in &c.when_then_expr {
                s.push_str(&format!(" WHEN {} THEN {}", expr(when), expr(then)));
            }
            if let Some(other) = &c.else_expr {
                s.push_str(&format!(" ELSE {}", expr(other)));
            }
            s + " END"
        }
        Expr::Cast(c) => format!(
            "CAST({} AS {})",
            expr(&c.expr),
            type_name(c.field.data_type())
        ),
        Expr::TryCast(c) => format!(
            "TRY_CAST({} AS {})",
            expr(&c.expr),
            type_name(c.field.data_type())
        ),
        Expr::ScalarFunction(f) => format!("{}({})", f.name(), list(&f.args)),
        Expr::AggregateFunction(a) => {
            let p = &a.params;
            let name = a.func.name();
            let star =
                name == "count" && matches!(&p.args[..], [Expr::Literal(v, _)] if !v.is_null());
            let mut s = if star {
                "count(*)".to_string()
            } else {
                format!(
                    "{name}({}{})",
                    if p.distinct { "DISTINCT " } else { "" },
                    list(&p.args)
                )
            };
            if let Some(f) = &p.filter {
                s.push_str(&format!(" FILTER (WHERE {})", expr(f)));
            }
            s
        }
        Expr::WindowFunction(w) => format!("{}({})", w.fun, list(&w.params.args)),
        other => other.to_string(),
    }
}

/// `k ASC NULLS LAST` for each sort key.
pub fn order_by(sort: &[SortExpr]) -> String {
    let keys: Vec<String> = sort
        .iter()
        .map(|s| {
            format!(
                "{} {} NULLS {}",
                symbol(&s.expr),
                if s.asc { "ASC" } else { "DESC" },
                if s.nulls_first { "FIRST" } else { "LAST" }
            )
        })
        .collect();
    format!("[{}]", keys.join(", "))
}

/// A symbol where Trino lists symbols unquoted (keys, orderings): a column's name, otherwise the
/// expression's text.
pub fn symbol(e: &Expr) -> String {
    match e {
        Expr::Column(c) => c.name.clone(),
        Expr::Alias(a) => a.name.clone(),
        other => expr(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Fields};
    use datafusion::logical_expr::{col, lit};
    use std::sync::Arc;

    #[test]
    fn trino_spelling() {
        assert_eq!(expr(&col("x").gt(lit(1i64))), "(\"x\" > BIGINT '1')");
        assert_eq!(
            expr(&col("s").eq(lit("it's")).and(col("y").not_eq(lit(2)))),
            "((\"s\" = 'it''s') AND (\"y\" <> 2))"
        );
        assert_eq!(type_name(&DataType::Decimal128(12, 2)), "decimal(12,2)");
        assert_eq!(
            type_name(&DataType::Timestamp(TimeUnit::Millisecond, None)),
            "timestamp(3)"
        );
        let row = DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        assert_eq!(
            type_name(&DataType::List(Arc::new(Field::new("item", row, true)))),
            "array(row(a integer, b varchar))"
        );
    }
}
