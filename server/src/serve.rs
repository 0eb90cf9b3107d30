//! The accept loop, with the limits `axum::serve` lacks: a deadline for a request's headers, an
//! idle timeout for connections whose client stops sending or reading, and a cap on the
//! connections served at once. Without them a few thousand slow clients (slowloris, a stalled
//! upload) hold sockets, tasks and staging files for as long as they like.
//!
//! - Headers: hyper's HTTP/1 header read timeout, counted from the moment the server waits for a
//!   request head (so it also ends idle keep-alive connections); a connection must send its first
//!   byte within the same time.
//! - Idle: `IdleIo` fails a read or write that has waited on the client for the idle timeout
//!   without enough progress: at least `min_transfer_rate` bytes a second over the period, so a
//!   client cannot hold a connection by trickling a byte now and then (slow POST). Time the server
//!   itself spends on a request (a handler at work, a response body still being produced) is not
//!   the client's idleness and does not count; a download to a client that keeps reading at that
//!   rate is never cut. Each request starts a new period.
//! - HTTP/1.1 only (see `serve`).
//! - Connections: a semaphore permit per connection; when none is left the loop stops accepting
//!   and new clients wait in the kernel's accept queue until a connection closes.
//!
//! Written here rather than taken from a crate: `axum::serve` has none of these limits, and a
//! generic per-read timeout (`tokio-io-timeout`) cannot tell a client that stopped sending from a
//! handler that is still at work while hyper keeps a read open, so it would cut slow handlers.
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use futures::task::AtomicWaker;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use crate::config::Config;

/// The limits every connection is served under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request's head must arrive within this time (and a new connection's first byte).
    pub header_timeout: Duration,
    /// A read or write that waits this long on the client without progress fails.
    pub idle_timeout: Duration,
    /// Bytes a client must move per second of waiting, averaged over each idle period.
    pub min_transfer_rate: u64,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            min_transfer_rate: config.min_transfer_rate,
            max_connections: config.max_connections,
        }
    }
}

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, let the requests
/// in flight finish and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a proxy in front of Tutti ends,
    // and cleartext HTTP/2 lets a client keep a connection alive with pings and no request.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Warn once when the limit is reached, not for every client that then has to wait.
    let mut saturated = false;

    'serve: loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => {
                saturated = false;
                permit
            }
            Err(_) => {
                if !saturated {
                    saturated = true;
                    tracing::warn!(
                        limit = limits.max_connections,
                        "every connection slot is in use; new clients wait until one closes (TUTTI_MAX_CONNECTIONS)"
                    );
                }
                tokio::select! {
                    biased;
                    _ = &mut shutdown => break 'serve,
                    permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                }
            }
        };
        let (stream, peer) = loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break 'serve,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => break accepted,
                    // The client gave up before we accepted it: nothing to do.
                    Err(e) if is_connection_error(&e) => {}
                    // Out of file descriptors or similar: wait for some to close rather than spin.
                    Err(e) => {
                        tracing::error!(error = %e, "cannot accept connections; retrying in a second");
                        tokio::select! {
                            biased;
                            _ = &mut shutdown => break 'serve,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                },
            }
        };
        // Small responses go out at once instead of waiting for more data (Nagle).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(IdleIo::new(stream, limits, activity.clone()));
        let service = hyper::service::service_fn({
            let router = router.clone();
            move |req| handle(router.clone(), activity.clone(), req)
        });
        let connection = graceful.watch(builder.serve_connection_with_upgrades(io, service).into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            // The socket is closed by now; only then is its slot free again.
            drop(permit);
        });
    }

    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Errors that concern one client only (it hung up before it was accepted).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// One request: the router, with its bodies watched so [`IdleIo`] can tell waiting on the client
/// from waiting on the server.
fn handle(
    router: Router,
    activity: Arc<Activity>,
    req: Request<Incoming>,
) -> impl Future<Output = Result<Response<Serving>, Infallible>> + Send + 'static {
    let serving = Serving::begin(activity.clone());
    let req = req.map(|body| Watched { body, activity, waiting: false });
    async move {
        let res = router.oneshot(req).await?;
        Ok(res.map(|body| {
            let mut serving = serving;
            serving.body = body;
            serving
        }))
    }
}

/// What the requests of one connection are doing, shared by its bodies and its [`IdleIo`].
#[derive(Default)]
struct Activity {
    /// Requests whose handler runs or whose response body is still being sent.
    serving: AtomicUsize,
    /// Requests begun on the connection so far: a new one starts a new idle period.
    begun: AtomicUsize,
    /// Request bodies a handler is waiting for bytes of.
    awaiting_body: AtomicUsize,
    /// The connection's reader, woken when waiting starts to count (HTTP/2 handlers run in tasks
    /// of their own, so the connection task would not notice otherwise).
    reader: AtomicWaker,
}

impl Activity {
    /// Whether a read that waits now waits on the client: between requests, or while a handler
    /// waits for the request body. Otherwise the server is busy and the client has nothing to say.
    fn waits_on_client(&self) -> bool {
        self.serving.load(Ordering::Acquire) == 0 || self.awaiting_body.load(Ordering::Acquire) > 0
    }
}

/// A response body that marks its request as being served until it is sent (or dropped).
struct Serving {
    body: Body,
    activity: Arc<Activity>,
}

impl Serving {
    fn begin(activity: Arc<Activity>) -> Serving {
        activity.serving.fetch_add(1, Ordering::AcqRel);
        activity.begun.fetch_add(1, Ordering::AcqRel);
        Serving { body: Body::empty(), activity }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if self.activity.serving.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.activity.reader.wake();
        }
    }
}

impl http_body::Body for Serving {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that counts itself as awaited while its reader waits for bytes.
struct Watched {
    body: Incoming,
    activity: Arc<Activity>,
    waiting: bool,
}

impl Watched {
    fn set_waiting(&mut self, waiting: bool) {
        if waiting == self.waiting {
            return;
        }
        self.waiting = waiting;
        if waiting {
            if self.activity.awaiting_body.fetch_add(1, Ordering::AcqRel) == 0 {
                self.activity.reader.wake();
            }
        } else {
            self.activity.awaiting_body.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.set_waiting(false);
    }
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        self.set_waiting(frame.is_pending());
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection whose reads and writes fail with `TimedOut` once they have waited on the client
/// for longer than the limit without progress. Each direction is timed on its own, from the
/// moment it started to wait; any byte moved in that direction starts it afresh.
struct IdleIo<T> {
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
    fn new(inner: T, limits: Limits, activity: Arc<Activity>) -> IdleIo<T> {
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
