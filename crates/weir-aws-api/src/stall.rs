//! A connection that stops taking what is written to it is closed: [`Stalled`] wraps a
//! connection's stream and fails a write that has made no progress for [`crate::SEND_IDLE`].
//! Closing it drops the answer being sent, so whatever that answer holds (its share of the read
//! budget, a connection slot) comes back — a client that stops reading cannot keep them. A slow
//! client that keeps taking bytes is never cut off.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Sleep};

pub struct Stalled<S> {
    inner: S,
    /// Running while a write is pending; reset by any progress.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> Stalled<S> {
    pub fn new(inner: S) -> Stalled<S> {
        Stalled {
            inner,
            deadline: None,
        }
    }

    /// Counts a pending write; true once the stall has lasted too long.
    fn stalled_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(sleep(crate::SEND_IDLE)));
        deadline.as_mut().poll(cx).is_ready()
    }

    fn on_write<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match r {
            Poll::Pending if self.stalled_too_long(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took nothing of the answer for too long",
            ))),
            Poll::Pending => Poll::Pending,
            done => {
                self.deadline = None;
                done
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stalled<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stalled<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A peer that reads nothing: the write fails once SEND_IDLE has passed (time paused and
    /// advanced by tokio, so the test does not wait).
    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_takes_fails_after_the_idle_time() {
        let (near, _far) = tokio::io::duplex(1024);
        let mut conn = Stalled::new(near);
        let started = tokio::time::Instant::now();
        let err = conn
            .write_all(&[0u8; 4096])
            .await
            .expect_err("a stalled write fails");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= crate::SEND_IDLE);
    }

    /// A slow peer that keeps taking bytes is never cut off.
    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_keeps_its_connection() {
        use tokio::io::AsyncReadExt;
        let (near, mut far) = tokio::io::duplex(1024);
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 512];
            while got < 8192 {
                tokio::time::sleep(crate::SEND_IDLE / 2).await;
                got += far.read(&mut buf).await.expect("read");
            }
            got
        });
        let mut conn = Stalled::new(near);
        conn.write_all(&[1u8; 8192]).await.expect("slow but steady");
        drop(conn);
        assert_eq!(reader.await.expect("reader"), 8192);
    }
}
