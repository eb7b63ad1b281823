//! How a prepared statement reads on the wire, and the members its actions share.

use weir_athena::saved::PreparedStatement;

use super::common::string;
use crate::input::Input;
use crate::value::Value;

pub fn doc(p: PreparedStatement) -> Value {
    Value::map([
        ("StatementName", Value::Str(p.name)),
        ("QueryStatement", Value::Str(p.query)),
        ("WorkGroupName", Value::Str(p.work_group)),
        ("Description", Value::opt_str(p.description)),
        ("LastModifiedTime", Value::Timestamp(p.last_modified_ms)),
    ])
}

/// (StatementName, WorkGroup): both required by the model.
pub fn names(input: &mut Input) -> (String, String) {
    (
        string(input, "StatementName").unwrap_or_default(),
        string(input, "WorkGroup").unwrap_or_default(),
    )
}
