//! Prepared statements in SQL: `PREPARE name FROM statement`, `DEALLOCATE PREPARE name` (the
//! control plane records the change when the query succeeds) and `EXECUTE name [USING v, ...]`
//! (the statement run with its `?` placeholders bound, from USING or ExecutionParameters).

use weir_athena::{Failure, Job};

use crate::ddl::syntax;
use crate::words::Words;

/// What a PREPARE or DEALLOCATE does: (name, Some(sql)) or (name, None).
pub fn change(job: &Job, sql: &str, sub: &str) -> Result<(String, Option<String>), Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    if sub == "PREPARE" {
        w.expect("prepare").map_err(syntax)?;
        let name = w.ident().map_err(syntax)?;
        w.expect("from").map_err(syntax)?;
        let stmt = w.rest().trim().trim_end_matches(';').trim_end().to_string();
        if stmt.is_empty() {
            return Err(syntax(w.unexpected("<statement>")));
        }
        // An existing statement of that name (in any case) is replaced.
        let name = known(job, &name).map_or(name, str::to_string);
        return Ok((name, Some(stmt)));
    }
    w.expect("deallocate").map_err(syntax)?;
    w.expect("prepare").map_err(syntax)?;
    let name = w.ident().map_err(syntax)?;
    w.end().map_err(syntax)?;
    match known(job, &name) {
        Some(k) => Ok((k.to_string(), None)),
        None => Err(not_found(&name)),
    }
}

/// The work group's statement named `name`, matched as SQL matches identifiers (any case).
fn known<'a>(job: &'a Job, name: &str) -> Option<&'a str> {
    job.prepared
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

fn not_found(name: &str) -> Failure {
    Failure::user(1301, format!("Prepared statement not found: {name}"))
}

/// The job an EXECUTE stands for: the prepared statement with its parameter values.
pub fn execute(job: &Job) -> Result<Job, Failure> {
    let mut w = Words::new(&job.sql).map_err(syntax)?;
    w.expect("execute").map_err(syntax)?;
    let name = w.ident().map_err(syntax)?;
    let stmt = known(job, &name)
        .and_then(|k| job.prepared.get(k))
        .ok_or_else(|| not_found(&name))?;
    let mut params = Vec::new();
    if w.keyword("using") {
        params = split_top_level(w.rest().trim().trim_end_matches(';'));
    } else {
        w.end().map_err(syntax)?;
    }
    if !params.is_empty() && !job.params.is_empty() {
        return Err(syntax(
            "EXECUTE takes its values from USING or from ExecutionParameters, not both".into(),
        ));
    }
    if params.is_empty() {
        params = job.params.clone();
    }
    Ok(Job {
        sql: stmt.clone(),
        params,
        ..job.clone()
    })
}

/// `1, 'a,b', f(x, y)` → ["1", "'a,b'", "f(x, y)"].
fn split_top_level(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    for c in text.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn using_values() {
        assert_eq!(
            split_top_level("1, 'a,b', f(x, y)"),
            vec!["1", "'a,b'", "f(x, y)"]
        );
        assert!(split_top_level("").is_empty());
    }
}
