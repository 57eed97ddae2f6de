//! Changing features (OGC API – Features Part 4): create, replace, patch, delete.
//! Replace, patch and delete need `If-Match` with the version read, so that two people editing
//! the same feature cannot overwrite each other unseen.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{JsonBody, collection, feature_id, if_match};
use super::items::feature_response;
use super::{AppState, base_url};
use crate::domain::geometry::GeometryLimits;
use crate::service::Change;

/// The geometry limits the server runs with.
fn limits(state: &AppState) -> GeometryLimits {
    GeometryLimits {
        max_positions: state.config.max_geometry_positions,
        max_rings: state.config.max_geometry_rings,
    }
}

/// The response to a write: the feature as the caller may see it (a coarse view for roles that
/// may report but not read exactly).
fn written(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    feature: &std::sync::Arc<crate::domain::Feature>,
    base: &str,
) -> Result<Response, ApiError> {
    let layer = feature.layer();
    match state
        .service
        .view_change(&caller.viewer, &Change::Upserted(std::sync::Arc::clone(feature)))
    {
        Some((_, shown)) => feature_response(status, layer, &shown, base),
        None => Ok((
            status,
            axum::Json(serde_json::json!({"type": "Feature", "id": feature.id, "geometry": null, "properties": {}})),
        )
            .into_response()),
    }
}

/// Adds a feature; answers 201 with its location and ETag.
#[utoipa::path(
    post,
    path = "/collections/{collectionId}/items",
    tag = "Data",
    params(("collectionId" = String, Path, description = "The collection")),
    request_body(content = serde_json::Value, description = "A GeoJSON Feature; properties hold the layer's fields plus organisation and classification", content_type = "application/geo+json"),
    responses(
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the role (layer, own organisation, classification ceiling, or CSRF token missing)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 201, description = "Created; Location and ETag name it", content_type = "application/geo+json"),
        (status = 400, description = "Not JSON", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id is taken", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JSON media type", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the layer's rules; 'errors' names every field", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let feature = state
        .service
        .create_from_geojson(&caller.viewer, layer, body, limits(&state))
        .await?;
    let base = base_url(&state, &headers);
    let mut res = written(&state, &caller, StatusCode::CREATED, &feature, &base)?;
    if let Ok(v) = format!("{base}/collections/{layer}/items/{}", feature.id).parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Replaces a feature's geometry and properties.
#[utoipa::path(
    put,
    path = "/collections/{collectionId}/items/{featureId}",
    tag = "Data",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("featureId" = String, Path, description = "The feature's UUID"),
        ("If-Match" = String, Header, description = "The ETag read, e.g. \"3\""),
    ),
    request_body(content = serde_json::Value, description = "The whole GeoJSON Feature", content_type = "application/geo+json"),
    responses(
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the role (layer, own organisation, classification ceiling, or CSRF token missing)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 200, description = "Replaced; the new ETag", content_type = "application/geo+json"),
        (status = 404, description = "No such feature", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since the ETag", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the layer's rules", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let id = feature_id(layer, &fid)?;
    let feature = state
        .service
        .replace_from_geojson(
            &caller.viewer,
            layer,
            id,
            body,
            if_match(&headers),
            limits(&state),
        )
        .await?;
    written(
        &state,
        &caller,
        StatusCode::OK,
        &feature,
        &base_url(&state, &headers),
    )
}

/// Changes some fields of a feature (JSON Merge Patch, RFC 7396, on its GeoJSON form).
#[utoipa::path(
    patch,
    path = "/collections/{collectionId}/items/{featureId}",
    tag = "Data",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("featureId" = String, Path, description = "The feature's UUID"),
        ("If-Match" = String, Header, description = "The ETag read, e.g. \"3\""),
    ),
    request_body(content = serde_json::Value, description = "A merge patch, e.g. {\"properties\": {\"status\": \"closed\"}}", content_type = "application/merge-patch+json"),
    responses(
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the role (layer, own organisation, classification ceiling, or CSRF token missing)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 200, description = "Changed; the new ETag", content_type = "application/geo+json"),
        (status = 404, description = "No such feature", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since the ETag", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The result breaks the layer's rules", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let id = feature_id(layer, &fid)?;
    let feature = state
        .service
        .patch_from_geojson(
            &caller.viewer,
            layer,
            id,
            patch,
            if_match(&headers),
            limits(&state),
        )
        .await?;
    written(
        &state,
        &caller,
        StatusCode::OK,
        &feature,
        &base_url(&state, &headers),
    )
}

/// Deletes a feature (kept in the database, marked deleted, for audit and retention).
#[utoipa::path(
    delete,
    path = "/collections/{collectionId}/items/{featureId}",
    tag = "Data",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("featureId" = String, Path, description = "The feature's UUID"),
        ("If-Match" = String, Header, description = "The ETag read, e.g. \"3\""),
    ),
    responses(
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed for the role (layer, own organisation, classification ceiling, or CSRF token missing)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such feature", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed by someone else since the ETag", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, fid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let id = feature_id(layer, &fid)?;
    state
        .service
        .delete_checked(&caller.viewer, layer, id, if_match(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
