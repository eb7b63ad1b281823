//! How a named query reads on the wire (GetNamedQuery, BatchGetNamedQuery).

use weir_athena::saved::NamedQuery;

use crate::value::Value;

pub fn doc(q: NamedQuery) -> Value {
    Value::map([
        ("Name", Value::Str(q.name)),
        ("Description", Value::opt_str(q.description)),
        ("Database", Value::Str(q.database)),
        ("QueryString", Value::Str(q.query)),
        ("NamedQueryId", Value::Str(q.id)),
        ("WorkGroup", Value::Str(q.work_group)),
    ])
}
