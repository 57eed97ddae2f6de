//! Response headers that keep data out of caches and pages out of frames.
//!
//! - `Cache-Control: no-store` on every answer that does not set its own (data, pages, errors),
//!   so a shared computer or proxy never keeps a copy of what a role saw; the web client's
//!   static files under `/web/` may be revalidated (`no-cache`), never stored stale.
//! - `Content-Security-Policy`: scripts, styles, workers and connections from this server only
//!   (plus the origins of a basemap configured in `web/config.json`), no frames, no plugins.
//! - `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.

use std::sync::Arc;

use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy for the web client, allowing the origins a basemap in
/// `web/config.json` names (a municipality's own tile server), and nothing else outside.
#[must_use]
pub fn content_security_policy(web: &super::assets::WebAssets) -> String {
    let extra = web
        .text("config.json")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| {
            let mut origins = Vec::new();
            collect_origins(&v["basemap"], &mut origins);
            origins.sort();
            origins.dedup();
            origins
        })
        .unwrap_or_default()
        .iter()
        .map(|o| format!(" {o}"))
        .collect::<String>();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; font-src 'self'; \
         worker-src 'self' blob:; child-src 'self' blob:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Every `scheme://host[:port]` of an absolute http(s) URL in a JSON value.
fn collect_origins(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            for scheme in ["https://", "http://"] {
                if let Some(rest) = s.strip_prefix(scheme) {
                    let host: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
                        .collect();
                    if !host.is_empty() {
                        out.push(format!("{scheme}{host}"));
                    }
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_origins(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_origins(x, out)),
        _ => {}
    }
}

/// Adds the headers above to every response.
pub async fn security_headers(
    csp: Arc<HeaderValue>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let static_file = req.uri().path().starts_with("/web/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if static_file { "no-cache" } else { "no-store" }),
        );
    }
    h.insert(header::CONTENT_SECURITY_POLICY, (*csp).clone());
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_basemap_host_is_allowed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"basemap": {"type": "xyz", "tiles": ["https://karta.kommun.se:8443/{z}/{x}/{y}.png", "/web/tiles/{z}.png"]}}"#,
        )
        .unwrap();
        let csp = content_security_policy(&super::super::assets::WebAssets::Folder(
            dir.path().to_path_buf(),
        ));
        assert!(
            csp.contains("img-src 'self' data: blob: https://karta.kommun.se:8443;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let none = content_security_policy(&super::super::assets::WebAssets::Folder(
            "/nonexistent".into(),
        ));
        assert!(none.contains("connect-src 'self';"), "{none}");
    }
}
