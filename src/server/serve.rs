//! The HTTP/1.1 serving loop behind [`super::start`], with bounded
//! connections, so that idle or slow clients cannot starve the others:
//!
//! * a client has `--header-timeout` to send a request's headers and
//!   `--body-timeout` to send its body;
//! * a kept-alive connection with no request in flight and no traffic for
//!   `--idle-timeout` is closed;
//! * at most `--max-connections` are served at once, fewer if the process's
//!   open-file limit would not hold that many.
//!
//! hyper's own `header_read_timeout` is not used: its timer starts whenever
//! hyper waits for a request head, right after an answer too, so it would
//! close every idle keep-alive connection at the header timeout. A watchdog
//! per connection times headers and idleness from what the connection does.

use super::config::Config;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::{service_fn, Service as _};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{sleep, sleep_until, Instant, Sleep};

/// File descriptors kept out of the connection cap, for the database,
/// outgoing calls (WeChat, code delivery) and logs.
const RESERVED_DESCRIPTORS: u64 = 64;

/// Pause after an accept error that is not about one connection (such as
/// EMFILE, which stays until a descriptor is freed): retrying at once would
/// spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accept errors are logged at most this often.
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The bounds on connections, from [`Config`].
#[derive(Debug)]
pub(super) struct Limits {
    header_timeout: Duration,
    body_timeout: Duration,
    idle_timeout: Duration,
    /// The effective cap: `--max-connections`, lowered to what the
    /// open-file limit holds.
    max_connections: usize,
}

impl Limits {
    /// Reads the settings, raises the open-file limit and logs the
    /// effective connection cap.
    pub(super) fn new(config: &Config) -> Self {
        let seconds = |s: u32| Duration::from_secs(u64::from(s));
        Self {
            header_timeout: seconds(config.header_timeout),
            body_timeout: seconds(config.body_timeout),
            idle_timeout: seconds(config.idle_timeout),
            max_connections: connection_cap(usize::try_from(config.max_connections).unwrap_or(usize::MAX)),
        }
    }
}

/// Raises the soft open-file limit to the hard one, as Go's runtime does
/// (the soft limit, often 1024, is kept low for programs using select(2),
/// which tokio does not), and returns how many of `wanted` connections fit
/// under it.
fn connection_cap(wanted: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => {
            // At least one, however low the limit: a server that accepts
            // nothing would look alive and serve no one.
            let fit = usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX).max(1);
            let cap = wanted.min(fit);
            tracing::info!(max_connections = cap, open_file_limit = soft, "connection cap");
            cap
        }
        Err(error) => {
            tracing::warn!(%error, max_connections = wanted, "the open-file limit could not be read or raised");
            wanted
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish and returns once every
/// connection has closed (idle ones are closed at once).
pub(super) async fn run(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    // At the cap the loop stops accepting instead of accepting and closing:
    // clients then wait in the kernel's backlog and are served in turn as
    // connections end (idle ones within the timeouts) rather than being
    // turned away, and no descriptor is spent on a connection only to close
    // it, when descriptors may be what is short.
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    // The watchdogs time headers (see above).
    http.header_read_timeout(None);
    let mut last_error_logged: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (slot, accepted) = tokio::select! {
            () = &mut shutdown => break,
            next = next_connection(&listener, &slots) => next,
        };
        match accepted {
            Ok((stream, peer)) => serve_connection(stream, peer, &router, &limits, &http, &graceful, slot),
            // The client left before it was accepted: nothing to wait for.
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                if last_error_logged.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                    tracing::error!(%error, "accept error; retrying");
                    last_error_logged = Some(Instant::now());
                }
                drop(slot);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    // New clients are refused from here on.
    drop(listener);
    graceful.shutdown().await;
}

/// A free connection slot, then the next connection.
async fn next_connection(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, io::Result<(TcpStream, SocketAddr)>) {
    let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
    (slot, listener.accept().await)
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection in a task of its own until it ends or its
/// watchdog expires, then frees its slot.
fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: &Router,
    limits: &Limits,
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    slot: OwnedSemaphorePermit,
) {
    let watch = Arc::new(Watch::new(limits));
    let app = TowerToHyperService::new(router.clone());
    let (requests, body_timeout) = (watch.clone(), limits.body_timeout);
    let service = service_fn(move |mut request: Request<Incoming>| {
        // What `into_make_service_with_connect_info` would add, read by the
        // per-address rate limits.
        request.extensions_mut().insert(ConnectInfo(peer));
        let deadline = Instant::now() + body_timeout;
        let in_flight = requests.request();
        let answer = app.call(request.map(|body| DeadlineBody { body, deadline, timer: None }));
        async move {
            let answer = answer.await;
            drop(in_flight);
            answer
        }
    });
    let io = TokioIo::new(Watched { stream, watch: watch.clone() });
    let connection = graceful.watch(http.serve_connection(io, service));
    tokio::spawn(async move {
        tokio::select! {
            served = connection => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                }
            }
            () = watch.expired() => tracing::debug!("closing a connection past its header or idle timeout"),
        }
        drop(slot);
    });
}

