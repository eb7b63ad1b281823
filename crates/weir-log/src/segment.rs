//! One segment file of a shard: framed records, a sparse index, recovery of a torn tail.
//!
//! Frame: `len: u32 LE` · `crc32c(body): u32 LE` · body, where body is
//! `offset: u64 LE` · `arrival_ms: i64 LE` · `pk_len: u16 LE` · partition key · data.
//! A record with attributes (a Kafka record's key, headers, timestamp: opaque to the log) sets
//! the top bit of `pk_len` and carries `attrs_len: u32 LE` · attributes between the key and the
//! data. Keys are at most 256 bytes, so frames written before attributes existed read the same.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// Bytes before the body: length and checksum.
pub const FRAME_HEADER: usize = 8;
/// Fixed part of the body: offset, arrival time, partition-key length.
pub const BODY_FIXED: usize = 18;
/// No frame is larger than this (10 MiB data + 256-byte key + headers, rounded up).
pub const MAX_FRAME_BODY: usize = 11 * 1024 * 1024;
/// A sparse index entry is taken at most every this many bytes.
const INDEX_EVERY_BYTES: u64 = 64 * 1024;

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub offset: u64,
    pub arrival_ms: i64,
    pub partition_key: String,
    pub data: Bytes,
    /// Attributes a front door keeps beside the data (None for Kinesis records).
    pub attrs: Option<Bytes>,
}

/// The `pk_len` bit saying attributes follow the partition key.
const ATTRS_FLAG: u16 = 0x8000;

/// Sparse index entry: the record at `offset` starts at byte `pos` and arrived at `arrival_ms`.
#[derive(Debug, Clone, Copy)]
pub struct IndexEntry {
    pub offset: u64,
    pub pos: u64,
    pub arrival_ms: i64,
}

