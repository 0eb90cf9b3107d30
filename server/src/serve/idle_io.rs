//! [`IdleIo`]: the per-connection clock that cuts a client which stops sending or reading, while
//! time the server itself spends on a request does not count against the client.
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::{Activity, Limits};

/// A connection whose reads and writes fail with `TimedOut` once they have waited on the client
/// for longer than the limit without progress. Each direction is timed on its own, from the
/// moment it started to wait; any byte moved in that direction starts it afresh.
pub(super) struct IdleIo<T> {
    inner: T,
    activity: Arc<Activity>,
    /// The limit until the client's first byte (the header timeout).
    first_byte: Duration,
    idle: Duration,
    started: bool,
    /// Bytes that must move in one idle period for it to count as progress.
    enough: u64,
    /// The request the read clock belongs to (`Activity::begun`).
    request: usize,
    read_waits_since: Option<Instant>,
    write_waits_since: Option<Instant>,
    read_moved: u64,
    written: u64,
    timer: Pin<Box<Sleep>>,
}

impl<T> IdleIo<T> {
    pub(super) fn new(inner: T, limits: Limits, activity: Arc<Activity>) -> IdleIo<T> {
        IdleIo {
            inner,
            activity,
            first_byte: limits.header_timeout,
            idle: limits.idle_timeout,
            started: false,
            enough: (u128::from(limits.min_transfer_rate) * limits.idle_timeout.as_millis() / 1000)
                .clamp(1, u64::MAX.into()) as u64,
            request: 0,
            read_waits_since: None,
            write_waits_since: None,
            read_moved: 0,
            written: 0,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// After a read returned `Pending`: start timing it if the wait is the client's.
    fn read_waits(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let request = self.activity.begun.load(Ordering::Acquire);
        if request != self.request {
            self.request = request;
            self.read_waits_since = None;
            self.read_moved = 0;
        }
        if self.activity.waits_on_client() {
            self.read_waits_since.get_or_insert_with(Instant::now);
        } else {
            self.read_waits_since = None;
            self.activity.reader.register(cx.waker());
            // Closes the race with a body that started waiting since the check above.
            if self.activity.waits_on_client() {
                self.read_waits_since = Some(Instant::now());
            }
        }
        self.check(cx)
    }

    /// After a write or flush returned `Pending`: the client is not taking bytes.
    fn write_waits(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        self.write_waits_since.get_or_insert_with(Instant::now);
        self.check(cx)
    }

    /// Fail if a wait has outlasted its limit; otherwise make sure the task wakes when it would.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let read_deadline = self.read_waits_since.map(|t| t + if self.started { self.idle } else { self.first_byte });
        let write_deadline = self.write_waits_since.map(|t| t + self.idle);
        let deadline = match (read_deadline, write_deadline) {
            (Some(r), Some(w)) => r.min(w),
            (Some(d), None) | (None, Some(d)) => d,
            (None, None) => return Ok(()),
        };
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(io::ErrorKind::TimedOut, "the client was idle for too long")),
            Poll::Pending => Ok(()),
        }
    }

    /// `n` bytes went out: once a waiting period has moved enough, the next one starts afresh.
    fn wrote(&mut self, n: usize) {
        self.written += n as u64;
        if self.write_waits_since.is_none() || self.written >= self.enough {
            self.write_waits_since = None;
            self.written = 0;
        }
    }

    /// `n` bytes came in (see [`IdleIo::wrote`]).
    fn came_in(&mut self, n: usize) {
        self.started = true;
        self.read_moved += n as u64;
        if self.read_waits_since.is_none() || self.read_moved >= self.enough {
            self.read_waits_since = None;
            self.read_moved = 0;
        }
    }

    /// A write's outcome: progress resets the write clock, a wait on the client is timed.
    fn after_write(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) => {
                self.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.write_waits(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.came_in(buf.filled().len() - before);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.read_waits(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => match this.write_waits(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            done => done,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => match this.write_waits(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            done => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
    use tokio::time::timeout;

    use super::*;
    use crate::serve::Serving;

    const LIMIT: Duration = Duration::from_millis(200);
    /// Generous: these run on busy machines, and only an upper bound matters.
    const WITHIN: Duration = Duration::from_secs(5);

    fn limits(header: Duration, idle: Duration) -> Limits {
        Limits { header_timeout: header, idle_timeout: idle, min_transfer_rate: 0, max_connections: 1 }
    }

    fn timed_out<T: std::fmt::Debug>(r: io::Result<T>) -> bool {
        matches!(r, Err(e) if e.kind() == io::ErrorKind::TimedOut)
    }

    #[tokio::test]
    async fn a_stalled_read_times_out() {
        let (mut client, server) = duplex(1024);
        let mut io = IdleIo::new(server, limits(LIMIT, LIMIT), Arc::default());
        client.write_all(b"x").await.unwrap();
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await.unwrap();
        let r = timeout(WITHIN, io.read(&mut b)).await.expect("the read fails by itself");
        assert!(timed_out(r));
    }

    #[tokio::test]
    async fn a_client_that_never_sends_is_cut_after_the_header_timeout() {
        let (_client, server) = duplex(1024);
        let mut io = IdleIo::new(server, limits(LIMIT, Duration::from_secs(3600)), Arc::default());
        let r = timeout(WITHIN, io.read(&mut [0u8; 1])).await.expect("the read fails by itself");
        assert!(timed_out(r));
    }

    #[tokio::test]
    async fn steady_progress_is_not_idleness() {
        let (mut client, server) = duplex(1024);
        let mut io = IdleIo::new(server, limits(LIMIT, LIMIT), Arc::default());
        let sender = tokio::spawn(async move {
            // Three times the limit in all, never more than a quarter of it apart.
            for _ in 0..12 {
                client.write_all(b"x").await.unwrap();
                tokio::time::sleep(LIMIT / 4).await;
            }
        });
        let mut b = [0u8; 12];
        io.read_exact(&mut b).await.expect("a client that keeps sending is not cut");
        sender.await.unwrap();
    }

    /// A byte now and then is not progress when the rate is below the minimum (slow POST); the
    /// same period with enough bytes is.
    #[tokio::test]
    async fn a_trickle_below_the_minimum_rate_is_cut() {
        let rate = Limits { min_transfer_rate: 1_000, ..limits(Duration::from_secs(1), Duration::from_secs(1)) };
        let (mut client, server) = duplex(64 * 1024);
        let mut io = IdleIo::new(server, rate, Arc::default());
        let trickle = tokio::spawn(async move {
            for _ in 0..100 {
                if client.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut b = [0u8; 100];
        let r = timeout(WITHIN, io.read_exact(&mut b)).await.expect("the trickle is cut by itself");
        assert!(timed_out(r));
        trickle.abort();

        let (mut client, server) = duplex(64 * 1024);
        let mut io = IdleIo::new(server, rate, Arc::default());
        let steady = tokio::spawn(async move {
            for _ in 0..30 {
                client.write_all(&[b'x'; 200]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut b = vec![0u8; 6_000];
        io.read_exact(&mut b).await.expect("2 kB/s over a 1 kB/s minimum is progress");
        steady.await.unwrap();
    }

    #[tokio::test]
    async fn the_servers_own_work_does_not_count() {
        let (mut client, server) = duplex(1024);
        let activity = Arc::new(Activity::default());
        let mut io = IdleIo::new(server, limits(LIMIT, LIMIT), activity.clone());
        client.write_all(b"x").await.unwrap();
        io.read_exact(&mut [0u8; 1]).await.unwrap();
        // A handler is at work: the read that waits meanwhile is not the client's idleness.
        let serving = Serving::begin(activity.clone());
        let reader = tokio::spawn(async move { io.read(&mut [0u8; 1]).await });
        tokio::time::sleep(LIMIT * 4).await;
        assert!(!reader.is_finished(), "the read ended while the server was busy");
        // Once the response is sent, waiting is the client's again and the timeout applies.
        drop(serving);
        let r = timeout(WITHIN, reader).await.expect("the read fails by itself").unwrap();
        assert!(timed_out(r));
        drop(client);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_cut() {
        let (_client, server) = duplex(64);
        let mut io = IdleIo::new(server, limits(LIMIT, LIMIT), Arc::default());
        let r = timeout(WITHIN, io.write_all(&[0u8; 4096])).await.expect("the write fails by itself");
        assert!(timed_out(r));
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_is_not_cut() {
        let (mut client, server) = duplex(64);
        let mut io = IdleIo::new(server, limits(LIMIT, LIMIT), Arc::default());
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut b = [0u8; 64];
            while got < 64 * 12 {
                tokio::time::sleep(LIMIT / 4).await;
                got += client.read(&mut b).await.unwrap();
            }
        });
        io.write_all(&[0u8; 64 * 12]).await.expect("a client that keeps reading is not cut");
        reader.await.unwrap();
    }
}
