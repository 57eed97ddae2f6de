//! Reading items: bbox, datetime, category, status, near, intersects, paging and single items.

use serde_json::Value;

use crate::common::{TestApp, assert_problem, fresh_sqlite};

async fn all(app: &TestApp, layer: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json(&format!("/collections/{layer}/items?limit=10000"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["numberMatched"], body["numberReturned"],
        "one page holds the layer"
    );
    body["features"].as_array().unwrap().clone()
}

fn point(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8f64;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

#[tokio::test]
async fn bbox_datetime_category_and_status_filter_like_a_scan_of_everything() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let everything = all(&app, "incidents").await;
    assert_eq!(everything.len(), 3_600);

    let (x0, y0, x1, y1) = (17.835, 59.232, 17.855, 59.245);
    let expected = everything
        .iter()
        .filter(|f| {
            let (x, y) = point(f);
            (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
        })
        .count();
    let (_, page) = app
        .get_json(&format!(
            "/collections/incidents/items?bbox={x0},{y0},{x1},{y1}&limit=5"
        ))
        .await;
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, expected);
    assert!(
        expected > 100,
        "the Alby hotspot holds many incidents ({expected})"
    );
    assert_eq!(page["numberReturned"], 5);

    let from = "2026-06-01T00:00:00Z";
    let to = "2026-06-30T23:59:59Z";
    let in_window = |f: &&Value| {
        let t = f["properties"]["occurred_at"].as_str().unwrap();
        t >= from && t <= to
    };
    let expected = everything.iter().filter(in_window).count();
    let (_, page) = app
        .get_json(&format!(
            "/collections/incidents/items?datetime={from}/{to}&limit=10000"
        ))
        .await;
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, expected);
    assert!(
        page["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| in_window(&f))
    );
    let (_, open_end) = app
        .get_json(&format!(
            "/collections/incidents/items?datetime={from}/..&limit=1"
        ))
        .await;
    let expected_open = everything
        .iter()
        .filter(|f| f["properties"]["occurred_at"].as_str().unwrap() >= from)
        .count();
    assert_eq!(
        open_end["numberMatched"].as_u64().unwrap() as usize,
        expected_open
    );

    let expected = everything
        .iter()
        .filter(|f| {
            let p = &f["properties"];
            (p["category"] == "car_fire" || p["category"] == "shooting") && p["status"] == "open"
        })
        .count();
    let (_, page) = app
        .get_json("/collections/incidents/items?category=car_fire,shooting&status=open&limit=1")
        .await;
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, expected);
    app.stop().await;
}