/// Appends one frame for a record to `buf`.
pub fn encode_frame(
    buf: &mut Vec<u8>,
    offset: u64,
    arrival_ms: i64,
    pk: &str,
    attrs: Option<&[u8]>,
    data: &[u8],
) {
    let attrs_len = attrs.map_or(0, |a| 4 + a.len());
    let body_len = BODY_FIXED + pk.len() + attrs_len + data.len();
    let start = buf.len();
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0u8; 4]);
    buf.extend_from_slice(&offset.to_le_bytes());
    buf.extend_from_slice(&arrival_ms.to_le_bytes());
    let flag = if attrs.is_some() { ATTRS_FLAG } else { 0 };
    buf.extend_from_slice(&(pk.len() as u16 | flag).to_le_bytes());
    buf.extend_from_slice(pk.as_bytes());
    if let Some(a) = attrs {
        buf.extend_from_slice(&(a.len() as u32).to_le_bytes());
        buf.extend_from_slice(a);
    }
    buf.extend_from_slice(data);
    let crc = crc32c::crc32c(&buf[start + FRAME_HEADER..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Outcome of decoding the frame at the start of a buffer.
enum Decoded {
    /// A whole, valid frame of `len` bytes.
    Frame { rec: StoredRecord, len: usize },
    /// The buffer ends inside the frame.
    Incomplete { need: usize },
    /// The bytes are not a valid frame.
    Corrupt(&'static str),
}

fn decode_frame(buf: &Bytes, keys: bool) -> Decoded {
    if buf.len() < FRAME_HEADER {
        return Decoded::Incomplete { need: FRAME_HEADER };
    }
    let body_len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if !(BODY_FIXED..=MAX_FRAME_BODY).contains(&body_len) {
        return Decoded::Corrupt("frame length out of bounds");
    }
    let total = FRAME_HEADER + body_len;
    if buf.len() < total {
        return Decoded::Incomplete { need: total };
    }
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let body = &buf[FRAME_HEADER..total];
    if crc32c::crc32c(body) != crc {
        return Decoded::Corrupt("checksum mismatch");
    }
    let mut u8x8 = [0u8; 8];
    u8x8.copy_from_slice(&body[0..8]);
    let offset = u64::from_le_bytes(u8x8);
    u8x8.copy_from_slice(&body[8..16]);
    let arrival_ms = i64::from_le_bytes(u8x8);
    let raw_pk_len = u16::from_le_bytes([body[16], body[17]]);
    let pk_len = (raw_pk_len & !ATTRS_FLAG) as usize;
    if BODY_FIXED + pk_len > body_len {
        return Decoded::Corrupt("partition key longer than frame");
    }
    let pk_start = FRAME_HEADER + BODY_FIXED;
    let mut data_start = pk_start + pk_len;
    let mut attrs = None;
    if raw_pk_len & ATTRS_FLAG != 0 {
        let Some(len) = buf.get(data_start..data_start + 4) else {
            return Decoded::Corrupt("attributes longer than frame");
        };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let end = data_start + 4 + len;
        if end > total {
            return Decoded::Corrupt("attributes longer than frame");
        }
        attrs = Some(buf.slice(data_start + 4..end));
        data_start = end;
    }
    // A reader that does not use keys is spared their copies (the checksum covers them).
    let partition_key = match keys {
        true => match std::str::from_utf8(&buf[pk_start..pk_start + pk_len]) {
            Ok(k) => k.to_owned(),
            Err(_) => return Decoded::Corrupt("partition key is not UTF-8"),
        },
        false => String::new(),
    };
    let rec = StoredRecord {
        offset,
        arrival_ms,
        partition_key,
        data: buf.slice(data_start..total),
        attrs,
    };
    Decoded::Frame { rec, len: total }
}

/// A segment file. Its durable length only grows while it is the shard's active segment.
#[derive(Debug)]
pub struct Segment {
    pub base_offset: u64,
    pub path: PathBuf,
    pub file: Arc<File>,
    /// Bytes of whole, durable frames.
    pub len: u64,
    /// Offset one past the last record (== base_offset when empty).
    pub next_offset: u64,
    pub first_arrival_ms: Option<i64>,
    pub last_arrival_ms: Option<i64>,
    pub index: Vec<IndexEntry>,
    last_indexed_pos: Option<u64>,
    /// How many times compaction rewrote this range (0: the segment as appended).
    pub generation: u32,
}

/// The file name of the segment whose first record has `base_offset`.
pub fn file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.seg")
}

/// The index file saved beside a sealed segment.
pub fn index_path(segment_path: &Path) -> PathBuf {
    segment_path.with_extension("idx")
}

const INDEX_MAGIC: &[u8; 4] = b"WIDX";
const INDEX_VERSION: u32 = 1;

/// The file name of a compacted segment: the range it covers (`next` is one past it, kept
/// even when its last records were removed) and how many rewrites made it.
pub fn compacted_file_name(base_offset: u64, next_offset: u64, generation: u32) -> String {
    format!("{base_offset:020}-{next_offset:020}-{generation:04}.cseg")
}

/// A segment file's name, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentName {
    pub base_offset: u64,
    /// One past the range a compacted segment covers (None for an appended segment).
    pub end: Option<u64>,
    pub generation: u32,
}

/// Parses a segment file name (appended `.seg` or compacted `.cseg`).
pub fn parse_segment_name(name: &str) -> Option<SegmentName> {
    if let Some(base) = name.strip_suffix(".seg") {
        return Some(SegmentName {
            base_offset: base.parse().ok()?,
            end: None,
            generation: 0,
        });
    }
    let mut parts = name.strip_suffix(".cseg")?.split('-');
    let base_offset = parts.next()?.parse().ok()?;
    let end = parts.next()?.parse().ok()?;
    let generation = parts.next()?.parse().ok()?;
    (parts.next().is_none() && end >= base_offset).then_some(SegmentName {
        base_offset,
        end: Some(end),
        generation,
    })
}

/// An opened segment and what recovery did to it.
#[derive(Debug)]
pub struct Recovered {
    pub segment: Segment,
    pub truncation: Option<Truncation>,
    /// Bytes that had to be checked frame by frame (those past a saved index).
    pub scanned: u64,
}

/// What recovery found wrong in a segment and cut off.
#[derive(Debug)]
pub struct Truncation {
    pub path: PathBuf,
    pub valid_len: u64,
    pub file_len: u64,
    pub reason: &'static str,
}

impl Segment {
    /// Creates a new, empty segment file.
    pub fn create(dir: &Path, base_offset: u64) -> io::Result<Segment> {
        let path = dir.join(file_name(base_offset));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Segment::empty(path, file, base_offset))
    }

    /// A segment over an already open file (a compacted segment being written).
    pub(crate) fn empty(path: PathBuf, file: File, base_offset: u64) -> Segment {
        Segment {
            base_offset,
            path,
            file: Arc::new(file),
            len: 0,
            next_offset: base_offset,
            first_arrival_ms: None,
            last_arrival_ms: None,
            index: Vec::new(),
            last_indexed_pos: None,
            generation: 0,
        }
    }

    /// Opens an existing segment, checks every frame, and truncates a torn or corrupt tail.
    /// Records must carry consecutive offsets from `base_offset`.
    ///
    /// A saved index (see `write_index`) vouches for the prefix it covers; only bytes past it are
    /// scanned. `Recovered::scanned` tells how many bytes had to be checked.
    pub fn open_and_recover(path: &Path, base_offset: u64) -> io::Result<Recovered> {
        Segment::open_named(
            path,
            SegmentName {
                base_offset,
                end: None,
                generation: 0,
            },
        )
    }

    /// Opens a segment by its parsed name. A compacted segment's offsets only increase (the
    /// removed ones are gaps) and stay below its end, which becomes its next offset.
    pub fn open_named(path: &Path, name: SegmentName) -> io::Result<Recovered> {
        let base_offset = name.base_offset;
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let file_len = file.metadata()?.len();
        let summary = std::fs::read(index_path(path))
            .ok()
            .and_then(|b| parse_index(&b, base_offset))
            .filter(|s| s.len <= file_len);
        let mut seg = Segment::empty(path.to_path_buf(), file, base_offset);
        seg.generation = name.generation;
        if let Some(sum) = summary {
            seg.len = sum.len;
            seg.next_offset = sum.next_offset;
            seg.first_arrival_ms = sum.first_arrival_ms;
            seg.last_arrival_ms = sum.last_arrival_ms;
            seg.last_indexed_pos = sum.index.last().map(|e| e.pos);
            seg.index = sum.index;
        }
        let mut pos = seg.len;
        let scan_start = pos;
        let mut problem = None;
        const CHUNK: u64 = 8 * 1024 * 1024;
        'scan: while pos < file_len {
            let want = (file_len - pos).min(CHUNK.max(MAX_FRAME_BODY as u64 + 64));
            let buf = read_exact_at(&seg.file, pos, want as usize)?;
            let mut at = 0usize;
            loop {
                if at == buf.len() {
                    break;
                }
                match decode_frame(&buf.slice(at..), true) {
                    Decoded::Frame { rec, len } => {
                        let in_order = match name.end {
                            None => rec.offset == seg.next_offset,
                            Some(end) => rec.offset >= seg.next_offset && rec.offset < end,
                        };
                        if !in_order {
                            problem = Some("record offset out of sequence");
                            break 'scan;
                        }
                        seg.note_appended(pos + at as u64, len as u64, rec.offset, rec.arrival_ms);
                        at += len;
                    }
                    Decoded::Incomplete { need } => {
                        if at == 0 || pos + at as u64 + need as u64 > file_len {
                            problem = Some("torn frame at end of file");
                            break 'scan;
                        }
                        break;
                    }
                    Decoded::Corrupt(why) => {
                        problem = Some(why);
                        break 'scan;
                    }
                }
            }
            pos += at as u64;
        }
        if let Some(end) = name.end {
            seg.next_offset = seg.next_offset.max(end);
        }
        let truncation = match problem {
            Some(reason) => {
                seg.file.set_len(seg.len)?;
                seg.file.sync_data()?;
                Some(Truncation {
                    path: path.to_path_buf(),
                    valid_len: seg.len,
                    file_len,
                    reason,
                })
            }
            None => None,
        };
        Ok(Recovered {
            scanned: file_len - scan_start,
            segment: seg,
            truncation,
        })
    }

    /// Saves the segment's summary and sparse index beside it, vouching for its first `len`
    /// bytes, so that a restart need not scan them: written when a segment is sealed and, for the
    /// active segment, at checkpoints. Written to a temporary name, synced, then renamed.
    pub fn write_index(&self) -> io::Result<()> {
        let (path, bytes) = self.index_snapshot();
        write_index_file(&path, &bytes)
    }

    /// The index file's path and contents as of now (cheap; taken under a lock, written after).
    pub fn index_snapshot(&self) -> (PathBuf, Vec<u8>) {
        let mut b = Vec::with_capacity(64 + self.index.len() * 24);
        b.extend_from_slice(INDEX_MAGIC);
        b.extend_from_slice(&INDEX_VERSION.to_le_bytes());
        b.extend_from_slice(&self.base_offset.to_le_bytes());
        b.extend_from_slice(&self.len.to_le_bytes());
        b.extend_from_slice(&self.next_offset.to_le_bytes());
        b.extend_from_slice(&self.first_arrival_ms.unwrap_or(i64::MIN).to_le_bytes());
        b.extend_from_slice(&self.last_arrival_ms.unwrap_or(i64::MIN).to_le_bytes());
        b.extend_from_slice(&(self.index.len() as u64).to_le_bytes());
        for e in &self.index {
            b.extend_from_slice(&e.offset.to_le_bytes());
            b.extend_from_slice(&e.pos.to_le_bytes());
            b.extend_from_slice(&e.arrival_ms.to_le_bytes());
        }
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        (index_path(&self.path), b)
    }

    /// Records that a frame of `frame_len` bytes at `pos` is now durable.
    pub fn note_appended(&mut self, pos: u64, frame_len: u64, offset: u64, arrival_ms: i64) {
        let due = match self.last_indexed_pos {
            None => true,
            Some(last) => pos >= last + INDEX_EVERY_BYTES,
        };
        if due {
            self.index.push(IndexEntry {
                offset,
                pos,
                arrival_ms,
            });
            self.last_indexed_pos = Some(pos);
        }
        self.len = pos + frame_len;
        self.next_offset = offset + 1;
        self.first_arrival_ms.get_or_insert(arrival_ms);
        self.last_arrival_ms = Some(arrival_ms);
    }

    /// Byte position to start scanning from to find `offset`.
    pub fn seek_offset(&self, offset: u64) -> u64 {
        let i = self.index.partition_point(|e| e.offset <= offset);
        if i == 0 {
            0
        } else {
            self.index[i - 1].pos
        }
    }

    /// The first offset whose arrival time is at or after `ts_ms` is at or after the returned
    /// position's record.
    pub fn seek_time(&self, ts_ms: i64) -> u64 {
        let i = self.index.partition_point(|e| e.arrival_ms < ts_ms);
        if i == 0 {
            0
        } else {
            self.index[i - 1].pos
        }
    }
}

