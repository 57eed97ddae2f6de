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

/// The lägesbild document (Lag 2023:196, 4 §) as a multi-page PDF: a title page; the mapping
/// (a map, counts per area and category against the previous period and the same period last
/// year, a 12-month trend); other information and the analysis (the text stored for the
/// report period, `PUT /reports/lagesbild/{period}`) with the densest cells; the measures and
/// their follow-up; the sources used and those left out. Grants applied (counts under 3 shown
/// as "–" below exact, and said so); the classification banner follows what is shown;
/// deterministic for a given `as_of`; audited.
#[utoipa::path(get, path = "/exports/lagesbild.pdf", tag = "Data",
    params(crate::briefing::lagesbild::LagesbildQuery),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 400, description = "A parameter is unknown or invalid (named)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_lagesbild(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<crate::briefing::lagesbild::LagesbildQuery>,
) -> Result<Response, ApiError> {
    let bytes = match crate::briefing::lagesbild::make_lagesbild(&state.service, &caller.viewer, &q)
        .await
    {
        Ok(b) => b,
        Err(BriefingError::Invalid(e)) => return Err(ApiError::invalid(e)),
        Err(BriefingError::NotFound(m)) => return Err(ApiError::not_found(m)),
        Err(BriefingError::Render(m)) => return Err(ApiError::internal(m)),
        Err(BriefingError::Service(e)) => {
            return Err(audit_refusal(&state, &caller, "GET /exports/lagesbild.pdf", e).await);
        }
    };
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"lagesbild-dokument.pdf\""),
    );
    Ok(res)
}
