//! Changing features (OGC API – Features Part 4): create, replace, patch, delete.
//! Replace, patch and delete need `If-Match` with the version read, so that two people editing
//! the same feature cannot overwrite each other unseen.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{JsonBody, collection, feature_id, if_match};
use super::items::feature_response;
use super::{AppState, base_url};
use crate::domain::access::Action;
use crate::domain::{FeatureDraft, Layer};
use crate::service::{Change, ServiceError};
use crate::store::access::AuditRow;

/// Reads a draft; an invalid one is audited as an attempted write.
async fn draft(
    state: &AppState,
    caller: &Caller,
    action: &str,
    layer: Layer,
    body: Value,
) -> Result<FeatureDraft, ApiError> {
    use crate::domain::geometry::{DEFAULT_VALIDATION_BUDGET, GeometryLimits, check_limits};
    let limits = GeometryLimits {
        max_positions: state.config.max_geometry_positions,
        max_rings: state.config.max_geometry_rings,
    };
    // Size first, on the raw JSON, before any geometric work: 413 naming the setting.
    if let Some(g) = body.get("geometry")
        && let Err(e) = check_limits(g, &limits, "/geometry")
    {
        let row = AuditRow::new(state.service.clock().now(), action, "invalid")
            .layer(layer)
            .detail(e.to_string());
        state.service.audit(&caller.viewer, row).await?;
        return Err(ApiError::too_large(e.to_string()));
    }
    // Validity off the async runtime, within a time budget, so no geometry stalls the server.
    let parsed = tokio::task::spawn_blocking(move || {
        FeatureDraft::from_geojson_with(layer, body, &limits, DEFAULT_VALIDATION_BUDGET)
    })
    .await
    .map_err(ApiError::internal)?;
    match parsed {
        Ok(d) => Ok(d),
        Err(e) => {
            let row = AuditRow::new(state.service.clock().now(), action, "invalid")
                .layer(layer)
                .detail(e.to_string());
            state.service.audit(&caller.viewer, row).await?;
            Err(ServiceError::Invalid(e).into())
        }
    }
}

/// Refuses a change that names a property the caller's grant hides (`hide`), on replace and
/// patch alike, whatever the value: a role cannot change what it cannot read, and a refusal
/// that depended on the stored value would reveal it. Leaving the property out keeps the stored
/// value. (Creating may set it: the author hands it on to roles that read it.) Audited as an
/// invalid write.
async fn refuse_hidden(
    state: &AppState,
    caller: &Caller,
    action: &str,
    layer: Layer,
    body: &Value,
) -> Result<(), ApiError> {
    let hide = &caller.viewer.role.grant(layer).hide;
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    let named: Vec<&String> = hide.iter().filter(|h| props.contains_key(*h)).collect();
    if named.is_empty() {
        return Ok(());
    }
    let errors = crate::domain::ValidationErrors(
        named
            .iter()
            .map(|h| {
                crate::domain::ValidationError::new(
                    format!("/properties/{h}"),
                    format!(
                        "is not shown to your role ({}) and cannot be changed by it; leave it out (the stored value is kept)",
                        caller.viewer.role.label
                    ),
                )
            })
            .collect(),
    );
    let row = AuditRow::new(state.service.clock().now(), action, "invalid")
        .layer(layer)
        .detail(errors.to_string());
    state.service.audit(&caller.viewer, row).await?;
    Err(ServiceError::Invalid(errors).into())
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
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    // The organisation defaults to the caller's own.
    if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut)
        && !props.contains_key("organisation")
    {
        props.insert(
            "organisation".into(),
            Value::String(caller.viewer.organisation.to_string()),
        );
    }
    let draft = draft(&state, &caller, "create", layer, body).await?;
    let feature = state.service.create(draft, &caller.viewer).await?;
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
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let id = feature_id(layer, &fid)?;
    let expected = expected_version(&state, &caller, Action::Edit, layer, id, &headers).await?;
    refuse_hidden(&state, &caller, "edit", layer, &body).await?;
    keep_hidden(&state, &caller, layer, id, &mut body)?;
    let draft = draft(&state, &caller, "edit", layer, body).await?;
    let feature = state
        .service
        .replace(&caller.viewer, layer, id, draft, expected)
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
    let expected = expected_version(&state, &caller, Action::Edit, layer, id, &headers).await?;
    let current = state
        .service
        .changeable(&caller.viewer, Action::Edit, layer, id)?;
    if !patch.is_object() {
        return Err(ApiError::bad_param(
            "",
            "a merge patch must be a JSON object",
        ));
    }
    refuse_hidden(&state, &caller, "edit", layer, &patch).await?;
    let mut doc = serde_json::to_value(current.geojson(OffsetDateTime::now_utc().date()))
        .map_err(ApiError::internal)?;
    merge_patch(&mut doc, &patch);
    let draft = draft(&state, &caller, "edit", layer, doc).await?;
    let feature = state
        .service
        .replace(&caller.viewer, layer, id, draft, expected)
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
    let expected = expected_version(&state, &caller, Action::Delete, layer, id, &headers).await?;
    state
        .service
        .delete(&caller.viewer, layer, id, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The version `If-Match` names; for `*`, the current one. 404 (for what the caller cannot
/// see) and 403 (for what it may not change) come before 412/428; refusals are audited.
async fn expected_version(
    state: &AppState,
    caller: &Caller,
    action: Action,
    layer: Layer,
    id: uuid::Uuid,
    headers: &HeaderMap,
) -> Result<i64, ApiError> {
    let current = match state.service.changeable(&caller.viewer, action, layer, id) {
        Ok(c) => c,
        Err(e) => {
            let row = AuditRow::new(
                state.service.clock().now(),
                action.as_str(),
                match e {
                    ServiceError::Forbidden(_) => "denied",
                    _ => "not_found",
                },
            )
            .layer(layer)
            .features([id])
            .detail(e.to_string());
            state.service.audit(&caller.viewer, row).await?;
            return Err(e.into());
        }
    };
    Ok(if_match(headers)?.unwrap_or(current.meta.version))
}

/// What a replacement does not say is kept: the organisation when it names none, and the
/// properties the role does not see (its grant's `hide`), which it could not send back.
fn keep_hidden(
    state: &AppState,
    caller: &Caller,
    layer: Layer,
    id: uuid::Uuid,
    body: &mut Value,
) -> Result<(), ApiError> {
    let hide = &caller.viewer.role.grant(layer).hide;
    let current = state
        .service
        .changeable(&caller.viewer, Action::Edit, layer, id)?;
    let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    // A replacement that names no organisation keeps the stored one.
    if !props.contains_key("organisation") {
        props.insert(
            "organisation".into(),
            Value::String(current.meta.organisation.to_string()),
        );
    }
    if hide.is_empty() {
        return Ok(());
    }
    let stored = serde_json::to_value(current.geojson(OffsetDateTime::now_utc().date()))
        .map_err(ApiError::internal)?;
    {
        for h in hide {
            if let Some(v) = stored["properties"].get(h) {
                props.insert(h.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// RFC 7396 JSON Merge Patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }
}
