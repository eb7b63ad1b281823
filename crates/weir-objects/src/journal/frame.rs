//! Journal frames: `[u32 len][u32 crc32c][kind u8][u32 json len][json][body]` (little-endian;
//! `len` and the CRC cover everything after the CRC). Kinds: a PUT whose body is in the frame,
//! a PUT whose bytes are in a data file the record names, and a DELETE (the key).

use std::fs::File;
use std::io::{self, Read};

use crate::store::ObjectInfo;

const PUT_INLINE: u8 = 1;
const PUT_FILE: u8 = 2;
const DELETE: u8 = 3;
/// Frame header: length and CRC.
pub(super) const HEADER: usize = 8;
/// No frame is longer (an inline body, a 1 KiB key, metadata and headers are far below it).
const MAX_FRAME: usize = 4 << 20;

/// One record of a journal.
pub(crate) enum Record<'a> {
    /// A PUT; `body` is the object's bytes when they are inline.
    Put {
        info: &'a ObjectInfo,
        body: Option<&'a [u8]>,
    },
    Delete(&'a str),
}

/// Encodes a frame.
pub(crate) fn encode(record: &Record) -> io::Result<Vec<u8>> {
    let (kind, json, body) = match record {
        Record::Put { info, body } => (
            if body.is_some() { PUT_INLINE } else { PUT_FILE },
            serde_json::to_vec(info).map_err(io::Error::other)?,
            body.unwrap_or_default(),
        ),
        Record::Delete(key) => (DELETE, key.as_bytes().to_vec(), &[][..]),
    };
    let len = 1 + 4 + json.len() + body.len();
    let mut frame = Vec::with_capacity(HEADER + len);
    frame.extend_from_slice(&(len as u32).to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.push(kind);
    frame.extend_from_slice(&(json.len() as u32).to_le_bytes());
    frame.extend_from_slice(&json);
    frame.extend_from_slice(body);
    let crc = crc32c::crc32c(&frame[HEADER..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

/// Whether `frame` (a whole frame, header included) is intact.
pub(super) fn intact(frame: &[u8]) -> bool {
    frame.len() >= HEADER + 5
        && u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize
            == frame.len() - HEADER
        && u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]])
            == crc32c::crc32c(&frame[HEADER..])
}

/// A record read back.
pub(crate) enum Replayed {
    Put {
        info: ObjectInfo,
        inline: bool,
        /// Where its frame starts, and its length.
        at: u64,
        len: u64,
    },
    Delete(String),
}

/// Reads the frames of `file` in order, passing each to `apply`; returns the length of the
/// whole frames (where a torn or corrupt tail begins).
pub(crate) fn replay(file: &File, mut apply: impl FnMut(Replayed)) -> io::Result<u64> {
    let size = file.metadata()?.len();
    let mut r = io::BufReader::with_capacity(1 << 20, file);
    let mut at = 0u64;
    let mut header = [0u8; HEADER];
    let mut payload = Vec::new();
    loop {
        if !read_full(&mut r, &mut header)? {
            return Ok(at);
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let left = size - at - HEADER as u64;
        if !(5..=MAX_FRAME).contains(&len) || len as u64 > left {
            return Ok(at);
        }
        payload.resize(len, 0);
        if !read_full(&mut r, &mut payload)? || crc32c::crc32c(&payload) != crc {
            return Ok(at);
        }
        let json_len = u32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]);
        let Some(json) = payload.get(5..5 + json_len as usize) else {
            return Ok(at);
        };
        let body_len = (len - 5 - json.len()) as u64;
        let frame_len = (HEADER + len) as u64;
        let record = match payload[0] {
            DELETE if body_len == 0 => Replayed::Delete(String::from_utf8_lossy(json).into_owned()),
            kind @ (PUT_INLINE | PUT_FILE) => {
                let Ok(info) = serde_json::from_slice::<ObjectInfo>(json) else {
                    return Ok(at);
                };
                let inline = kind == PUT_INLINE;
                if (inline && body_len != info.size) || (!inline && body_len != 0) {
                    return Ok(at);
                }
                Replayed::Put {
                    info,
                    inline,
                    at,
                    len: frame_len,
                }
            }
            _ => return Ok(at),
        };
        apply(record);
        at += frame_len;
    }
}

/// Fills `buf`; false at a clean or torn end of file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
