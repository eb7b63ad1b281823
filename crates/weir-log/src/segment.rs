//! One segment file of a shard: framed records, a sparse index, recovery of a torn tail.
//!
//! Frame: `len: u32 LE` · `crc32c(body): u32 LE` · body, where body is
//! `offset: u64 LE` · `arrival_ms: i64 LE` · `pk_len: u16 LE` · partition key · data.

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
}

/// Sparse index entry: the record at `offset` starts at byte `pos` and arrived at `arrival_ms`.
#[derive(Debug, Clone, Copy)]
pub struct IndexEntry {
    pub offset: u64,
    pub pos: u64,
    pub arrival_ms: i64,
}

/// Appends one frame for a record to `buf`.
pub fn encode_frame(buf: &mut Vec<u8>, offset: u64, arrival_ms: i64, pk: &str, data: &[u8]) {
    let body_len = BODY_FIXED + pk.len() + data.len();
    let start = buf.len();
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0u8; 4]);
    buf.extend_from_slice(&offset.to_le_bytes());
    buf.extend_from_slice(&arrival_ms.to_le_bytes());
    buf.extend_from_slice(&(pk.len() as u16).to_le_bytes());
    buf.extend_from_slice(pk.as_bytes());
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

fn decode_frame(buf: &Bytes) -> Decoded {
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
    let pk_len = u16::from_le_bytes([body[16], body[17]]) as usize;
    if BODY_FIXED + pk_len > body_len {
        return Decoded::Corrupt("partition key longer than frame");
    }
    let pk_start = FRAME_HEADER + BODY_FIXED;
    let Ok(partition_key) = std::str::from_utf8(&buf[pk_start..pk_start + pk_len]) else {
        return Decoded::Corrupt("partition key is not UTF-8");
    };
    let rec = StoredRecord {
        offset,
        arrival_ms,
        partition_key: partition_key.to_owned(),
        data: buf.slice(pk_start + pk_len..total),
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
}

/// The file name of the segment whose first record has `base_offset`.
pub fn file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.seg")
}

/// Parses a segment file name back into its base offset.
pub fn parse_file_name(name: &str) -> Option<u64> {
    name.strip_suffix(".seg")?.parse().ok()
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

    fn empty(path: PathBuf, file: File, base_offset: u64) -> Segment {
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
        }
    }

    /// Opens an existing segment, checks every frame, and truncates a torn or corrupt tail.
    /// Records must carry consecutive offsets from `base_offset`.
    pub fn open_and_recover(
        path: &Path,
        base_offset: u64,
    ) -> io::Result<(Segment, Option<Truncation>)> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let file_len = file.metadata()?.len();
        let mut seg = Segment::empty(path.to_path_buf(), file, base_offset);
        let mut pos = 0u64;
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
                match decode_frame(&buf.slice(at..)) {
                    Decoded::Frame { rec, len } => {
                        if rec.offset != seg.next_offset {
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
        Ok((seg, truncation))
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
/// each until it returns false or `len_limit` (the durable length) is reached.
pub fn scan(
    file: &File,
    path: &Path,
    from: u64,
    mut pos: u64,
    len_limit: u64,
    max_chunk: usize,
    take: &mut dyn FnMut(StoredRecord) -> bool,
) -> io::Result<()> {
    while pos < len_limit {
        let want = ((len_limit - pos) as usize).min(max_chunk.max(64 * 1024));
        let buf = read_exact_at(file, pos, want)?;
        let mut at = 0usize;
        loop {
            match decode_frame(&buf.slice(at..)) {
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
                        match decode_frame(&buf) {
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

fn corrupt(path: &Path, pos: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt frame in {} at byte {pos}", path.display()),
    )
}

fn read_exact_at(file: &File, pos: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    file.read_exact_at(&mut buf, pos)?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_records(dir: &Path, n: u64) -> PathBuf {
        let mut buf = Vec::new();
        for i in 0..n {
            encode_frame(
                &mut buf,
                i,
                1000 + i as i64,
                &format!("pk{i}"),
                &[i as u8; 100],
            );
        }
        let path = dir.join(file_name(0));
        std::fs::write(&path, &buf).expect("write");
        path
    }

    fn read_all(seg: &Segment) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        scan(&seg.file, &seg.path, 0, 0, seg.len, 1 << 20, &mut |r| {
            out.push(r);
            true
        })
        .expect("scan");
        out
    }

    #[test]
    fn clean_segment_recovers_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write_records(dir.path(), 50);
        let (seg, trunc) = Segment::open_and_recover(&path, 0).expect("open");
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
        encode_frame(&mut extra, 10, 5, "x", &[1u8; 50]);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&extra[..extra.len() / 2]).expect("write");
        drop(f);
        let (seg, trunc) = Segment::open_and_recover(&path, 0).expect("open");
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
        let (seg, trunc) = Segment::open_and_recover(&path, 0).expect("open");
        assert_eq!(trunc.expect("reported").reason, "checksum mismatch");
        assert_eq!(seg.next_offset, 6);
        assert_eq!(read_all(&seg).len(), 6);
    }

    #[test]
    fn garbage_length_is_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(file_name(0));
        std::fs::write(&path, [0xffu8; 64]).expect("write");
        let (seg, trunc) = Segment::open_and_recover(&path, 0).expect("open");
        assert!(trunc.is_some());
        assert_eq!(seg.len, 0);
    }
}
