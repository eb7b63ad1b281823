//! MetadataExtraction: a jq query (run by jaq) over a JSON record yields the partition keys.
//! Compiled filters are cached per thread (jaq's values are not `Send`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;

type Filter = jaq_core::compile::Filter<jaq_core::Native<JustLut<Val>>>;

thread_local! {
    static FILTERS: RefCell<HashMap<String, Rc<Filter>>> = RefCell::new(HashMap::new());
}

fn compile(query: &str) -> Result<Filter, String> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let arena = Arena::default();
    let program = File {
        code: query,
        path: (),
    };
    let modules = Loader::new(defs)
        .load(&arena, program)
        .map_err(|e| format!("the query does not parse: {e:?}"))?;
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|e| format!("the query does not compile: {e:?}"))
}

fn cached(query: &str) -> Result<Rc<Filter>, String> {
    FILTERS.with(|cache| {
        if let Some(f) = cache.borrow().get(query) {
            return Ok(f.clone());
        }
        let f = Rc::new(compile(query)?);
        let mut c = cache.borrow_mut();
        if c.len() > 64 {
            c.clear();
        }
        c.insert(query.to_string(), f.clone());
        Ok(f)
    })
}

/// Checks that a MetadataExtractionQuery compiles.
pub fn check(query: &str) -> Result<(), String> {
    compile(query).map(|_| ())
}

/// The partition keys a query extracts from a JSON record: its first output must be an
/// object; string values are used as they are, numbers and booleans as written; null or any
/// other value fails the record.
pub fn extract(query: &str, record: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let filter = cached(query)?;
    let input = jaq_json::read::parse_single(record.trim_ascii())
        .map_err(|e| format!("the record is not valid JSON: {e}"))?;
    let ctx = Ctx::<JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let first = filter
        .id
        .run((ctx, input))
        .map(unwrap_valr)
        .next()
        .ok_or("the query produced no value")?
        .map_err(|e| format!("the query failed: {e:?}"))?;
    let Val::Obj(map) = first else {
        return Err(format!("the query produced {first}, not an object"));
    };
    let mut keys = BTreeMap::new();
    for (k, v) in map.iter() {
        let name = match k {
            Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.to_string(),
        };
        let value = match v {
            Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
            Val::Num(_) | Val::Bool(_) => v.to_string(),
            other => return Err(format!("partition key {name} evaluated to {other}")),
        };
        keys.insert(name, value);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_style_queries() {
        let q = "{customer_id:.customer_id, device:.type.device, year:(.ts|strftime(\"%Y\"))}";
        check(q).unwrap();
        let keys = extract(
            q,
            br#"{"type":{"device":"mobile"},"customer_id":"1234567890","ts":1565382027}"#,
        )
        .unwrap();
        assert_eq!(keys["customer_id"], "1234567890");
        assert_eq!(keys["device"], "mobile");
        assert_eq!(keys["year"], "2019");
        let n = extract("{n:.n, b:.b}", br#"{"n":42,"b":true}"#).unwrap();
        assert_eq!((n["n"].as_str(), n["b"].as_str()), ("42", "true"));
        assert!(extract("{id:.missing}", b"{}").is_err(), "null fails");
        assert!(extract("{id:.id}", b"not json").is_err());
        assert!(extract(".id", br#"{"id":"x"}"#).is_err(), "not an object");
        assert!(check("{id: .id").is_err());
    }
}
