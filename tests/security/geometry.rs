//! Item 8: the cost of checking a geometry is bounded. Positions and rings are counted on the
//! raw JSON before any geometric work and refused with 413 naming the setting
//! (`max_geometry_positions`, `max_geometry_rings`); validity is checked in O(n log n) and lists
//! at most 20 problems (and one saying more were left out), so a polygon crossing itself
//! thousands of times gets a short 422; and the server keeps answering while large geometries
//! are being checked.

use serde_json::{Value, json};

use super::backends;
use super::common::{self, TestApp, assert_problem};

/// Coordinates as short decimals (a tenth of a thousandth of a degree), so that tens of
/// thousands of positions stay well under the 2 MiB body limit.
fn lon(i: u32) -> f64 {
    f64::from(170_000 + i) / 10_000.0
}

fn lat(j: u32) -> f64 {
    f64::from(590_000 + j) / 10_000.0
}

/// A closed ring: the first position repeated at the end.
fn ring(points: &[(f64, f64)]) -> Value {
    let mut v: Vec<Value> = points.iter().map(|(x, y)| json!([x, y])).collect();
    v.push(v[0].clone());
    Value::Array(v)
}

fn polygon(rings: &[Vec<(f64, f64)>]) -> Value {
    json!({"type": "Polygon", "coordinates": rings.iter().map(|r| ring(r)).collect::<Vec<_>>()})
}

fn area(geometry: Value) -> Value {
    json!({
        "type": "Feature",
        "geometry": geometry,
        "properties": {"name": "Testområde", "municipality": "Botkyrka", "organisation": "Botkyrka kommun"}
    })
}

/// `n` corners on a circle: a valid ring of `n + 1` positions.
fn circle(n: u32) -> Vec<(f64, f64)> {
    (0..n)
        .map(|k| {
            let a = std::f64::consts::TAU * f64::from(k) / f64::from(n);
            let x = (17.9 + 0.1 * a.cos()) * 1e6;
            let y = (59.2 + 0.1 * a.sin()) * 1e6;
            (x.round() / 1e6, y.round() / 1e6)
        })
        .collect()
}

/// A ring zig-zagging right between two latitudes and back the other way: each of its `n`
/// steps crosses the step coming back, `n` crossings in `2n + 3` positions.
fn zigzag(n: u32) -> Vec<(f64, f64)> {
    let forward = (0..=n).map(|i| (lon(i), lat(2 * (i % 2))));
    let back = (0..=n).rev().map(|i| (lon(i), lat(2 * ((i + 1) % 2))));
    forward.chain(back).collect()
}

/// A square outer ring and `holes` small triangles inside it.
fn with_holes(holes: u32) -> Vec<Vec<(f64, f64)>> {
    let mut rings = vec![vec![
        (lon(0), lat(0)),
        (lon(10_000), lat(0)),
        (lon(10_000), lat(10_000)),
        (lon(0), lat(10_000)),
    ]];
    rings.extend((0..holes).map(|h| {
        let (i, j) = (100 + 200 * (h % 40), 100 + 200 * (h / 40));
        vec![
            (lon(i), lat(j)),
            (lon(i + 50), lat(j)),
            (lon(i), lat(j + 50)),
        ]
    }));
    rings
}

async fn areas(app: &TestApp) -> u64 {
    let (status, page) = app.get_json("/collections/areas/items?limit=1").await;
    assert_eq!(status, 200, "{page}");
    page["numberMatched"].as_u64().unwrap()
}

