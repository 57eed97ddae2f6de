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

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tower::ServiceExt;

use super::AppState;
use super::error::ApiError;

/// The basemap file, opened and checked.
#[derive(Debug, Clone)]
pub enum Basemap {
    /// A PMTiles v3 archive.
    PmTiles {
        /// The file.
        path: PathBuf,
    },
    /// An MBTiles file of vector tiles.
    MbTiles {
        /// The file.
        path: PathBuf,
        /// Read-only connections to it.
        pool: SqlitePool,
        /// Its `metadata` table.
        metadata: serde_json::Map<String, Value>,
    },
}

impl Basemap {
    /// Opens the file the `basemap` setting names.
    ///
    /// # Errors
    /// A missing file, or one that is neither a PMTiles v3 archive nor an MBTiles database with
    /// a `tiles` table, said in words with the path.
    pub async fn open(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let mut head = [0u8; 8];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(path)
                .map_err(|e| format!("basemap '{shown}' cannot be opened: {e}"))?;
            f.read_exact(&mut head)
                .map_err(|e| format!("basemap '{shown}' is too short to be a tile archive: {e}"))?;
        }
        if &head[..7] == b"PMTiles" {
            if head[7] != 3 {
                return Err(format!(
                    "basemap '{shown}' is PMTiles version {}, only version 3 is read",
                    head[7]
                ));
            }
            return Ok(Self::PmTiles {
                path: path.to_path_buf(),
            });
        }
        if &head[..6] != b"SQLite" {
            return Err(format!(
                "basemap '{shown}' is neither a PMTiles (v3) nor an MBTiles file"
            ));
        }
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| format!("basemap '{shown}' cannot be opened as MBTiles: {e}"))?;
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, value FROM metadata")
            .fetch_all(&pool)
            .await
            .map_err(|e| format!("basemap '{shown}' has no MBTiles metadata table: {e}"))?;
        let (_one,): (i64,) = sqlx::query_as("SELECT count(*) FROM (SELECT 1 FROM tiles LIMIT 1)")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("basemap '{shown}' has no MBTiles tiles table: {e}"))?;
        let mut metadata = serde_json::Map::new();
        for (name, value) in rows {
            metadata.insert(name, Value::String(value));
        }
        if let Some(format) = metadata.get("format").and_then(Value::as_str)
            && format != "pbf"
        {
            return Err(format!(
                "basemap '{shown}' holds '{format}' tiles; only vector tiles (pbf) are drawn with the shipped style"
            ));
        }
        Ok(Self::MbTiles {
            path: path.to_path_buf(),
            pool,
            metadata,
        })
    }

    /// What `GET /basemap` says.
    #[must_use]
    pub fn describe(&self) -> Value {
        match self {
            Self::PmTiles { path } => json!({
                "format": "pmtiles",
                "url": "/basemap/archive.pmtiles",
                "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            }),
            Self::MbTiles { path, metadata, .. } => {
                let text = |k: &str| metadata.get(k).and_then(Value::as_str);
                let number = |k: &str| text(k).and_then(|v| v.parse::<u8>().ok());
                let bounds: Option<Vec<f64>> = text("bounds").and_then(|b| {
                    b.split(',')
                        .map(|v| v.trim().parse::<f64>().ok())
                        .collect::<Option<Vec<f64>>>()
                });
                json!({
                    "format": "mbtiles",
                    "tiles": ["/basemap/{z}/{x}/{y}"],
                    "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                    "name": text("name"),
                    "attribution": text("attribution"),
                    "minzoom": number("minzoom").unwrap_or(0),
                    "maxzoom": number("maxzoom").unwrap_or(14),
                    "bounds": bounds,
                })
            }
        }
    }
}

fn none_configured() -> Response {
    ApiError::not_found(
        "no basemap is configured: set `basemap` to a PMTiles or MBTiles file (see the README, \"The basemap\")",
    )
    .into_response()
}

/// `GET /basemap`: which basemap there is.
pub async fn describe(State(state): State<AppState>) -> Response {
    match state.basemap.as_deref() {
        Some(b) => axum::Json(b.describe()).into_response(),
        None => none_configured(),
    }
}

/// `GET /basemap/archive.pmtiles`: the archive, with range requests.
pub async fn archive(State(state): State<AppState>, request: Request) -> Response {
    let Some(Basemap::PmTiles { path }) = state.basemap.as_deref() else {
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
    let Some(Basemap::MbTiles { pool, .. }) = state.basemap.as_deref() else {
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
    let row = (1i64 << z) - 1 - i64::from(y);
    let data: Option<(Vec<u8>,)> = match sqlx::query_as(
        "SELECT tile_data FROM tiles WHERE zoom_level = $1 AND tile_column = $2 AND tile_row = $3",
    )
    .bind(i64::from(z))
    .bind(i64::from(x))
    .bind(row)
    .fetch_optional(pool)
    .await
    {
        Ok(d) => d,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "basemap-unreadable",
                "The basemap cannot be read",
                e.to_string(),
            )
            .into_response();
        }
    };
    let Some((bytes,)) = data else {
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
