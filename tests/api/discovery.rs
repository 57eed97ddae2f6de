//! Landing page, conformance, API document, collections, and the honest 404/405.

use crate::common::{TestApp, assert_problem, fetch, fresh_sqlite};

#[tokio::test]
async fn landing_page_links_what_gis_clients_need_and_browsers_get_the_page() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (status, body) = app.get_json("/").await;
    assert_eq!(status, 200);
    let rels: Vec<&str> = body["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rels:?}");
    }
    let html = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.text()
            .await
            .unwrap()
            .contains("<title>Lägesbild</title>")
    );
    let (_, conf) = app.get_json("/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    app.stop().await;
}

#[tokio::test]
async fn api_document_describes_every_endpoint() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let r = app.get("/api").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("openapi")
    );
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/", &["get"][..]),
        ("/conformance", &["get"]),
        ("/api", &["get"]),
        ("/health", &["get"]),
        ("/collections", &["get"]),
        ("/api/3.1", &["get"]),
        ("/collections/incidents", &["get"]),
        ("/collections/incidents/schema", &["get"]),
        ("/collections/incidents/items", &["get", "post"]),
        (
            "/collections/incidents/items/{featureId}",
            &["get", "put", "patch", "delete"],
        ),
        ("/collections/incidents/aggregate", &["get"]),
        ("/collections/measures/items", &["get", "post"]),
        ("/events", &["get"]),
        ("/auth/login", &["post"]),
        ("/auth/session", &["get"]),
        ("/auth/logout", &["post"]),
        ("/audit", &["get"]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "{m} {path} is not documented");
        }
    }
    // How to sign in is part of the document; public resources say they need nothing.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["token"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(
        paths["/conformance"]["get"]["security"],
        serde_json::json!([{}])
    );
    // OpenAPI 3.0 for GDAL, OWSLib and the oas30 class; the same in 3.1 beside it.
    assert_eq!(doc["openapi"], "3.0.3");
    let (_, doc31) = app.get_json("/api/3.1").await;
    assert_eq!(doc31["openapi"], "3.1.0");
    assert_eq!(
        doc31["paths"].as_object().unwrap().len(),
        paths.as_object().unwrap().len()
    );
    let params: Vec<&str> = paths["/collections/incidents/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "bbox",
        "datetime",
        "limit",
        "offset",
        "category",
        "status",
        "near",
        "intersects",
        "distance",
    ] {
        assert!(params.contains(&p), "{p} missing from {params:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn collections_describe_layers_with_extent_and_vocabularies() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, body) = app.get_json("/collections").await;
    let ids: Vec<&str> = body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "incidents",
            "risk_environments",
            "cameras",
            "patrol_routes",
            "walks",
            "areas",
            "measures"
        ]
    );
    let (status, inc) = app.get_json("/collections/incidents").await;
    assert_eq!(status, 200);
    let bbox = inc["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    let bbox: Vec<f64> = bbox.iter().map(|v| v.as_f64().unwrap()).collect();
    // The demo incidents lie in Botkyrka and Södertälje.
    assert!(
        bbox[0] > 17.4 && bbox[2] < 18.0 && bbox[1] > 59.1 && bbox[3] < 59.3,
        "{bbox:?}"
    );
    assert!(inc["extent"]["temporal"]["interval"][0][0].is_string());
    assert_eq!(inc["categories"]["property"], "category");
    assert!(
        inc["categories"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "car_fire")
    );
    assert!(
        inc["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "items")
    );
    let problem = assert_problem(app.get("/collections/people").await, 404).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("incidents"),
        "{problem}"
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_problem_bodies() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    assert_problem(app.get("/nowhere").await, 404).await;
    let r = app
        .client
        .delete(app.url("/collections"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 405).await;
    let (status, health) = app.get_json("/health").await;
    assert_eq!((status, health["store"].as_str()), (200, Some("sqlite")));
    app.stop().await;
}

/// Issue 13, defect 7: one rule for `f` on every path — json (or geojson) and html, 400 for
/// anything else, and html only where there is a page.
#[tokio::test]
async fn f_means_the_same_everywhere() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, one) = app.get_json("/collections/cameras/items?limit=1").await;
    let feature = format!(
        "/collections/cameras/items/{}",
        one["features"][0]["id"].as_str().unwrap()
    );
    let pages = [
        "/",
        "/conformance",
        "/collections",
        "/collections/cameras",
        "/collections/cameras/items",
        feature.as_str(),
    ];
    let json_only = [
        "/api",
        "/health",
        "/meetings",
        "/collections/cameras/schema",
        "/collections/incidents/aggregate",
        "/analysis/hotspots",
        "/auth/session",
    ];
    for path in pages.iter().chain(json_only.iter()) {
        let sep = if path.contains('?') { '&' } else { '?' };
        for f in ["json", "geojson"] {
            let (status, ct, _) =
                fetch(&app.client, &app.url(&format!("{path}{sep}f={f}")), None).await;
            assert_eq!(status, 200, "{path} f={f}");
            assert!(ct.contains("json"), "{path} f={f}: {ct}");
        }
        for bad in ["xml", "", "HTML", "json,html"] {
            let r = app.get(&format!("{path}{sep}f={bad}")).await;
            let p = assert_problem(r, 400).await;
            assert_eq!(p["errors"][0]["pointer"], "f", "{path} f={bad}");
        }
        let r = app.get(&format!("{path}{sep}f=json&f=html")).await;
        assert_problem(r, 400).await;
        // An exact repeat is read once (GDAL appends its own parameters).
        let (status, _, _) = fetch(
            &app.client,
            &app.url(&format!("{path}{sep}f=json&f=json")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{path} f=json twice");
    }
    for path in pages {
        let (status, ct, body) =
            fetch(&app.client, &app.url(&format!("{path}?f=html")), None).await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "text/html; charset=utf-8"),
            "{path}"
        );
        assert!(
            body.starts_with("<!doctype html>") && body.contains("lang=\"sv\""),
            "{path}"
        );
        // A browser following a link (HTML first in Accept) gets the page too.
        let (_, ct, _) = fetch(
            &app.client,
            &app.url(path),
            Some("text/html,application/xhtml+xml,*/*;q=0.8"),
        )
        .await;
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        // A client asking for JSON, or for anything, gets JSON.
        let (_, ct, _) = fetch(&app.client, &app.url(path), Some("*/*")).await;
        assert!(ct.contains("json"), "{path}: {ct}");
    }
    for path in json_only {
        let r = app.get(&format!("{path}?f=html")).await;
        let p = assert_problem(r, 400).await;
        assert!(p["detail"].as_str().unwrap().contains("JSON only"), "{p}");
        // A browser's Accept does not change a JSON-only answer.
        let (_, ct, _) = fetch(&app.client, &app.url(path), Some("text/html")).await;
        assert!(ct.contains("json"), "{path}: {ct}");
    }
    app.stop().await;
}

