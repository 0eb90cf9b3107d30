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
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::Config;

mod idle_io;
use idle_io::IdleIo;

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
