//! The HTTP edge: an OGC API – Features server (Part 1 core, GeoJSON, OpenAPI 3.0; Part 4
//! create/replace/update/delete) over the picture. Only this module (and `main.rs`) uses axum.

pub mod error;
pub mod extract;
pub mod items;
pub mod ogc;
pub mod write;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::service::Service;
use error::ApiError;

/// The media type of GeoJSON responses.
pub const GEOJSON: &str = "application/geo+json";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The picture.
    pub service: Arc<Service>,
    /// The settings the server runs with.
    pub config: Arc<Settings>,
}

/// The base URL for links: `public_url` when configured, else from the request's `Host`.
#[must_use]
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The whole application: API routes, the web client's files, and the middleware.
pub fn router(state: AppState) -> Router {
    let web = ServeDir::new(&state.config.web_dir).append_index_html_on_directories(false);
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    Router::new()
        .route("/", get(ogc::landing))
        .route("/conformance", get(ogc::conformance))
        .route("/api", get(ogc::openapi))
        .route("/health", get(ogc::health))
        .route("/collections", get(ogc::collections))
        .route("/collections/{collectionId}", get(ogc::collection))
        .route(
            "/collections/{collectionId}/items",
            get(items::get_items).post(write::create_item),
        )
        .route(
            "/collections/{collectionId}/items/{featureId}",
            get(items::get_item)
                .put(write::replace_item)
                .patch(write::patch_item)
                .delete(write::delete_item),
        )
        .nest_service("/web", web)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    ApiError::not_found(format!(
        "nothing at {}; start at / (landing page) or /api (API description)",
        uri.path()
    ))
    .into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!(
            "{method} is not offered on {}; see /api for what is",
            uri.path()
        ),
    )
    .into_response()
}