/// Reads records with offset >= `from` from `file` starting at byte `pos`, calling `take` for
/// each until it returns false or `len_limit` (the durable length) is reached. Records carry
/// their partition keys when `keys` is set (empty otherwise).
#[allow(clippy::too_many_arguments)]
pub fn scan(
    file: &File,
    path: &Path,
    from: u64,
    mut pos: u64,
    len_limit: u64,
    max_chunk: usize,
    keys: bool,
    take: &mut dyn FnMut(StoredRecord) -> bool,
) -> io::Result<()> {
    while pos < len_limit {
        let want = ((len_limit - pos) as usize).min(max_chunk.max(64 * 1024));
        let buf = read_exact_at(file, pos, want)?;
        let mut at = 0usize;
        loop {
            match decode_frame(&buf.slice(at..), keys) {
                Decoded::Frame { rec, len } => {
                    at += len;
                    if rec.offset >= from && !take(rec) {
                        return Ok(());
                    }
                }
                Decoded::Incomplete { need } => {
                    if at == 0 {
                        // A single frame bigger than the chunk: read exactly it.
                        let buf = read_exact_at(file, pos, need)?;
                        match decode_frame(&buf, keys) {
                            Decoded::Frame { rec, len } => {
                                at = len;
                                if rec.offset >= from && !take(rec) {
                                    return Ok(());
                                }
                            }
                            _ => return Err(corrupt(path, pos)),
                        }
                    }
                    break;
                }
                Decoded::Corrupt(_) => return Err(corrupt(path, pos + at as u64)),
            }
        }
        pos += at as u64;
    }
    Ok(())
}

