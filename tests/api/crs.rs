//! OGC API – Features Part 2: `crs` and `bbox-crs` with SWEREF 99 TM (EPSG:3006) and CRS84,
//! `Content-Crs`, and coordinates in the axis order EPSG gives (northing, easting).

use std::collections::BTreeSet;

use lagesbild::domain::crs::{CRS84_URI, EPSG_3006_URI, sweref};

use crate::common::{TestApp, assert_problem, client_with_token, fresh_sqlite, token_for};

fn point(f: &serde_json::Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[tokio::test]
async fn coordinates_and_boxes_in_sweref_99_tm() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let t = sweref().unwrap();
    let all = app.get("/collections/incidents/items?limit=10000").await;
    assert_eq!(all.headers()["content-crs"], format!("<{CRS84_URI}>"));
    let all: serde_json::Value = all.json().await.unwrap();
    let r = app
        .get(&format!(
            "/collections/incidents/items?limit=10000&crs={EPSG_3006_URI}"
        ))
        .await;
    assert_eq!(r.headers()["content-crs"], format!("<{EPSG_3006_URI}>"));
    let projected: serde_json::Value = r.json().await.unwrap();
    let wgs = all["features"].as_array().unwrap();
    let sw = projected["features"].as_array().unwrap();
    assert_eq!(wgs.len(), sw.len());
    for (a, b) in wgs.iter().zip(sw) {
        assert_eq!(a["id"], b["id"]);
        let (lon, lat) = point(a);
        let (e, n) = t.from_wgs84(lon, lat).unwrap();
        let (first, second) = point(b);
        // EPSG:3006's axis order: northing first.
        assert!(
            (first - n).abs() < 0.002 && (second - e).abs() < 0.002,
            "{b}"
        );
    }

    // A box in SWEREF 99 TM (min N, min E, max N, max E) selects what lies in it there.
    let (min_n, min_e, max_n, max_e) = (6_562_000.0, 655_000.0, 6_575_000.0, 668_000.0);
    let expected: BTreeSet<String> = wgs
        .iter()
        .filter(|f| {
            let (lon, lat) = point(f);
            let (e, n) = t.from_wgs84(lon, lat).unwrap();
            (min_n..=max_n).contains(&n) && (min_e..=max_e).contains(&e)
        })
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() > 20, "{}", expected.len());
    let (_, boxed) = app
        .get_json(&format!(
            "/collections/incidents/items?limit=10000&bbox={min_n},{min_e},{max_n},{max_e}&bbox-crs={EPSG_3006_URI}"
        ))
        .await;
    let got: BTreeSet<String> = boxed["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    // The counts take the same box: every counted incident is one of the box's.
    let (status, counts) = app
        .get_json(&format!(
            "/collections/incidents/aggregate?bbox={min_n},{min_e},{max_n},{max_e}&bbox-crs={EPSG_3006_URI}"
        ))
        .await;
    assert_eq!(status, 200);
    let counted: u64 = counts["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum();
    assert!(
        counted > 0 && counted <= expected.len() as u64 + 200,
        "{counted}"
    );

    // One feature, in either CRS.
    let id = wgs[0]["id"].as_str().unwrap();
    let r = app
        .get(&format!(
            "/collections/incidents/items/{id}?crs={EPSG_3006_URI}"
        ))
        .await;
    assert_eq!(r.headers()["content-crs"], format!("<{EPSG_3006_URI}>"));
    let one: serde_json::Value = r.json().await.unwrap();
    assert_eq!(point(&one), point(&sw[0]));

    // A coarse role's cell centres land on the 250 m grid's centres (…125 m).
    let social = client_with_token(
        &token_for(
            &app.service,
            "crs-social",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let coarse: serde_json::Value = social
        .get(app.url(&format!(
            "/collections/incidents/items?limit=200&crs={EPSG_3006_URI}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for f in coarse["features"].as_array().unwrap() {
        let (n, e) = point(f);
        for v in [n, e] {
            let r = v.rem_euclid(250.0);
            assert!((r - 125.0).abs() < 0.01, "{v} is not a cell centre: {f}");
        }
    }

    // What is offered, and what is refused.
    let (_, c) = app.get_json("/collections/incidents").await;
    assert_eq!(c["crs"], serde_json::json!([CRS84_URI, EPSG_3006_URI]));
    let (_, conf) = app.get_json("/conformance").await;
    assert!(conf.to_string().contains("ogcapi-features-2/1.0/conf/crs"));
    for (q, param) in [
        ("crs=EPSG:3006", "crs"),
        ("crs=http://www.opengis.net/def/crs/EPSG/0/4326", "crs"),
        (&format!("bbox-crs={EPSG_3006_URI}") as &str, "bbox-crs"),
        (
            &format!("bbox=17.8,59.2,17.9,59.3&bbox-crs={EPSG_3006_URI}"),
            "bbox",
        ),
        (
            &format!("bbox=6575000,655000,6562000,668000&bbox-crs={EPSG_3006_URI}"),
            "bbox",
        ),
    ] {
        let p = assert_problem(
            app.get(&format!("/collections/incidents/items?{q}")).await,
            400,
        )
        .await;
        assert_eq!(p["errors"][0]["pointer"], param, "{q}: {p}");
    }
    let p = assert_problem(
        app.get(&format!("/collections/incidents/items/{id}?crs=x"))
            .await,
        400,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "crs");
    app.stop().await;
}
