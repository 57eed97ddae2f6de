//! The accept loop: HTTP/1.1 connections with bounded cost before any handler runs.
//!
//! `axum::serve` offers no limits on a connection that never finishes its request head, so a
//! few hundred half-open connections could be held for ever. Here every connection gets:
//!
//! - a **header-read timeout** (`header_read_timeout_secs`): a client that has not sent a whole
//!   request head in time is disconnected;
//! - a **head size cap** (hyper's read buffer, [`MAX_HEAD_BYTES`]): larger heads are cut off by
//!   hyper itself; heads under it but over the request-line and header limits are answered
//!   with problem+json by [`limit_heads`];
//! - a **connection limit** (`max_connections`): past it, new connections wait to be accepted.
//!
//! Shutdown is graceful: requests in flight finish, bounded by [`SHUTDOWN_GRACE`] so that
//! open event streams cannot hold the process.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::error::ApiError;

/// The longest request target (path and query) accepted, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) accepted in one request.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Hyper's read buffer: a request head larger than this is refused by hyper before any of our
/// code runs (it must exceed the two limits above so that those answer with problem+json).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How connections are limited.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A client must send a whole request head within this time.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Refuses a request whose target or headers are over the limits, with problem+json and before
/// anything is looked up, logged in full or audited.
pub async fn limit_heads(req: Request<axum::body::Body>, next: Next) -> Response {
    let uri_len = req.uri().to_string().len();
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "Request target too long",
            format!("the request target is {uri_len} bytes; at most {MAX_URI_BYTES} are accepted"),
        )
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers too large",
            format!(
                "the request headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are accepted"
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Serves `router` on `listener` until `shutdown` completes.
///
/// # Errors
/// Only if accepting fails in a way that is not about one connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Per-connection failures (the peer went away, too many open files for a
                    // moment): log, breathe, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(MAX_HEAD_BYTES);
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after {} s (event streams); closing",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(())
}
