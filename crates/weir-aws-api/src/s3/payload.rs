//! A PUT's payload, checked as it passes: aws-chunked decoding with chunk signatures, the
//! `x-amz-content-sha256` of the raw body, `x-amz-decoded-content-length`, Content-MD5 and
//! every `x-amz-checksum-*` (header or trailer) Weir can compute. [`Check`] takes the body in
//! pieces, so PutObject and UploadPart stream their bodies to disk ([`stream_into`]) without
//! holding them; mapped buckets' requests check a collected body the same way ([`payload`]).

use std::collections::BTreeMap;
use std::io::{self, Read};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use md5::Digest as _;
use tokio::sync::mpsc;

use super::chunked::{ChunkError, Decoder};
use super::{S3Error, S3Request};

/// S3's largest single PUT (PutObject, or one part): 5 GiB.
pub const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

fn too_large() -> S3Error {
    S3Error::new(
        "EntityTooLarge",
        400,
        format!("Your proposed upload exceeds the maximum allowed size of {MAX_PUT_BYTES} bytes."),
    )
}

/// A checksum being computed over the decoded data.
enum Sum {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Sha256(sha2::Sha256),
    Sha1(sha1::Sha1),
    Crc64(u64),
}

impl Sum {
    fn for_header(name: &str) -> Option<Sum> {
        Some(match name {
            "x-amz-checksum-crc32" => Sum::Crc32(crc32fast::Hasher::new()),
            "x-amz-checksum-crc32c" => Sum::Crc32c(0),
            "x-amz-checksum-sha256" => Sum::Sha256(sha2::Sha256::new()),
            "x-amz-checksum-sha1" => Sum::Sha1(sha1::Sha1::new()),
            "x-amz-checksum-crc64nvme" => Sum::Crc64(0),
            _ => return None,
        })
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Sum::Crc32(h) => h.update(data),
            Sum::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            Sum::Sha256(h) => h.update(data),
            Sum::Sha1(h) => h.update(data),
            Sum::Crc64(c) => *c = super::crc64::crc64nvme_append(*c, data),
        }
    }

    /// Bytes of the algorithm's result.
    fn digest_len(&self) -> usize {
        match self {
            Sum::Crc32(_) | Sum::Crc32c(_) => 4,
            Sum::Crc64(_) => 8,
            Sum::Sha1(_) => 20,
            Sum::Sha256(_) => 32,
        }
    }

    /// S3's label for the algorithm and the base64 of the result.
    fn finish(self) -> (&'static str, String) {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        match self {
            Sum::Crc32(h) => ("CRC32", b64(&h.finalize().to_be_bytes())),
            Sum::Crc32c(c) => ("CRC32C", b64(&c.to_be_bytes())),
            Sum::Sha256(h) => ("SHA256", b64(&h.finalize())),
            Sum::Sha1(h) => ("SHA1", b64(&h.finalize())),
            Sum::Crc64(c) => ("CRC64NVME", b64(&c.to_be_bytes())),
        }
    }
}

/// The checks of one request's payload, fed the raw body piece by piece.
pub struct Check {
    decoder: Option<Decoder>,
    raw_sha256: Option<(sha2::Sha256, String)>,
    md5: Option<(md5::Md5, String)>,
    /// Checksums by header name: computed for those the request names in a header, in
    /// `x-amz-trailer` or as its SDK algorithm.
    sums: BTreeMap<String, Sum>,
    /// Checksums sent as headers.
    sent: BTreeMap<String, String>,
    /// The checksum trailers `x-amz-trailer` announces (lower-case names).
    declared: Vec<String>,
    decoded_len: u64,
    expected_len: Option<u64>,
    /// The decoded length the request states (`x-amz-decoded-content-length` or
    /// `Content-Length`).
    announced_len: Option<u64>,
    raw_len: u64,
}