/// `limit=0` is a count: the same `numberMatched` as a page, no features, and no next or prev
/// link that would point at itself — for an exact role and for a coarse one.
#[tokio::test]
async fn limit_zero_counts_without_features_for_exact_and_coarse_roles() {
    use crate::common::{client_with_token, token_for};
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let social = client_with_token(
        &token_for(
            &app.service,
            "count-soc",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    for query in [
        "bbox=17.835,59.232,17.855,59.245",
        "bbox=17.835,59.232,17.855,59.245&category=car_fire&datetime=2026-01-01T00:00:00Z/..",
        "",
    ] {
        let (status, page) = app
            .get_json(&format!(
                "/collections/incidents/items?{query}&limit=7&offset=3"
            ))
            .await;
        assert_eq!(status, 200);
        let (status, count) = app
            .get_json(&format!(
                "/collections/incidents/items?{query}&limit=0&offset=3"
            ))
            .await;
        assert_eq!(status, 200, "{count}");
        assert!(page["numberMatched"].as_u64().unwrap() > 7, "{query}");
        assert_eq!(count["numberMatched"], page["numberMatched"], "{query}");
        assert_eq!(count["numberReturned"], 0);
        assert_eq!(count["features"].as_array().unwrap().len(), 0);
        let rels: Vec<&str> = count["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["rel"].as_str())
            .collect();
        assert!(
            !rels.contains(&"next") && !rels.contains(&"prev"),
            "{rels:?}"
        );

        let coarse = |limit: u32| {
            let social = social.clone();
            let url = app.url(&format!(
                "/collections/incidents/items?{query}&limit={limit}"
            ));
            async move {
                let r = social.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            }
        };
        let (page, count) = (coarse(5).await, coarse(0).await);
        assert_eq!(
            count["numberMatched"], page["numberMatched"],
            "coarse {query}"
        );
        assert_eq!(count["numberReturned"], 0);
    }
    app.stop().await;
}

#[tokio::test]
async fn near_and_intersects_measure_metres_on_the_ground() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let everything = all(&app, "incidents").await;
    let centre = (17.8448, 59.2393);
    let expected = everything
        .iter()
        .filter(|f| haversine(point(f), centre) <= 300.0)
        .count();
    let (_, page) = app
        .get_json("/collections/incidents/items?near=17.8448,59.2393,300&limit=10000")
        .await;
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, expected);
    assert!(expected > 20);

    // Within 100 m of a route drawn west–east through Alby.
    let line = serde_json::json!({"type": "LineString", "coordinates": [[17.835, 59.2385], [17.855, 59.2385]]});
    let q = serde_urlencoded::to_string([
        ("intersects", line.to_string()),
        ("distance", "100".into()),
        ("limit", "10000".into()),
    ])
    .unwrap();
    let (status, page) = app
        .get_json(&format!("/collections/incidents/items?{q}"))
        .await;
    assert_eq!(status, 200, "{page}");
    let metres_north = |f: &Value| (point(f).1 - 59.2385).abs() * 111_320.0;
    let expected = everything
        .iter()
        .filter(|f| {
            let (x, _) = point(f);
            (17.835..=17.855).contains(&x) && metres_north(f) <= 99.0
        })
        .count();
    let got = page["numberMatched"].as_u64().unwrap() as usize;
    // Points just off the line's ends are within 100 m too; the ones clearly inside must all be there.
    assert!(
        got >= expected && got <= expected + 10,
        "got {got}, expected about {expected}"
    );
    app.stop().await;
}

#[tokio::test]
async fn next_links_walk_every_match_exactly_once() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let mut url = app.url("/collections/cameras/items?limit=7");
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let page: Value = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["numberMatched"], 60);
        for f in page["features"].as_array().unwrap() {
            assert!(
                ids.insert(f["id"].as_str().unwrap().to_owned()),
                "a feature appeared twice"
            );
        }
        pages += 1;
        let links = page["links"].as_array().unwrap();
        if pages > 1 {
            assert!(links.iter().any(|l| l["rel"] == "prev"));
        }
        match links.iter().find(|l| l["rel"] == "next") {
            Some(next) => url = next["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!((ids.len(), pages), (60, 9));
    app.stop().await;
}

#[tokio::test]
async fn a_single_feature_has_its_version_as_etag() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let any = &all(&app, "risk_environments").await[0];
    let id = any["id"].as_str().unwrap();
    let r = app
        .get(&format!("/collections/risk_environments/items/{id}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    assert_eq!(r.headers()["etag"], "\"1\"");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["properties"]["version"], 1);
    assert!(body["properties"]["stale"].is_boolean());
    let again = app
        .client
        .get(app.url(&format!("/collections/risk_environments/items/{id}")))
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_problem(
        app.get("/collections/risk_environments/items/00000000-0000-4000-8000-000000000000")
            .await,
        404,
    )
    .await;
    assert_problem(
        app.get("/collections/risk_environments/items/not-a-uuid")
            .await,
        404,
    )
    .await;
    // The right id in the wrong collection is not found either.
    assert_problem(
        app.get(&format!("/collections/cameras/items/{id}")).await,
        404,
    )
    .await;
    app.stop().await;
}
