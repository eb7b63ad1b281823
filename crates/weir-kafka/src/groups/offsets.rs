//! Committed offsets, durable: every OffsetCommit is one line appended to a journal and fsynced
//! before it is answered (Kafka keeps them in its `__consumer_offsets` topic). At start the
//! journal is read back — a torn last line, never acknowledged, is dropped — and rewritten with
//! one line per group.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// One partition's committed position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Committed {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

/// One journal line: a group's commits, or its deletion.
#[derive(Serialize, Deserialize)]
struct Line {
    group: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    offsets: Vec<(String, i32, Committed)>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

/// A topic's partitions and what each has committed (None: nothing).
pub type TopicOffsets = (String, Vec<(i32, Option<Committed>)>);

type Offsets = HashMap<String, BTreeMap<(String, i32), Committed>>;

/// The journal: appended under its own lock (held through the fsync), so readers of the
/// offsets never wait for a disk.
struct Journal {
    file: Option<File>,
    /// A write failed and could not be cut back: no more writes are taken.
    broken: bool,
}

pub struct OffsetStore {
    offsets: Mutex<Offsets>,
    journal: Mutex<Journal>,
}

const JOURNAL: &str = "offsets.jsonl";

impl OffsetStore {
    pub fn open(dir: Option<PathBuf>) -> io::Result<OffsetStore> {
        let Some(dir) = dir else {
            return Ok(OffsetStore {
                offsets: Mutex::new(HashMap::new()),
                journal: Mutex::new(Journal {
                    file: None,
                    broken: false,
                }),
            });
        };
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(JOURNAL);
        let mut offsets = Offsets::new();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        for line in bytes.split(|b| *b == b'\n') {
            // A torn line (cut anywhere, even inside a character) was never acknowledged.
            if let Ok(line) = serde_json::from_slice::<Line>(line) {
                apply(&mut offsets, line);
            }
        }
        // Rewritten compact: one line per group, swapped in whole.
        let mut compact = Vec::new();
        for (group, parts) in &offsets {
            let line = Line {
                group: group.clone(),
                offsets: parts
                    .iter()
                    .map(|((t, p), c)| (t.clone(), *p, c.clone()))
                    .collect(),
                deleted: false,
            };
            serde_json::to_writer(&mut compact, &line)?;
            compact.push(b'\n');
        }
        weir_log::meta::write_atomic(&dir, JOURNAL, &compact)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(OffsetStore {
            offsets: Mutex::new(offsets),
            journal: Mutex::new(Journal {
                file: Some(file),
                broken: false,
            }),
        })
    }

    /// The groups with committed offsets.
    pub fn groups(&self) -> Vec<String> {
        self.offsets.lock().keys().cloned().collect()
    }

    /// Commits durably (journal fsynced) then in memory. Blocking: call off the async threads.
    pub fn commit(&self, group: &str, offsets: Vec<(String, i32, Committed)>) -> io::Result<()> {
        self.write(Line {
            group: group.to_string(),
            offsets,
            deleted: false,
        })
    }

    pub fn delete_group(&self, group: &str) -> io::Result<()> {
        self.write(Line {
            group: group.to_string(),
            offsets: Vec::new(),
            deleted: true,
        })
    }

    fn write(&self, line: Line) -> io::Result<()> {
        let mut journal = self.journal.lock();
        if journal.broken {
            return Err(io::Error::other("the offsets journal failed earlier"));
        }
        if let Some(f) = &mut journal.file {
            let mut bytes = serde_json::to_vec(&line)?;
            bytes.push(b'\n');
            let end = f.metadata()?.len();
            if let Err(e) = f.write_all(&bytes).and_then(|_| f.sync_data()) {
                // Cut back, so the next line does not land after half of this one; if even
                // that fails, take no more writes.
                if f.set_len(end).and_then(|_| f.sync_data()).is_err() {
                    journal.broken = true;
                }
                return Err(e);
            }
        }
        // Applied while the journal is held: memory follows the journal's order.
        apply(&mut self.offsets.lock(), line);
        Ok(())
    }

    /// A group's committed offsets: of the partitions named, or all when None.
    pub fn fetch(&self, group: &str, wanted: Option<&[(String, Vec<i32>)]>) -> Vec<TopicOffsets> {
        let offsets = self.offsets.lock();
        let parts = offsets.get(group);
        match wanted {
            Some(wanted) => wanted
                .iter()
                .map(|(topic, ps)| {
                    let got = ps
                        .iter()
                        .map(|p| {
                            let c = parts.and_then(|m| m.get(&(topic.clone(), *p))).cloned();
                            (*p, c)
                        })
                        .collect();
                    (topic.clone(), got)
                })
                .collect(),
            None => {
                let mut by_topic: BTreeMap<String, Vec<(i32, Option<Committed>)>> = BTreeMap::new();
                for ((t, p), c) in parts.into_iter().flatten() {
                    by_topic
                        .entry(t.clone())
                        .or_default()
                        .push((*p, Some(c.clone())));
                }
                by_topic.into_iter().collect()
            }
        }
    }
}

fn apply(offsets: &mut Offsets, line: Line) {
    if line.deleted {
        offsets.remove(&line.group);
        return;
    }
    let group = offsets.entry(line.group).or_default();
    for (t, p, c) in line.offsets {
        group.insert((t, p), c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: i64) -> Committed {
        Committed {
            offset,
            leader_epoch: -1,
            metadata: Some(String::new()),
        }
    }

    #[test]
    fn commits_survive_reopening_and_a_torn_line() {
        let dir = std::env::temp_dir().join(format!("weir-offsets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let s = OffsetStore::open(Some(dir.clone())).unwrap();
            s.commit("g", vec![("t".into(), 0, at(5)), ("t".into(), 1, at(7))])
                .unwrap();
            s.commit("g", vec![("t".into(), 0, at(9))]).unwrap();
            s.commit("h", vec![("u".into(), 0, at(1))]).unwrap();
            s.delete_group("h").unwrap();
        }
        // A write cut short by a crash.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join(JOURNAL))
            .unwrap();
        f.write_all(b"{\"group\":\"g\",\"offs").unwrap();
        let s = OffsetStore::open(Some(dir.clone())).unwrap();
        assert_eq!(s.groups(), vec!["g".to_string()]);
        let all = s.fetch("g", None);
        assert_eq!(
            all,
            vec![("t".into(), vec![(0, Some(at(9))), (1, Some(at(7)))])]
        );
        let some = s.fetch("g", Some(&[("t".into(), vec![1, 2])]));
        assert_eq!(some, vec![("t".into(), vec![(1, Some(at(7))), (2, None)])]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