/// Writes an index file atomically: temporary name, fdatasync, rename.
pub fn write_index_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("idx.tmp");
    std::fs::write(&tmp, bytes)?;
    File::open(&tmp)?.sync_data()?;
    std::fs::rename(&tmp, path)
}

/// Decodes an index file; `None` unless it is whole and belongs to `base_offset`.
fn parse_index(b: &[u8], base_offset: u64) -> Option<Summary> {
    let body_len = b.len().checked_sub(4)?;
    let crc = u32::from_le_bytes(b[body_len..].try_into().ok()?);
    if crc32c::crc32c(&b[..body_len]) != crc || b.get(0..4)? != INDEX_MAGIC {
        return None;
    }
    let u64_at = |i: usize| {
        b.get(i..i + 8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let i64_at = |i: usize| {
        b.get(i..i + 8)
            .and_then(|s| s.try_into().ok())
            .map(i64::from_le_bytes)
    };
    if u32::from_le_bytes(b.get(4..8)?.try_into().ok()?) != INDEX_VERSION
        || u64_at(8)? != base_offset
    {
        return None;
    }
    let opt = |v: i64| (v != i64::MIN).then_some(v);
    let count = usize::try_from(u64_at(48)?).ok()?;
    if 56 + count.checked_mul(24)? != body_len {
        return None;
    }
    let index = (0..count)
        .map(|i| {
            let at = 56 + i * 24;
            Some(IndexEntry {
                offset: u64_at(at)?,
                pos: u64_at(at + 8)?,
                arrival_ms: i64_at(at + 16)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Summary {
        len: u64_at(16)?,
        next_offset: u64_at(24)?,
        first_arrival_ms: opt(i64_at(32)?),
        last_arrival_ms: opt(i64_at(40)?),
        index,
    })
}

/// What an index file says of its segment.
struct Summary {
    len: u64,
    next_offset: u64,
    first_arrival_ms: Option<i64>,
    last_arrival_ms: Option<i64>,
    index: Vec<IndexEntry>,
}

fn corrupt(path: &Path, pos: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt frame in {} at byte {pos}", path.display()),
    )
}

fn read_exact_at(file: &File, pos: u64, len: usize) -> io::Result<Bytes> {
    let pooled = (RECYCLED_SIZES).contains(&len);
    let (mut buf, capacity) = match pooled.then(|| reused(len)).flatten() {
        Some(kept) => kept,
        None => (BytesMut::zeroed(len), len),
    };
    file.read_exact_at(&mut buf, pos)?;
    let buf = buf.freeze();
    if pooled {
        recycle(capacity, &buf);
    }
    Ok(buf)
}

/// Read buffers kept for reuse (with the size they were allocated at): a fresh megabyte
/// from the allocator is mapped anew and faults on every page as the read fills it (a
/// quarter of a streaming job's time went there); a buffer whose records have all been
/// dropped is taken again instead.
static RECYCLED: parking_lot::Mutex<Vec<(usize, Bytes)>> = parking_lot::Mutex::new(Vec::new());

/// How many buffers are kept (at most this many read chunks stay allocated when idle).
const RECYCLED_MAX: usize = 8;

/// The reads that use kept buffers: chunks of a scan (small reads are not worth it; the
/// large reads of recovery are not kept).
const RECYCLED_SIZES: std::ops::RangeInclusive<usize> = 64 * 1024..=2 * 1024 * 1024;

/// A kept buffer nothing else holds any more, allocated at least `len` long, `len` long
/// (its old bytes are overwritten by the read).
fn reused(len: usize) -> Option<(BytesMut, usize)> {
    let (capacity, kept) = {
        let mut kept = RECYCLED.lock();
        let i = kept
            .iter()
            .position(|(cap, b)| *cap >= len && b.is_unique())?;
        kept.swap_remove(i)
    };
    let mut buf = kept.try_into_mut().ok()?;
    if buf.len() >= len {
        buf.truncate(len);
    } else {
        buf.resize(len, 0);
    }
    Some((buf, capacity))
}

/// Keeps a read buffer for reuse once its records are dropped: a full pool drops the
/// buffers still in use (they are freed with their records) to make room.
fn recycle(capacity: usize, buf: &Bytes) {
    let mut kept = RECYCLED.lock();
    if kept.len() >= RECYCLED_MAX {
        kept.retain(|(_, b)| b.is_unique());
    }
    if kept.len() < RECYCLED_MAX {
        kept.push((capacity, buf.clone()));
    } else if let Some(smallest) = (0..kept.len()).min_by_key(|&i| kept[i].0) {
        // Full of idle buffers: a larger one takes the smallest one's place.
        if kept[smallest].0 < capacity {
            kept[smallest] = (capacity, buf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn kept_read_buffers_are_reused_only_once_nothing_holds_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chunks");
        let data: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        for round in 0..20 {
            let a = read_exact_at(&file, 0, 1024 * 1024).unwrap();
            let b = read_exact_at(&file, 1024 * 1024, 1024 * 1024).unwrap();
            let small = read_exact_at(&file, 7, 100 * 1024).unwrap();
            // Buffers in use are never handed out again, and each read holds its own bytes.
            assert_ne!(a.as_ptr(), b.as_ptr());
            assert_ne!(a.as_ptr(), small.as_ptr());
            assert_eq!(&a[..], &data[..1024 * 1024], "round {round}");
            assert_eq!(&b[..], &data[1024 * 1024..2 * 1024 * 1024]);
            assert_eq!(&small[..], &data[7..7 + 100 * 1024]);
            drop(a);
            // A slice outlives its buffer's other holders: still its bytes after more reads.
            let kept = b.slice(10..20);
            drop(b);
            let c = read_exact_at(&file, 2 * 1024 * 1024, 1024 * 1024).unwrap();
            assert_eq!(&kept[..], &data[1024 * 1024 + 10..1024 * 1024 + 20]);
            assert_eq!(&c[..], &data[2 * 1024 * 1024..]);
        }
    }

    fn write_records(dir: &Path, n: u64) -> PathBuf {
        let mut buf = Vec::new();
        for i in 0..n {
            encode_frame(
                &mut buf,
                i,
                1000 + i as i64,
                &format!("pk{i}"),
                None,
                &[i as u8; 100],
            );
        }
        let path = dir.join(file_name(0));
        std::fs::write(&path, &buf).expect("write");
        path
    }

    fn read_all(seg: &Segment) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        scan(
            &seg.file,
            &seg.path,
            0,
            0,
            seg.len,
            1 << 20,
            true,
            &mut |r| {
                out.push(r);
                true
            },
        )
        .expect("scan");
        out
    }

    #[test]
    fn clean_segment_recovers_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write_records(dir.path(), 50);
        let r = Segment::open_and_recover(&path, 0).expect("open");
        let (seg, trunc) = (r.segment, r.truncation);
        assert!(trunc.is_none());
        assert_eq!(seg.next_offset, 50);
        let recs = read_all(&seg);
        assert_eq!(recs.len(), 50);
        assert_eq!(recs[7].partition_key, "pk7");
        assert_eq!(recs[7].data.as_ref(), &[7u8; 100][..]);
    }

    #[test]
    fn torn_tail_is_truncated() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write_records(dir.path(), 10);
        let full = std::fs::metadata(&path).expect("meta").len();
        // Append half a frame.
        let mut extra = Vec::new();
        encode_frame(&mut extra, 10, 5, "x", None, &[1u8; 50]);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&extra[..extra.len() / 2]).expect("write");
        drop(f);
        let r = Segment::open_and_recover(&path, 0).expect("open");
        let (seg, trunc) = (r.segment, r.truncation);
        let trunc = trunc.expect("truncation reported");
        assert_eq!(trunc.valid_len, full);
        assert_eq!(seg.next_offset, 10);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), full);
    }

    #[test]
    fn corrupt_byte_cuts_from_that_record() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write_records(dir.path(), 10);
        let mut bytes = std::fs::read(&path).expect("read");
        let frame = FRAME_HEADER + BODY_FIXED + 3 + 100;
        bytes[frame * 6 + 40] ^= 0xff; // inside record 6's data
        std::fs::write(&path, &bytes).expect("write");
        let r = Segment::open_and_recover(&path, 0).expect("open");
        let (seg, trunc) = (r.segment, r.truncation);
        assert_eq!(trunc.expect("reported").reason, "checksum mismatch");
        assert_eq!(seg.next_offset, 6);
        assert_eq!(read_all(&seg).len(), 6);
    }

    #[test]
    fn saved_index_spares_the_scan_of_its_prefix() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write_records(dir.path(), 2000);
        let scanned = Segment::open_and_recover(&path, 0).expect("open");
        assert_eq!(scanned.scanned, scanned.segment.len);
        scanned.segment.write_index().expect("write index");
        let indexed = Segment::open_and_recover(&path, 0).expect("open");
        assert_eq!(indexed.scanned, 0);
        assert_eq!(indexed.segment.next_offset, scanned.segment.next_offset);
        assert_eq!(
            indexed.segment.last_arrival_ms,
            scanned.segment.last_arrival_ms
        );
        assert_eq!(indexed.segment.index.len(), scanned.segment.index.len());
        assert_eq!(read_all(&indexed.segment).len(), 2000);
        // Records appended after the checkpoint are scanned, and a torn tail still cut.
        let mut more = Vec::new();
        encode_frame(&mut more, 2000, 9, "k", None, b"after");
        let whole = more.len();
        encode_frame(&mut more, 2001, 9, "k", None, b"torn");
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&more[..whole + 5]).expect("write");
        let r = Segment::open_and_recover(&path, 0).expect("open");
        assert_eq!(r.scanned, whole as u64 + 5);
        assert_eq!(r.segment.next_offset, 2001);
        assert!(r.truncation.is_some());
        // A damaged index is ignored and the whole segment scanned.
        let idx = index_path(&path);
        let mut b = std::fs::read(&idx).expect("read");
        b[20] ^= 1;
        std::fs::write(&idx, b).expect("write");
        let r = Segment::open_and_recover(&path, 0).expect("open");
        assert_eq!(r.scanned, r.segment.len);
        assert_eq!(r.segment.next_offset, 2001);
    }

    #[test]
    fn garbage_length_is_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(file_name(0));
        std::fs::write(&path, [0xffu8; 64]).expect("write");
        let r = Segment::open_and_recover(&path, 0).expect("open");
        assert!(r.truncation.is_some());
        assert_eq!(r.segment.len, 0);
    }
}
