//! `/reports/lagesbild/{period}`: the lägesbild document's stored text (see
//! `service::reports`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::{JsonBody, if_match};
use crate::service::edits::Expected;
use crate::service::reports::ReportText;

fn with_etag(status: StatusCode, t: &ReportText) -> Response {
    let mut res = (status, axum::Json(t)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", t.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// A report period's text: `other_information` (headed sections) and `analysis`; `ETag` is
/// its version. 404 when none is stored (or it is above the caller's ceiling).
#[utoipa::path(get, path = "/reports/lagesbild/{period}", tag = "Meetings",
    params(("period" = String, Path, description = "The report period, e.g. 2026")),
    responses(
        (status = 200, description = "The text"),
        (status = 403, description = "The role does not read the meetings' records", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No text stored for the period", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_text(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
) -> Result<Response, ApiError> {
    crate::service::reports::check_period(&period).map_err(ApiError::invalid)?;
    match state.service.report_text(&caller.viewer, &period).await {
        Ok(Some(t)) => Ok(with_etag(StatusCode::OK, &t)),
        Ok(None) => Err(ApiError::not_found(format!(
            "no text stored for {period}; write it with PUT /reports/lagesbild/{period}"
        ))),
        Err(e) => Err(audit_refusal(&state, &caller, "GET /reports/lagesbild", e).await),
    }
}

/// Writes a report period's text: `{"other_information": [{"heading": …, "text": …}],
/// "analysis": …, "classification": …}`. A new text needs no `If-Match`; changing one needs
/// the `ETag` read. Free text passes the personal-data guard.
#[utoipa::path(put, path = "/reports/lagesbild/{period}", tag = "Meetings",
    params(("period" = String, Path, description = "The report period, e.g. 2026"), ("If-Match" = Option<String>, Header, description = "The ETag read (to change a stored text)")),
    request_body(content = serde_json::Value, description = "The text", content_type = "application/json"),
    responses(
        (status = 200, description = "Written; the new ETag"),
        (status = 403, description = "The role may not write it", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the rules; 'errors' names every field", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing for a stored text", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_text(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    crate::service::reports::check_period(&period).map_err(ApiError::invalid)?;
    let expected = match if_match(&headers) {
        Expected::Version(v) => Some(v),
        Expected::Missing => None,
        Expected::Any => {
            return Err(audit_refusal(
                &state,
                &caller,
                "PUT /reports/lagesbild",
                crate::service::ServiceError::PreconditionWildcard,
            )
            .await);
        }
        Expected::Unreadable(t) => {
            return Err(audit_refusal(
                &state,
                &caller,
                "PUT /reports/lagesbild",
                crate::service::ServiceError::PreconditionUnreadable(t),
            )
            .await);
        }
    };
    match state
        .service
        .put_report_text(&caller.viewer, &period, body, expected)
        .await
    {
        Ok(t) => Ok(with_etag(StatusCode::OK, &t)),
        Err(e) => Err(audit_refusal(&state, &caller, "PUT /reports/lagesbild", e).await),
    }
}
