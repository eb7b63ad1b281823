//! Trino's SQL (Athena's dialect) into DataFusion plans. Statements are parsed with a dialect
//! that is sqlparser's generic one plus Trino's lambdas (`x -> x + 1`), then the syntax tree is
//! rewritten where Trino and DataFusion spell the same thing apart:
//! - `transform`/`filter`/`any_match` are DataFusion's `array_transform`/`array_filter`/
//!   `array_any_match`;
//! - `try(e)` is `weir_try(0, __weir_try -> e)`, a lambda the `try` function evaluates itself,
//!   so an error inside becomes NULL instead of failing the query (see functions::try_fn);
//! - `CAST(x AS array(t) | map(k, v) | row(a t, ...))` and TRY_CAST are
//!   `weir_cast(x, '<type>', safe)`, which also decodes JSON into those types
//!   (see functions::cast): the type's text travels as a custom type `__weir_type('<type>')`
//!   through the parser;
//! - `VALUES 1, 2` (rows without parentheses) is `VALUES (1), (2)`;
//! - `CROSS JOIN UNNEST(t.a) AS u (x)` (lateral) is a derived table unnesting in its select
//!   list (see unnest.rs);
//! - `UNNEST(a) WITH ORDINALITY AS t(x, n)` is `UNNEST(a, generate_series(1, cardinality(a)))`.
//!
//! Every SELECT (plain, CTAS, INSERT, UNLOAD, views) is planned through [`plan`].

use std::any::TypeId;
use std::ops::ControlFlow;

use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, LambdaFunction, LambdaFunctionParameter,
    LambdaSyntax, ObjectName, ObjectNamePart, OneOrManyWithParens, Query, TableFactor, Value,
    VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::words::Words;

/// sqlparser's generic dialect, reading Trino's `x -> body` lambdas too. It reports itself as
/// the generic dialect so the parser's per-dialect rules treat it as one.
#[derive(Debug, Default)]
pub struct TrinoDialect;

/// Forwards `fn name(&self) -> bool` to the generic dialect.
macro_rules! generic {
    ($($name:ident),* $(,)?) => {
        $(fn $name(&self) -> bool { GenericDialect {}.$name() })*
    };
}

impl Dialect for TrinoDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        GenericDialect {}.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        GenericDialect {}.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        GenericDialect {}.is_identifier_part(ch)
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    generic!(
        supports_unicode_string_literal,
        supports_partition_by_after_order_by,
        supports_array_join_syntax,
        supports_group_by_expr,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
        supports_connect_by,
        supports_match_recognize,
        supports_pipe_operator,
        supports_start_transaction_modifier,
        supports_window_function_null_treatment_arg,
        supports_dictionary_syntax,
        supports_window_clause_named_window_reference,
        supports_parenthesized_set_variables,
        supports_select_wildcard_except,
        support_map_literal_syntax,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        supports_create_view_comment_syntax,
        supports_parens_around_table_factor,
        supports_values_as_table_factor,
        supports_create_index_with_clause,
        supports_explain_with_utility_options,
        supports_limit_comma,
        supports_update_order_by,
        supports_from_first_select,
        supports_projection_trailing_commas,
        supports_asc_desc_in_column_definition,
        supports_try_convert,
        supports_bitwise_shift_operators,
        supports_comment_on,
        supports_load_extension,
        supports_named_fn_args_with_assignment_operator,
        supports_struct_literal,
        supports_empty_projections,
        supports_nested_comments,
        supports_multiline_comment_hints,
        supports_user_host_grantee,
        supports_string_escape_constant,
        supports_array_typedef_with_brackets,
        supports_match_against,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_filter_during_aggregation,
        supports_select_wildcard_exclude,
        supports_data_type_signed_suffix,
        supports_interval_options,
        supports_quote_delimited_string,
        supports_select_wildcard_replace,
        supports_select_wildcard_ilike,
        supports_select_wildcard_rename,
        supports_optimize_table,
        supports_install,
        supports_detach,
        supports_prewhere,
        supports_with_fill,
        supports_limit_by,
        supports_interpolate,
        supports_settings,
        supports_select_format,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_comma_separated_trim,
        supports_cte_without_as,
        supports_select_item_multi_column_alias,
        supports_xml_expressions,
    );
}

/// The name `try`'s lambda gives its (unused) parameter.
pub const TRY_PARAM: &str = "__weir_try";

