//! How a crawl turns files into tables, as Glue decides: from the include path down, a folder
//! whose files are all alike (same format, compression and, for CSV, layout; at the same depth;
//! each schema sharing at least 70% of its columns with the first file's) is one table, and the folders below it are its partitions (`k=v`
//! names the key `k`, other names make `partition_0`, `partition_1`, ...; keys are strings).
//! Otherwise each subfolder is tried on its own, and files directly in the folder make a table
//! of their own.

use std::collections::BTreeMap;

use crate::schema::{merge_columns, similarity, Columns};

/// Schemas at least this alike are one table's (Glue's partition threshold, 70%).
pub const SIMILARITY: f64 = 0.7;
/// Table names are at most this long (Glue truncates what it generates).
pub const MAX_NAME: usize = 128;

/// What a crawl learned about one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// The key relative to the include path (`dt=2024-01-01/part-0.json`).
    pub rel: String,
    pub size: u64,
    /// Classification (`parquet`, `json`, `csv`, ..., `UNKNOWN`).
    pub class: String,
    /// `gzip`, `bzip2`, ... or `none`.
    pub compression: String,
    /// What else must agree for files to share a table (a CSV's delimiter, quoting, header).
    pub layout: String,
    pub columns: Columns,
    /// Rows the file holds, or an estimate.
    pub records: u64,
}

/// A table a crawl found.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    /// The table's folder relative to the include path (`""` or `sales/`).
    pub dir: String,
    pub class: String,
    pub compression: String,
    pub layout: String,
    pub columns: Columns,
    pub partition_keys: Vec<String>,
    /// Each partition's values and folder (relative to the include path, ending in `/`).
    pub partitions: Vec<(Vec<String>, String)>,
    pub objects: u64,
    pub bytes: u64,
    pub records: u64,
}

/// A CSV file's layout as [`FileFacts::layout`] holds it: the delimiter, then `1`/`0` for quoted
/// fields and for a header row.
pub fn csv_layout(delimiter: u8, quoted: bool, header: bool) -> String {
    format!(
        "{}{}{}",
        delimiter as char,
        u8::from(quoted),
        u8::from(header)
    )
}

/// The delimiter, quoting and header of a CSV layout.
pub fn csv_layout_parts(layout: &str) -> (String, bool, bool) {
    let mut chars = layout.chars();
    let delimiter = chars.next().unwrap_or(',').to_string();
    (
        delimiter,
        chars.next() == Some('1'),
        chars.next() == Some('1'),
    )
}

/// Grouping options (the crawler's Configuration JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grouping {
    /// `TableGroupingPolicy: CombineCompatibleSchemas`: alike files share a table whatever
    /// their schemas.
    pub combine_compatible: bool,
    /// `TableLevelConfiguration`: tables sit this many folders below the bucket.
    pub table_level: Option<usize>,
    /// `CrawlerOutput.Tables.TableThreshold`: a crawl that finds more tables fails.
    pub table_threshold: Option<usize>,
}

/// A table name as Glue makes them: lower case, `_` for anything but letters and digits.
pub fn table_name(prefix: &str, folder: &str) -> String {
    let clean: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{}{clean}", prefix.to_lowercase())
        .chars()
        .take(MAX_NAME)
        .collect()
}

/// A table name made distinct by a hash of `key` (its folder), as Glue suffixes clashing names.
pub fn suffixed(name: &str, key: &str) -> String {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let suffix = format!("_{:08x}", h as u32);
    let mut out: String = name.chars().take(MAX_NAME - suffix.len()).collect();
    out.push_str(&suffix);
    out
}

/// The folders of a relative key (without the file name).
fn folders(rel: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts
}

fn alike(files: &[&FileFacts], g: &Grouping) -> bool {
    let Some(first) = files.first() else {
        return true;
    };
    let depth = folders(&first.rel).len();
    if files.iter().any(|f| {
        f.class != first.class
            || f.compression != first.compression
            || f.layout != first.layout
            || folders(&f.rel).len() != depth
    }) {
        return false;
    }
    if g.combine_compatible {
        return true;
    }
    files
        .iter()
        .all(|f| similarity(&f.columns, &first.columns) >= SIMILARITY)
}

/// The table of alike `files` under `dir` (`depth` folders below the include path).
fn table(name: String, dir: &str, depth: usize, files: &[&FileFacts]) -> Planned {
    // Partition levels: as many as the shallowest file has (files may sit deeper when a table
    // level is configured; their extra folders stay inside the partition's folder).
    let levels = files
        .iter()
        .map(|f| folders(&f.rel).len().saturating_sub(depth))
        .min()
        .unwrap_or(0);
    // Partition folders, per file, and the key each level takes.
    let mut keys: Vec<Option<String>> = vec![None; levels];
    let mut uniform = vec![true; levels];
    for f in files {
        for (i, folder) in folders(&f.rel).iter().skip(depth).take(levels).enumerate() {
            let k = folder.split_once('=').map(|(k, _)| k.to_lowercase());
            match (&keys[i], k) {
                (_, None) => uniform[i] = false,
                (None, Some(k)) => keys[i] = Some(k),
                (Some(a), Some(k)) if *a != k => uniform[i] = false,
                _ => {}
            }
        }
    }
    let partition_keys: Vec<String> = (0..levels)
        .map(|i| match (&keys[i], uniform[i]) {
            (Some(k), true) => k.clone(),
            _ => format!("partition_{i}"),
        })
        .collect();
    let mut partitions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut columns = Vec::new();
    let (mut bytes, mut records) = (0, 0);
    for f in files {
        columns = merge_columns(columns, f.columns.clone());
        bytes += f.size;
        records += f.records;
        if levels > 0 {
            let all = folders(&f.rel);
            let parts = &all[depth.min(all.len())..(depth + levels).min(all.len())];
            let values = parts
                .iter()
                .enumerate()
                .map(|(i, p)| match (uniform[i], p.split_once('=')) {
                    (true, Some((_, v))) => v.to_string(),
                    _ => p.to_string(),
                })
                .collect();
            partitions
                .entry(format!("{dir}{}/", parts.join("/")))
                .or_insert(values);
        }
    }
    let first = files.first();
    Planned {
        name,
        dir: dir.to_string(),
        class: first.map(|f| f.class.clone()).unwrap_or_default(),
        compression: first.map(|f| f.compression.clone()).unwrap_or_default(),
        layout: first.map(|f| f.layout.clone()).unwrap_or_default(),
        columns,
        partition_keys,
        partitions: partitions.into_iter().map(|(dir, v)| (v, dir)).collect(),
        objects: files.len() as u64,
        bytes,
        records,
    }
}

