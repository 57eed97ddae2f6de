//! OGC API – Tiles over the picture: per collection a vector tileset in WebMercatorQuad
//! (`/collections/{id}/tiles`, its metadata, which is also TileJSON 3.0 for MapLibre, and the
//! Mapbox Vector Tiles), and the tile matrix set's definition.
//!
//! Tiles are cut from the index under the caller's grant and kept per view until a change
//! touches them (`service::visibility::tile_cache`), so a write is in the next tile anyone asks
//! for, on every instance that has applied it; an `ETag` of the tile's bytes lets a client
//! revalidate without downloading it again.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::{StrictQuery, collection};
use super::items::ItemsQuery;
use super::{AppState, base_url};
use crate::domain::access::Precision;
use crate::tiles::{MAX_ZOOM, TileId};

/// The media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set offered.
pub const WEB_MERCATOR_QUAD: &str = "WebMercatorQuad";
const TMS_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
/// Half the side of the Web Mercator square, in metres.
const HALF_WORLD_M: f64 = 20_037_508.342_789_244;

/// Query parameters of a tile: the same window, category and status filters as items.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TileQuery {
    /// As for items: an instant, a date or an interval `start/end` (below exact precision
    /// widened to whole ISO weeks).
    pub datetime: Option<String>,
    /// Comma-separated categories.
    pub category: Option<String>,
    /// Comma-separated statuses (exact precision only).
    pub status: Option<String>,
}

impl TileQuery {
    /// The query string to repeat in a tile URL template (empty when there are no filters).
    fn suffix(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("datetime", self.datetime.as_deref()),
            ("category", self.category.as_deref()),
            ("status", self.status.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!(
                "?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            )
        }
    }
}

fn json_response(value: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

/// Refuses a tile matrix set other than WebMercatorQuad.
fn check_tms(tms: &str) -> Result<(), ApiError> {
    if tms == WEB_MERCATOR_QUAD {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no tile matrix set '{tms}'; the one offered is {WEB_MERCATOR_QUAD}"
        )))
    }
}

/// The caller's precision on the layer, refusing `none` like items do (403).
async fn readable(
    state: &AppState,
    caller: &Caller,
    layer: crate::domain::Layer,
    path: &str,
) -> Result<Precision, ApiError> {
    match state.service.precision(&caller.viewer, layer) {
        Ok(p) => Ok(p),
        Err(e) => Err(audit_refusal(state, caller, path, e).await),
    }
}

