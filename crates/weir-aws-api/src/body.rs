//! Response bodies: a whole document, or pieces as they are produced (event-stream messages,
//! documents encoded as they are sent, large objects; sent chunked on HTTP/1.1, as DATA frames
//! on HTTP/2). A body may hold a share of the read budget: a whole body until it has been
//! handed to the connection, a piece until the next one is asked for — so bytes waiting for a
//! slow client count against the budget.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{mpsc, OwnedSemaphorePermit};

/// The slices a whole body holding a budget share is handed over in.
const SLICE: usize = 64 * 1024;

/// A piece of a streamed body, with the share of the read budget it holds until sent.
pub struct Piece {
    pub bytes: Bytes,
    pub held: Option<OwnedSemaphorePermit>,
}

impl From<Bytes> for Piece {
    fn from(bytes: Bytes) -> Piece {
        Piece { bytes, held: None }
    }
}

pub enum Body {
    /// A whole body, and the budget share it holds until sent.
    Full(Option<Bytes>, Option<OwnedSemaphorePermit>),
    /// Pieces, and the share of the piece last handed out.
    Channel(mpsc::Receiver<Piece>, Option<OwnedSemaphorePermit>),
}

impl Body {
    pub fn full(bytes: impl Into<Bytes>) -> Body {
        Body::Full(Some(bytes.into()), None)
    }

    pub fn channel(rx: mpsc::Receiver<Piece>) -> Body {
        Body::Channel(rx, None)
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b, held) => {
                // A body holding a budget share goes in slices, so what waits in the
                // connection's buffer stays small while the share covers the rest.
                let frame = match b {
                    Some(bytes) if held.is_some() && bytes.len() > SLICE => {
                        Some(bytes.split_to(SLICE))
                    }
                    _ => b.take(),
                };
                if b.is_none() {
                    *held = None;
                }
                Poll::Ready(frame.map(|b| Ok(Frame::data(b))))
            }
            Body::Channel(rx, held) => {
                // Asked for more: the piece before was taken by the connection.
                *held = None;
                rx.poll_recv(cx).map(|m| {
                    m.map(|p| {
                        *held = p.held;
                        Ok(Frame::data(p.bytes))
                    })
                })
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None, _))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b), _) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None, _) => SizeHint::with_exact(0),
            Body::Channel(..) => SizeHint::default(),
        }
    }
}
