//! `aws-chunked` request bodies (the SDKs' streaming uploads): chunks of
//! `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a zero-size chunk, then trailing headers
//! (such as `x-amz-checksum-crc32:<base64>`) and an empty line. [`Decoder`] takes the body in
//! pieces as it arrives, hands the data on as it goes, and checks each chunk's signature at the
//! chunk's end, so a body of any size passes through a few kilobytes of state.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::auth::Chain;

/// Why a body was refused.
#[derive(Debug, PartialEq)]
pub enum ChunkError {
    Malformed,
    Signature,
}

/// Header and trailer lines longer than this are malformed.
const MAX_LINE: usize = 8 * 1024;
/// All trailer lines together, and what may follow the final empty line, stay under this.
const MAX_TRAILERS: usize = 16 * 1024;

enum State {
    /// Reading a chunk's `size;chunk-signature=…` line.
    Header,
    /// Inside a chunk's data.
    Data(usize),
    /// After a chunk's data: how many bytes of its CRLF have been seen.
    DataEnd(usize),
    Trailers,
    Done,
}

/// Signatures to check: the chain and whether a trailer signature is expected.
struct Verify {
    chain: Chain,
    previous: String,
    trailer: bool,
}

/// An aws-chunked body decoded incrementally.
pub struct Decoder {
    state: State,
    line: Vec<u8>,
    signature: Option<String>,
    hash: Sha256,
    verify: Option<Verify>,
    trailers: BTreeMap<String, String>,
    /// Bytes of trailers (and anything after them) seen.
    trailer_bytes: usize,
}

impl Decoder {
    /// `verify`: the request's signature chain, and whether the body ends with a signed
    /// trailer; `None` when chunk signatures are not checked.
    pub fn new(verify: Option<(Chain, bool)>) -> Decoder {
        Decoder {
            state: State::Header,
            line: Vec::new(),
            signature: None,
            hash: Sha256::new(),
            verify: verify.map(|(chain, trailer)| Verify {
                previous: chain.seed.clone(),
                chain,
                trailer,
            }),
            trailers: BTreeMap::new(),
            trailer_bytes: 0,
        }
    }

