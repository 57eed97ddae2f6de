//! Landing page, conformance, API document, collections, and the honest 404/405.

use crate::common::{TestApp, assert_problem, fresh_sqlite};

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
        ("/collections/{collectionId}", &["get"]),
        ("/collections/{collectionId}/items", &["get", "post"]),
        (
            "/collections/{collectionId}/items/{featureId}",
            &["get", "put", "patch", "delete"],
        ),
        ("/collections/{collectionId}/aggregate", &["get"]),
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
    let params: Vec<&str> = paths["/collections/{collectionId}/items"]["get"]["parameters"]
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