fn positions(geometry: &Value) -> usize {
    geometry["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().len())
        .sum()
}

#[tokio::test]
async fn a_polygon_over_the_position_limit_is_refused_with_413_and_nothing_is_stored() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let geometry = polygon(&[circle(60_000)]);
        assert_eq!(positions(&geometry), 60_001);
        let before = areas(&app).await;
        let r = app.post("/collections/areas/items", &area(geometry)).await;
        let p = assert_problem(r, 413).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("max_geometry_positions"), "{p}");
        assert!(detail.contains("50000"), "{p}");
        assert_eq!(areas(&app).await, before, "nothing stored");

        // Just under the limit the same shape is checked and stored.
        let r = app
            .post(
                "/collections/areas/items",
                &area(polygon(&[circle(45_000)])),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        assert_eq!(areas(&app).await, before + 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_polygon_over_the_ring_limit_is_refused_with_413() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let before = areas(&app).await;
        let r = app
            .post(
                "/collections/areas/items",
                &area(polygon(&with_holes(1_000))),
            )
            .await;
        let p = assert_problem(r, 413).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("max_geometry_rings"), "{p}");
        assert!(detail.contains("1000"), "{p}");
        assert_eq!(areas(&app).await, before, "nothing stored");

        // 1 000 rings are accepted (and valid: every hole inside the outer ring).
        let r = app
            .post("/collections/areas/items", &area(polygon(&with_holes(999))))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        app.stop().await;
    }
}

#[tokio::test]
async fn thousands_of_self_crossings_get_a_short_422() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let geometry = polygon(&[zigzag(1_498)]);
        assert_eq!(positions(&geometry), 2_999);
        let before = areas(&app).await;
        let r = app.post("/collections/areas/items", &area(geometry)).await;
        assert_eq!(r.status(), 422);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body = r.text().await.unwrap();
        assert!(body.len() < 20_000, "{} bytes", body.len());
        let p: Value = serde_json::from_str(&body).unwrap();
        let errors = p["errors"].as_array().unwrap();
        assert!(!errors.is_empty() && errors.len() <= 21, "{p}");
        assert!(
            common::pointers(&p)
                .iter()
                .all(|ptr| ptr.starts_with("/geometry/coordinates")),
            "{p}"
        );
        assert!(body.contains("self-intersection"), "{p}");
        assert!(body.contains("further problems were not listed"), "{p}");
        assert_eq!(areas(&app).await, before, "nothing stored");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_while_large_geometries_are_checked() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let body = area(polygon(&[zigzag(22_499)])).to_string();
        assert!(body.len() < 2 * 1024 * 1024, "{} bytes", body.len());
        let posts: Vec<_> = (0..4)
            .map(|_| {
                let (client, url, body) = (
                    app.client.clone(),
                    app.url("/collections/areas/items"),
                    body.clone(),
                );
                tokio::spawn(async move {
                    let r = client
                        .post(url)
                        .header("content-type", "application/geo+json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().await.unwrap())
                })
            })
            .collect();
        // While those are in flight (no assertion on how long anything takes: machines vary).
        let health = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        for post in posts {
            let (status, p) = post.await.unwrap();
            assert_eq!(status, 422, "{p}");
            assert!(p["errors"].as_array().unwrap().len() <= 21, "{p}");
        }
        let health = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_limits_are_settings() {
    let (urls, _db) = backends().await;
    for url in urls {
        let mut s = common::settings(&url);
        s.max_geometry_positions = 100;
        s.max_geometry_rings = 3;
        let app = TestApp::spawn_with(s, false).await;

        let geometry = polygon(&[circle(100)]);
        assert_eq!(positions(&geometry), 101);
        let p = assert_problem(
            app.post("/collections/areas/items", &area(geometry)).await,
            413,
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("max_geometry_positions"), "{p}");
        assert!(detail.contains("100"), "{p}");
        assert!(!detail.contains("50000"), "{p}");

        let p = assert_problem(
            app.post("/collections/areas/items", &area(polygon(&with_holes(3))))
                .await,
            413,
        )
        .await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("max_geometry_rings"), "{p}");
        assert!(detail.contains("at most 3 "), "{p}");
        assert_eq!(areas(&app).await, 0, "nothing stored");

        // At the limits exactly, accepted.
        let r = app
            .post("/collections/areas/items", &area(polygon(&[circle(99)])))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let r = app
            .post("/collections/areas/items", &area(polygon(&with_holes(2))))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        app.stop().await;
    }
}
