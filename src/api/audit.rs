//! `/audit`: the audit log, for administrators only. Read-only: nothing in the API changes it.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use crate::domain::time::parse_datetime;
use crate::store::audit::AuditFilter;

/// Most audit records in one answer.
pub const MAX_AUDIT_LIMIT: i64 = 10_000;

/// Query parameters of `/audit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Records at or after this time (RFC 3339 or a date).
    pub since: Option<String>,
    /// Records by this account.
    pub user: Option<String>,
    /// Records of this action (`login`, `read`, `create`, `edit`, `delete`, `export`, `purge`, `denied`, …).
    pub action: Option<String>,
    /// At most this many, newest first (default 100, at most 10 000).
    pub limit: Option<String>,
}

/// Reads the audit log, newest first (administrators only).
#[utoipa::path(get, path = "/audit", tag = "Access", params(AuditQuery),
    responses(
        (status = 200, description = "The records"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_audit(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let since = match &q.since {
        Some(s) => Some(
            parse_datetime(s)
                .map_err(|e| ApiError::bad_param("since", e.message))
                .and_then(|span| {
                    time::OffsetDateTime::from_unix_timestamp(span.start)
                        .map_err(|_| ApiError::bad_param("since", "give a start time"))
                })?,
        ),
        None => None,
    };
    let limit = match &q.limit {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_AUDIT_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_param("limit", format!("'{l}': give 1 to {MAX_AUDIT_LIMIT}"))
            })?,
    };
    let filter = AuditFilter {
        since,
        until: None,
        actor: q.user.clone(),
        action: q.action.clone(),
        limit,
    };
    let rows = match state.service.read_audit(&caller.viewer, &filter).await {
        Ok(r) => r,
        Err(e) => return Err(audit_refusal(&state, &caller, "GET /audit", e).await),
    };
    let records: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": r.at.format(&Rfc3339).ok(),
                "actor": r.actor,
                "role": r.role,
                "action": r.action,
                "layer": r.layer,
                "features": r.features.as_deref().and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok()),
                "bbox": r.bbox,
                "address": r.address,
                "outcome": r.outcome,
                "detail": r.detail,
            })
        })
        .collect();
    Ok(axum::Json(json!({"records": records})).into_response())
}