impl Check {
    pub fn new(req: &S3Request) -> Result<Check, S3Error> {
        let chunked = req
            .header("content-encoding")
            .is_some_and(|e| e.contains("aws-chunked"))
            || req
                .header("x-amz-content-sha256")
                .is_some_and(|h| h.starts_with("STREAMING-"));
        let decoder = chunked.then(|| {
            let trailer = match req.header("x-amz-content-sha256") {
                Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") => Some(false),
                Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") => Some(true),
                _ => None,
            };
            let verify = match (trailer, &req.chain) {
                (Some(t), Some(chain)) => Some((chain.clone(), t)),
                _ => None,
            };
            Decoder::new(verify)
        });
        let raw_sha256 = req
            .header("x-amz-content-sha256")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|h| (sha2::Sha256::new(), h.to_ascii_lowercase()));
        let md5 = req
            .header("content-md5")
            .map(|m| (md5::Md5::new(), m.to_string()));
        let mut sums = BTreeMap::new();
        let mut sent = BTreeMap::new();
        for (name, value) in &req.headers {
            if let (Some(sum), Ok(v)) = (Sum::for_header(name.as_str()), value.to_str()) {
                sums.insert(name.as_str().to_string(), sum);
                sent.insert(name.as_str().to_string(), v.to_string());
            }
        }
        let trailer_names: Vec<String> = req
            .header("x-amz-trailer")
            .into_iter()
            .flat_map(|t| t.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| t.starts_with("x-amz-checksum-"))
            .collect();
        if !trailer_names.is_empty() && !sent.is_empty() {
            return Err(S3Error::new(
                "InvalidRequest",
                400,
                "Expecting a single x-amz-checksum- header",
            ));
        }
        let announced = trailer_names.iter().cloned().chain(
            req.header("x-amz-sdk-checksum-algorithm")
                .map(|a| format!("x-amz-checksum-{}", a.to_ascii_lowercase())),
        );
        for name in announced {
            if let Some(sum) = Sum::for_header(&name) {
                sums.entry(name).or_insert(sum);
            }
        }
        let expected_len = req
            .header("x-amz-decoded-content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|_| chunked);
        let declared = expected_len.or_else(|| {
            req.header("content-length")
                .and_then(|v| v.parse::<u64>().ok())
        });
        if declared.is_some_and(|n| n > MAX_PUT_BYTES) {
            return Err(too_large());
        }
        Ok(Check {
            decoder,
            raw_sha256,
            md5,
            sums,
            sent,
            declared: trailer_names,
            decoded_len: 0,
            expected_len,
            announced_len: declared,
            raw_len: 0,
        })
    }

