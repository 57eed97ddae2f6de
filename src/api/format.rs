//! One rule for `f=` on every path: `json` (also `geojson`) or `html`, anything else is 400.
//!
//! The middleware reads `f`, takes it out of the query (so handlers' strict parameter lists
//! need not know it) and leaves the asked [`Format`] in the request's extensions. Without `f`,
//! the pages that have an HTML form give it to browsers (`Accept: text/html` first); the rest
//! are JSON only, and `f=html` on them is 400 saying where HTML is offered.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The representation a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON or GeoJSON (the default).
    Json,
    /// A readable page.
    Html,
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Format>()
            .copied()
            .unwrap_or(Format::Json))
    }
}

/// Whether `path` has an HTML page: the landing page, conformance, the collections, one
/// collection, its items and one feature.
#[must_use]
pub fn has_html(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        [""] | ["conformance"] | ["collections"] | ["collections", _] | ["collections", _, "items"]
    ) || matches!(segments.as_slice(), ["collections", _, "items", id] if !id.is_empty())
}

/// Whether the client's `Accept` puts HTML first (a browser following a link).
fn accepts_html_first(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split(',').next())
        .is_some_and(|first| first.trim().starts_with("text/html"))
}

/// The format asked by `f` (with exact repeats read once), and the query without `f`.
///
/// # Errors
/// 400 naming `f` for another value, or two different values.
pub fn read_f(query: &str) -> Result<(Option<Format>, String), ApiError> {
    let mut asked: Option<(String, Format)> = None;
    let mut rest: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "f" {
            rest.push(pair);
            continue;
        }
        let value = serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={value}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|(_, v)| v)
            .unwrap_or_default();
        let format = match value.as_str() {
            "json" | "geojson" => Format::Json,
            "html" => Format::Html,
            other => {
                return Err(ApiError::bad_param(
                    "f",
                    format!("is '{other}'; use json (or geojson) or html"),
                ));
            }
        };
        match &asked {
            Some((v, _)) if *v != value => {
                return Err(ApiError::bad_param(
                    "f",
                    format!("is given twice ('{v}' and '{value}'); give it once"),
                ));
            }
            _ => asked = Some((value, format)),
        }
    }
    Ok((asked.map(|(_, f)| f), rest.join("&")))
}

/// The middleware: see the module documentation.
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // `f` chooses a representation of what is read; other methods answer as they do.
    if path.starts_with("/web/") || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or("").to_owned();
    let (asked, rest) = match read_f(&query) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let html_page = has_html(&path);
    let format = match asked {
        Some(Format::Html) if !html_page => {
            return ApiError::bad_param(
                "f",
                format!(
                    "is 'html', but {path} is offered as JSON only (f=json); readable pages exist for /, /conformance, /collections, one collection, its items and one feature"
                ),
            )
            .into_response();
        }
        Some(f) => f,
        None if html_page && accepts_html_first(req.headers()) => Format::Html,
        None => Format::Json,
    };
    if asked.is_some() {
        let path_and_query = if rest.is_empty() {
            path.clone()
        } else {
            format!("{path}?{rest}")
        };
        if let Ok(uri) = path_and_query.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req.extensions_mut().insert(format);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_is_json_or_html_once() {
        assert_eq!(
            read_f("a=1&f=html&b=2").unwrap(),
            (Some(Format::Html), "a=1&b=2".to_owned())
        );
        assert_eq!(read_f("f=geojson").unwrap().0, Some(Format::Json));
        assert_eq!(read_f("f=json&f=json").unwrap().0, Some(Format::Json));
        assert_eq!(read_f("x=1").unwrap(), (None, "x=1".to_owned()));
        assert!(read_f("f=xml").is_err());
        assert!(read_f("f=json&f=html").is_err());
        assert!(read_f("f=").is_err());
    }

    #[test]
    fn html_pages_are_the_ogc_resources() {
        for p in [
            "/",
            "/conformance",
            "/collections",
            "/collections/incidents",
            "/collections/incidents/items",
            "/collections/incidents/items/abc",
        ] {
            assert!(has_html(p), "{p}");
        }
        for p in [
            "/api",
            "/collections/incidents/aggregate",
            "/collections/incidents/schema",
            "/analysis/density",
            "/meetings",
        ] {
            assert!(!has_html(p), "{p}");
        }
    }
}
