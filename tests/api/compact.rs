//! Issue 17, item 6: GeoJSON positions at 7 decimals (about 1 cm), and compression negotiated
//! (gzip, br) — but never on the live event stream, which must reach the client as it is sent.

use crate::common::{TestApp, fresh_sqlite};

fn positions(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| positions(x, out)),
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        _ => {}
    }
}

#[tokio::test]
async fn positions_have_seven_decimals_and_answers_are_compressed() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for layer in ["incidents", "patrol_routes", "areas", "cameras"] {
        let (_, fc) = app
            .get_json(&format!("/collections/{layer}/items?limit=10000"))
            .await;
        let mut xs = Vec::new();
        for f in fc["features"].as_array().unwrap() {
            positions(&f["geometry"]["coordinates"], &mut xs);
        }
        assert!(!xs.is_empty(), "{layer}");
        for x in xs {
            assert_eq!(
                (x * 1e7).round() / 1e7,
                x,
                "{layer}: {x} has more than 7 decimals"
            );
        }
    }
    // The stored positions keep full precision: a demo point is not on the 1e-7 grid, but its
    // served position is within half a step of it.
    let all = app
        .service
        .unrestricted()
        .all(lagesbild::domain::Layer::Incidents);
    let incident = all.iter().find(|f| f.geom.point().is_some()).unwrap();
    let Some(p) = incident.geom.point() else {
        panic!("a point")
    };
    let (_, served) = app
        .get_json(&format!("/collections/incidents/items/{}", incident.id))
        .await;
    let c = &served["geometry"]["coordinates"];
    assert!((c[0].as_f64().unwrap() - p.x()).abs() <= 0.5e-7 + 1e-12);
    assert!((c[1].as_f64().unwrap() - p.y()).abs() <= 0.5e-7 + 1e-12);

    // Compression, as the client asks.
    let plain = app
        .client
        .get(app.url("/collections/incidents/items?limit=1000"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    for enc in ["gzip", "br"] {
        let r = app
            .client
            .get(app.url("/collections/incidents/items?limit=1000"))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], enc);
        let len = r.bytes().await.unwrap().len();
        assert!(len * 4 < plain_len, "{enc}: {len} of {plain_len} bytes");
    }
    // Never the event stream.
    let r = app
        .client
        .get(app.url("/events"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-encoding").is_none(),
        "{:?}",
        r.headers()
    );
    drop(r);
}

/// A page past 2 048 features is written in parts on several threads and joined: it must be
/// exactly the small pages one after another — same features, same order, valid JSON — also
/// when each feature is reshaped (`properties`, another CRS).
#[tokio::test]
async fn a_large_page_written_in_parts_is_the_small_pages_joined() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for extra in [
        "",
        "&properties=category,severity",
        "&crs=http://www.opengis.net/def/crs/EPSG/0/3006",
    ] {
        let (status, whole) = app
            .get_json(&format!("/collections/incidents/items?limit=10000{extra}"))
            .await;
        assert_eq!(status, 200, "{extra}: {whole}");
        let whole = whole["features"].as_array().unwrap().clone();
        assert!(
            whole.len() > 2 * 1024 + 1000,
            "{extra}: {} features",
            whole.len()
        );
        let mut pages = Vec::new();
        let mut offset = 0;
        loop {
            let (_, page) = app
                .get_json(&format!(
                    "/collections/incidents/items?limit=500&offset={offset}{extra}"
                ))
                .await;
            let features = page["features"].as_array().unwrap();
            if features.is_empty() {
                break;
            }
            pages.extend(features.iter().cloned());
            offset += 500;
        }
        assert_eq!(whole.len(), pages.len(), "{extra}");
        assert!(
            whole == pages,
            "{extra}: the joined page differs from the small pages"
        );
    }
}

/// A coarse answer over thousands of features (coarsened on every core, in chunks) holds every
/// feature the role may see exactly once, newest week first, then by id: no chunk lost,
/// doubled or left out of the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_coarse_page_holds_every_feature_once_in_order() {
    use lagesbild::domain::Classification;
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let features = lagesbild::demo::synthetic_incidents(
        11,
        time::macros::datetime!(2026-11-23 12:00 UTC),
        11_000,
    );
    // The meeting's role sees incidents coarsened, up to `internal`.
    let mut expected: Vec<String> = features
        .iter()
        .filter(|f| f.meta.classification != Classification::Restricted)
        .map(|f| f.id.to_string())
        .collect();
    assert!(
        (8_192..10_000).contains(&expected.len()),
        "{} features",
        expected.len()
    );
    app.service
        .unrestricted()
        .load(lagesbild::domain::Layer::Incidents, features);
    let token = crate::common::token_for(
        &app.service,
        "coarse-many",
        "meeting_viewer",
        "Botkyrka kommun",
    )
    .await;
    let client = crate::common::client_with_token(&token);
    let fc = crate::common::get_value(
        &client,
        &app.url("/collections/incidents/items?limit=10000"),
    )
    .await;
    let shown = fc["features"].as_array().unwrap();
    assert_eq!(fc["numberMatched"].as_u64(), Some(expected.len() as u64));
    assert_eq!(shown.len(), expected.len());
    assert!(
        shown
            .iter()
            .all(|f| f["properties"]["precision"] == "coarse")
    );
    let keys: Vec<(String, String)> = shown
        .iter()
        .map(|f| {
            (
                f["properties"]["week"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Newest week first (ISO week labels order as text), then by id.
    assert!(
        keys.windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)),
        "out of order"
    );
    let mut ids: Vec<String> = keys.into_iter().map(|(_, id)| id).collect();
    // Every smaller page (only its part of the order is sorted) is its slice of the whole.
    for (offset, limit) in [(0, 1), (0, 1000), (1000, 1000), (4321, 777), (9000, 1000)] {
        let page = crate::common::get_value(
            &client,
            &app.url(&format!(
                "/collections/incidents/items?limit={limit}&offset={offset}"
            )),
        )
        .await;
        let got: Vec<&str> = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = ids
            .iter()
            .skip(offset)
            .take(limit)
            .map(String::as_str)
            .collect();
        assert!(got == want, "offset {offset}, limit {limit}");
        assert_eq!(page["numberMatched"].as_u64(), Some(expected.len() as u64));
    }
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
}
