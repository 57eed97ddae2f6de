//! Camera views and coverage over HTTP on the demo picture: views start at their cameras and
//! nest by detail; the coverage report counts what a brute-force scan of the same views and
//! incidents counts; bad asks are 400.

use geo::{Contains, Coord, Distance, Euclidean, LineString, Point, Polygon};
use serde_json::Value;

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_sqlite, get_value, token_for,
};
use lagesbild::service::visibility::Grid;

/// A GeoJSON polygon's outer ring projected to SWEREF 99 TM.
fn projected(grid: &Grid, geometry: &Value) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = geometry["coordinates"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (x, y) = grid
                .project(Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                .unwrap();
            Coord { x, y }
        })
        .collect();
    Polygon::new(LineString::from(ring), vec![])
}

#[tokio::test]
async fn the_coverage_report_counts_what_a_brute_force_scan_of_the_views_counts() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "kam-polis", "police", "Polisen").await);
    let window = "2026-09-01T00:00:00Z/2026-12-01T00:00:00Z";
    let report = get_value(
        &police,
        &app.url(&format!("/analysis/camera-coverage?datetime={window}")),
    )
    .await;
    assert_eq!(report["input"], "positions", "{report}");

    // The same views and incidents, scanned by brute force in the same plane.
    let grid = Grid::new().unwrap();
    let views = get_value(&police, &app.url("/analysis/camera-views")).await;
    let cameras = get_value(&police, &app.url("/collections/cameras/items?limit=10000")).await;
    let active: std::collections::HashSet<String> = cameras["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["properties"]["status"] == "active")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let zones = |detail: Value| -> Vec<Polygon<f64>> {
        views["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|z| z["properties"]["detail"] == detail)
            .filter(|z| active.contains(z["properties"]["camera"].as_str().unwrap()))
            .map(|z| projected(&grid, &z["geometry"]))
            .collect()
    };
    let any = zones(Value::Null);
    let identification = zones(Value::from("identification"));
    assert!(!any.is_empty() && !identification.is_empty());
    let incidents = get_value(
        &police,
        &app.url(&format!(
            "/collections/incidents/items?limit=10000&datetime={window}"
        )),
    )
    .await;
    assert_eq!(
        incidents["numberMatched"], incidents["numberReturned"],
        "one page holds the window"
    );
    let r = 83.0;
    let scan = |views: &[Polygon<f64>]| {
        let (mut inside, mut certain, mut possible) = (0.0, 0.0, 0.0);
        for f in incidents["features"].as_array().unwrap() {
            let c = &f["geometry"]["coordinates"];
            let Some((x, y)) =
                grid.project(Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            else {
                continue;
            };
            let p = Point::new(x, y);
            if views.iter().any(|v| v.contains(&p)) {
                inside += 1.0;
            }
            if views
                .iter()
                .any(|v| v.contains(&p) && Euclidean.distance(&p, v.exterior()) >= r)
            {
                certain += 1.0;
            }
            if views.iter().any(|v| Euclidean.distance(&p, v) <= r) {
                possible += 1.0;
            }
        }
        (inside, certain, possible)
    };
    let total = incidents["features"].as_array().unwrap().len() as f64;
    assert_eq!(report["incidents"].as_f64().unwrap(), total);
    for (key, views) in [("any", &any), ("identification", &identification)] {
        let (inside, certain, possible) = scan(views);
        let got = &report["covered"][key];
        // Served at 7 decimals, the positions may sit a hair off an edge: allow one.
        let near = |a: f64, b: f64| (a - b).abs() <= 1.0;
        assert!(
            near(got["count"].as_f64().unwrap(), inside),
            "{key}: {got} vs {inside}"
        );
        assert!(
            near(got["certainly"].as_f64().unwrap(), certain),
            "{key}: {got} vs {certain}"
        );
        assert!(
            near(got["possibly"].as_f64().unwrap(), possible),
            "{key}: {got} vs {possible}"
        );
        assert!(certain <= inside && inside <= possible);
    }
    // The identification zones lie within the views' ranges.
    assert!(
        report["covered"]["identification"]["count"]
            .as_f64()
            .unwrap()
            <= report["covered"]["any"]["count"].as_f64().unwrap()
    );
    // Sites: ranked, each adding what the ones before left.
    let sites = report["sites"]["features"].as_array().unwrap();
    assert!(!sites.is_empty());
    let adds: Vec<f64> = sites
        .iter()
        .map(|s| s["properties"]["adds"].as_f64().unwrap())
        .collect();
    assert!(adds.windows(2).all(|w| w[0] >= w[1]), "{adds:?}");
    assert!(
        adds.iter().sum::<f64>() <= total - report["covered"]["any"]["count"].as_f64().unwrap()
    );
    // Hot cells by least coverage.
    let cells = report["least_covered_hot_cells"]["features"]
        .as_array()
        .unwrap();
    assert!(cells.len() <= 10);
    let shares: Vec<f64> = cells
        .iter()
        .map(|c| c["properties"]["share"].as_f64().unwrap())
        .collect();
    assert!(shares.windows(2).all(|w| w[0] <= w[1]), "{shares:?}");

    // Bad asks: 400 naming the parameter.
    for (q, name) in [
        ("error_m=900", "error_m"),
        ("reach_m=1", "reach_m"),
        ("sites=99", "sites"),
    ] {
        let r = police
            .get(app.url(&format!("/analysis/camera-coverage?{q}")))
            .send()
            .await
            .unwrap();
        let p = assert_problem(r, 400).await;
        assert!(p.to_string().contains(name), "{q}: {p}");
    }
    app.stop().await;
}

#[tokio::test]
async fn imported_buildings_cut_the_views_and_no_view_sees_into_one() {
    // The demo seeds fictitious building footprints as a reference layer: every view stops at
    // the walls in its way (no building's middle lies inside a view, unless the camera sits in
    // that building), and some views are smaller than their open sectors.
    use geo::{Area, Centroid};
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "kam-polis3", "police", "Polisen").await);
    let views = get_value(&police, &app.url("/analysis/camera-views")).await;
    let (_, buildings) = lagesbild::demo::reference();
    assert_eq!(
        views["buildings"],
        buildings.len(),
        "{}",
        views["buildings"]
    );
    let grid = Grid::new().unwrap();
    let footprints: Vec<Polygon<f64>> = buildings
        .iter()
        .map(|b| {
            let geo::Geometry::Polygon(p) = b else {
                panic!()
            };
            projected(
                &grid,
                &serde_json::to_value(geojson::Geometry::from(p)).unwrap(),
            )
        })
        .collect();
    let cameras = get_value(&police, &app.url("/collections/cameras/items?limit=10000")).await;
    let camera = |id: &str| {
        cameras["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let mut cut = 0;
    for z in views["features"].as_array().unwrap() {
        if !z["properties"]["detail"].is_null() {
            continue;
        }
        let view = projected(&grid, &z["geometry"]);
        let c = camera(z["properties"]["camera"].as_str().unwrap());
        let at = &c["geometry"]["coordinates"];
        let (x, y) = grid
            .project(Point::new(at[0].as_f64().unwrap(), at[1].as_f64().unwrap()))
            .unwrap();
        let apex = Point::new(x, y);
        for f in &footprints {
            if f.contains(&apex) {
                continue;
            }
            let middle = f.centroid().unwrap();
            assert!(
                !view.contains(&middle),
                "camera {} sees into a building",
                c["id"]
            );
        }
        let r = c["properties"]["range_m"].as_f64().unwrap();
        let fov = c["properties"]["field_of_view"].as_f64().unwrap();
        let open = std::f64::consts::PI * r * r * fov / 360.0;
        if view.unsigned_area() < 0.98 * open {
            cut += 1;
        }
    }
    assert!(cut > 0, "some demo camera has a building in its view");
    app.stop().await;
}
