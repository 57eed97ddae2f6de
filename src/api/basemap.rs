//! The basemap (issue 16): a municipality's own vector tiles from one file on the server, drawn
//! under the layers. No tile service on the internet: the `basemap` setting names a PMTiles or
//! MBTiles file, checked at start (a file that is not one stops the start-up, said in words).
//!
//! - PMTiles is handed to the browser as it is, `GET /basemap/archive.pmtiles` with HTTP range
//!   requests (206, `Accept-Ranges`), and read there by the `pmtiles` library.
//! - MBTiles is read here, `GET /basemap/{z}/{x}/{y}` (its rows are TMS: flipped), gzip tiles
//!   answered with `Content-Encoding: gzip` as stored.
//!
//! `GET /basemap` says which of the two there is and what the archive declares (name,
//! attribution, zooms, bounds); 404 when none is configured. Like the web client's own files,
//! the basemap needs no signed-in caller: it holds none of the picture's data.

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use super::AppState;
use super::error::ApiError;
use crate::basemap::Basemap;

fn none_configured() -> Response {
    ApiError::not_found(
        "no basemap is configured: set `basemap` to a PMTiles or MBTiles file (see the README, \"The basemap\")",
    )
    .into_response()
}

/// `GET /basemap`: which basemap there is.
pub async fn describe(State(state): State<AppState>) -> Response {
    match state.service.basemap() {
        Some(b) => axum::Json(b.describe()).into_response(),
        None => none_configured(),
    }
}

/// `GET /basemap/archive.pmtiles`: the archive, with range requests.
pub async fn archive(State(state): State<AppState>, request: Request) -> Response {
    let Some(Basemap::PmTiles { path, .. }) = state.service.basemap() else {
        return none_configured();
    };
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(mut r) => {
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.pmtiles"),
            );
            r.into_response()
        }
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "basemap-unreadable",
            "The basemap cannot be read",
            e.to_string(),
        )
        .into_response(),
    }
}

/// `GET /basemap/{z}/{x}/{y}`: one MBTiles tile (204 where the archive has none).
pub async fn tile(
    State(state): State<AppState>,
    UrlPath((z, x, y)): UrlPath<(String, String, String)>,
) -> Response {
    let Some(Basemap::MbTiles { pool, .. }) = state.service.basemap() else {
        return none_configured();
    };
    let y = y.strip_suffix(".pbf").unwrap_or(&y);
    let (Ok(z), Ok(x), Ok(y)) = (z.parse::<u8>(), x.parse::<u32>(), y.parse::<u32>()) else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-tile",
            "Not a tile",
            "a basemap tile is /basemap/{z}/{x}/{y} with whole numbers",
        )
        .into_response();
    };
    if z > 24 || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-tile",
            "Not a tile",
            format!("tile {z}/{x}/{y} is outside zoom {z}'s grid"),
        )
        .into_response();
    }
    let data = match Basemap::mbtiles_stored(pool, z, x, y).await {
        Ok(d) => d,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "basemap-unreadable",
                "The basemap cannot be read",
                e,
            )
            .into_response();
        }
    };
    let Some(bytes) = data else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let mut r = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
        )],
        bytes,
    )
        .into_response();
    if gzipped {
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}