/// Trino's name → DataFusion's, for functions taking lambdas.
fn renamed(name: &str) -> Option<&'static str> {
    Some(match name {
        "transform" => "array_transform",
        "filter" => "array_filter",
        "any_match" => "array_any_match",
        _ => return None,
    })
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// The single plain argument of a call, if that is what it has.
fn only_arg(f: &Function) -> Option<&Expr> {
    match &f.args {
        FunctionArguments::List(l) if l.args.len() == 1 && l.clauses.is_empty() => {
            match &l.args[0] {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The plain arguments of a call, if that is all it has.
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    match &f.args {
        FunctionArguments::List(l) if l.clauses.is_empty() => l
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Inside a `try` body: literals that are operands of casts and arithmetic become
/// `weir_opaque(literal)`, so planning does not fold (and fail on) them.
struct Opaque;

fn opaque(e: &mut Expr) {
    if matches!(e, Expr::Value(_)) {
        let v = std::mem::replace(e, Expr::value(Value::Null));
        *e = call("weir_opaque", vec![v]);
    }
}

impl VisitorMut for Opaque {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Cast { expr, .. } => opaque(expr),
            Expr::BinaryOp { left, right, .. } => {
                opaque(left);
                opaque(right);
            }
            Expr::UnaryOp { expr, .. } => opaque(expr),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[derive(Default)]
struct Rewrite {
    /// Derived tables made for lateral UNNESTs so far.
    unnests: usize,
}

impl VisitorMut for Rewrite {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        crate::unnest::rewrite(query, &mut self.unnests);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Cast {
            kind,
            expr: value,
            data_type: DataType::Custom(name, modifiers),
            ..
        } = expr
        {
            if name.to_string() == STRUCTURAL_TYPE {
                let text = modifiers.first().cloned().unwrap_or_default();
                let safe = !matches!(kind, CastKind::Cast | CastKind::DoubleColon);
                let value = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
                *expr = call(
                    crate::functions::CAST_NAME,
                    vec![
                        value,
                        Expr::value(Value::SingleQuotedString(text)),
                        Expr::value(Value::Boolean(safe)),
                    ],
                );
            }
            return ControlFlow::Continue(());
        }
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let name = f.name.to_string().to_lowercase();
        if let Some(new) = renamed(&name) {
            f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(new))]);
        } else if name == "if" && f.over.is_none() {
            // Trino's `if(c, a[, b])` is a CASE: `b` (or NULL) is evaluated only where `c` fails.
            if let Some(mut args) = plain_args(f).filter(|a| (2..=3).contains(&a.len())) {
                let else_result = (args.len() == 3).then(|| Box::new(args.remove(2)));
                let result = args.remove(1);
                let condition = args.remove(0);
                *expr = Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen { condition, result }],
                    else_result,
                };
            }
        } else if name == "sequence" && f.over.is_none() {
            // Trino's `sequence(start, stop[, step])` includes `stop`; without a step it counts
            // down when `start > stop`. DataFusion's `generate_series` does the rest.
            if let Some(args) = plain_args(f).filter(|a| (2..=3).contains(&a.len())) {
                *expr = if args.len() == 3 {
                    call("generate_series", args)
                } else {
                    let down = vec![
                        args[0].clone(),
                        args[1].clone(),
                        Expr::value(Value::Number("-1".into(), false)),
                    ];
                    Expr::Case {
                        case_token: AttachedToken::empty(),
                        end_token: AttachedToken::empty(),
                        operand: None,
                        conditions: vec![CaseWhen {
                            condition: Expr::BinaryOp {
                                left: Box::new(args[0].clone()),
                                op: BinaryOperator::LtEq,
                                right: Box::new(args[1].clone()),
                            },
                            result: call("generate_series", args),
                        }],
                        else_result: Some(Box::new(call("generate_series", down))),
                    }
                };
            }
        } else if name == "try" && f.over.is_none() {
            if let Some(mut body) = only_arg(f).cloned() {
                let _ = body.visit(&mut Opaque);
                let lambda = Expr::Lambda(LambdaFunction {
                    params: OneOrManyWithParens::One(LambdaFunctionParameter {
                        name: Ident::new(TRY_PARAM),
                        data_type: None,
                    }),
                    body: Box::new(body),
                    syntax: LambdaSyntax::Arrow,
                });
                *expr = call(
                    "weir_try",
                    vec![Expr::value(Value::Number("0".into(), false)), lambda],
                );
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::UNNEST {
            array_exprs,
            with_ordinality,
            ..
        } = t
        {
            if *with_ordinality {
                if let Some(first) = array_exprs.first().cloned() {
                    // The ordinal runs as long as the longest array (UNNEST pads the others).
                    let longest = array_exprs
                        .iter()
                        .map(|a| call("cardinality", vec![a.clone()]))
                        .reduce(|a, b| call("greatest", vec![a, b]))
                        .unwrap_or_else(|| call("cardinality", vec![first]));
                    array_exprs.push(call(
                        "generate_series",
                        vec![Expr::value(Value::Number("1".into(), false)), longest],
                    ));
                    *with_ordinality = false;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Words that end a `VALUES` list written without parentheses.
const VALUES_END: [&str; 7] = [
    "order",
    "limit",
    "offset",
    "fetch",
    "union",
    "except",
    "intersect",
];

fn is_word(t: &Token, w: &str) -> bool {
    matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w))
}

/// Trino's `VALUES 1, 2` (rows of one column without parentheses) as `VALUES (1), (2)`.
fn bare_values(toks: &[(usize, &Token)], len: usize, edits: &mut Vec<(usize, &'static str)>) {
    for (i, (_, t)) in toks.iter().enumerate() {
        if !is_word(t, "values") {
            continue;
        }
        let Some((first, next)) = toks.get(i + 1) else {
            continue;
        };
        if matches!(next, Token::LParen) || is_word(next, "row") {
            continue;
        }
        edits.push((*first, "("));
        let mut depth = 0usize;
        let mut end = len;
        for (at, t) in &toks[i + 1..] {
            match t {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => {
                    end = *at;
                    break;
                }
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => {
                    edits.push((*at, ")"));
                    edits.push((*at + 1, "("));
                }
                Token::SemiColon if depth == 0 => {
                    end = *at;
                    break;
                }
                Token::Word(_) if depth == 0 && VALUES_END.iter().any(|w| is_word(t, w)) => {
                    end = *at;
                    break;
                }
                _ => {}
            }
        }
        edits.push((end, ")"));
    }
}

/// The custom type name that carries a structural type's Trino text through the parser.
const STRUCTURAL_TYPE: &str = "__weir_type";

/// Trino's structural types after `AS` (`array(t)`, `map(k, v)`, `row(a t, ...)`, nested
/// as they like) as `__weir_type('<text>')`, which the parser reads as a custom type.
fn structural_types(
    sql: &str,
    toks: &[(usize, &Token)],
    edits: &mut Vec<(usize, &'static str)>,
) -> Option<()> {
    let mut i = 2;
    while i < toks.len() {
        let t = toks[i].1;
        let (start, word) = toks[i - 1];
        let typed = matches!(t, Token::LParen)
            && is_word(toks[i - 2].1, "as")
            && ["array", "map", "row"].iter().any(|w| is_word(word, w));
        if !typed {
            i += 1;
            continue;
        }
        let mut depth = 0usize;
        let mut close = None;
        for (j, (_, t)) in toks.iter().enumerate().skip(i) {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close?;
        let end = toks[close].0 + 1;
        if sql.get(start..end)?.contains('\'') {
            return None;
        }
        edits.push((start, "__weir_type('"));
        edits.push((end, "')"));
        i = close + 1;
    }
    Some(())
}

/// The statement with Trino's spellings DataFusion's parser does not read rewritten as text
/// (one tokenisation for all of them); `None` when there are none.
fn text_rewrites(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    if !["values", "array", "map", "row"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return None;
    }
    let words = Words::new(sql).ok()?;
    let toks: Vec<(usize, &Token)> = words.tokens().collect();
    let mut edits = Vec::new();
    bare_values(&toks, sql.len(), &mut edits);
    structural_types(sql, &toks, &mut edits)?;
    if edits.is_empty() {
        return None;
    }
    edits.sort();
    let mut out = String::with_capacity(sql.len() + edits.len() * 2);
    let mut from = 0;
    for (at, edit) in edits {
        out.push_str(sql.get(from..at)?);
        out.push_str(edit);
        from = at;
    }
    out.push_str(sql.get(from..)?);
    Some(out)
}

/// Parses one statement of Trino's SQL and rewrites it into DataFusion's.
pub fn parse(sql: &str) -> Result<Statement> {
    let rewritten = text_rewrites(sql);
    let sql = rewritten.as_deref().unwrap_or(sql);
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&TrinoDialect)
        .build()?
        .parse_statements()?;
    if statements.len() > 1 {
        return Err(DataFusionError::Plan(
            "only one statement can be run at a time".into(),
        ));
    }
    let mut statement = statements
        .pop_front()
        .ok_or_else(|| DataFusionError::Plan("no SQL statement was given".into()))?;
    rewrite(&mut statement);
    Ok(statement)
}

fn rewrite(statement: &mut Statement) {
    match statement {
        Statement::Statement(s) => {
            let _ = s.visit(&mut Rewrite::default());
        }
        Statement::Explain(e) => rewrite(&mut e.statement),
        _ => {}
    }
}

/// The logical plan of a statement of Trino's SQL.
pub async fn logical_plan(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan> {
    let statement = parse(sql)?;
    ctx.state().statement_to_plan(statement).await
}

/// A statement of Trino's SQL, planned on `ctx` (what `ctx.sql` does, through [`parse`]).
pub async fn plan(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let plan = logical_plan(ctx, sql).await?;
    ctx.execute_logical_plan(plan).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        parse(sql)
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn trino_forms_become_datafusion_forms() {
        assert_eq!(
            rewritten("SELECT transform(a, x -> x + 1), filter(a, x -> x > 0) FROM t"),
            "SELECT array_transform(a, x -> x + 1), array_filter(a, x -> x > 0) FROM t"
        );
        assert_eq!(
            rewritten("SELECT try(CAST(s AS INT)) FROM t"),
            "SELECT weir_try(0, __weir_try -> CAST(s AS INT)) FROM t"
        );
        assert_eq!(
            rewritten("SELECT try(CAST('x' AS INT) + 1)"),
            "SELECT weir_try(0, __weir_try -> CAST(weir_opaque('x') AS INT) + weir_opaque(1))"
        );
        assert_eq!(
            rewritten("SELECT x, n FROM UNNEST(ARRAY[1]) WITH ORDINALITY AS u (x, n)"),
            "SELECT x, n FROM UNNEST(ARRAY[1], generate_series(1, cardinality(ARRAY[1]))) AS u (x, n)"
        );
        assert_eq!(
            rewritten("SELECT if(x > 0, 1 / x), IF(b, 'y', 'n') FROM t"),
            "SELECT CASE WHEN x > 0 THEN 1 / x END, CASE WHEN b THEN 'y' ELSE 'n' END FROM t"
        );
        assert!(parse("SELECT 1; SELECT 2").is_err());
        assert_eq!(
            rewritten("SELECT CAST(x AS array(array(integer))), ARRAY[1], f(array(1))"),
            "SELECT weir_cast(x, 'array(array(integer))', false), ARRAY[1], f(array(1))"
        );
        assert_eq!(
            rewritten("SELECT TRY_CAST(j AS map(varchar, row(a int, \"b c\" varchar))) AS r"),
            "SELECT weir_cast(j, 'map(varchar, row(a int, \"b c\" varchar))', true) AS r"
        );
        assert_eq!(
            rewritten("SELECT t.id, u.x FROM t CROSS JOIN UNNEST(t.a) AS u (x) WHERE u.x > 1 ORDER BY t.id"),
            "SELECT __weir_unnest0.id, __weir_unnest0.x FROM (SELECT *, unnest(t.a) AS \"x\" FROM t) AS __weir_unnest0 WHERE __weir_unnest0.x > 1 ORDER BY __weir_unnest0.id"
        );
        assert_eq!(
            rewritten("SELECT x FROM t, UNNEST(a) AS u (x)"),
            "SELECT x FROM (SELECT *, unnest(a) AS \"x\" FROM t) AS __weir_unnest0"
        );
        assert_eq!(
            rewritten("SELECT x FROM t LEFT JOIN UNNEST(a) AS u (x) ON true"),
            "SELECT x FROM (SELECT *, unnest_outer(a) AS \"x\" FROM t) AS __weir_unnest0"
        );
        assert_eq!(
            rewritten("SELECT * FROM (VALUES 1, 2 + 3, abs(-4)) AS t (x)"),
            "SELECT * FROM (VALUES (1), (2 + 3), (abs(-4))) AS t (x)"
        );
        assert_eq!(
            rewritten("VALUES 'a', 'b' ORDER BY 1"),
            "VALUES ('a'), ('b') ORDER BY 1"
        );
        assert_eq!(
            rewritten("SELECT * FROM (VALUES (1, 2)) AS t (a, b)"),
            "SELECT * FROM (VALUES (1, 2)) AS t (a, b)"
        );
    }
}