/// What a connection is doing, for its timeouts.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// A request head is awaited since this instant: the connection's
    /// opening, or the first byte of the next request on it.
    Head(Instant),
    /// Between requests, with no traffic since this instant.
    Idle(Instant),
    /// A request is in flight: its handler and its body's deadline bound it.
    /// (HTTP/1.1 serves one request at a time on a connection.)
    Busy,
}

/// The watchdog of one connection: its IO and its requests update the
/// phase, [`Watch::expired`] completes when the phase's timeout has passed.
struct Watch {
    phase: Mutex<Phase>,
    changed: Notify,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl Watch {
    fn new(limits: &Limits) -> Self {
        Self {
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        // Nothing panics while holding the lock; a poisoned phase is whole.
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes came in: on an idle connection, a request begins.
    fn read(&self) {
        let mut phase = self.phase();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// Bytes went out (an answer the client reads slowly): not idle yet.
    fn wrote(&self) {
        if let Phase::Idle(since) = &mut *self.phase() {
            // The deadline only moves later: the watchdog sees it when it
            // wakes, no need to wake it.
            *since = Instant::now();
        }
    }

    /// A request head was read; the connection is busy until the returned
    /// guard is dropped.
    fn request(self: &Arc<Self>) -> InFlight {
        *self.phase() = Phase::Busy;
        InFlight(self.clone())
    }

    fn deadline(&self) -> Option<Instant> {
        match *self.phase() {
            Phase::Head(since) => Some(since + self.header_timeout),
            Phase::Idle(since) => Some(since + self.idle_timeout),
            Phase::Busy => None,
        }
    }

    /// Completes once the connection has spent its phase's timeout in it.
    async fn expired(&self) {
        loop {
            match self.deadline() {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => tokio::select! {
                    () = sleep_until(deadline) => {}
                    () = self.changed.notified() => {}
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// A request in flight; when it is answered, the connection turns idle.
struct InFlight(Arc<Watch>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.phase() = Phase::Idle(Instant::now());
        self.0.changed.notify_one();
    }
}

/// A connection's socket, reporting its traffic to the connection's
/// [`Watch`].
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.watch.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Watched {
    fn wrote(&self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(written)) if *written > 0) {
            self.watch.wrote();
        }
    }
}

/// A request body that fails once its deadline has passed, however it
/// trickles in. (tower-http's `RequestBodyTimeout` restarts its timer at
/// every frame, so a byte every few seconds would hold a connection without
/// end.) Read through `ApiJson`, a late body is a 400.
struct DeadlineBody {
    body: Incoming,
    deadline: Instant,
    /// Started when the body first has to be waited for: a body that is
    /// already complete, or empty, needs no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(io::Error::other)));
        }
        let deadline = this.deadline;
        let timer = this.timer.get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| {
            Some(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive within the body timeout",
            )))
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
