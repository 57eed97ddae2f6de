//! `GET /analysis/camera-views`: what each camera sees, in zones by image detail.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use super::items::ItemsQuery;
use super::{AppState, GEOJSON};
use crate::domain::{Layer, Properties};
use crate::service::cameras::{CameraView, MAX_VIEWS};

/// Query parameters of `GET /analysis/camera-views`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewsQuery {
    /// Cameras in this box: `minLon,minLat,maxLon,maxLat` (WGS 84; default: all).
    pub bbox: Option<String>,
}

/// The views of the cameras in a box: per camera, one polygon per image-detail zone after IEC
/// 62676-4 (`identification` 250, `recognition` 125, `observation` 62, `detection` 25 pixels per
/// metre, worked out from the camera's horizontal resolution and field of view, never past its
/// range), finest first, then the whole registered range (`detail: null`). A camera without a
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
        "buildings": false,
        "standard": "IEC 62676-4: detection 25, observation 62, recognition 125, identification 250 pixels per metre",
    });
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON))],
        body.to_string(),
    )
        .into_response())
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
