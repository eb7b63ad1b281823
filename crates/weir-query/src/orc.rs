//! ORC tables (`STORED AS ORC`, Hive's OrcSerde), read with orc-rust through the query's
//! object store in ranges: the file tail first, then only the stripes' streams of the columns
//! the query needs. As in Athena, ORC columns are matched to the table's by position unless the
//! SerDe property `orc.column.index.access` is `false`, then by name (without regard to case);
//! [`crate::columnar`] holds the scan and the matching.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::error::Result;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use orc_rust::projection::ProjectionMask;
use orc_rust::reader::AsyncChunkReader;
use orc_rust::ArrowReaderBuilder;

use crate::columnar::{file_err, Batches, Conform, Plan, BATCH_ROWS};
use crate::openx::File;

/// An ORC file read in ranges through an object store.
struct Ranges {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl AsyncChunkReader for Ranges {
    fn len(&mut self) -> BoxFuture<'_, std::io::Result<u64>> {
        let size = self.size;
        async move { Ok(size) }.boxed()
    }

    fn get_bytes(
        &mut self,
        offset_from_start: u64,
        length: u64,
    ) -> BoxFuture<'_, std::io::Result<Bytes>> {
        let range = offset_from_start..offset_from_start + length;
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(std::io::Error::other)
        }
        .boxed()
    }
}

/// The batches of one ORC file, as the scan's schema.
pub(crate) async fn read_file(
    store: Arc<dyn ObjectStore>,
    f: File,
    plan: Plan,
    by_name: bool,
) -> Result<Batches> {
    let reader = Ranges {
        store,
        path: Path::from(f.key.as_str()),
        size: f.size,
    };
    let builder = ArrowReaderBuilder::try_new_async(reader)
        .await
        .map_err(|e| file_err(&f, e))?;
    let file_columns: Vec<String> = builder
        .file_metadata()
        .root_data_type()
        .children()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    // For each wanted data column, the file column it reads (by position or by name).
    let sources: Vec<Option<String>> = if by_name {
        plan.by_name(&file_columns)
    } else {
        plan.wanted_data()
            .map(|i| file_columns.get(i).cloned())
            .collect()
    };
    let read: Vec<&str> = sources.iter().flatten().map(String::as_str).collect();
    let mask = ProjectionMask::named_roots(builder.file_metadata().root_data_type(), &read);
    let stream = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build_async();
    let conform = Conform {
        plan,
        file: f,
        sources,
    };
    Ok(stream
        .map(move |batch| conform.batch(batch.map_err(|e| file_err(&conform.file, e))?))
        .boxed())
}
