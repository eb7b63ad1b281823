//! A small `awsglue` package for Python shell scripts: `awsglue.utils.getResolvedOptions`
//! and `GlueArgumentError`, which scripts import to read their arguments (the real package
//! needs Spark). It is first on the PYTHONPATH of every run.

use std::path::Path;

const INIT: &str =
    "\"\"\"Weir's stand-in for AWS Glue's Python package (Python shell jobs).\"\"\"\n";

const UTILS: &str = r#""""getResolvedOptions as Glue's Python shell offers it (Weir's implementation)."""

import argparse

__all__ = ["getResolvedOptions", "GlueArgumentError"]


class GlueArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise GlueArgumentError(message)


# Arguments Glue itself passes or reserves; a script may not ask for them as its own.
_RESERVED = ("job-bookmark-option", "continuation-option")


def getResolvedOptions(args, options):
    """The values of `--NAME value` arguments for each name in `options` (all required),
    with Glue's own arguments (JOB_ID, JOB_RUN_ID, TempDir, bookmarks...) alongside; unknown
    arguments are ignored. Dashes in names become underscores in the result's keys."""
    parser = _Parser(add_help=False, allow_abbrev=False)
    parser.add_argument("--job-bookmark-option", choices=["job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"], default="job-bookmark-disable")
    parser.add_argument("--continuation-option", choices=["continuation-enabled", "continuation-readonly", "continuation-ignore"], required=False)
    for name in ("job-bookmark-from", "job-bookmark-to", "JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "encryption-type", "enable-data-lineage", "RedshiftTempDir", "TempDir"):
        parser.add_argument("--" + name, required=False)
    for name in options:
        if name in _RESERVED:
            raise RuntimeError("Using reserved arguments " + name)
        if name in ("JOB_ID", "JOB_RUN_ID", "SECURITY_CONFIGURATION", "TempDir", "RedshiftTempDir"):
            continue
        parser.add_argument("--" + name, required=True)
    parsed, _unknown = parser.parse_known_args(args[1:])
    resolved = vars(parsed)
    if resolved.get("TempDir") and not resolved.get("RedshiftTempDir"):
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved.get("RedshiftTempDir") and not resolved.get("TempDir"):
        resolved["TempDir"] = resolved["RedshiftTempDir"]
    if "continuation_option" in resolved and resolved["continuation_option"] is None:
        del resolved["continuation_option"]
    return resolved
"#;

/// Writes the package under `dir` (replacing an older copy).
pub fn install(dir: &Path) -> std::io::Result<()> {
    let pkg = dir.join("awsglue");
    std::fs::create_dir_all(&pkg)?;
    std::fs::write(pkg.join("__init__.py"), INIT)?;
    std::fs::write(pkg.join("utils.py"), UTILS)
}
