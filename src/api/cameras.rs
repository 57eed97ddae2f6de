//! `GET /analysis/camera-views`: what each camera sees, in zones by image detail;
//! `GET /analysis/camera-coverage`: how much of what happens the working cameras see.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use super::items::ItemsQuery;
use crate::analysis::coverage::Covered;
use crate::domain::{Layer, Properties};
use crate::service::analysis::InputKind;
use crate::service::cameras::{CameraView, CoverageAsk, MAX_VIEWS, POSITION_ERROR_M};

/// Query parameters of `GET /analysis/camera-views`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewsQuery {
    /// Cameras in this box: `minLon,minLat,maxLon,maxLat` (WGS 84; default: all).
    pub bbox: Option<String>,
}

/// The views of the cameras whose position is in a box (a camera just outside whose view
/// reaches in is not among them): per camera, one polygon per image-detail zone after IEC
/// 62676-4 (`identification` 250, `recognition` 125, `observation` 62, `detection` 25 pixels per
/// metre, worked out from the camera's horizontal resolution and field of view, never past its
/// range), finest first, then the whole registered range (`detail: null`); cut by the building
/// footprints in the way when a buildings reference layer is imported (`buildings` says how
/// many there are). A camera without a
/// resolution has only the last. Only roles that see cameras exactly get views (a view shows
/// where its camera is); the read is audited like a page of cameras.
#[utoipa::path(get, path = "/analysis/camera-views", tag = "Analysis", params(ViewsQuery),
    responses(
        (status = 200, description = "A FeatureCollection of zones with `camera`, `detail`, `pixels_per_metre`, `radius_m`, `area_m2`, `status`, `stale`; `numberMatched` cameras in the box, `numberReturned` views", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not see cameras exactly", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_camera_views(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<ViewsQuery>,
) -> Result<Response, ApiError> {
    let req = ItemsQuery {
        bbox: q.bbox,
        ..ItemsQuery::default()
    }
    .parse(Layer::Cameras, 1, 1)?;
    let found = match state
        .service
        .camera_views(&caller.viewer, &req.spatial)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET /analysis/camera-views", e).await);
        }
    };
    let today = state.service.clock().now().date();
    let features: Vec<Value> = found
        .views
        .iter()
        .flat_map(|v| zone_features(v, today))
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": found.matched,
        "numberReturned": found.views.len(),
        "limit": MAX_VIEWS,
        "buildings": found.buildings,
        "standard": "IEC 62676-4: detection 25, observation 62, recognition 125, identification 250 pixels per metre",
    });
    Ok(super::analysis::geojson(&body))
}

/// A camera's zones as GeoJSON Features.
fn zone_features(v: &CameraView, today: time::Date) -> Vec<Value> {
    let Properties::Camera(c) = &v.camera.properties else {
        return Vec::new();
    };
    v.zones
        .iter()
        .map(|z| {
            let detail = z.detail.map(|d| d.as_str());
            json!({
                "type": "Feature",
                "id": format!("{}/{}", v.camera.id, detail.unwrap_or("range")),
                "geometry": geojson::Geometry::from(&z.polygon),
                "properties": {
                    "camera": v.camera.id,
                    "detail": detail,
                    "pixels_per_metre": z.detail.map(|d| d.ppm()),
                    "radius_m": (z.radius_m * 10.0).round() / 10.0,
                    "area_m2": z.area_m2.round(),
                    "status": c.status.as_str(),
                    "stale": c.is_stale(today),
                },
            })
        })
        .collect()
}

/// Query parameters of `GET /analysis/camera-coverage`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// Incidents in this box (`minLon,minLat,maxLon,maxLat`); or give `area`.
    pub bbox: Option<String>,
    /// Incidents in the area of this name.
    pub area: Option<String>,
    /// The time window (RFC 3339 interval, as for items; default: all).
    pub datetime: Option<String>,
    /// Comma-separated incident categories (default: all).
    pub category: Option<String>,
    /// Position error in metres, 0–500 (default 83, the median in Swedish police data).
    pub error_m: Option<f64>,
    /// A proposed camera's reach in metres, 5–500 (default 50).
    pub reach_m: Option<f64>,
    /// Sites to propose, 0–20 (default 5).
    pub sites: Option<usize>,
}