    /// Takes the next piece of the raw body; the decoded data goes to `out`.
    pub fn feed(&mut self, raw: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), S3Error> {
        self.raw_len += raw.len() as u64;
        if let Some((h, _)) = &mut self.raw_sha256 {
            h.update(raw);
        }
        let (md5, sums, decoded_len) = (&mut self.md5, &mut self.sums, &mut self.decoded_len);
        let mut take = |data: &[u8]| {
            *decoded_len += data.len() as u64;
            if let Some((h, _)) = md5 {
                h.update(data);
            }
            for s in sums.values_mut() {
                s.update(data);
            }
            out(data);
        };
        match &mut self.decoder {
            Some(d) => d.feed(raw, &mut take).map_err(chunk_error)?,
            None => take(raw),
        }
        if self.decoded_len > MAX_PUT_BYTES || self.raw_len > 2 * MAX_PUT_BYTES {
            return Err(too_large());
        }
        if self.expected_len.is_some_and(|n| self.decoded_len > n) {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ));
        }
        Ok(())
    }

    /// The verdict once the body has ended, in S3's order: framing and chunk signatures, the
    /// payload hash, the decoded length, Content-MD5, then the checksums. Returns the checksum
    /// header to echo back.
    pub fn finish(self) -> Result<Option<(String, String)>, S3Error> {
        let trailers = match self.decoder {
            Some(d) => d.finish().map_err(chunk_error)?,
            None => BTreeMap::new(),
        };
        // The checksum trailers sent must be the ones `x-amz-trailer` announced.
        let mut trailed: Vec<&String> = trailers
            .keys()
            .filter(|k| k.starts_with("x-amz-checksum-"))
            .collect();
        let mut declared: Vec<&String> = self.declared.iter().collect();
        trailed.sort();
        declared.sort();
        if trailed != declared {
            return Err(S3Error::new(
                "MalformedTrailerError",
                400,
                "The request contained trailing data that was not well-formed or did not conform to our published schema.",
            ));
        }
        for name in trailed {
            let Some(size) = self.sums.get(name).map(Sum::digest_len) else {
                continue;
            };
            let decoded = trailers
                .get(name)
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok());
            if decoded.is_none_or(|d| d.len() != size) {
                return Err(S3Error::new(
                    "InvalidRequest",
                    400,
                    format!("Value for {name} trailing header is invalid."),
                ));
            }
        }
        if let Some((h, expected)) = self.raw_sha256 {
            if weir_sigv4::hex(&h.finalize()) != expected {
                return Err(S3Error::new(
                    "XAmzContentSHA256Mismatch",
                    400,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
        }
        if self.expected_len.is_some_and(|n| n != self.decoded_len) {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ));
        }
        if let Some((h, sent)) = self.md5 {
            let ours = base64::engine::general_purpose::STANDARD.encode(h.finalize());
            if ours != sent {
                return Err(S3Error::new(
                    "BadDigest",
                    400,
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        let mut echo = None;
        for (name, sum) in self.sums {
            let Some(value) = self
                .sent
                .get(&name)
                .or_else(|| trailers.get(&name))
                .cloned()
            else {
                continue;
            };
            let (label, ours) = sum.finish();
            if ours != value {
                return Err(S3Error::new(
                    "BadDigest",
                    400,
                    format!("The {label} you specified did not match the calculated checksum."),
                ));
            }
            echo = Some((name, value));
        }
        Ok(echo)
    }
}

fn chunk_error(e: ChunkError) -> S3Error {
    match e {
        ChunkError::Malformed => S3Error::new(
            "IncompleteBody",
            400,
            "The aws-chunked request body is malformed.",
        ),
        ChunkError::Signature => S3Error::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ),
    }
}

/// A collected request's payload, decoded and checked; also the checksum header to echo back.
pub fn payload(req: &S3Request) -> Result<(Bytes, Option<(String, String)>), S3Error> {
    let mut check = Check::new(req)?;
    let mut data = BytesMut::with_capacity(req.body.len());
    check.feed(&req.body, &mut |d| data.extend_from_slice(d))?;
    let echo = check.finish()?;
    Ok((data.freeze(), echo))
}

/// What travels to the writer: data, then `End` once the whole body passed every check.
enum Piece {
    Data(Bytes),
    End,
}

/// What the writer reads: the decoded body as it arrives. It ends only at an explicit `End`;
/// a channel closed without one (the request was refused, cancelled or dropped) is an error,
/// so the writer never commits a body that was not whole and checked.
pub struct ChannelReader {
    rx: mpsc::Receiver<Piece>,
    current: Bytes,
    ended: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(b)) => self.current = b,
                Some(Piece::End) => self.ended = true,
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the request body was refused or cut short",
                    ))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// How long an upload may send nothing before it is dropped (S3's RequestTimeout).
const IDLE_BODY: std::time::Duration = std::time::Duration::from_secs(60);

/// Pieces of decoded data handed to the writer at a time, and how many may wait: what one
/// upload holds in memory is about their product.
const PIECE: usize = 256 * 1024;
const PIECES_IN_FLIGHT: usize = 4;

