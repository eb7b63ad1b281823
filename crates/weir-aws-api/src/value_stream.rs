//! Large response documents encoded as they are sent. A document bigger than
//! [`STREAM_ABOVE`] (a GetRecords answer carries up to 10 MB of records, as 13 MB of base64)
//! is written piece by piece into a bounded channel, consuming the document as it goes, so a
//! response holds its records plus a few pieces in flight instead of a whole second copy in
//! JSON or CBOR. The bytes are the same as [`crate::value::encode`]'s.

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::body::Piece;
use crate::value::{json_size_hint, to_cbor, write_json, write_json_str, Protocol, Value};

/// Documents whose JSON would exceed this are streamed.
pub const STREAM_ABOVE: usize = 1024 * 1024;
/// The size of the pieces sent, and how many may wait for the connection.
const PIECE: usize = 64 * 1024;
const PIECES_IN_FLIGHT: usize = 4;

/// Whether `v` is worth streaming.
pub fn is_large(v: &Value) -> bool {
    json_size_hint(v) > STREAM_ABOVE
}

/// Encodes `v` on a blocking thread into pieces; the receiver yields them in order. `held`
/// (a share of a memory budget) is given back once the document has been sent. A client that
/// takes nothing for [`crate::SEND_IDLE`] loses its connection, which ends this too.
pub fn stream(
    protocol: Protocol,
    v: Value,
    held: Option<tokio::sync::OwnedSemaphorePermit>,
) -> mpsc::Receiver<Piece> {
    let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut held = held;
        let mut w = Writer {
            out: Vec::with_capacity(PIECE * 2),
            send: |piece: Vec<u8>, last: bool| {
                // The last piece carries the share, given back once it is taken.
                let piece = Piece {
                    bytes: Bytes::from(piece),
                    held: if last { held.take() } else { None },
                };
                tx.blocking_send(piece).is_ok()
            },
            gone: false,
        };
        w.value(protocol, v);
        w.finish();
    });
    rx
}

struct Writer<F: FnMut(Vec<u8>, bool) -> bool> {
    out: Vec<u8>,
    send: F,
    /// The client went away: stop encoding.
    gone: bool,
}

impl<F: FnMut(Vec<u8>, bool) -> bool> Writer<F> {
    fn flush(&mut self) {
        if !self.out.is_empty() && !self.gone {
            let piece = std::mem::replace(&mut self.out, Vec::with_capacity(PIECE * 2));
            self.gone = !(self.send)(piece, false);
        }
    }

    /// Sends what is left as the last piece.
    fn finish(&mut self) {
        if !self.gone {
            let piece = std::mem::take(&mut self.out);
            self.gone = !(self.send)(piece, true);
        }
    }

    fn maybe_flush(&mut self) {
        if self.out.len() >= PIECE {
            self.flush();
        }
    }

    fn value(&mut self, protocol: Protocol, v: Value) {
        if self.gone {
            return;
        }
        match protocol {
            Protocol::Json => self.json(v),
            Protocol::Cbor => self.cbor(v),
        }
    }

    fn json(&mut self, v: Value) {
        match v {
            Value::List(items) => {
                self.out.push(b'[');
                for (i, item) in items.into_iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(Protocol::Json, item);
                    self.maybe_flush();
                }
                self.out.push(b']');
            }
            Value::Map(members) => {
                self.out.push(b'{');
                for (i, (k, item)) in members.into_iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    write_json_str(&mut self.out, &k);
                    self.out.push(b':');
                    self.value(Protocol::Json, item);
                    self.maybe_flush();
                }
                self.out.push(b'}');
            }
            leaf => write_json(&mut self.out, &leaf),
        }
    }

    fn cbor(&mut self, v: Value) {
        match v {
            Value::List(items) => {
                head(&mut self.out, 4, items.len() as u64);
                for item in items {
                    self.value(Protocol::Cbor, item);
                    self.maybe_flush();
                }
            }
            Value::Map(members) => {
                head(&mut self.out, 5, members.len() as u64);
                for (k, item) in members {
                    head(&mut self.out, 3, k.len() as u64);
                    self.out.extend_from_slice(k.as_bytes());
                    self.value(Protocol::Cbor, item);
                    self.maybe_flush();
                }
            }
            Value::Bytes(b) => {
                head(&mut self.out, 2, b.len() as u64);
                self.out.extend_from_slice(&b);
            }
            // Writing into a Vec cannot fail.
            leaf => {
                let _ = ciborium::into_writer(&to_cbor(&leaf), &mut self.out);
            }
        }
    }
}

/// A CBOR item head: major type and length, in the shortest form (as ciborium writes it).
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::encode;

    fn sample() -> Value {
        let record = |i: usize| {
            Value::map([
                ("SequenceNumber", Value::str(format!("{i:056}"))),
                (
                    "ApproximateArrivalTimestamp",
                    Value::Timestamp(1_700_000_000_123),
                ),
                (
                    "Data",
                    Value::Bytes(Bytes::from(vec![i as u8; 300 + i * 7])),
                ),
                ("PartitionKey", Value::str("k\"ey")),
                ("N", Value::Int(-(i as i128))),
                ("F", Value::Float(1.5)),
            ])
        };
        Value::map([
            ("Records", Value::List((0..400).map(record).collect())),
            ("NextShardIterator", Value::str("it")),
            ("MillisBehindLatest", Value::Int(0)),
        ])
    }

    fn pieces(protocol: Protocol, v: Value) -> Vec<u8> {
        let mut got = Vec::new();
        let mut n = 0;
        let mut w = Writer {
            out: Vec::new(),
            send: |p: Vec<u8>, _last: bool| {
                n += 1;
                got.extend_from_slice(&p);
                true
            },
            gone: false,
        };
        w.value(protocol, v);
        w.finish();
        assert!(n > 1, "sent in pieces");
        got
    }

    #[test]
    fn streamed_bytes_are_the_whole_encoding() {
        for protocol in [Protocol::Json, Protocol::Cbor] {
            let whole = encode(protocol, &sample());
            assert_eq!(pieces(protocol, sample()), whole, "{protocol:?}");
        }
    }
}
