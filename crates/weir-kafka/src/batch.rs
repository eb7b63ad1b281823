//! Kafka record batches (magic 2) read and written by Weir itself: every count and length is
//! checked against the bytes that are there before anything is sized by it, the CRC-32C is
//! verified, and decompression (gzip, snappy raw or xerial-framed, lz4 frames, zstd) stops at a
//! bound instead of inflating whatever a client claims.

use std::io::Read;

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// What a batch failed on, mapped to Kafka's error codes by the produce handler.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BatchError {
    #[error("corrupt batch: {0}")]
    Corrupt(String),
    #[error("batch magic {0} (only 2 is served)")]
    Magic(i8),
    #[error("compression codec {0}")]
    Codec(i16),
    #[error("a batch inflating past {0} bytes")]
    TooLarge(usize),
    #[error("invalid batch: {0}")]
    Invalid(String),
}

/// One produced record.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(Bytes, Option<Bytes>)>,
}

/// One batch's header fields and records.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The batch's bytes on the wire (what `max.message.bytes` bounds).
    pub size: usize,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records: Vec<Rec>,
}

/// Bytes from the start of a batch to its first record.
const HEADER: usize = 61;
/// Bytes of the batch counted by its CRC start at the attributes.
const CRC_START: usize = 21;

fn corrupt(what: impl Into<String>) -> BatchError {
    BatchError::Corrupt(what.into())
}

fn take(buf: &mut Bytes, n: usize) -> Result<Bytes, BatchError> {
    if n > buf.len() {
        return Err(corrupt(format!("{n} bytes wanted, {} left", buf.len())));
    }
    Ok(buf.split_to(n))
}

fn varlong(buf: &mut Bytes) -> Result<i64, BatchError> {
    let mut raw = 0u64;
    for shift in (0..70).step_by(7) {
        if !buf.has_remaining() {
            return Err(corrupt("a varint cut short"));
        }
        let b = buf.get_u8();
        raw |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((raw >> 1) as i64 ^ -((raw & 1) as i64));
        }
    }
    Err(corrupt("a varint longer than 10 bytes"))
}

fn varint(buf: &mut Bytes) -> Result<i32, BatchError> {
    i32::try_from(varlong(buf)?).map_err(|_| corrupt("a varint out of range"))
}

/// A length-prefixed field; −1 is null.
fn nullable(buf: &mut Bytes) -> Result<Option<Bytes>, BatchError> {
    match varint(buf)? {
        -1 => Ok(None),
        n if n < 0 => Err(corrupt(format!("a length of {n}"))),
        n => take(buf, n as usize).map(Some),
    }
}

/// Every batch of a produce request's partition data; `max` bounds each batch's records once
/// decompressed.
pub fn decode_all(mut data: Bytes, max: usize) -> Result<Vec<Batch>, BatchError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 17 {
            return Err(corrupt("a batch header cut short"));
        }
        let length = i32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        if length < (HEADER - 12) as i32 {
            return Err(corrupt(format!("a batch length of {length}")));
        }
        let magic = data[16] as i8;
        if magic != 2 {
            return Err(BatchError::Magic(magic));
        }
        let batch = take(&mut data, 12 + length as usize)?;
        out.push(decode(batch, max)?);
    }
    Ok(out)
}

fn decode(batch: Bytes, max: usize) -> Result<Batch, BatchError> {
    let crc = u32::from_be_bytes([batch[17], batch[18], batch[19], batch[20]]);
    if crc32c::crc32c(&batch[CRC_START..]) != crc {
        return Err(corrupt("CRC mismatch"));
    }
    let mut b = batch.slice(CRC_START..);
    let attributes = b.get_i16();
    let last_offset_delta = b.get_i32();
    let base_timestamp = b.get_i64();
    let max_timestamp = b.get_i64();
    let producer_id = b.get_i64();
    let producer_epoch = b.get_i16();
    let base_sequence = b.get_i32();
    let count = b.get_i32();
    let mut body = match attributes & 0x7 {
        0 => b,
        codec => inflate(codec, b, max)?,
    };
    // Each record takes at least seven bytes: a larger count is a lie.
    if count < 0 || count as usize > body.len() {
        return Err(corrupt(format!("{count} records in {} bytes", body.len())));
    }
    if last_offset_delta != count - 1 {
        return Err(BatchError::Invalid(format!(
            "Inconsistent batch offset range ({last_offset_delta}) and record count ({count})"
        )));
    }
    let mut records = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let length = varint(&mut body)?;
        if length < 0 {
            return Err(corrupt(format!("a record length of {length}")));
        }
        let mut r = take(&mut body, length as usize)?;
        take(&mut r, 1)?; // attributes (unused)
        let timestamp = base_timestamp.wrapping_add(varlong(&mut r)?);
        varint(&mut r)?; // offset delta: offsets are the broker's
        let key = nullable(&mut r)?;
        let value = nullable(&mut r)?;
        let n = varint(&mut r)?;
        if n < 0 || n as usize > r.len() {
            return Err(corrupt(format!("{n} headers in {} bytes", r.len())));
        }
        let mut headers = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let name = nullable(&mut r)?.ok_or_else(|| corrupt("a null header key"))?;
            headers.push((name, nullable(&mut r)?));
        }
        records.push(Rec {
            timestamp,
            key,
            value,
            headers,
        });
    }
    if !body.is_empty() {
        return Err(corrupt("bytes after the last record"));
    }
    Ok(Batch {
        size: batch.len(),
        attributes,
        last_offset_delta,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        records,
    })
}

