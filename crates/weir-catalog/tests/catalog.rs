//! The catalog through its API: names, versions, partitions, filters, durability.

use weir_catalog::{Catalog, CatalogError, Column, Database, Partition, StorageDescriptor, Table};

fn db(name: &str) -> Database {
    Database {
        name: name.into(),
        ..Default::default()
    }
}

fn table(name: &str) -> Table {
    Table {
        name: name.into(),
        storage_descriptor: Some(StorageDescriptor {
            columns: vec![Column {
                name: "v".into(),
                data_type: Some("string".into()),
                ..Default::default()
            }],
            location: Some("s3://lake/t/".into()),
            ..Default::default()
        }),
        partition_keys: vec![
            Column {
                name: "year".into(),
                data_type: Some("int".into()),
                ..Default::default()
            },
            Column {
                name: "day".into(),
                data_type: Some("string".into()),
                ..Default::default()
            },
        ],
        table_type: Some("EXTERNAL_TABLE".into()),
        ..Default::default()
    }
}

fn part(year: u32, day: &str) -> Partition {
    Partition {
        values: vec![year.to_string(), day.to_string()],
        ..Default::default()
    }
}

#[test]
fn names_fold_to_lower_case_and_versions_are_kept() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir()?;
    let c = Catalog::open(dir.path(), "123456789012")?;
    c.create_database("us-east-1", db("Sales"))?;
    assert!(matches!(
        c.create_database("us-east-1", db("sales")),
        Err(CatalogError::AlreadyExists(_))
    ));
    // Regions are separate catalogs.
    c.create_database("eu-west-1", db("sales"))?;
    c.create_table("us-east-1", "SALES", table("Orders"))?;
    let t = c.get_table("us-east-1", "sales", "ORDERS")?;
    assert_eq!((t.name.as_str(), t.version_id.as_str()), ("orders", "0"));
    assert_eq!(t.catalog_id, "123456789012");
    let mut t2 = table("orders");
    t2.description = Some("second".into());
    c.update_table("us-east-1", "sales", t2.clone(), false, Some("0"))?;
    assert!(matches!(
        c.update_table("us-east-1", "sales", t2.clone(), false, Some("0")),
        Err(CatalogError::ConcurrentModification(_))
    ));
    c.update_table("us-east-1", "sales", t2, true, None)?;
    let versions = c.table_versions("us-east-1", "sales", "orders")?;
    let ids: Vec<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(ids, ["1", "0"], "SkipArchive kept the version number");
    assert!(matches!(
        c.get_table("us-east-1", "nope", "orders"),
        Err(CatalogError::NotFound(m)) if m == "Database nope not found."
    ));
    Ok(())
}

#[test]
fn partitions_filter_page_and_survive_reopening() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir()?;
    {
        let c = Catalog::open(dir.path(), "000000000000")?;
        c.create_database("r", db("d"))?;
        c.create_table("r", "d", table("t"))?;
        let mut parts = Vec::new();
        for y in 2020..2025 {
            for d in ["01", "02", "03"] {
                parts.push(part(y, d));
            }
        }
        let errors = c.create_partitions("r", "d", "t", parts)?;
        assert!(errors.is_empty());
        let errors =
            c.create_partitions("r", "d", "t", vec![part(2020, "01"), part(2030, "01")])?;
        assert_eq!(errors.len(), 1);
        assert!(matches!(errors[0].error, CatalogError::AlreadyExists(_)));
        let errors = c.delete_partitions(
            "r",
            "d",
            "t",
            vec![
                vec!["2030".into(), "01".into()],
                vec!["1".into(), "x".into()],
            ],
        )?;
        assert_eq!(errors.len(), 1);
    }
    // Reopened: everything acknowledged is there.
    let c = Catalog::open(dir.path(), "000000000000")?;
    let all = c.partitions("r", "d", "t", None, None, 1000, None)?;
    assert_eq!(all.partitions.len(), 15);
    let some = c.partitions(
        "r",
        "d",
        "t",
        Some("year >= 2023 and day in ('01','03')"),
        None,
        1000,
        None,
    )?;
    assert_eq!(some.partitions.len(), 4);
    // Pages follow each other without gaps.
    let first = c.partitions("r", "d", "t", None, None, 10, None)?;
    let next = first.next.clone();
    assert_eq!(first.partitions.len(), 10);
    let rest = c.partitions("r", "d", "t", None, next.as_deref(), 10, None)?;
    assert_eq!(rest.partitions.len(), 5);
    assert!(rest.next.is_none());
    // Segments split the partitions without overlap.
    let mut n = 0;
    for s in 0..3 {
        n += c
            .partitions("r", "d", "t", None, None, 1000, Some((s, 3)))?
            .partitions
            .len();
    }
    assert_eq!(n, 15);
    assert!(matches!(
        c.partitions("r", "d", "t", Some("month = 1"), None, 10, None),
        Err(CatalogError::InvalidInput(_))
    ));
    Ok(())
}

#[test]
fn a_torn_journal_tail_is_cut() -> Result<(), CatalogError> {
    let dir = tempfile::tempdir()?;
    {
        let c = Catalog::open(dir.path(), "0")?;
        c.create_database("r", db("kept"))?;
    }
    let journal = dir.path().join("journal.log");
    let mut bytes = std::fs::read(&journal)?;
    let whole = bytes.len();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&journal, &bytes)?;
    let c = Catalog::open(dir.path(), "0")?;
    assert_eq!(c.databases("r").len(), 1);
    assert_eq!(std::fs::metadata(&journal)?.len() as usize, whole);
    c.create_database("r", db("after"))?;
    drop(c);
    let c = Catalog::open(dir.path(), "0")?;
    assert_eq!(c.databases("r").len(), 2);
    Ok(())
}
