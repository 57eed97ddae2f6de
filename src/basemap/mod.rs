//! The basemap (issue 16): vector tiles from one file on the server, drawn under the layers on
//! the screen (`api::basemap` hands them to the browser) and on paper (the briefings draw the
//! same tiles, [`draw`]). No tile service on the internet.
//!
//! - [`Basemap`]: a PMTiles v3 archive or an MBTiles file, opened and checked at start; a tile
//!   read back uncompressed, and what the archive declares (name, attribution, zooms, bounds).
//! - [`draw`]: the tiles under a briefing's map, decoded into lines, areas and names in
//!   longitude and latitude, styled like `web/basemap-style.json`.
//! - [`overview`]: the demo's own overview map (the project's district outlines, stations as
//!   public facts, the demo's fictitious streets), written as PMTiles at start.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use pmtiles::{AsyncBackend, AsyncPmTilesReader, BackendResponse, PmtResult};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

pub mod draw;
pub mod overview;

/// Reads a PMTiles archive with positioned reads (`pread`), never a memory map: a file changed
/// under a running server gives read errors (said on the page), never a crash. A new archive
/// is put in place by a restart (an archive renamed over the old one is not seen until then).
pub struct FileBackend {
    file: std::fs::File,
}

impl FileBackend {
    /// Opens `path` for reading.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: std::fs::File::open(path)?,
        })
    }
}

impl AsyncBackend for FileBackend {
    async fn read(&self, offset: u64, length: usize) -> PmtResult<BackendResponse> {
        use std::os::unix::fs::FileExt;
        let mut buffer = vec![0u8; length];
        let mut filled = 0;
        while filled < length {
            let n = self
                .file
                .read_at(&mut buffer[filled..], offset + filled as u64)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buffer.truncate(filled);
        Ok(BackendResponse::new(Bytes::from(buffer)))
    }
}

/// The deepest zoom read from an archive (a declared zoom beyond it is taken as this).
pub const MAX_ZOOM: u8 = 24;

/// What a tile archive declares about itself.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Its name.
    pub name: Option<String>,
    /// Whose data it is, to be shown wherever it is drawn.
    pub attribution: Option<String>,
    /// The lowest zoom with tiles.
    pub min_zoom: u8,
    /// The highest zoom with tiles (deeper maps draw these, enlarged).
    pub max_zoom: u8,
    /// `[min_lon, min_lat, max_lon, max_lat]`, when declared.
    pub bounds: Option<[f64; 4]>,
}

/// The basemap file, opened and checked.
pub enum Basemap {
    /// A PMTiles v3 archive.
    PmTiles {
        /// The file.
        path: PathBuf,
        /// Its reader (header and root directory read once).
        reader: Box<AsyncPmTilesReader<FileBackend>>,
        /// What it declares.
        declared: Declared,
    },
    /// An MBTiles file of vector tiles.
    MbTiles {
        /// The file.
        path: PathBuf,
        /// Read-only connections to it.
        pool: SqlitePool,
        /// What its `metadata` table declares.
        declared: Declared,
    },
}

impl std::fmt::Debug for Basemap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basemap")
            .field("path", &self.path())
            .field("declared", self.declared())
            .finish_non_exhaustive()
    }
}

/// A PMTiles archive's metadata: its name and attribution, when it has them.
fn pmtiles_declared(reader: &AsyncPmTilesReader<FileBackend>, metadata: Option<&str>) -> Declared {
    let h = reader.get_header();
    let meta: Value = metadata
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or(Value::Null);
    let text = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned);
    let bounds = [
        h.min_longitude,
        h.min_latitude,
        h.max_longitude,
        h.max_latitude,
    ];
    Declared {
        name: text("name"),
        attribution: text("attribution"),
        min_zoom: h.min_zoom.min(MAX_ZOOM),
        max_zoom: h.max_zoom.min(MAX_ZOOM),
        bounds: (bounds[0] < bounds[2] && bounds[1] < bounds[3]).then_some(bounds),
    }
}

