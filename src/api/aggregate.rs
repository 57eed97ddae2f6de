//! Counts per grid cell or area: `/collections/{id}/aggregate`, the only view of a layer a role
//! with `aggregate` precision gets, and the hotspot view for everyone.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::{StrictQuery, collection};
use super::items::ItemsQuery;
use super::{AppState, GEOJSON};
use crate::service::visibility::{AggregateBy, CELL_M, SUPPRESSION_RULE};

/// Query parameters of `/collections/{collectionId}/aggregate`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// `grid` (250 m SWEREF 99 TM cells, the default) or `area` (the areas layer's outlines).
    pub by: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat`: cells whose centre, or areas whose outline, is in the box.
    pub bbox: Option<String>,
    /// As for items; below exact precision widened to whole ISO weeks.
    pub datetime: Option<String>,
    /// Comma-separated categories.
    pub category: Option<String>,
    /// Comma-separated statuses (exact precision only).
    pub status: Option<String>,
    /// The CRS of `bbox`, as for items.
    #[serde(rename = "bbox-crs")]
    #[param(rename = "bbox-crs")]
    pub bbox_crs: Option<String>,
}

/// Counts of a layer's features per 250 m grid cell or per area, as a GeoJSON
/// FeatureCollection of cell squares or area outlines with `count` and `categories`. Below
/// exact precision, cells and categories with fewer than 3 features are left out.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/aggregate",
    tag = "Data",
    params(("collectionId" = String, Path, description = "The collection"), AggregateQuery),
    responses(
        (status = 200, description = "A FeatureCollection of counted cells or areas", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_aggregate(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection_id): Path<String>,
    StrictQuery(q): StrictQuery<AggregateQuery>,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let by = match q.by.as_deref() {
        None | Some("grid") => AggregateBy::Grid,
        Some("area") => AggregateBy::Area,
        Some(other) => {
            return Err(ApiError::bad_param(
                "by",
                format!("'{other}' is not offered; use by=grid or by=area"),
            ));
        }
    };
    let items = ItemsQuery {
        bbox: q.bbox,
        bbox_crs: q.bbox_crs,
        datetime: q.datetime,
        category: q.category,
        status: q.status,
        ..ItemsQuery::default()
    };
    let req = items.parse(layer, 1, 1)?;
    let agg = match state
        .service
        .read_aggregate(&caller.viewer, layer, by, &req.spatial, &req.filters)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            return Err(audit_refusal(
                &state,
                &caller,
                &format!("GET /collections/{layer}/aggregate"),
                e,
            )
            .await);
        }
    };
    let features: Vec<serde_json::Value> = agg
        .buckets
        .iter()
        .map(|b| {
            json!({
                "type": "Feature",
                "id": b.key,
                "geometry": geojson::Geometry::from(&b.geometry),
                "properties": {"key": b.key, "name": b.name.as_deref(), "count": b.count, "categories": b.by_category},
            })
        })
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "layer": layer.as_str(),
        "by": match by { AggregateBy::Grid => "grid", AggregateBy::Area => "area" },
        "cellSize": (by == AggregateBy::Grid).then_some(CELL_M),
        "minimumCount": agg.min_count,
        "suppression": agg.suppressing.then_some(SUPPRESSION_RULE),
    });
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON)),
            (
                super::items::CONTENT_CRS,
                super::items::content_crs(crate::domain::crs::Crs::Crs84),
            ),
        ],
        body.to_string(),
    )
        .into_response())
}
