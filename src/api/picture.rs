//! `/admin/picture`: what this instance's picture holds, as a count and a digest per layer and
//! the change-log entry it has applied up to, for administrators checking that every instance
//! on one database holds what the database holds (see `service::picture`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;

/// The picture's digest per layer (administrators only).
#[utoipa::path(get, path = "/admin/picture", tag = "Access",
    responses(
        (status = 200, description = "Per layer `{layer, count, digest}` (digest: the wrapping sum over live features of the first 8 bytes of SHA-256 of `layer/id/version`, 16 hex digits) and `applied` (`{xid, seq}`, the change-log position)"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_picture(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let digest = state.service.picture_digest(&caller.viewer).await?;
    Ok(Json(digest).into_response())
}
