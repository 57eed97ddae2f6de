//! While the database cannot be reached (see [`crate::service::availability`]), a request that
//! would change something is answered 503 at once, with `Retry-After`, rather than after
//! waiting for a connection that will not come. Reads go on from the picture.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// Refuses writes (any method but GET, HEAD and OPTIONS) with 503 while the last health probe
/// found the database unreachable.
pub async fn writes_wait_for_the_database(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !reads && state.service.database_down() {
        return ApiError::unavailable("the last health probe found the database unreachable")
            .into_response();
    }
    next.run(req).await
}
