//! Readable pages (`f=html`, or a browser's `Accept`) for the OGC resources: conformance, the
//! collections, one collection, its items with a small map, and one feature — in Swedish, like
//! pygeoapi's and ldproxy's, from this server only (the map script and style are under `/web/`).
//! The pages show exactly what the JSON shows the same caller: they are built from it.

use std::fmt::Write as _;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::labels::{field_label, value_label};

/// The Swedish words of the pages, in one place.
mod words {
    pub const HOME: &str = "Lägesbild";
    pub const COLLECTIONS: &str = "Lager";
    pub const CONFORMANCE: &str = "Standarder som följs";
    pub const ITEMS: &str = "Objekt";
    pub const AS_JSON: &str = "Som JSON";
    pub const API: &str = "API-beskrivning (OpenAPI)";
    pub const SCHEMA: &str = "Egenskaper (JSON Schema)";
    pub const COUNTS_ONLY: &str = "Endast antal (din roll ser inte enskilda objekt)";
    pub const NUMBER: &str = "Antal objekt du ser";
    pub const PRECISION: &str = "Precision";
    pub const EXTENT: &str = "Utbredning (WGS84)";
    pub const PERIOD: &str = "Tidsperiod";
    pub const CATEGORIES: &str = "Kategorier";
    pub const STATUSES: &str = "Status";
    pub const GEOMETRY: &str = "Geometrityper";
    pub const NEXT: &str = "Nästa sida";
    pub const PREV: &str = "Föregående sida";
    pub const MAP: &str = "Karta över objekten på sidan";
    pub const COARSE: &str = "Grovt läge: punkten är mitten av en 250 m-ruta, inte en plats.";
    pub const NONE: &str = "Inga objekt matchar.";
    pub fn showing(first: u64, last: u64, matched: u64) -> String {
        format!("Visar {first}–{last} av {matched}.")
    }
    pub fn partial(returned: u64, matched: u64) -> String {
        format!(
            "Sidan visar {returned} av {matched} objekt: använd länkarna för resten, eller filtrera."
        )
    }
}

/// Escapes text for HTML content and attribute values.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` island: `<` escaped so no `</script>` or
/// comment can end it early.
fn json_island(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The page around `body`: breadcrumbs, the title, and the JSON alternative.
fn page(title: &str, crumbs: &[(&str, String)], body: &str, json_href: &str) -> Response {
    let mut nav = String::new();
    for (i, (label, href)) in crumbs.iter().enumerate() {
        if i > 0 {
            nav.push_str(" › ");
        }
        let _ = write!(nav, "<a href=\"{}\">{}</a>", esc(href), esc(label));
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t} – {home}</title>\n\
         <link rel=\"stylesheet\" href=\"/web/vendor/maplibre-gl/maplibre-gl.css\">\n\
         <link rel=\"stylesheet\" href=\"/web/ogc.css\">\n\
         <link rel=\"icon\" href=\"/web/favicon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"alternate\" type=\"application/json\" href=\"{j}\">\n</head>\n<body class=\"ogc\">\n\
         <nav class=\"crumbs\">{nav}</nav>\n<main>\n<h1>{t}</h1>\n{body}\n</main>\n\
         <footer><a href=\"{j}\">{as_json}</a> · <a href=\"/api\">{api}</a></footer>\n</body>\n</html>\n",
        t = esc(title),
        home = words::HOME,
        j = esc(json_href),
        as_json = words::AS_JSON,
        api = words::API,
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

fn with_f(href: &str, f: &str) -> String {
    let sep = if href.contains('?') { '&' } else { '?' };
    format!("{href}{sep}f={f}")
}

fn home() -> (&'static str, String) {
    (words::HOME, "/".to_owned())
}

fn collections_crumb() -> (&'static str, String) {
    (words::COLLECTIONS, "/collections?f=html".to_owned())
}

/// The conformance classes as a list.
#[must_use]
pub fn conformance(classes: &[&str]) -> Response {
    let items: String = classes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", esc(c)))
        .collect();
    page(
        words::CONFORMANCE,
        &[home()],
        &format!("<ul>{items}</ul>"),
        "/conformance?f=json",
    )
}

/// The collections document as a table, and the count-only layers.
#[must_use]
pub fn collections(doc: &Value) -> Response {
    let mut rows = String::new();
    for c in doc["collections"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or_default();
        let _ = write!(
            rows,
            "<tr><td><a href=\"/collections/{id}?f=html\">{title}</a></td><td>{desc}</td><td class=\"num\">{n}</td><td>{p}</td>\
             <td><a href=\"/collections/{id}/items?f=html\">{items}</a></td></tr>",
            id = esc(id),
            title = esc(c["title"].as_str().unwrap_or(id)),
            desc = esc(c["description"].as_str().unwrap_or_default()),
            n = c["numberOfFeatures"],
            p = esc(&value_label(c["precision"].as_str().unwrap_or_default())),
            items = words::ITEMS,
        );
    }
    let mut body = format!(
        "<table><thead><tr><th>{}</th><th></th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
        words::COLLECTIONS,
        words::NUMBER,
        words::PRECISION
    );
    let counts: Vec<String> = doc["countsOnly"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "<li><a href=\"{}\">{}</a></li>",
                esc(c["href"].as_str().unwrap_or_default()),
                esc(c["title"].as_str().unwrap_or_default())
            )
        })
        .collect();
    if !counts.is_empty() {
        let _ = write!(
            body,
            "<h2>{}</h2><ul>{}</ul>",
            words::COUNTS_ONLY,
            counts.concat()
        );
    }
    page(words::COLLECTIONS, &[home()], &body, "/collections?f=json")
}

