//! Extractors whose failures become problem responses: JSON bodies, strict query strings,
//! collection and feature ids from the path, and `If-Match`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::error::ApiError;
use crate::domain::Layer;

/// A JSON request body, read with the configured size limit.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            essence.as_str(),
            "application/json" | "application/geo+json" | "application/merge-patch+json"
        ) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                format!(
                    "the body's Content-Type is '{content_type}'; send application/geo+json (or application/json, application/merge-patch+json for PATCH)"
                ),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    "Body too large",
                    "the request body is larger than the server accepts (max_body_bytes, default 2 MiB); split the data or use 'lagesbild import' for files",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable-body", "Unreadable body", rejection.body_text())
            }
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-json",
                "Invalid JSON",
                format!(
                    "the body is not valid JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// A query string read strictly into `T` (unknown or repeated parameters are refused, as OGC
/// API – Features requires).
pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = dedupe_exact_repeats(parts.uri.query().unwrap_or(""));
        serde_urlencoded::from_str(&q)
            .map(StrictQuery)
            .map_err(|e| {
                ApiError::bad_param(
                    "query",
                    format!("{e}; see /api for the parameters of this endpoint"),
                )
            })
    }
}

/// The query with exact repeats of a parameter (same name, same decoded value) kept once:
/// GDAL appends its URL's parameters to our `next` links, which already carry them. A parameter
/// repeated with a different value stays repeated, and is refused.
#[must_use]
pub fn dedupe_exact_repeats(query: &str) -> String {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return query.to_owned();
    };
    let mut kept: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for p in pairs {
        if !kept.contains(&p) {
            kept.push(p);
        }
    }
    serde_urlencoded::to_string(kept).unwrap_or_else(|_| query.to_owned())
}

/// Reads a collection id from the path.
///
/// # Errors
/// 404 naming the collections that exist.
pub fn collection(id: &str) -> Result<Layer, ApiError> {
    id.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no collection '{id}'; the collections are {}",
            Layer::NAMES.join(", ")
        ))
    })
}

/// Reads a feature id from the path.
///
/// # Errors
/// 404: a string that is not a UUID names no feature.
pub fn feature_id(layer: Layer, id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| {
        ApiError::not_found(format!(
            "no feature '{id}' in collection '{layer}' (feature ids are UUIDs)"
        ))
    })
}

/// What `If-Match` says (`*`, a quoted version, nothing, or something else); the service
/// decides what each means, after it has checked that the caller may change the feature.
#[must_use]
pub fn if_match(headers: &axum::http::HeaderMap) -> crate::service::edits::Expected {
    use crate::service::edits::Expected;
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Expected::Missing;
    };
    let text = raw.to_str().unwrap_or("").trim();
    if text == "*" {
        return Expected::Any;
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map_or_else(
            || Expected::Unreadable(text.chars().take(40).collect()),
            Expected::Version,
        )
}
