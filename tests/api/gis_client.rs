//! A real OGC API – Features client (GDAL/OGR's OAPIF driver, as QGIS uses it) reads the layers.

use std::process::Command;

use crate::common::{TestApp, fresh_sqlite};

/// `ogr2ogr`, or `None` outside CI when GDAL is not installed (scripts/test installs it).
fn ogr2ogr() -> Option<&'static str> {
    if Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("ogr2ogr");
    }
    assert!(
        std::env::var("CI").is_err(),
        "GDAL (ogr2ogr) is missing under CI; scripts/test installs gdal-bin"
    );
    eprintln!("ogr2ogr not found: skipping the GDAL client test");
    None
}

#[tokio::test]
async fn gdal_reads_every_layer_through_paging_and_filters_by_bbox() {
    let Some(ogr2ogr) = ogr2ogr() else { return };
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let source = format!("OAPIF:{}", app.base);
    for layer in [
        "incidents",
        "risk_environments",
        "cameras",
        "patrol_routes",
        "walks",
        "areas",
    ] {
        let (_, page) = app
            .get_json(&format!("/collections/{layer}/items?limit=1"))
            .await;
        let out = db.dir.path().join(format!("{layer}.geojson"));
        let (source, out_arg) = (source.clone(), out.to_str().unwrap().to_owned());
        let auth = format!("Authorization: Bearer {}", app.admin_token);
        let status = tokio::task::spawn_blocking(move || {
            Command::new(ogr2ogr)
                .env("GDAL_HTTP_HEADERS", auth)
                .args(["-f", "GeoJSON", &out_arg, &source, layer])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let fc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(
            fc["features"].as_array().unwrap().len() as u64,
            page["numberMatched"].as_u64().unwrap(),
            "{layer}"
        );
    }
    // GDAL's spatial filter becomes our bbox parameter.
    let (_, page) = app
        .get_json("/collections/incidents/items?bbox=17.835,59.232,17.855,59.245&limit=1")
        .await;
    let out = db.dir.path().join("alby.geojson");
    let out_arg = out.to_str().unwrap().to_owned();
    let auth = format!("Authorization: Bearer {}", app.admin_token);
    let o = tokio::task::spawn_blocking(move || {
        Command::new(ogr2ogr)
            .env("GDAL_HTTP_HEADERS", auth)
            .args([
                "-f",
                "GeoJSON",
                "-spat",
                "17.835",
                "59.232",
                "17.855",
                "59.245",
                &out_arg,
                &source,
                "incidents",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        fc["features"].as_array().unwrap().len() as u64,
        page["numberMatched"].as_u64().unwrap()
    );
    app.stop().await;
}

#[tokio::test]
async fn paging_keeps_the_clients_parameters_and_gdal_reads_a_filtered_url() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    // The next link carries the parameters as sent, in their order, with the new offset.
    let q = "category=vandalism,shooting&datetime=2025-12-01/2026-12-01&limit=5";
    let (_, page) = app
        .get_json(&format!("/collections/incidents/items?{q}"))
        .await;
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        next.ends_with("/collections/incidents/items?category=vandalism,shooting&datetime=2025-12-01/2026-12-01&limit=5&offset=5"),
        "{next}"
    );
    // A client that appends its own parameters again (as GDAL does) is served; a parameter
    // repeated with another value is refused.
    let path = next.replace(&app.base, "");
    let r = app
        .get(&format!(
            "{path}&category=vandalism,shooting&datetime=2025-12-01/2026-12-01"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(again["numberMatched"], page["numberMatched"]);
    let r = app.get(&format!("{path}&category=explosion")).await;
    assert_eq!(r.status(), 400);

    // GDAL itself, on a collection URL with parameters (GDAL 3.6 passes them to every page
    // request) and small pages, following our next links to the end.
    let Some(ogr2ogr) = ogr2ogr() else { return };
    let source = format!(
        "OAPIF:{}/collections/incidents?category=vandalism&datetime=2025-12-01/2026-12-01",
        app.base
    );
    let (_, all) = app
        .get_json("/collections/incidents/items?category=vandalism&datetime=2025-12-01/2026-12-01&limit=1")
        .await;
    let out = db.dir.path().join("vandalism.geojson");
    let out_arg = out.to_str().unwrap().to_owned();
    let auth = format!("Authorization: Bearer {}", app.admin_token);
    let o = tokio::task::spawn_blocking(move || {
        Command::new(ogr2ogr)
            .env("GDAL_HTTP_HEADERS", auth)
            .args(["-f", "GeoJSON", "-oo", "PAGE_SIZE=50", &out_arg, &source])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        fc["features"].as_array().unwrap().len() as u64,
        all["numberMatched"].as_u64().unwrap(),
        "every page read"
    );
    assert!(
        all["numberMatched"].as_u64().unwrap() > 50,
        "more than one page"
    );
    app.stop().await;
}
