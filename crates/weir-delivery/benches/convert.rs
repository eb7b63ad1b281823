//! `cargo bench -p weir-delivery --bench convert`: record format conversion alone — 64 MiB of
//! 1 KiB JSON events (`weir bench firehose`'s, from `weir_delivery::sample`) decoded by the
//! OpenX JSON SerDe into a Glue table's columns and written as Snappy Parquet, and as ORC; one
//! core.

use std::time::Instant;

use weir_delivery::convert::{convert, Plan};
use weir_delivery::{
    DeserializerConfig, FormatConversion, OpenXJsonSerDe, OrcSerDe, ParquetSerDe, SerializerConfig,
};

fn main() {
    let columns: Vec<(String, String)> = weir_delivery::sample::EVENT_COLUMNS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let records: Vec<String> = (0..65_536)
        .map(|i| weir_delivery::sample::event(i, 1024))
        .collect();
    let bytes: usize = records.iter().map(String::len).sum();
    for (label, ser) in [
        (
            "Snappy Parquet",
            SerializerConfig {
                parquet: Some(ParquetSerDe::default()),
                orc: None,
            },
        ),
        (
            "Snappy ORC",
            SerializerConfig {
                parquet: None,
                orc: Some(OrcSerDe::default()),
            },
        ),
        (
            "Snappy Parquet, no dictionary",
            SerializerConfig {
                parquet: Some(ParquetSerDe {
                    enable_dictionary_compression: Some(false),
                    ..Default::default()
                }),
                orc: None,
            },
        ),
    ] {
        let conv = FormatConversion {
            enabled: Some(true),
            schema: None,
            input: Some(Some(DeserializerConfig {
                openx: Some(OpenXJsonSerDe::default()),
                hive: None,
            })),
            output: Some(Some(ser)),
        };
        // ORC output takes primitive columns only: the amount as a double there.
        let columns: Vec<(String, String)> = columns
            .iter()
            .map(|(n, t)| {
                let orc = label.contains("ORC") && t.starts_with("decimal");
                (n.clone(), if orc { "double".into() } else { t.clone() })
            })
            .collect();
        let plan = Plan::new(&conv, &columns).unwrap_or_else(|e| panic!("{e:?}"));
        for round in 0..3 {
            let started = Instant::now();
            let out = convert(&plan, records.iter().map(|r| r.as_bytes()))
                .unwrap_or_else(|e| panic!("{e}"));
            let secs = started.elapsed().as_secs_f64();
            let size = out.object.map_or(0, |o| o.len());
            println!(
                "{label}, round {round}: {} records ({:.1} MB) in {secs:.3} s: {:.0} MB/s, {:.0} records/s; object {:.1} MB",
                out.records,
                bytes as f64 / 1e6,
                bytes as f64 / secs / 1e6,
                out.records as f64 / secs,
                size as f64 / 1e6
            );
        }
    }
}