/// How much of the incidents in an area and window the working (`active`) cameras see: the
/// share at recorded positions inside a view's whole range and inside an identification zone
/// (IEC 62676-4, cameras with a resolution), each with an interval for position error (certainly
/// seen: the error disc inside a view; possibly seen: the disc meets one); the 10 hot cells
/// (Gi*, 500 m band) the cameras see least; and sites for the next cameras, chosen greedily by
/// the unseen incidents within `reach_m`. Exact incident roles count positions; others the
/// published counts per 250 m cell at the cells' centres (the interval widened by a cell's
/// reach). Only roles that see cameras exactly.
#[utoipa::path(get, path = "/analysis/camera-coverage", tag = "Analysis", params(CoverageQuery),
    responses(
        (status = 200, description = "The coverage report (JSON): `incidents`, `covered.any` and `covered.identification` with `share` and `interval`, `least_covered_hot_cells` (GeoJSON), `sites` (GeoJSON)", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not see cameras exactly, or no incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_camera_coverage(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<CoverageQuery>,
) -> Result<Response, ApiError> {
    let (spatial, filters) = super::analysis::where_and_which(
        &state,
        &caller,
        q.bbox,
        q.area.as_deref(),
        q.datetime,
        q.category,
    )?;
    let defaults = CoverageAsk::default();
    let ask = CoverageAsk {
        error_m: q.error_m.unwrap_or(POSITION_ERROR_M),
        reach_m: q.reach_m.unwrap_or(defaults.reach_m),
        sites: q.sites.unwrap_or(defaults.sites),
    };
    let c = match state
        .service
        .camera_coverage(&caller.viewer, &spatial, &filters, ask)
        .await
    {
        Ok(c) => c,
        Err(crate::service::ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET /analysis/camera-coverage", e).await);
        }
    };
    let total = c.incidents;
    // No incidents: no share (null), not 0 %.
    let part = |k: &Covered| {
        let ratio = |w: f64| (total > 0.0).then(|| (w / total * 1000.0).round() / 1000.0);
        json!({"count": k.point, "share": ratio(k.point),
            "interval": [ratio(k.lower), ratio(k.upper)],
            "certainly": k.lower, "possibly": k.upper})
    };
    let cells: Vec<Value> = c
        .least_covered
        .iter()
        .map(|h| {
            json!({"type": "Feature", "id": format!("E{}_N{}", h.cell.0, h.cell.1),
                "geometry": geojson::Geometry::from(&h.square),
                "properties": {"count": h.count, "seen": h.seen,
                    "share": if h.count > 0.0 { (h.seen / h.count * 1000.0).round() / 1000.0 } else { 0.0 },
                    "z": (h.z * 100.0).round() / 100.0}})
        })
        .collect();
    let sites: Vec<Value> = c
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"type": "Feature", "id": i + 1,
                "geometry": {"type": "Point", "coordinates": [
                    (s.at.x() * 1e7).round() / 1e7, (s.at.y() * 1e7).round() / 1e7]},
                "properties": {"rank": i + 1, "adds": s.adds}})
        })
        .collect();
    let body = json!({
        "incidents": total,
        "input": match c.input {
            InputKind::Positions => "positions",
            InputKind::CellCounts => "cell_counts",
        },
        "position_error_m": c.error_m,
        "covered": {"any": part(&c.any), "identification": part(&c.identification)},
        "cameras": {"working": c.working, "with_resolution": c.with_resolution,
            "matched": c.cameras_matched, "partial": c.cameras_partial},
        "least_covered_hot_cells": {"type": "FeatureCollection", "features": cells},
        "hot_cells_note": c.hot_cells_refused,
        "sites": {"type": "FeatureCollection", "features": sites},
        "reach_m": c.ask.reach_m,
        "method": "Incidents at recorded positions inside a working camera's view (its whole range, or its IEC 62676-4 identification zone); the interval counts those whose error disc lies inside one view (certainly seen) and those whose disc meets one (possibly seen). Sites: greedy maximal coverage of the unseen incidents within reach_m.",
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response())
}