/// Reads at most `max` bytes from a decompressing reader.
fn bounded(reader: impl Read, max: usize) -> Result<Bytes, BatchError> {
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("decompression: {e}")))?;
    if out.len() > max {
        return Err(BatchError::TooLarge(max));
    }
    Ok(out.into())
}

/// xerial's snappy framing (snappy-java's stream format, Kafka's default for snappy).
const XERIAL: &[u8] = b"\x82SNAPPY\0";

fn inflate(codec: i16, data: Bytes, max: usize) -> Result<Bytes, BatchError> {
    match codec {
        1 => bounded(flate2::read::MultiGzDecoder::new(&data[..]), max),
        2 if data.starts_with(XERIAL) => {
            let mut rest = data.slice(16.min(data.len())..);
            let mut out = BytesMut::new();
            while !rest.is_empty() {
                if rest.len() < 4 {
                    return Err(corrupt("a snappy block length cut short"));
                }
                let n = rest.get_u32() as usize;
                let block = take(&mut rest, n)?;
                out.extend_from_slice(&unsnappy(&block, max - out.len())?);
            }
            Ok(out.freeze())
        }
        2 => unsnappy(&data, max).map(Bytes::from),
        3 => bounded(lz4_flex::frame::FrameDecoder::new(&data[..]), max),
        4 => bounded(
            zstd::stream::read::Decoder::new(&data[..])
                .map_err(|e| corrupt(format!("zstd: {e}")))?,
            max,
        ),
        other => Err(BatchError::Codec(other)),
    }
}

fn unsnappy(block: &[u8], max: usize) -> Result<Vec<u8>, BatchError> {
    let n = snap::raw::decompress_len(block).map_err(|e| corrupt(format!("snappy: {e}")))?;
    if n > max {
        return Err(BatchError::TooLarge(max));
    }
    snap::raw::Decoder::new()
        .decompress_vec(block)
        .map_err(|e| corrupt(format!("snappy: {e}")))
}

/// A record to write into a fetched batch.
pub struct OutRecord<'a> {
    /// Its offset less the batch's base (gaps where compaction removed records).
    pub offset_delta: i32,
    pub timestamp: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [(Bytes, Option<Bytes>)],
}

fn put_varlong(buf: &mut BytesMut, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        buf.put_u8((z as u8) | 0x80);
        z >>= 7;
    }
    buf.put_u8(z as u8);
}

/// Bytes `put_varlong` writes for `v`.
fn varlong_len(v: i64) -> usize {
    let z = ((v << 1) ^ (v >> 63)) as u64;
    (64 - z.leading_zeros() as usize).max(1).div_ceil(7)
}

/// Bytes `put_nullable` writes for `v`.
fn nullable_len(v: Option<&[u8]>) -> usize {
    match v {
        None => 1,
        Some(b) => varlong_len(b.len() as i64) + b.len(),
    }
}

/// Bytes of a record in a batch, its length prefix not counted.
fn record_len(r: &OutRecord, base_ts: i64) -> usize {
    1 + varlong_len(r.timestamp.wrapping_sub(base_ts))
        + varlong_len(r.offset_delta as i64)
        + nullable_len(r.key)
        + nullable_len(r.value)
        + varlong_len(r.headers.len() as i64)
        + r.headers
            .iter()
            .map(|(k, v)| nullable_len(Some(k)) + nullable_len(v.as_deref()))
            .sum::<usize>()
}

/// Bytes `encode` writes for these records (an upper bound is not needed: it is exact).
pub fn encoded_len(records: &[OutRecord]) -> usize {
    let Some(first) = records.first() else {
        return 0;
    };
    61 + records
        .iter()
        .map(|r| {
            let n = record_len(r, first.timestamp);
            varlong_len(n as i64) + n
        })
        .sum::<usize>()
}

fn put_nullable(buf: &mut BytesMut, v: Option<&[u8]>) {
    match v {
        None => put_varlong(buf, -1),
        Some(b) => {
            put_varlong(buf, b.len() as i64);
            buf.put_slice(b);
        }
    }
}