    /// Decodes the next piece of the body, handing the data to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), ChunkError> {
        while !input.is_empty() {
            match self.state {
                State::Header | State::Trailers => {
                    let Some(line) = self.take_line(&mut input)? else {
                        return Ok(());
                    };
                    if matches!(self.state, State::Header) {
                        self.header(&line)?;
                    } else {
                        self.trailer(&line)?;
                    }
                }
                State::Data(left) => {
                    let n = left.min(input.len());
                    self.hash.update(&input[..n]);
                    out(&input[..n]);
                    input = &input[n..];
                    self.state = State::Data(left - n);
                    if left == n {
                        self.end_chunk()?;
                        self.state = State::DataEnd(0);
                    }
                }
                State::DataEnd(seen) => {
                    if input[0] != b"\r\n"[seen] {
                        return Err(ChunkError::Malformed);
                    }
                    input = &input[1..];
                    self.state = if seen == 1 {
                        State::Header
                    } else {
                        State::DataEnd(1)
                    };
                }
                // A little after the final empty line is ignored; more is not a chunked body.
                State::Done => {
                    self.trailer_bytes += input.len();
                    if self.trailer_bytes > MAX_TRAILERS {
                        return Err(ChunkError::Malformed);
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The next CRLF-terminated line, once it is whole.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<String>, ChunkError> {
        let end = input.iter().position(|&b| b == b'\n');
        let (piece, rest) = match end {
            Some(i) => (&input[..=i], &input[i + 1..]),
            None => (*input, &input[input.len()..]),
        };
        self.line.extend_from_slice(piece);
        *input = rest;
        if self.line.len() > MAX_LINE {
            return Err(ChunkError::Malformed);
        }
        if end.is_none() {
            return Ok(None);
        }
        let line = std::mem::take(&mut self.line);
        let line = line.strip_suffix(b"\r\n").ok_or(ChunkError::Malformed)?;
        String::from_utf8(line.to_vec())
            .map(Some)
            .map_err(|_| ChunkError::Malformed)
    }

    fn header(&mut self, line: &str) -> Result<(), ChunkError> {
        let mut fields = line.split(';');
        let size = fields
            .next()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or(ChunkError::Malformed)?;
        self.signature = fields
            .find_map(|f| f.trim().strip_prefix("chunk-signature="))
            .map(str::to_string);
        if size == 0 {
            self.end_chunk()?;
            self.state = State::Trailers;
        } else {
            self.state = State::Data(size);
        }
        Ok(())
    }

    /// Checks the chunk just read against its signature.
    fn end_chunk(&mut self) -> Result<(), ChunkError> {
        let hash = std::mem::replace(&mut self.hash, Sha256::new()).finalize();
        let Some(v) = &mut self.verify else {
            return Ok(());
        };
        let sent = self.signature.take().ok_or(ChunkError::Signature)?;
        let ours = weir_sigv4::chunk_signature_of_hash(
            &v.chain.key,
            &v.chain.amz_date,
            &v.chain.scope,
            &v.previous,
            &weir_sigv4::hex(&hash),
        );
        if !weir_sigv4::constant_time_eq(ours.as_bytes(), sent.as_bytes()) {
            return Err(ChunkError::Signature);
        }
        v.previous = ours;
        Ok(())
    }

    fn trailer(&mut self, line: &str) -> Result<(), ChunkError> {
        self.trailer_bytes += line.len() + 2;
        if self.trailer_bytes > MAX_TRAILERS {
            return Err(ChunkError::Malformed);
        }
        if line.is_empty() {
            self.state = State::Done;
            return Ok(());
        }
        let (name, value) = line.split_once(':').ok_or(ChunkError::Malformed)?;
        self.trailers
            .insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        Ok(())
    }

    /// The trailing headers once the body has ended, with the trailer signature checked.
    pub fn finish(mut self) -> Result<BTreeMap<String, String>, ChunkError> {
        // A body may end right after its trailers without the final empty line.
        if matches!(self.state, State::Trailers) && !self.line.is_empty() {
            let line = String::from_utf8(std::mem::take(&mut self.line))
                .map_err(|_| ChunkError::Malformed)?;
            self.trailer(&line)?;
        }
        if !matches!(self.state, State::Trailers | State::Done) {
            return Err(ChunkError::Malformed);
        }
        if let Some(v) = &self.verify {
            if v.trailer {
                let sent = self
                    .trailers
                    .get("x-amz-trailer-signature")
                    .ok_or(ChunkError::Signature)?;
                let lines: String = self
                    .trailers
                    .iter()
                    .filter(|(k, _)| *k != "x-amz-trailer-signature")
                    .map(|(k, v)| format!("{k}:{v}\n"))
                    .collect();
                let ours = weir_sigv4::trailer_signature(
                    &v.chain.key,
                    &v.chain.amz_date,
                    &v.chain.scope,
                    &v.previous,
                    &lines,
                );
                if !weir_sigv4::constant_time_eq(ours.as_bytes(), sent.as_bytes()) {
                    return Err(ChunkError::Signature);
                }
            }
        }
        Ok(self.trailers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(
        body: &[u8],
        pieces: usize,
        verify: Option<(Chain, bool)>,
    ) -> Result<(Vec<u8>, BTreeMap<String, String>), ChunkError> {
        let mut d = Decoder::new(verify);
        let mut data = Vec::new();
        for piece in body.chunks(pieces.max(1)) {
            d.feed(piece, &mut |b| data.extend_from_slice(b))?;
        }
        Ok((data, d.finish()?))
    }

    #[test]
    fn signed_and_unsigned_chunks_with_trailer() {
        let body = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for pieces in [1, 3, 7, body.len()] {
            let (data, trailers) = decode(body, pieces, None).expect("decodes");
            assert_eq!(data, b"hello world");
            assert_eq!(
                trailers.get("x-amz-checksum-crc32").map(String::as_str),
                Some("DUoRhQ==")
            );
        }
        assert_eq!(
            decode(b"5\r\nhel", 2, None).err(),
            Some(ChunkError::Malformed)
        );
        assert_eq!(
            decode(b"zz\r\n", 2, None).err(),
            Some(ChunkError::Malformed)
        );
        assert_eq!(
            decode(b"2\r\nhiXX0\r\n\r\n", 2, None).err(),
            Some(ChunkError::Malformed)
        );
    }

    /// The documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example: 66,560 bytes of 'a' sent as
    /// chunks of 65,536 and 1,024 bytes and a final empty chunk.
    #[test]
    fn documented_streaming_signatures_verify() {
        let sigs = [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ];
        let mut body = Vec::new();
        for (size, sig) in [65536usize, 1024, 0].into_iter().zip(sigs) {
            body.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
            body.extend(std::iter::repeat_n(b'a', size));
            body.extend_from_slice(b"\r\n");
        }
        let chain = Chain {
            key: weir_sigv4::signing_key(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "20130524",
                "us-east-1",
                "s3",
            ),
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        };
        let (data, _) = decode(&body, 4000, Some((chain.clone(), false))).expect("verifies");
        assert_eq!(data.len(), 66560);
        body[100] = b'b';
        assert_eq!(
            decode(&body, 4000, Some((chain, false))).err(),
            Some(ChunkError::Signature)
        );
    }
}
