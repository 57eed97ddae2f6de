//! The HTTP edge: an OGC API – Features server (Part 1 core, GeoJSON, OpenAPI 3.0; Part 4
//! create/replace/update/delete) over the picture. Only this module (and `main.rs`) uses axum.

pub mod aggregate;
pub mod analysis;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod basemap;
pub mod briefing;
pub mod cameras;
pub mod dosage;
pub mod error;
pub mod events;
pub mod extract;
pub mod followup;
pub mod format;
pub mod headers;
pub mod html;
pub mod items;
pub mod meetings;
pub mod ogc;
pub mod openapi;
pub mod picture;
pub mod reports;
pub mod routes;
pub mod serve;
pub mod tiles;
pub mod write;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
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
    /// The web client's files.
    pub web: Arc<assets::WebAssets>,
    /// The open event streams (limited per account and in all).
    pub streams: Arc<events::Streams>,
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

/// `/web/…`: the built-in files, or a folder's through `ServeDir` (ranges, conditional requests).
fn web_routes(web: &assets::WebAssets) -> Router<AppState> {
    match web {
        assets::WebAssets::Folder(dir) => Router::new().nest_service(
            "/web",
            ServeDir::new(dir).append_index_html_on_directories(false),
        ),
        assets::WebAssets::Embedded => {
            Router::new().route("/web/{*path}", get(assets::embedded_file))
        }
    }
}

/// The whole application: API routes, the web client's files, and the middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let csp = Arc::new(
        axum::http::HeaderValue::from_str(&headers::content_security_policy(&state.web))
            .unwrap_or_else(|_| axum::http::HeaderValue::from_static("default-src 'self'")),
    );
    Router::new()
        .route("/", get(ogc::landing))
        // Browsers ask for /favicon.ico whatever the page says: the icon is an SVG in web/.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/web/favicon.svg") }),
        )
        .route("/fonts/{file}", get(assets::font))
        .route("/basemap", get(basemap::describe))
        .route("/basemap/archive.pmtiles", get(basemap::archive))
        .route("/basemap/{z}/{x}/{y}", get(basemap::tile))
        .route("/conformance", get(ogc::conformance))
        .route("/api", get(ogc::openapi))
        .route("/api/3.1", get(ogc::openapi_31))
        .route("/health", get(ogc::health))
        .route("/auth/login", axum::routing::post(auth::login))
        .route("/auth/session", get(auth::session))
        .route("/auth/logout", axum::routing::post(auth::logout))
        .route("/audit", get(audit::get_audit))
        .route("/admin/picture", get(picture::get_picture))
        .route("/events", get(events::events))
        .route("/analysis/density", get(analysis::get_density))
        .route("/analysis/density.png", get(analysis::get_density_png))
        .route("/analysis/hotspots", get(analysis::get_hot_spots))
        .route("/analysis/emerging", get(analysis::get_emerging))
        .route("/analysis/near-repeat", get(analysis::get_near_repeat))
        .route("/analysis/backtest", get(analysis::get_back_test))
        .route("/analysis/near-repeat-zones", get(analysis::get_zones))
        .route("/analysis/camera-views", get(cameras::get_camera_views))
        .route(
            "/analysis/camera-coverage",
            get(cameras::get_camera_coverage),
        )
        .route("/analysis/route-score", get(routes::get_route_score))
        .route(
            "/analysis/route-suggestion",
            get(routes::get_route_suggestion),
        )
        .route("/analysis/patrol-plan", get(dosage::get_patrol_plan))
        .route("/analysis/dosage", get(dosage::get_dosage))
        .route("/exports/lagesbild.pdf", get(briefing::get_lagesbild))
        .route("/exports/{file}", get(briefing::get_briefing))
        .route(
            "/reports/lagesbild/{period}",
            get(reports::get_text).put(reports::put_text),
        )
        .route("/collections", get(ogc::collections))
        .route(
            "/collections/{collectionId}/aggregate",
            get(aggregate::get_aggregate),
        )
        .route("/collections/{collectionId}/tiles", get(tiles::tilesets))
        .route(
            "/collections/{collectionId}/tiles/{tileMatrixSetId}",
            get(tiles::tileset),
        )
        .route(
            "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
            get(tiles::tile),
        )
        .route("/tileMatrixSets", get(tiles::tile_matrix_sets))
        .route(
            "/tileMatrixSets/{tileMatrixSetId}",
            get(tiles::tile_matrix_set),
        )
        .route("/collections/{collectionId}", get(ogc::collection))
        .route(
            "/collections/{collectionId}/schema",
            get(ogc::collection_schema),
        )
        .route(
            "/collections/{collectionId}/queryables",
            get(ogc::collection_queryables),
        )
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
        .route(
            "/collections/measures/items/{featureId}/follow-up",
            get(followup::get_follow_up),
        )
        .route("/meetings", get(meetings::list).post(meetings::create))
        .route("/meetings/last", get(meetings::last))
        .route("/meetings/agenda", get(meetings::agenda))
        .route(
            "/meetings/{meetingId}",
            get(meetings::get_one).patch(meetings::patch),
        )
        .route(
            "/meetings/{meetingId}/close",
            axum::routing::post(meetings::close),
        )
        .merge(web_routes(&state.web))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            availability::writes_wait_for_the_database,
        ))
        .layer(axum::middleware::from_fn(format::negotiate))
        .layer(DefaultBodyLimit::max(body_limit))
        // Level 1 of gzip and of brotli, not tower-http's defaults (6 and 4): the whole
        // 39 515-incident window (18 MB of GeoJSON) is answered in 97 ms instead of 240 with
        // brotli (2.40 MB instead of 2.34) and in 88 ms instead of 350 with gzip (2.9 MB
        // instead of 2.2), measured over loopback (docs/PERFORMANCE.md); a LAN or a 4G link
        // carries the extra bytes in about the time saved, or less.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(1)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        // Outside the timeout and panic layers, so their answers are problem bodies too.
        .layer(axum::middleware::map_response(ensure_problem))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // The path only, capped: a request line is the client's to choose. `user` and
                    // `role` are filled in once the caller is known (auth.rs), so a slow or refused
                    // request can be followed through the log by its id.
                    static NEXT: std::sync::atomic::AtomicU64 =
                        std::sync::atomic::AtomicU64::new(1);
                    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let path: String = req.uri().path().chars().take(200).collect();
                    tracing::info_span!(
                        "request",
                        id,
                        method = %req.method(),
                        path,
                        user = tracing::field::Empty,
                        role = tracing::field::Empty
                    )
                })
                // A failing request is logged with its cause where it fails (error.rs: ERROR for
                // faults, WARN for a database out of reach); this line only says it happened.
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(axum::middleware::from_fn(move |req, next| {
            headers::security_headers(Arc::clone(&csp), req, next)
        }))
        // CORS outside the rest, so preflights are answered before sign-in is asked for.
        .layer(cors(&state.config.cors_origins))
        // Outermost: oversized request lines and headers are refused before anything else.
        .layer(axum::middleware::from_fn(serve::limit_heads))
        .with_state(state)
}

