//! A crawl over real objects in a local bucket into a real catalog: Parquet written by the
//! parquet crate's Arrow writer, gzip JSON lines under `dt=` folders (as Firehose delivers),
//! CSV with a header, an unknown file; then a second run after files change.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use weir_catalog::{Catalog, Database};
use weir_crawler::{Grouping, Policy, Run, Target};
use weir_objects::{ObjectStore, Objects, PutObject};

fn parquet_bytes() -> Vec<u8> {
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "Name",
            Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef,
        ),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None)
        .unwrap_or_else(|e| panic!("{e}"));
    w.write(&batch).unwrap_or_else(|e| panic!("{e}"));
    w.close().unwrap_or_else(|e| panic!("{e}"));
    out
}

fn gzip(s: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(s.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    gz.finish().unwrap_or_else(|e| panic!("{e}"))
}

async fn put(objects: &Objects, key: &str, data: Vec<u8>) {
    objects
        .put(
            "lake",
            key,
            PutObject {
                data: data.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn run(delete: &str) -> Run {
    Run {
        crawler: "c1".into(),
        region: "us-east-1".into(),
        database: "db".into(),
        table_prefix: String::new(),
        targets: vec![
            Target::parse("s3://lake/events/", &["**.tmp".into()], None)
                .unwrap_or_else(|e| panic!("{e}")),
            Target::parse("s3://lake/other", &[], None).unwrap_or_else(|e| panic!("{e}")),
        ],
        policy: Policy {
            update: true,
            delete: delete.into(),
            merge_new_columns: false,
        },
        grouping: Grouping::default(),
        known_folders: None,
    }
}

#[tokio::test]
async fn crawls_formats_partitions_and_changes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = ObjectStore::open(&dir.path().join("s3")).unwrap_or_else(|e| panic!("{e}"));
    store
        .create_bucket("lake", "us-east-1")
        .unwrap_or_else(|e| panic!("{e}"));
    let objects = Objects::new(store, &[]).unwrap_or_else(|e| panic!("{e}"));
    let catalog = Catalog::open(&dir.path().join("catalog"), "000000000000")
        .unwrap_or_else(|e| panic!("{e}"));
    catalog
        .create_database(
            "us-east-1",
            Database {
                name: "db".into(),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));

    for day in ["2024-01-01", "2024-01-02"] {
        let lines: String = (0..50)
            .map(|i| format!("{{\"user\":\"u{i}\",\"n\":{i}}}\n"))
            .collect();
        put(
            &objects,
            &format!("events/clicks/dt={day}/part-0.gz"),
            gzip(&lines),
        )
        .await;
    }
    put(
        &objects,
        "events/clicks/dt=2024-01-02/ignored.tmp",
        b"junk".to_vec(),
    )
    .await;
    put(&objects, "events/clicks/_SUCCESS", b"x".to_vec()).await;
    put(&objects, "events/users/a.parquet", parquet_bytes()).await;
    put(
        &objects,
        "events/scratch/s.csv",
        b"a,b\n1,2\n3,4\n".to_vec(),
    )
    .await;
    put(
        &objects,
        "other/prices.csv",
        b"sku|price|stock\nA1|1.5|3\nB2|2.25|4\n".to_vec(),
    )
    .await;
    put(&objects, "other/x/blob.bin", vec![0, 1, 2, 3, 250, 251]).await;

    let out = weir_crawler::run(&objects, &catalog, &run("DEPRECATE_IN_DATABASE"), &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.counts.created, 5, "{out:?}");

    let clicks = catalog
        .get_table("us-east-1", "db", "clicks")
        .unwrap_or_else(|e| panic!("{e}"));
    let p = &clicks.parameters;
    assert_eq!(
        (p["classification"].as_str(), p["compressionType"].as_str()),
        ("json", "gzip")
    );
    assert_eq!(p["UPDATED_BY_CRAWLER"], "c1");
    let cols: Vec<String> = clicks
        .columns()
        .iter()
        .map(|c| format!("{}:{}", c.name, c.data_type.clone().unwrap_or_default()))
        .collect();
    assert_eq!(cols, ["n:int", "user:string"]);
    assert_eq!(clicks.partition_keys[0].name, "dt");
    assert_eq!(clicks.location(), Some("s3://lake/events/clicks/"));
    let sd = clicks.storage_descriptor.clone().unwrap_or_default();
    assert_eq!(
        sd.serde_info
            .unwrap_or_default()
            .serialization_library
            .as_deref(),
        Some("org.openx.data.jsonserde.JsonSerDe")
    );
    let parts = catalog
        .partitions("us-east-1", "db", "clicks", None, None, 100, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .partitions;
    let values: Vec<&str> = parts.iter().map(|p| p.values[0].as_str()).collect();
    assert_eq!(values, ["2024-01-01", "2024-01-02"]);
    assert_eq!(
        parts[1]
            .storage_descriptor
            .as_ref()
            .and_then(|sd| sd.location.as_deref()),
        Some("s3://lake/events/clicks/dt=2024-01-02/")
    );

    let users = catalog
        .get_table("us-east-1", "db", "users")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(users.parameters["classification"], "parquet");
    assert_eq!(users.parameters["recordCount"], "3");
    let cols: Vec<String> = users
        .columns()
        .iter()
        .map(|c| format!("{}:{}", c.name, c.data_type.clone().unwrap_or_default()))
        .collect();
    assert_eq!(cols, ["id:bigint", "name:string"]);

    let other = catalog
        .get_table("us-east-1", "db", "other")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other.parameters["classification"], "csv");
    assert_eq!(other.parameters["delimiter"], "|");
    assert_eq!(other.parameters["skip.header.line.count"], "1");
    let cols: Vec<String> = other
        .columns()
        .iter()
        .map(|c| format!("{}:{}", c.name, c.data_type.clone().unwrap_or_default()))
        .collect();
    assert_eq!(cols, ["sku:string", "price:double", "stock:bigint"]);
    let x = catalog
        .get_table("us-east-1", "db", "x")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(x.parameters["classification"], "UNKNOWN");

    // A new partition and a new column; the scratch folder is gone.
    put(
        &objects,
        "events/clicks/dt=2024-01-03/part-0.gz",
        gzip("{\"user\":\"z\",\"n\":1,\"extra\":true}\n"),
    )
    .await;
    objects
        .delete("lake", "events/scratch/s.csv")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let out = weir_crawler::run(&objects, &catalog, &run("DEPRECATE_IN_DATABASE"), &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (out.counts.created, out.counts.updated, out.counts.deleted),
        (0, 1, 1),
        "{out:?}"
    );
    let clicks = catalog
        .get_table("us-east-1", "db", "clicks")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(clicks.columns().len(), 3);
    let n = catalog
        .partitions("us-east-1", "db", "clicks", None, None, 100, None)
        .map(|p| p.partitions.len())
        .unwrap_or(0);
    assert_eq!(n, 3);
    let scratch = catalog
        .get_table("us-east-1", "db", "scratch")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(scratch.parameters.contains_key("DEPRECATED_BY_CRAWLER"));
    let users = catalog
        .get_table("us-east-1", "db", "users")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!users.parameters.contains_key("DEPRECATED_BY_CRAWLER"));
    // Files back: the table is current again.
    put(
        &objects,
        "events/scratch/s.csv",
        b"a,b\n1,2\n3,4\n".to_vec(),
    )
    .await;
    weir_crawler::run(&objects, &catalog, &run("DEPRECATE_IN_DATABASE"), &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scratch = catalog
        .get_table("us-east-1", "db", "scratch")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!scratch.parameters.contains_key("DEPRECATED_BY_CRAWLER"));

    // Only new folders: nothing known is read again.
    let mut incremental = run("LOG");
    incremental.known_folders = Some(out.folders.iter().cloned().collect());
    let again = weir_crawler::run(&objects, &catalog, &incremental, &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.counts, Default::default());
    // A new folder of a crawled table is its new partition, not a new table.
    put(
        &objects,
        "events/clicks/dt=2024-01-04/part-0.gz",
        gzip("{\"user\":\"y\",\"n\":2}\n"),
    )
    .await;
    let again = weir_crawler::run(&objects, &catalog, &incremental, &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (again.counts.created, again.counts.partitions_added),
        (0, 1)
    );
    let n = catalog
        .partitions("us-east-1", "db", "clicks", None, None, 100, None)
        .map(|p| p.partitions.len())
        .unwrap_or(0);
    assert_eq!(n, 4);

    // A table of the same name that the crawler did not make is left alone.
    let mine = weir_catalog::Table {
        name: "lonely".into(),
        storage_descriptor: Some(weir_catalog::StorageDescriptor {
            location: Some("s3://elsewhere/lonely/".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    catalog
        .create_table("us-east-1", "db", mine)
        .unwrap_or_else(|e| panic!("{e}"));
    put(&objects, "events/lonely/x.parquet", parquet_bytes()).await;
    weir_crawler::run(&objects, &catalog, &run("DELETE_FROM_DATABASE"), &|| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let lonely = catalog
        .get_table("us-east-1", "db", "lonely")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lonely.location(), Some("s3://elsewhere/lonely/"));
    let crawled: Vec<String> = catalog
        .tables("us-east-1", "db")
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with("lonely_"))
        .collect();
    assert_eq!(crawled.len(), 1, "{crawled:?}");
}
