//! The web client's files (issue 16). Compiled into the binary, so the map is served whatever
//! directory the server is started in (a service manager starts it in `/`); or, when the
//! `web_dir` setting names a folder, read from there (to try changes without a build) — a
//! folder that does not hold the client stops the start-up with an error rather than serving
//! a server without its map.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `web/` as it was when the binary was built, without the tools only the tests use.
#[derive(rust_embed::Embed)]
#[folder = "web/"]
#[exclude = "node_modules/*"]
#[exclude = "e2e/*"]
#[exclude = "package.json"]
#[exclude = "package-lock.json"]
struct Embedded;

/// Where the web client's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAssets {
    /// Compiled into the binary (the default).
    Embedded,
    /// Read from this folder (the `web_dir` setting).
    Folder(PathBuf),
}

impl WebAssets {
    /// The files the `web_dir` setting asks for: built in when unset.
    ///
    /// # Errors
    /// A folder without the client's `index.html` (missing, or the wrong one), said in words.
    pub fn from_setting(web_dir: Option<&Path>) -> Result<Self, String> {
        match web_dir {
            None => Ok(Self::Embedded),
            Some(dir) if dir.join("index.html").is_file() => Ok(Self::Folder(dir.to_path_buf())),
            Some(dir) => Err(format!(
                "web_dir '{}' holds no index.html (from {}): name the folder of the map client's files, or leave web_dir unset to serve the client built into the binary",
                dir.display(),
                std::env::current_dir().map_or_else(|_| "?".into(), |d| d.display().to_string())
            )),
        }
    }

    /// The bytes of the file at `path` (relative to `web/`), if there is one.
    #[must_use]
    pub fn read(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        match self {
            Self::Embedded => Embedded::get(path).map(|f| f.data),
            Self::Folder(dir) => {
                // Only plain relative paths: the folder's own files, nothing beside it.
                let relative = Path::new(path);
                if relative
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    return None;
                }
                std::fs::read(dir.join(relative)).ok().map(Cow::Owned)
            }
        }
    }

    /// The text of the file at `path`, if there is one and it is UTF-8.
    #[must_use]
    pub fn text(&self, path: &str) -> Option<String> {
        self.read(path)
            .and_then(|b| String::from_utf8(b.into_owned()).ok())
    }

    /// Every built-in file's path (for tests and the package's checks).
    pub fn embedded_paths() -> impl Iterator<Item = Cow<'static, str>> {
        Embedded::iter()
    }
}

/// `GET /web/{*path}` from the built-in files: the file with its media type and an `ETag` (its
/// SHA-256), 304 for a matching `If-None-Match`, 404 for anything else.
pub async fn embedded_file(UrlPath(path): UrlPath<String>, headers: HeaderMap) -> Response {
    let Some(file) = Embedded::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let etag = HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [(header::CONTENT_TYPE, mime), (header::ETAG, etag)],
        file.data,
    )
        .into_response()
}

/// `GET /fonts/{file}`: the fonts the map client draws its labels with (MapLibre's
/// `font-faces`, rendered in the browser: no glyph server), the briefings' own.
pub async fn font(UrlPath(file): UrlPath<String>, headers: HeaderMap) -> Response {
    let bytes: &'static [u8] = match file.as_str() {
        "DejaVuSans.ttf" => crate::briefing::render::FONT_REGULAR,
        "DejaVuSans-Bold.ttf" => crate::briefing::render::FONT_BOLD,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // The binary's version names the bytes: they change only with a new build.
    let tag = HeaderValue::from_static(concat!("\"font-", env!("CARGO_PKG_VERSION"), "\""));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("font/ttf")),
            (header::ETAG, tag),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_built_in_without_the_test_tools() {
        let paths: Vec<String> = WebAssets::embedded_paths().map(Cow::into_owned).collect();
        for needed in ["index.html", "js/main.js", "labels.json", "favicon.svg"] {
            assert!(paths.iter().any(|p| p == needed), "{needed} missing");
        }
        assert!(paths.iter().any(|p| p.starts_with("vendor/maplibre-gl/")));
        assert!(
            !paths
                .iter()
                .any(|p| p.starts_with("node_modules/") || p.starts_with("e2e/"))
        );
        assert!(WebAssets::Embedded.text("index.html").is_some());
    }

    #[test]
    fn a_folder_must_hold_the_client_and_serves_only_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = WebAssets::from_setting(Some(dir.path())).unwrap_err();
        assert!(err.contains("index.html"), "{err}");
        std::fs::write(dir.path().join("index.html"), "<p>x</p>").unwrap();
        let assets = WebAssets::from_setting(Some(dir.path())).unwrap();
        assert_eq!(assets.text("index.html").as_deref(), Some("<p>x</p>"));
        assert!(assets.read("../index.html").is_none());
        assert!(assets.read("/etc/passwd").is_none());
        assert_eq!(WebAssets::from_setting(None).unwrap(), WebAssets::Embedded);
    }
}
