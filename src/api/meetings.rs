//! `/meetings`: the chiefs' meetings' records (see `service::meetings`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::{JsonBody, StrictQuery, if_match};
use super::{AppState, base_url};
use crate::service::ServiceError;
use crate::service::edits::Expected;
use crate::service::meetings::Meeting;

/// Query parameters of `GET /meetings`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeetingsQuery {
    /// How many, latest first (1–1000, default 50).
    pub limit: Option<i64>,
}

/// Query parameters of `GET /meetings/agenda`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgendaQuery {
    /// The ISO week, `2026-W49` (default: this week).
    pub week: Option<String>,
    /// The window compared, in weeks (1–26, default 4).
    pub weeks: Option<u8>,
}

fn with_etag(status: StatusCode, m: &Meeting) -> Response {
    let mut res = (status, axum::Json(m)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", m.version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn meeting_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("no meeting {s}")))
}

/// The version a change is based on: `If-Match` is required, as for features.
fn expected(headers: &HeaderMap) -> Result<Option<i64>, ServiceError> {
    match if_match(headers) {
        Expected::Missing => Err(ServiceError::PreconditionRequired),
        Expected::Unreadable(t) => Err(ServiceError::PreconditionUnreadable(t)),
        Expected::Any => Err(ServiceError::PreconditionWildcard),
        Expected::Version(v) => Ok(Some(v)),
    }
}

/// Changes (`patch`) or closes (no patch) a meeting at the version `If-Match` names.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    patch: Option<serde_json::Value>,
    what: &str,
) -> Result<Response, ApiError> {
    let id = meeting_id(id)?;
    let close = patch.is_none();
    let result = match expected(headers) {
        Ok(v) => {
            state
                .service
                .change_meeting(&caller.viewer, id, patch, close, v)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(with_etag(StatusCode::OK, &m)),
        Err(e) => Err(audit_refusal(state, caller, what, e).await),
    }
}

/// The meetings' records the caller may read, latest first.
#[utoipa::path(get, path = "/meetings", tag = "Meetings", params(MeetingsQuery),
    responses(
        (status = 200, description = "{\"meetings\": [...]}"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not read measures exactly", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<MeetingsQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let max = crate::service::meetings::MAX_MEETINGS;
    if !(1..=max).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            format!("is {limit}; give a whole number from 1 to {max}"),
        ));
    }
    match state.service.meetings(&caller.viewer, limit).await {
        Ok(m) => Ok(axum::Json(json!({"meetings": m})).into_response()),
        Err(e) => Err(audit_refusal(&state, &caller, "GET /meetings", e).await),
    }
}

/// The latest meeting held (what "since the last meeting" starts from), or `null`.
#[utoipa::path(get, path = "/meetings/last", tag = "Meetings",
    responses(
        (status = 200, description = "{\"meeting\": … or null}"),
        (status = 403, description = "The role does not read measures exactly", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn last(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    match state.service.last_meeting(&caller.viewer).await {
        Ok(m) => Ok(axum::Json(json!({"meeting": m})).into_response()),
        Err(e) => Err(audit_refusal(&state, &caller, "GET /meetings/last", e).await),
    }
}

/// The weekly agenda, area by area in the order set on the areas (`agenda_order`): incidents per
/// category this week and in the window against the previous window and the same weeks last
/// year; what is new, changed or closed since the last meeting; the densest 250 m cells; measures
/// due or overdue; walks planned against logged; risk environments past review; cameras out of
/// order. Counts follow the role's grant (below exact: `null` where not shown, and
/// `counts_rule` says why); `not_shown` names the layers the role's grant leaves out.
#[utoipa::path(get, path = "/meetings/agenda", tag = "Meetings", params(AgendaQuery),
    responses(
        (status = 200, description = "The agenda"),
        (status = 400, description = "An unknown parameter, 'week' not an ISO week, or 'weeks' out of range", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not read measures exactly", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn agenda(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<AgendaQuery>,
) -> Result<Response, ApiError> {
    match state
        .service
        .agenda(&caller.viewer, q.week.as_deref(), q.weeks)
        .await
    {
        Ok(a) => Ok(axum::Json(a).into_response()),
        // Bad query parameters are a bad request, as for every other query.
        Err(ServiceError::Invalid(e)) => Err(ApiError::invalid(e)),
        Err(e) => Err(audit_refusal(&state, &caller, "GET /meetings/agenda", e).await),
    }
}

/// One meeting's record; `ETag` is its version.
#[utoipa::path(get, path = "/meetings/{meetingId}", tag = "Meetings",
    params(("meetingId" = String, Path, description = "The meeting's UUID")),
    responses(
        (status = 200, description = "The record"),
        (status = 404, description = "No such meeting", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = meeting_id(&id)?;
    match state.service.meeting(&caller.viewer, id).await {
        Ok(m) => Ok(with_etag(StatusCode::OK, &m)),
        Err(e) => Err(audit_refusal(&state, &caller, "GET /meetings/{id}", e).await),
    }
}

/// Records a meeting: `{"week": "2026-W49", "held_on": "2026-12-01", "organisations": […],
/// "minutes": "…", "decisions": [{"measure": id, "change": "created"}], "classification": …}`.
#[utoipa::path(post, path = "/meetings", tag = "Meetings",
    request_body(content = serde_json::Value, description = "The meeting's record", content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded; Location and ETag name it"),
        (status = 403, description = "The role may not hold meetings", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the rules; 'errors' names every field", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let m = match state.service.create_meeting(&caller.viewer, body).await {
        Ok(m) => m,
        Err(e) => return Err(audit_refusal(&state, &caller, "POST /meetings", e).await),
    };
    let mut res = with_etag(StatusCode::CREATED, &m);
    if let Ok(v) = format!("{}/meetings/{}", base_url(&state, &headers), m.id).parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Changes an open meeting's record (JSON merge patch); needs `If-Match`. A closed meeting
/// answers 409: record a correction instead.
#[utoipa::path(patch, path = "/meetings/{meetingId}", tag = "Meetings",
    params(("meetingId" = String, Path, description = "The meeting's UUID"), ("If-Match" = String, Header, description = "The ETag read")),
    request_body(content = serde_json::Value, description = "A merge patch of the record", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed; the new ETag"),
        (status = 409, description = "The meeting is closed", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    change(
        &state,
        &caller,
        &id,
        &headers,
        Some(body),
        "PATCH /meetings/{id}",
    )
    .await
}

/// Closes a meeting: its record never changes again. Needs `If-Match`.
#[utoipa::path(post, path = "/meetings/{meetingId}/close", tag = "Meetings",
    params(("meetingId" = String, Path, description = "The meeting's UUID"), ("If-Match" = String, Header, description = "The ETag read")),
    responses(
        (status = 200, description = "Closed"),
        (status = 409, description = "Already closed", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    change(
        &state,
        &caller,
        &id,
        &headers,
        None,
        "POST /meetings/{id}/close",
    )
    .await
}