/// The HTML pages show what the JSON shows the same caller, with text escaped.
#[tokio::test]
async fn html_pages_follow_the_grants_and_escape_text() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let mut f = crate::common::incident(17.84, 59.24, "vandalism", "2026-11-20T20:00:00Z");
    f["properties"]["description"] = serde_json::json!("<script>alert(1)</script> & \"x\"");
    f["properties"]["reference"] = serde_json::json!("5000-K1-26");
    let r = app.post("/collections/incidents/items", &f).await;
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let (status, _, page) = fetch(
        &app.client,
        &app.url(&format!("/collections/incidents/items/{id}?f=html")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!page.contains("<script>alert"), "escaped");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
    assert!(page.contains("5000-K1-26"));
    // The coordinator's grant hides the reference: not on its page either.
    let coord = crate::common::client_with_token(
        &crate::common::token_for(
            &app.service,
            "h-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let (status, _, page) = fetch(
        &coord,
        &app.url(&format!("/collections/incidents/items/{id}?f=html")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("5000-K1-26") && !page.contains("Diarienummer"),
        "hidden"
    );
    // A coarse role's items page says the points are cells, and shows no exact field.
    let social = crate::common::client_with_token(
        &crate::common::token_for(
            &app.service,
            "h-social",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let (status, _, page) = fetch(
        &social,
        &app.url("/collections/incidents/items?f=html&limit=20"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("250 m-ruta") && !page.contains("Allvarlighet"),
        "coarse page"
    );
    assert!(page.contains("Visar 1–20 av"), "says how much it shows");
    // Its JSON alternative asks for JSON by name (a browser would get the page again).
    assert!(
        page.contains("href=\"/collections/incidents/items?limit=20&amp;offset=0&amp;f=json\""),
        "{page}"
    );
    // A count-only role is refused the page as it is the JSON.
    let walker = crate::common::client_with_token(
        &crate::common::token_for(&app.service, "h-walker", "night_walker", "Nattvandrarna").await,
    );
    let (status, ct, _) = fetch(
        &walker,
        &app.url("/collections/incidents/items?f=html"),
        None,
    )
    .await;
    assert_eq!((status, ct.as_str()), (403, "application/problem+json"));
    let (status, _, page) = fetch(&walker, &app.url("/collections?f=html"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Endast antal") && page.contains("/collections/incidents/aggregate"));
    // Signed out: no page.
    let (status, _, _) = fetch(
        &app.anonymous,
        &app.url("/collections/incidents/items?f=html"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

/// CORS: only the configured origins may call from a browser; preflights are answered before
/// sign-in; nothing is allowed by default.
#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let db = fresh_sqlite();
    let mut settings = crate::common::settings(&db.url);
    settings.cors_origins = vec!["https://karta.kommun.se".into()];
    let app = TestApp::spawn_with(settings, true).await;
    let preflight = |origin: &'static str| {
        app.anonymous
            .request(
                reqwest::Method::OPTIONS,
                app.url("/collections/incidents/items/x"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header(
                "access-control-request-headers",
                "authorization,if-match,content-type",
            )
            .send()
    };
    let r = preflight("https://karta.kommun.se").await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "https://karta.kommun.se");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for needed in ["authorization", "if-match", "content-type"] {
        assert!(allowed.contains(needed), "{allowed}");
    }
    assert!(
        h.get("access-control-allow-credentials").is_none(),
        "no cookies cross-origin"
    );
    let r = preflight("https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // A real call from the allowed origin can read the ETag; another origin gets no grant.
    let (_, one) = app.get_json("/collections/cameras/items?limit=1").await;
    let id = one["features"][0]["id"].as_str().unwrap();
    let r = app
        .client
        .get(app.url(&format!("/collections/cameras/items/{id}")))
        .header("origin", "https://karta.kommun.se")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://karta.kommun.se"
    );
    assert!(
        r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("etag")
    );
    let r = app
        .client
        .get(app.url("/collections"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    app.stop().await;

    // By default no origin is allowed.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let r = app
        .anonymous
        .request(reqwest::Method::OPTIONS, app.url("/collections"))
        .header("origin", "https://karta.kommun.se")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn the_favicon_is_found_where_browsers_look_for_it() {
    // Browsers ask for /favicon.ico on every page; a 404 there is an error in every console.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let r = app.get("/favicon.ico").await;
    assert_eq!(r.status(), 200, "followed to the icon: {}", r.url());
    assert_eq!(r.url().path(), "/web/favicon.svg");
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("<svg"));
    let (status, _, page) = fetch(&reqwest::Client::new(), &app.url("/"), Some("text/html")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("rel=\"icon\" href=\"/web/favicon.svg\""),
        "{page}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_label_fonts_are_served_by_the_server_itself() {
    // The map's labels are drawn from these (MapLibre `font-faces`): no glyph server elsewhere.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let client = reqwest::Client::new();
    for (file, bytes) in [
        (
            "DejaVuSans.ttf",
            &include_bytes!("../../assets/fonts/DejaVuSans.ttf")[..],
        ),
        (
            "DejaVuSans-Bold.ttf",
            &include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf")[..],
        ),
    ] {
        let r = client
            .get(app.url(&format!("/fonts/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["content-type"], "font/ttf");
        let tag = r.headers()["etag"].clone();
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes, "{file}");
        let again = client
            .get(app.url(&format!("/fonts/{file}")))
            .header("If-None-Match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
    for other in ["/fonts/other.ttf", "/fonts/..%2FCargo.toml", "/fonts/"] {
        let r = client.get(app.url(other)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{other}");
    }
    let style = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/js/map.js"),
    )
    .unwrap();
    assert!(style.contains("'font-faces'") && style.contains("/fonts/DejaVuSans.ttf"));
    app.stop().await;
}