fn names(values: &Value) -> String {
    values
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|v| esc(&value_label(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One collection's description.
#[must_use]
pub fn collection(c: &Value) -> Response {
    let id = c["id"].as_str().unwrap_or_default();
    let title = c["title"].as_str().unwrap_or(id);
    let mut rows = String::new();
    let mut row = |k: &str, v: String| {
        let _ = write!(rows, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    row(
        words::PRECISION,
        esc(&value_label(c["precision"].as_str().unwrap_or_default())),
    );
    if !c["numberOfFeatures"].is_null() {
        row(words::NUMBER, c["numberOfFeatures"].to_string());
    }
    row(
        words::EXTENT,
        esc(&c["extent"]["spatial"]["bbox"][0].to_string()),
    );
    if let Some(interval) = c["extent"]["temporal"]["interval"][0].as_array() {
        let ends: Vec<&str> = interval.iter().filter_map(Value::as_str).collect();
        row(words::PERIOD, esc(&ends.join(" – ")));
    }
    if c["categories"]["values"].is_array() {
        row(words::CATEGORIES, names(&c["categories"]["values"]));
    }
    if c["statuses"].is_array() {
        row(words::STATUSES, names(&c["statuses"]));
    }
    row(
        words::GEOMETRY,
        esc(&c["geometryTypes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ")),
    );
    let mut links = String::new();
    if c["itemType"] == "feature" {
        let _ = write!(
            links,
            "<li><a href=\"/collections/{id}/items?f=html\">{}</a></li><li><a href=\"/collections/{id}/schema\">{}</a></li>",
            words::ITEMS,
            words::SCHEMA,
            id = esc(id)
        );
    } else {
        let _ = write!(
            links,
            "<li><a href=\"/collections/{}/aggregate\">{}</a></li>",
            esc(id),
            words::COUNTS_ONLY
        );
    }
    page(
        title,
        &[home(), collections_crumb()],
        &format!(
            "<p>{}</p><table class=\"props\">{rows}</table><ul>{links}</ul>",
            esc(c["description"].as_str().unwrap_or_default())
        ),
        &format!("/collections/{id}?f=json"),
    )
}

/// The first eight characters of an id, enough to tell features apart on a page.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A property's value as text: labels for coded values, lists joined, objects as JSON.
fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => value_label(s),
        Value::Bool(b) => value_label(&b.to_string()),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

fn map_block(features: &Value) -> String {
    format!(
        "<div id=\"map\" class=\"ogc-map\" role=\"img\" aria-label=\"{}\"></div>\n\
         <script type=\"application/json\" id=\"features\">{}</script>\n\
         <script type=\"module\" src=\"/web/js/ogc-page.js\"></script>",
        words::MAP,
        json_island(features)
    )
}

/// One page of items: the map, a table with one column per property, and paging links.
/// `offset` is the page's first feature; `json_href` the same request as JSON.
#[must_use]
pub fn items(layer_title: &str, layer: &str, fc: &Value, offset: u64, json_href: &str) -> Response {
    let features = fc["features"].as_array().cloned().unwrap_or_default();
    let columns: Vec<String> = features
        .first()
        .and_then(|f| f["properties"].as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let matched = fc["numberMatched"].as_u64().unwrap_or(0);
    let returned = fc["numberReturned"].as_u64().unwrap_or(0);
    let mut body = String::new();
    if features.is_empty() {
        let _ = write!(body, "<p>{}</p>", words::NONE);
    } else {
        let _ = write!(
            body,
            "<p class=\"count\">{}",
            words::showing(offset + 1, offset + returned, matched)
        );
        if returned < matched {
            let _ = write!(
                body,
                " <strong>{}</strong>",
                words::partial(returned, matched)
            );
        }
        body.push_str("</p>");
        if columns.iter().any(|c| c == "cell_m") {
            let _ = write!(body, "<p class=\"note\">{}</p>", words::COARSE);
        }
        body.push_str(&map_block(&Value::Array(features.clone())));
    }
    let mut paging = String::new();
    for (rel, label) in [("prev", words::PREV), ("next", words::NEXT)] {
        if let Some(href) = fc["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rel"] == rel)
            .and_then(|l| l["href"].as_str())
        {
            let _ = write!(
                paging,
                "<a rel=\"{rel}\" href=\"{}\">{label}</a> ",
                esc(&with_f(href, "html"))
            );
        }
    }
    if !paging.is_empty() {
        let _ = write!(body, "<p class=\"paging\">{paging}</p>");
    }
    if !features.is_empty() {
        body.push_str("<div class=\"scroll\"><table><thead><tr><th>Id</th>");
        for c in &columns {
            let _ = write!(body, "<th>{}</th>", esc(&field_label(c)));
        }
        body.push_str("</tr></thead><tbody>");
        for f in &features {
            let id = f["id"].as_str().unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td><a href=\"/collections/{layer}/items/{id}?f=html\">{short}</a></td>",
                layer = esc(layer),
                id = esc(id),
                short = esc(short_id(id))
            );
            for c in &columns {
                let _ = write!(body, "<td>{}</td>", esc(&show(&f["properties"][c])));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table></div>");
    }
    page(
        &format!("{layer_title}: {}", words::ITEMS.to_lowercase()),
        &[
            home(),
            collections_crumb(),
            (layer_title, format!("/collections/{layer}?f=html")),
        ],
        &body,
        json_href,
    )
}

/// One feature: its map and its properties.
#[must_use]
pub fn feature(layer_title: &str, layer: &str, f: &Value) -> Response {
    let id = f["id"].as_str().unwrap_or_default();
    let mut rows = String::new();
    for (k, v) in f["properties"].as_object().into_iter().flatten() {
        let _ = write!(
            rows,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&field_label(k)),
            esc(&show(v))
        );
    }
    let mut body = String::new();
    if f["properties"]["cell_m"].is_number() {
        let _ = write!(body, "<p class=\"note\">{}</p>", words::COARSE);
    }
    body.push_str(&map_block(&Value::Array(vec![f.clone()])));
    let _ = write!(body, "<table class=\"props\">{rows}</table>");
    page(
        &format!("{layer_title} {}", short_id(id)),
        &[
            home(),
            collections_crumb(),
            (layer_title, format!("/collections/{layer}?f=html")),
            (words::ITEMS, format!("/collections/{layer}/items?f=html")),
        ],
        &body,
        &format!("/collections/{layer}/items/{id}?f=json"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_islands_cannot_break_out() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let island = json_island(&serde_json::json!({"d": "</script><script>alert(1)</script>"}));
        assert!(!island.contains("</script"), "{island}");
        let back: Value = serde_json::from_str(&island).unwrap_or(Value::Null);
        assert_eq!(back["d"], "</script><script>alert(1)</script>");
    }
}
