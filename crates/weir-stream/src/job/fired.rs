//! A window's query at its firing, run in parts at once: each source's rows of the window
//! split by the query's key columns (`Stage::split_keys`: a window join's equality columns, a
//! window Top-N's or deduplication's partition columns, a window aggregate's group columns),
//! each part through its own copy of the query. Windows that keep rows so use every lane's
//! core when they fire; a query without such keys runs whole, as one part.

use datafusion::arrow::array::RecordBatch;

use super::keyed::{by_part, in_parts, parts_of, KeySplit};
use crate::error::Result;
use crate::stage::Stage;

pub(super) struct KeyedFire {
    split: Option<KeySplit>,
    parts: Vec<Stage>,
}

impl KeyedFire {
    /// `query` run in up to `parts` parts.
    pub fn new(query: &Stage, parts: usize) -> Result<KeyedFire> {
        let split = match query.split_keys() {
            Some((columns, types)) => KeySplit::new(parts, columns, &types)?,
            None => None,
        };
        let n = parts_of(split.as_ref());
        let parts = (0..n)
            .map(|_| query.fork())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(KeyedFire { split, parts })
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// The query's output for windows that fire together (each window's rows: one batch per
    /// source). Each part runs its share of every window, window after window (in the order
    /// given), the parts at once: session windows of many keys closing together, or windows
    /// fired while catching up, use every part's core. Each window is still queried alone.
    pub async fn run(&mut self, windows: Vec<Vec<RecordBatch>>) -> Result<Vec<RecordBatch>> {
        let mut per_part: Vec<Vec<Vec<Vec<RecordBatch>>>> =
            (0..self.parts.len()).map(|_| Vec::new()).collect();
        for rows in windows {
            let inputs = rows.len();
            let mut this: Vec<Vec<Vec<RecordBatch>>> = (0..self.parts.len())
                .map(|_| vec![Vec::new(); inputs])
                .collect();
            for (i, r) in rows.into_iter().enumerate() {
                for (k, b) in by_part(self.split.as_ref(), i, vec![r])?
                    .into_iter()
                    .enumerate()
                {
                    this[k][i] = b;
                }
            }
            for (k, w) in this.into_iter().enumerate() {
                if w.iter().any(|b| !b.is_empty()) {
                    per_part[k].push(w);
                }
            }
        }
        let work = per_part
            .into_iter()
            .map(|p| (!p.is_empty()).then_some(p))
            .collect();
        let out = in_parts(&mut self.parts, work, |stage, windows| async move {
            let mut out = Vec::new();
            for input in windows {
                match stage.run_all(input).await {
                    Ok(o) => out.extend(o),
                    Err(e) => return (stage, Err(e.into())),
                }
            }
            (stage, Ok(out))
        })
        .await?;
        Ok(out.into_iter().flatten().collect())
    }
}