/// One uncompressed batch of records at offsets from `base` on. `log_append` marks the
/// timestamps as the broker's (LogAppendTime), as Kafka does for a topic so configured.
pub fn encode(out: &mut BytesMut, base: i64, records: &[OutRecord], log_append: bool) {
    let Some(first) = records.first() else {
        return;
    };
    let start = out.len();
    let base_ts = first.timestamp;
    let max_ts = records.iter().map(|r| r.timestamp).max().unwrap_or(base_ts);
    out.put_i64(base);
    out.put_i32(0); // length, below
    out.put_i32(0); // partition leader epoch
    out.put_i8(2);
    out.put_u32(0); // CRC, below
    out.put_i16(if log_append { 0x08 } else { 0 });
    out.put_i32(records.last().map_or(0, |r| r.offset_delta));
    out.put_i64(base_ts);
    out.put_i64(max_ts);
    out.put_i64(-1);
    out.put_i16(-1);
    out.put_i32(-1);
    out.put_i32(records.len() as i32);
    // Each record written once, straight into the batch, behind its length.
    for r in records {
        put_varlong(out, record_len(r, base_ts) as i64);
        out.put_u8(0);
        put_varlong(out, r.timestamp.wrapping_sub(base_ts));
        put_varlong(out, r.offset_delta as i64);
        put_nullable(out, r.key);
        put_nullable(out, r.value);
        put_varlong(out, r.headers.len() as i64);
        for (k, v) in r.headers {
            put_nullable(out, Some(k));
            put_nullable(out, v.as_deref());
        }
    }
    let length = (out.len() - start - 12) as i32;
    out[start + 8..start + 12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c::crc32c(&out[start + CRC_START..]);
    out[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_records(headers: &[(Bytes, Option<Bytes>)]) -> [OutRecord<'_>; 2] {
        [
            OutRecord {
                offset_delta: 0,
                timestamp: 1_000,
                key: None,
                value: Some(b"one"),
                headers,
            },
            OutRecord {
                offset_delta: 1,
                timestamp: 1_007,
                key: Some(b""),
                value: None,
                headers: &[],
            },
        ]
    }

    fn sample() -> Bytes {
        let headers = vec![(Bytes::from_static(b"h"), Some(Bytes::from_static(b"v")))];
        let mut out = BytesMut::new();
        encode(&mut out, 5, &sample_records(&headers), true);
        out.freeze()
    }

    #[test]
    fn the_encoded_length_is_exact() {
        let b = sample();
        let headers = vec![(Bytes::from_static(b"h"), Some(Bytes::from_static(b"v")))];
        let recs = sample_records(&headers);
        assert_eq!(encoded_len(&recs), b.len());
        for v in [0i64, 1, -1, 63, 64, -65, 300, i64::MAX, i64::MIN] {
            let mut buf = BytesMut::new();
            put_varlong(&mut buf, v);
            assert_eq!(varlong_len(v), buf.len(), "{v}");
        }
    }

    #[test]
    fn a_batch_written_reads_back() {
        let got = decode_all(sample(), 1 << 20).unwrap();
        assert_eq!(got.len(), 1);
        let b = &got[0];
        assert_eq!(
            (b.attributes, b.last_offset_delta, b.max_timestamp),
            (8, 1, 1_007)
        );
        assert_eq!(b.records[0].key, None);
        assert_eq!(b.records[0].value.as_deref(), Some(&b"one"[..]));
        assert_eq!(b.records[0].headers[0].0, Bytes::from_static(b"h"));
        assert_eq!(b.records[1].key.as_deref(), Some(&b""[..]));
        assert_eq!(
            (b.records[1].value.clone(), b.records[1].timestamp),
            (None, 1_007)
        );
    }

    #[test]
    fn damage_is_refused_not_sized() {
        let good = sample();
        // A flipped byte fails the CRC.
        let mut bad = good.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            decode_all(bad.into(), 1 << 20),
            Err(corrupt("CRC mismatch"))
        );
        // A record count of two billion in a small batch (CRC made right again).
        let mut bad = good.to_vec();
        bad[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = crc32c::crc32c(&bad[CRC_START..]);
        bad[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            decode_all(bad.into(), 1 << 20),
            Err(BatchError::Corrupt(_))
        ));
        // A length running past the end.
        let mut bad = good.to_vec();
        bad[8..12].copy_from_slice(&1_000_000i32.to_be_bytes());
        assert!(decode_all(bad.into(), 1 << 20).is_err());
        // Old message formats.
        let mut bad = good.to_vec();
        bad[16] = 1;
        assert_eq!(decode_all(bad.into(), 1 << 20), Err(BatchError::Magic(1)));
    }

    #[test]
    fn inflation_stops_at_the_bound() {
        let big = vec![b'a'; 100_000];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &big).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            inflate(1, gz.clone().into(), 1_000),
            Err(BatchError::TooLarge(1_000))
        );
        assert_eq!(inflate(1, gz.into(), 200_000).unwrap().len(), 100_000);
        let raw = snap::raw::Encoder::new().compress_vec(&big).unwrap();
        assert_eq!(
            inflate(2, raw.into(), 1_000),
            Err(BatchError::TooLarge(1_000))
        );
        let lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        let mut lz = lz;
        std::io::Write::write_all(&mut lz, &big).unwrap();
        let lz = lz.finish().unwrap();
        assert_eq!(inflate(3, lz.into(), 200_000).unwrap().len(), 100_000);
        let zs = zstd::encode_all(&big[..], 1).unwrap();
        assert_eq!(
            inflate(4, zs.into(), 1_000),
            Err(BatchError::TooLarge(1_000))
        );
    }
}