impl Basemap {
    /// Opens the file the `basemap` setting names.
    ///
    /// # Errors
    /// A missing file, or one that is neither a PMTiles v3 archive of vector tiles nor an
    /// MBTiles database with a `tiles` table, said in words with the path.
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
            let backend = FileBackend::open(path)
                .map_err(|e| format!("basemap '{shown}' cannot be opened: {e}"))?;
            let reader = AsyncPmTilesReader::try_from_source(backend)
                .await
                .map_err(|e| format!("basemap '{shown}' is not a readable PMTiles archive: {e}"))?;
            if reader.get_header().tile_type != pmtiles::TileType::Mvt {
                return Err(format!(
                    "basemap '{shown}' holds {:?} tiles; only vector tiles (MVT) are drawn with the shipped style",
                    reader.get_header().tile_type
                ));
            }
            let metadata = reader.get_metadata().await.ok();
            let declared = pmtiles_declared(&reader, metadata.as_deref());
            return Ok(Self::PmTiles {
                path: path.to_path_buf(),
                reader: Box::new(reader),
                declared,
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
        let metadata: std::collections::HashMap<String, String> = rows.into_iter().collect();
        if let Some(format) = metadata.get("format")
            && format != "pbf"
        {
            return Err(format!(
                "basemap '{shown}' holds '{format}' tiles; only vector tiles (pbf) are drawn with the shipped style"
            ));
        }
        let number = |k: &str| metadata.get(k).and_then(|v| v.trim().parse::<u8>().ok());
        let bounds = metadata.get("bounds").and_then(|b| {
            let v = b
                .split(',')
                .map(|v| v.trim().parse::<f64>().ok())
                .collect::<Option<Vec<f64>>>()?;
            <[f64; 4]>::try_from(v).ok()
        });
        let declared = Declared {
            name: metadata.get("name").cloned(),
            attribution: metadata.get("attribution").cloned(),
            min_zoom: number("minzoom").unwrap_or(0).min(MAX_ZOOM),
            max_zoom: number("maxzoom").unwrap_or(14).min(MAX_ZOOM),
            bounds,
        };
        Ok(Self::MbTiles {
            path: path.to_path_buf(),
            pool,
            declared,
        })
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::PmTiles { path, .. } | Self::MbTiles { path, .. } => path,
        }
    }

    /// What the archive declares.
    #[must_use]
    pub const fn declared(&self) -> &Declared {
        match self {
            Self::PmTiles { declared, .. } | Self::MbTiles { declared, .. } => declared,
        }
    }

    /// One tile, uncompressed (`None` where the archive has none). `y` counts from the north,
    /// as in the browser (MBTiles rows are flipped here).
    ///
    /// # Errors
    /// The file cannot be read, or a tile does not decompress.
    pub async fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>, String> {
        if z > MAX_ZOOM || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
            return Err(format!("{z}/{x}/{y} is not a tile"));
        }
        match self {
            Self::PmTiles { reader, .. } => {
                let coord = pmtiles::TileCoord::new(z, x, y).map_err(|e| e.to_string())?;
                let bytes = reader
                    .get_tile_decompressed(coord)
                    .await
                    .map_err(|e| format!("basemap tile {z}/{x}/{y}: {e}"))?;
                Ok(bytes.map(|b| b.to_vec()))
            }
            Self::MbTiles { pool, .. } => {
                let Some(bytes) = Self::mbtiles_stored(pool, z, x, y).await? else {
                    return Ok(None);
                };
                if bytes.starts_with(&[0x1f, 0x8b]) {
                    use std::io::Read;
                    let mut out = Vec::with_capacity(bytes.len() * 3);
                    flate2::read::GzDecoder::new(bytes.as_slice())
                        .read_to_end(&mut out)
                        .map_err(|e| format!("basemap tile {z}/{x}/{y} does not unzip: {e}"))?;
                    Ok(Some(out))
                } else {
                    Ok(Some(bytes))
                }
            }
        }
    }

    /// A tile of the MBTiles file behind `pool` as stored (perhaps gzipped); `y` from the north.
    ///
    /// # Errors
    /// The file cannot be read.
    pub async fn mbtiles_stored(
        pool: &SqlitePool,
        z: u8,
        x: u32,
        y: u32,
    ) -> Result<Option<Vec<u8>>, String> {
        let row = (1i64 << z) - 1 - i64::from(y);
        let data: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT tile_data FROM tiles WHERE zoom_level = $1 AND tile_column = $2 AND tile_row = $3",
        )
        .bind(i64::from(z))
        .bind(i64::from(x))
        .bind(row)
        .fetch_optional(pool)
        .await
        .map_err(|e| e.to_string())?;
        Ok(data.map(|(b,)| b))
    }

    /// What `GET /basemap` says.
    #[must_use]
    pub fn describe(&self) -> Value {
        let d = self.declared();
        let file = self
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let mut out = match self {
            Self::PmTiles { .. } => json!({
                "format": "pmtiles",
                "url": "/basemap/archive.pmtiles",
            }),
            Self::MbTiles { .. } => json!({
                "format": "mbtiles",
                "tiles": ["/basemap/{z}/{x}/{y}"],
            }),
        };
        out["file"] = json!(file);
        out["name"] = json!(d.name);
        out["attribution"] = json!(d.attribution);
        out["minzoom"] = json!(d.min_zoom);
        out["maxzoom"] = json!(d.max_zoom);
        out["bounds"] = json!(d.bounds);
        out
    }
}
