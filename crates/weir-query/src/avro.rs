//! Avro tables (`STORED AS AVRO`, Hive's AvroSerDe): object container files read with
//! arrow-avro. The file's own (writer) schema is decoded, only the columns the query needs, and
//! its fields are matched to the table's columns by name, as the AvroSerDe resolves them;
//! [`crate::columnar`] holds the scan and the matching.

use std::io::Cursor;
use std::sync::Arc;

use arrow_avro::reader::ReaderBuilder;
use datafusion::error::Result;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::columnar::{file_err, Batches, Conform, Plan, BATCH_ROWS};
use crate::openx::File;

/// The batches of one Avro file, as the scan's schema.
pub(crate) async fn read_file(store: Arc<dyn ObjectStore>, f: File, plan: Plan) -> Result<Batches> {
    let bytes = store
        .get(&Path::from(f.key.as_str()))
        .await
        .map_err(|e| file_err(&f, e))?
        .bytes()
        .await
        .map_err(|e| file_err(&f, e))?;
    // The header names the file's fields; the decoder then reads only the wanted ones.
    let file_columns: Vec<String> = ReaderBuilder::new()
        .build(Cursor::new(bytes.clone()))
        .map_err(|e| file_err(&f, e))?
        .schema()
        .fields()
        .iter()
        .map(|c| c.name().clone())
        .collect();
    let sources = plan.by_name(&file_columns);
    let mut projection: Vec<usize> = sources
        .iter()
        .flatten()
        .filter_map(|s| file_columns.iter().position(|c| c == s))
        .collect();
    projection.sort_unstable();
    projection.dedup();
    if projection.is_empty() && !file_columns.is_empty() {
        // Rows still have to be counted (count(*)): decode the first field only.
        projection.push(0);
    }
    let reader = ReaderBuilder::new()
        .with_batch_size(BATCH_ROWS)
        .with_projection(projection)
        .build(Cursor::new(bytes))
        .map_err(|e| file_err(&f, e))?;
    let conform = Conform {
        plan,
        file: f,
        sources,
    };
    Ok(futures::stream::iter(reader)
        .map(move |batch| conform.batch(batch.map_err(|e| file_err(&conform.file, e))?))
        .boxed())
}