/// The vector tilesets of a collection (one, in WebMercatorQuad).
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/tiles",
    tag = "Tiles",
    params(("collectionId" = String, Path, description = "The collection")),
    responses(
        (status = 200, description = "The tileset list (OGC API – Tiles)", content_type = "application/json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tilesets(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    readable(
        &state,
        &caller,
        layer,
        &format!("GET /collections/{layer}/tiles"),
    )
    .await?;
    let base = base_url(&state, &headers);
    let here = format!("{base}/collections/{layer}/tiles");
    Ok(json_response(&json!({
        "links": [
            {"rel": "self", "type": "application/json", "href": here},
            {"rel": "collection", "type": "application/json", "href": format!("{base}/collections/{layer}")},
        ],
        "tilesets": [{
            "title": format!("{} (vector tiles)", layer.title()),
            "dataType": "vector",
            "crs": EPSG_3857,
            "tileMatrixSetURI": TMS_URI,
            "links": [
                {"rel": "self", "type": "application/json", "title": "The tileset (also TileJSON)", "href": format!("{here}/{WEB_MERCATOR_QUAD}")},
                {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json", "href": format!("{base}/tileMatrixSets/{WEB_MERCATOR_QUAD}")},
                {"rel": "item", "type": MVT, "templated": true, "href": format!("{here}/{WEB_MERCATOR_QUAD}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")},
            ],
        }],
    })))
}

/// A collection's tileset in WebMercatorQuad: OGC API – Tiles metadata that is also a TileJSON
/// 3.0 document, so MapLibre can use its URL as a vector source. Filters given here are carried
/// into the tile URL template.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    tag = "Tiles",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad"),
        TileQuery,
    ),
    responses(
        (status = 200, description = "The tileset metadata and TileJSON", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or tile matrix set", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tileset(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, tms)): Path<(String, String)>,
    headers: HeaderMap,
    StrictQuery(q): StrictQuery<TileQuery>,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    check_tms(&tms)?;
    let precision = readable(
        &state,
        &caller,
        layer,
        &format!("GET /collections/{layer}/tiles/{tms}"),
    )
    .await?;
    // The filters are checked now, not at the first tile.
    filters_of(&q, layer)?;
    let base = base_url(&state, &headers);
    let here = format!("{base}/collections/{layer}/tiles/{WEB_MERCATOR_QUAD}");
    let template = format!("{here}/{{z}}/{{y}}/{{x}}{}", q.suffix());
    let summary = state.service.layer_summary(&caller.viewer, layer);
    let bounds = summary.bbox.unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    let names: &[(&str, &str)] = match precision {
        Precision::Aggregate => &[("key", "String"), ("count", "Number")],
        Precision::Coarse => &[
            ("id", "String"),
            ("category", "String"),
            ("week", "String"),
            ("area", "String"),
            ("count", "Number (gridded points)"),
            ("cluster", "Boolean (gridded points)"),
        ],
        _ => &[
            ("id", "String"),
            ("category", "String (the layer's category property)"),
            ("status", "String"),
            ("organisation", "String"),
            ("classification", "String"),
            ("count", "Number (gridded points)"),
            ("cluster", "Boolean (gridded points)"),
        ],
    };
    let fields: serde_json::Map<String, Value> = names
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    Ok(json_response(&json!({
        "title": format!("{} (vector tiles)", layer.title()),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "precision": precision,
        "links": [
            {"rel": "self", "type": "application/json", "href": format!("{here}{}", q.suffix())},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json", "href": format!("{base}/tileMatrixSets/{WEB_MERCATOR_QUAD}")},
            {"rel": "item", "type": MVT, "templated": true, "href": format!("{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{}", q.suffix())},
        ],
        "layers": [{"id": layer.as_str(), "dataType": "vector", "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string()}],
        // TileJSON 3.0 (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0).
        "tilejson": "3.0.0",
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "vector_layers": [{"id": layer.as_str(), "fields": fields, "minzoom": 0, "maxzoom": MAX_ZOOM}],
    })))
}

fn filters_of(
    q: &TileQuery,
    layer: crate::domain::Layer,
) -> Result<crate::index::Filters, ApiError> {
    let items = ItemsQuery {
        datetime: q.datetime.clone(),
        category: q.category.clone(),
        status: q.status.clone(),
        ..ItemsQuery::default()
    };
    Ok(items.parse(layer, 1, 1)?.filters)
}

/// Reads one path index of a tile.
fn index(name: &str, text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().map_err(|_| {
        ApiError::bad_param(name, format!("'{text}' is not a whole number of 0 or more"))
    })
}

/// One vector tile (MVT) of a collection, as the caller may see it: exact features with their
/// id, category, status, time, organisation and classification (less hidden properties; the
/// whole feature from `/items/{featureId}`); coarse features at their 250 m cell centre; counted
/// cells for counts-only roles. More points than a tile draws well come gridded, each grid
/// point with `count`. `tileRow` counts from the north, as OGC orders it (z/y/x).
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    tag = "Tiles",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("tileMatrixSetId" = String, Path, description = "WebMercatorQuad"),
        ("tileMatrix" = u32, Path, description = "Zoom level, 0 to 22"),
        ("tileRow" = u32, Path, description = "Row (y), from the north: 0 to 2^tileMatrix − 1"),
        ("tileCol" = u32, Path, description = "Column (x), from the west: 0 to 2^tileMatrix − 1"),
        TileQuery,
    ),
    responses(
        (status = 200, description = "A Mapbox Vector Tile with one layer named after the collection", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 304, description = "Not modified (If-None-Match matched the tile's ETag)"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer, or a status filter below exact precision", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection, tile matrix set or tile", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, tms, z, y, x)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
    StrictQuery(q): StrictQuery<TileQuery>,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    check_tms(&tms)?;
    let id = TileId::new(
        index("tileMatrix", &z)?,
        index("tileRow", &y)?,
        index("tileCol", &x)?,
    )
    .map_err(ApiError::not_found)?;
    let filters = filters_of(&q, layer)?;
    let answer = match state
        .service
        .read_tile(&caller.viewer, layer, id, &filters)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            return Err(audit_refusal(
                &state,
                &caller,
                &format!("GET /collections/{layer}/tiles/{tms}/{z}/{y}/{x}"),
                e,
            )
            .await);
        }
    };
    let etag = &answer.built.etag;
    let private = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ),
        (
            header::VARY,
            HeaderValue::from_static("Authorization, Cookie"),
        ),
    ];
    let etag_value = HeaderValue::from_str(etag).map_err(ApiError::internal)?;
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == etag.as_str() || t.trim() == "*")
        })
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value)],
            private,
        )
            .into_response());
    }
    let gridded = HeaderValue::from_static(if answer.built.gridded {
        "true"
    } else {
        "false"
    });
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(MVT)),
            (header::ETAG, etag_value),
        ],
        private,
        [
            (
                axum::http::HeaderName::from_static("x-lagesbild-gridded"),
                gridded,
            ),
            (
                axum::http::HeaderName::from_static("x-lagesbild-tile-cache"),
                HeaderValue::from_static(if answer.cached { "hit" } else { "miss" }),
            ),
        ],
        answer.built.bytes.clone(),
    )
        .into_response())
}

/// The tile matrix sets offered (one).
#[utoipa::path(get, path = "/tileMatrixSets", tag = "Tiles", security(()),
    responses((status = 200, description = "The tile matrix sets", content_type = "application/json")))]
pub async fn tile_matrix_sets(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    json_response(&json!({
        "tileMatrixSets": [{
            "id": WEB_MERCATOR_QUAD,
            "title": "Google Maps Compatible for the World",
            "uri": TMS_URI,
            "links": [{"rel": "self", "type": "application/json", "href": format!("{base}/tileMatrixSets/{WEB_MERCATOR_QUAD}")}],
        }],
    }))
}

/// The definition of WebMercatorQuad (OGC Two Dimensional Tile Matrix Set 2.0), zooms 0–22.
#[utoipa::path(get, path = "/tileMatrixSets/{tileMatrixSetId}", tag = "Tiles", security(()),
    params(("tileMatrixSetId" = String, Path, description = "WebMercatorQuad")),
    responses(
        (status = 200, description = "The tile matrix set", content_type = "application/json"),
        (status = 404, description = "No such tile matrix set", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn tile_matrix_set(Path(tms): Path<String>) -> Result<Response, ApiError> {
    check_tms(&tms)?;
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            #[allow(clippy::cast_precision_loss)]
            let cell = 2.0 * HALF_WORLD_M / (256.0 * n as f64);
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / 0.000_28,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD_M, HALF_WORLD_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            })
        })
        .collect();
    Ok(json_response(&json!({
        "id": WEB_MERCATOR_QUAD,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    })))
}
