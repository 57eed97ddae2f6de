//! Every kind of bad input gets a 4xx problem body naming what is wrong; nothing is stored and
//! the server keeps serving.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem, fresh_sqlite, incident, pointers};

async fn count(app: &TestApp, layer: &str) -> u64 {
    let (_, page) = app
        .get_json(&format!("/collections/{layer}/items?limit=1"))
        .await;
    page["numberMatched"].as_u64().unwrap()
}

async fn post_raw(
    app: &TestApp,
    layer: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/collections/{layer}/items")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn feature(geometry: Value, properties: Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": properties})
}

fn route_props() -> Value {
    json!({"name": "Testrutt", "kind": "night_walkers", "weekdays": ["fri"], "start_time": "21:00", "end_time": "01:00", "organisation": "Nattvandrarna"})
}

fn area_props() -> Value {
    json!({"name": "Test", "municipality": "Botkyrka", "organisation": "Botkyrka kommun"})
}

#[tokio::test]
async fn invalid_bodies_are_refused_naming_the_field_and_nothing_is_stored() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let ok = incident(17.84, 59.24, "car_fire", "2026-11-20T21:30:00Z");

    // Not JSON; NaN is not JSON either.
    let p = assert_problem(
        post_raw(
            &app,
            "incidents",
            "application/geo+json",
            "{\"type\": \"Feature\",",
        )
        .await,
        400,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("line 1"), "{p}");
    let nan = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[NaN,59.2]},"properties":{}}"#;
    assert_problem(
        post_raw(&app, "incidents", "application/geo+json", nan).await,
        400,
    )
    .await;
    // Not a JSON media type.
    assert_problem(
        post_raw(&app, "incidents", "text/plain", ok.to_string()).await,
        415,
    )
    .await;

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "cameras",
            feature(
                json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.9, 59.3]]}),
                json!({}),
            ),
            "/geometry/type",
        ),
        (
            "incidents",
            feature(
                json!({"type": "Point", "coordinates": [674032.0, 6580821.0]}),
                ok["properties"].clone(),
            ),
            "/geometry/coordinates",
        ),
        (
            "incidents",
            feature(
                json!({"type": "Point", "coordinates": [17.8, -91.0]}),
                ok["properties"].clone(),
            ),
            "/geometry/coordinates",
        ),
        (
            "incidents",
            feature(Value::Null, ok["properties"].clone()),
            "/geometry",
        ),
        (
            "areas",
            feature(
                json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.2], [17.9, 59.3], [17.8, 59.3]]]}),
                area_props(),
            ),
            "/geometry/coordinates/0",
        ),
        (
            "areas",
            feature(
                json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.3], [17.9, 59.2], [17.8, 59.3], [17.8, 59.2]]]}),
                area_props(),
            ),
            "/geometry/coordinates/0",
        ),
        (
            "patrol_routes",
            feature(
                json!({"type": "LineString", "coordinates": [[17.8, 59.2]]}),
                route_props(),
            ),
            "/geometry/coordinates",
        ),
        (
            "incidents",
            incident(17.84, 59.24, "arson", "2026-11-20T21:30:00Z"),
            "/properties/category",
        ),
        (
            "incidents",
            incident(17.84, 59.24, "car_fire", "last friday"),
            "/properties/occurred_at",
        ),
        (
            "incidents",
            json!({"type": "FeatureCollection", "features": []}),
            "/type",
        ),
        (
            "patrol_routes",
            feature(
                json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.81, 59.21]]}),
                json!({"name": "R", "kind": "night_walkers", "weekdays": [], "start_time": "25:00", "end_time": "01:00", "organisation": "N"}),
            ),
            "/properties/weekdays",
        ),
    ];
    for (layer, body, pointer) in cases {
        let r = app
            .post(&format!("/collections/{layer}/items"), &body)
            .await;
        let status = r.status().as_u16();
        let problem = assert_problem(r, if pointer == "/type" { 422 } else { status }).await;
        assert!((400..500).contains(&status), "{layer} {body}: {status}");
        assert!(
            pointers(&problem).iter().any(|p| p == pointer),
            "{layer}: expected {pointer} in {problem}"
        );
    }
    // Unknown layer.
    assert_problem(app.post("/collections/suspects/items", &ok).await, 404).await;
    for layer in ["incidents", "cameras", "areas", "patrol_routes"] {
        assert_eq!(count(&app, layer).await, 0, "nothing stored in {layer}");
    }
    assert_eq!(
        app.post("/collections/incidents/items", &ok).await.status(),
        201,
        "the server keeps serving"
    );
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let mut big = incident(17.84, 59.24, "car_fire", "2026-11-20T21:30:00Z");
    big["properties"]["description"] = json!("x".repeat(3 * 1024 * 1024));
    let r = app.post("/collections/incidents/items", &big).await;
    let problem = assert_problem(r, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("2 MiB"),
        "{problem}"
    );
    // Under the body limit but over the text limit: the field is named.
    big["properties"]["description"] = json!("x".repeat(5_000));
    let problem = assert_problem(app.post("/collections/incidents/items", &big).await, 422).await;
    assert_eq!(pointers(&problem), ["/properties/description"]);
    assert_eq!(count(&app, "incidents").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn malformed_query_parameters_are_named() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    for (query, param) in [
        ("bbox=17.9,59.2,17.8,59.3", "bbox"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2026-02-01/2026-01-01", "datetime"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("category=arson", "category"),
        ("status=pending", "status"),
        ("near=17.8,59.2", "near"),
        ("near=17.8,59.2,999999", "near"),
        ("intersects=%7B%22type%22%3A%22Circle%22%7D", "intersects"),
        ("distance=100", "distance"),
        ("bbox=17.8,59.2,17.9,59.3&near=17.8,59.2,100", "bbox"),
        ("colour=red", "query"),
        ("limit=1&limit=2", "query"),
        ("f=xml", "f"),
    ] {
        let r = app
            .get(&format!("/collections/incidents/items?{query}"))
            .await;
        let problem = assert_problem(r, 400).await;
        assert_eq!(pointers(&problem), [param], "{query}: {problem}");
    }
    // Above the maximum is not an error: the maximum is used (OGC API – Features 1.0, 7.15.3).
    for limit in ["10001", "99999999999999999999999999"] {
        let (status, fc) = app
            .get_json(&format!("/collections/incidents/items?limit={limit}"))
            .await;
        assert_eq!(status, 200, "limit={limit}");
        let this = fc["links"][0]["href"].as_str().unwrap();
        assert!(this.contains("limit=10000"), "{this}");
    }
    let problem = assert_problem(app.get("/collections/walks/items?category=x").await, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("no category"),
        "{problem}"
    );
    app.stop().await;
}