/// Cross-origin calls from the configured origins only (none by default): the methods and
/// headers the API uses, `ETag`, `Location` and `Content-Crs` readable, no credentials (a page
/// elsewhere uses an API token, never the session cookie).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let list: Vec<axum::http::HeaderValue> = origins
        .iter()
        .filter_map(|o| axum::http::HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT,
        ])
        .expose_headers([header::ETAG, header::LOCATION, items::CONTENT_CRS])
        .max_age(Duration::from_secs(3600))
}

/// The safety net: any error response not already a problem body (a timeout, a framework
/// rejection) becomes one, so clients see one error format.
async fn ensure_problem(res: Response) -> Response {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == error::PROBLEM_JSON.as_bytes());
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let title = status.canonical_reason().unwrap_or("Error");
        let detail = match status {
            StatusCode::REQUEST_TIMEOUT => {
                "the request took too long and was stopped; nothing was changed".to_owned()
            }
            _ => format!(
                "the request could not be handled ({} {title})",
                status.as_u16()
            ),
        };
        return ApiError::new(status, "http-error", title, detail).into_response();
    }
    res
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bare_error_responses_become_problem_bodies() {
        let res = ensure_problem(StatusCode::REQUEST_TIMEOUT.into_response()).await;
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(res.headers()[header::CONTENT_TYPE], error::PROBLEM_JSON);
        let body = axum::body::to_bytes(res.into_body(), 10_000).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 408);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("nothing was changed")
        );
        // Successes and problem bodies pass through untouched.
        assert_eq!(
            ensure_problem(StatusCode::NO_CONTENT.into_response())
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        let p = ensure_problem(ApiError::not_found("x").into_response()).await;
        let body = axum::body::to_bytes(p.into_body(), 10_000).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("\"detail\":\"x\""));
    }
}