fn group(
    name: String,
    dir: &str,
    depth: usize,
    files: Vec<&FileFacts>,
    g: &Grouping,
    prefix: &str,
    out: &mut Vec<Planned>,
) {
    if files.is_empty() {
        return;
    }
    let at_level = g.table_level.is_some_and(|l| depth >= l);
    let above_level = g.table_level.is_some_and(|l| depth < l);
    if at_level || (!above_level && alike(&files, g)) {
        out.push(table(name, dir, depth, &files));
        return;
    }
    let mut here = Vec::new();
    let mut below: BTreeMap<&str, Vec<&FileFacts>> = BTreeMap::new();
    for f in files {
        match folders(&f.rel).get(depth) {
            Some(sub) => below.entry(sub).or_default().push(f),
            None => here.push(f),
        }
    }
    if !here.is_empty() {
        out.push(table(name, dir, depth, &here));
    }
    for (sub, files) in below {
        group(
            table_name(prefix, sub),
            &format!("{dir}{sub}/"),
            depth + 1,
            files,
            g,
            prefix,
            out,
        );
    }
}

/// The tables `files` (under an include path whose last folder is `root`) make. Names that
/// come out twice get a suffix from their folder, as Glue adds a hash.
pub fn plan(root: &str, prefix: &str, files: &[FileFacts], g: &Grouping) -> Vec<Planned> {
    let mut out = Vec::new();
    group(
        table_name(prefix, root),
        "",
        0,
        files.iter().collect(),
        g,
        prefix,
        &mut out,
    );
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for t in &out {
        *seen.entry(t.name.clone()).or_default() += 1;
    }
    for t in &mut out {
        if seen.get(&t.name).copied().unwrap_or(0) > 1 {
            t.name = suffixed(&t.name, &t.dir);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::HType;

    fn f(rel: &str, cols: &[&str]) -> FileFacts {
        FileFacts {
            rel: rel.into(),
            size: 10,
            class: "json".into(),
            compression: "none".into(),
            layout: String::new(),
            columns: cols.iter().map(|c| (c.to_string(), HType::Int)).collect(),
            records: 2,
        }
    }

    #[test]
    fn partitions_tables_and_names() {
        let files = vec![
            f("year=2024/month=01/a.json", &["a", "b"]),
            f("year=2024/month=02/b.json", &["a", "b", "c"]),
            f("year=2023/month=12/c.json", &["a", "b"]),
        ];
        let t = plan("Sales-Data", "", &files, &Grouping::default());
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "sales_data");
        assert_eq!(t[0].partition_keys, ["year", "month"]);
        assert_eq!(t[0].partitions.len(), 3);
        assert_eq!(
            t[0].partitions[0],
            (
                vec!["2023".to_string(), "12".to_string()],
                "year=2023/month=12/".to_string()
            )
        );
        assert_eq!(t[0].columns.len(), 3);
        assert_eq!((t[0].objects, t[0].records), (3, 6));

        // Glue's example: unlike schemas in year=2017 and year=2018 are two tables...
        let files = vec![
            f("year=2017/1.json", &["a", "b"]),
            f("year=2018/2.json", &["c", "d"]),
        ];
        let t = plan("table1", "p_", &files, &Grouping::default());
        assert_eq!(
            t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["p_year_2017", "p_year_2018"]
        );
        assert!(t[0].partition_keys.is_empty());
        // ...and one with CombineCompatibleSchemas.
        let g = Grouping {
            combine_compatible: true,
            ..Default::default()
        };
        let t = plan("table1", "", &files, &g);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].columns.len(), 4);

        // Plain folder names are partition_0, ...; a file at the top makes its own table.
        let files = vec![
            f("a/x/1.json", &["a"]),
            f("b/y/2.json", &["a"]),
            f("top.json", &["z"]),
        ];
        let t = plan("root", "", &files, &Grouping::default());
        assert_eq!(t.len(), 3);
        let t = plan("root", "", &files[..2], &Grouping::default());
        assert_eq!(t[0].partition_keys, ["partition_0", "partition_1"]);
        assert_eq!(t[0].partitions[1].0, ["b", "y"]);

        // TableLevelConfiguration 1: a table per top folder.
        let g = Grouping {
            table_level: Some(1),
            ..Default::default()
        };
        let t = plan("root", "", &files[..2], &g);
        assert_eq!(
            t.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(t[0].partition_keys, ["partition_0"]);
    }
}
