//! `GET /collections/measures/items/{featureId}/follow-up`: a measure's follow-up as JSON.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::feature_id;
use crate::analysis::rates::Verdict;
use crate::domain::Layer;

/// A measure's follow-up: incidents of its target categories in its area, in equal windows
/// before and after its start, against a comparison area; the rate ratio with its exact 95 %
/// interval and a verdict in Swedish that claims no effect without evidence. Only for roles
/// that read incidents exactly.
#[utoipa::path(get, path = "/collections/measures/items/{featureId}/follow-up", tag = "Data",
    params(("featureId" = String, Path, description = "The measure's UUID")),
    responses(
        (status = 200, description = "The follow-up"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not read incidents (or measures) exactly", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such measure", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The measure lies in no area, or names an unknown comparison area", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(fid): Path<String>,
) -> Result<Response, ApiError> {
    let id = feature_id(Layer::Measures, &fid)?;
    let today = state.service.clock().now().date();
    let f = match state
        .service
        .measure_follow_up(&caller.viewer, id, today)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET follow-up", e).await);
        }
    };
    let ratio = match &f.verdict {
        Verdict::Decrease(r) | Verdict::Increase(r) | Verdict::NoClearChange(r) => json!({
            "estimate": r.estimate, "low": r.low, "high": r.high, "level": r.level,
        }),
        Verdict::TooFew => serde_json::Value::Null,
    };
    let verdict = match &f.verdict {
        Verdict::TooFew => "too_few",
        Verdict::NoClearChange(_) => "no_clear_change",
        Verdict::Decrease(_) => "decrease",
        Verdict::Increase(_) => "increase",
    };
    Ok(axum::Json(json!({
        "measure": f.measure,
        "area": f.area,
        "comparison": f.comparison,
        "before": {"from": f.before.0.to_string(), "to": f.before.1.to_string()},
        "after": {"from": f.after.0.to_string(), "to": f.after.1.to_string()},
        "counts": {
            "before": f.counts.before, "after": f.counts.after,
            "comparisonBefore": f.counts.comparison_before, "comparisonAfter": f.counts.comparison_after,
        },
        "rateRatio": ratio,
        "verdict": verdict,
        "verdictText": f.verdict.swedish(),
    }))
    .into_response())
}