/// Streams the request's body through [`Check`] into `write` (run on a blocking thread with a
/// reader of the decoded data). The reader ends only once the whole body passed every check,
/// so `write` commits nothing that was refused: a refused body makes the reader fail.
pub async fn stream_into<T: Send + 'static>(
    req: &S3Request,
    write: impl FnOnce(ChannelReader) -> Result<T, S3Error> + Send + 'static,
) -> Result<(T, Option<(String, String)>), S3Error> {
    let mut check = Check::new(req)?;
    let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || {
        write(ChannelReader {
            rx,
            current: Bytes::new(),
            ended: false,
        })
    });
    let incoming = req.take_stream();
    let verdict = match incoming {
        Some(body) => match pump(body, &mut check, &tx).await {
            // The writer stopped before the body ended: its error is the answer.
            Ok(true) => {
                drop(tx);
                let written = writer
                    .await
                    .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))??;
                return Ok((written, check.finish()?));
            }
            other => other.map(|_| ()),
        },
        None => {
            let mut pending = BytesMut::new();
            check
                .feed(&req.body, &mut |d| pending.extend_from_slice(d))
                .map(|()| pending.freeze())
                .and_then(|data| {
                    tx.try_send(Piece::Data(data))
                        .map_err(|_| S3Error::new("InternalError", 500, "the writer stopped"))
                })
        }
    };
    let verdict = verdict.and_then(|()| check.finish());
    if verdict.is_ok() {
        let _ = tx.send(Piece::End).await;
    }
    // Without `End` the writer fails and commits nothing.
    drop(tx);
    let written = writer
        .await
        .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))?;
    let echo = verdict?;
    Ok((written?, echo))
}

/// The request's decoded body when it states a length of at most `limit`: read whole and
/// checked here, without a blocking thread; `None` when it may be larger (stream it with
/// [`stream_into`]).
pub async fn collect_small(
    req: &S3Request,
    limit: u64,
) -> Result<Option<(Bytes, Option<(String, String)>)>, S3Error> {
    let mut check = Check::new(req)?;
    if check.announced_len.is_none_or(|n| n > limit) {
        return Ok(None);
    }
    let mut data = BytesMut::new();
    match req.take_stream() {
        Some(mut body) => {
            while let Some(raw) = next_frame(&mut body).await? {
                check.feed(&raw, &mut |d| data.extend_from_slice(d))?;
            }
        }
        None => check.feed(&req.body, &mut |d| data.extend_from_slice(d))?,
    }
    let echo = check.finish()?;
    Ok(Some((data.freeze(), echo)))
}

/// The next piece of a streamed body's data; `None` at its end. A body idle for
/// [`IDLE_BODY`] ends with S3's RequestTimeout.
async fn next_frame(body: &mut hyper::body::Incoming) -> Result<Option<Bytes>, S3Error> {
    loop {
        let frame = match tokio::time::timeout(IDLE_BODY, body.frame()).await {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(None),
            Err(_) => {
                return Err(S3Error::new(
                    "RequestTimeout",
                    400,
                    "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
                ))
            }
        };
        let frame = frame.map_err(|e| {
            S3Error::new(
                "IncompleteBody",
                400,
                format!("The request body ended early: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
}

/// Reads the body frame by frame into the check and on to the writer. Stops early with
/// `Ok(true)` when the writer has gone (its own error then says why).
async fn pump(
    mut body: hyper::body::Incoming,
    check: &mut Check,
    tx: &mpsc::Sender<Piece>,
) -> Result<bool, S3Error> {
    let mut pending = BytesMut::new();
    while let Some(data) = next_frame(&mut body).await? {
        check.feed(&data, &mut |d| pending.extend_from_slice(d))?;
        if pending.len() >= PIECE
            && tx
                .send(Piece::Data(pending.split().freeze()))
                .await
                .is_err()
        {
            return Ok(true);
        }
    }
    Ok(!pending.is_empty() && tx.send(Piece::Data(pending.freeze())).await.is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(pieces: Vec<Piece>) -> ChannelReader {
        let (tx, rx) = mpsc::channel(pieces.len().max(1));
        for p in pieces {
            assert!(tx.try_send(p).is_ok());
        }
        ChannelReader {
            rx,
            current: Bytes::new(),
            ended: false,
        }
    }

    #[test]
    fn a_body_ends_only_at_its_end_marker() {
        let mut whole = Vec::new();
        reader(vec![
            Piece::Data(Bytes::from_static(b"ab")),
            Piece::Data(Bytes::from_static(b"c")),
            Piece::End,
        ])
        .read_to_end(&mut whole)
        .expect("whole");
        assert_eq!(whole, b"abc");
        // The sender went away without `End` (refused, cancelled): the writer must fail.
        let mut cut = Vec::new();
        let e = reader(vec![Piece::Data(Bytes::from_static(b"ab"))])
            .read_to_end(&mut cut)
            .expect_err("cut short");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
