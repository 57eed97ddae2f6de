//! `GET /exports/briefing.{pdf,png}`: HTTP to the briefing use case ([`crate::briefing`]) and
//! back.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use crate::briefing::request::{BriefingError, BriefingQuery, make_briefing};

/// A briefing map of the caller's picture: `briefing.pdf` (vector, fonts embedded) or
/// `briefing.png` (150 or 300 dpi), one page with map, legend, scale bar, north arrow, SWEREF 99
/// TM ticks, classification banner and a summary per area.
#[utoipa::path(get, path = "/exports/{file}", tag = "Data",
    params(("file" = String, Path, description = "briefing.pdf or briefing.png"), BriefingQuery),
    responses(
        (status = 200, description = "The PDF or PNG"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such area or export", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_briefing(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    StrictQuery(q): StrictQuery<BriefingQuery>,
) -> Result<Response, ApiError> {
    let format = match file.as_str() {
        "briefing.pdf" => "pdf",
        "briefing.png" => "png",
        other => {
            return Err(ApiError::not_found(format!(
                "no export '{other}'; offered: briefing.pdf, briefing.png"
            )));
        }
    };
    let bytes = match make_briefing(&state.service, &caller.viewer, &q, format).await {
        Ok(b) => b,
        Err(BriefingError::Invalid(e)) => return Err(ApiError::invalid(e)),
        Err(BriefingError::NotFound(m)) => return Err(ApiError::not_found(m)),
        Err(BriefingError::Render(m)) => return Err(ApiError::internal(m)),
        Err(BriefingError::Service(e)) => {
            return Err(audit_refusal(&state, &caller, "GET /exports/briefing", e).await);
        }
    };
    let (mime, name) = if format == "pdf" {
        ("application/pdf", "lagesbild.pdf")
    } else {
        ("image/png", "lagesbild.png")
    };
    let mut res = bytes.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
