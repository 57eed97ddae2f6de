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
        let out_arg = out.to_str().unwrap().to_owned();
        gdal(
            ogr2ogr,
            &app.admin_token,
            &["-f", "GeoJSON", &out_arg, &source, layer],
        )
        .await;
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
    gdal(
        ogr2ogr,
        &app.admin_token,
        &[
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
        ],
    )
    .await;
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

/// Runs a GDAL tool with the admin's token and returns its standard output; fails the test on
/// a non-zero exit.
async fn gdal(tool: &'static str, token: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let auth = format!("Authorization: Bearer {token}");
    let o = tokio::task::spawn_blocking(move || {
        Command::new(tool)
            .env("GDAL_HTTP_HEADERS", auth)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        o.status.success(),
        "{tool} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn feature_count(ogrinfo_summary: &str) -> u64 {
    ogrinfo_summary
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .expect("a feature count")
        .trim()
        .parse()
        .unwrap()
}

/// Issue 13, defects 2 and 4: every column is there whatever the first features hold, and the
/// README's recipes for mixed geometry kinds (a Shapefile per kind; a GeoPackage with
/// `-nlt GEOMETRY`) and for `-where` give every feature.
#[tokio::test]
async fn gdal_keeps_every_column_and_the_readmes_recipes_export_mixed_geometries() {
    let Some(_) = ogr2ogr() else { return };
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let token = app.admin_token.clone();
    // A polygon incident without a reference, amid points.
    let polygon = serde_json::json!({"type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[17.84, 59.24], [17.85, 59.24], [17.85, 59.245], [17.84, 59.24]]]},
        "properties": {"category": "vandalism", "occurred_at": "2026-11-20T20:00:00Z", "severity": 2, "organisation": "Polisen"}});
    assert_eq!(
        app.post("/collections/incidents/items", &polygon)
            .await
            .status(),
        201
    );
    let (_, all) = app.get_json("/collections/incidents/items?limit=1").await;
    let total = all["numberMatched"].as_u64().unwrap();

    // Columns: the schema's, also under a filter whose first features have no reference.
    let summary = gdal(
        "ogrinfo",
        &token,
        &[
            "-so",
            &format!(
                "OAPIF:{}/collections/incidents?category=vandalism",
                app.base
            ),
            "incidents",
        ],
    )
    .await;
    for column in ["reference:", "description:", "severity:", "classification:"] {
        assert!(summary.contains(column), "{column} missing:\n{summary}");
    }

    // Shapefile: one file per geometry kind, as the README says.
    let dir = db.dir.path().to_str().unwrap().to_owned();
    let source = format!("OAPIF:{}", app.base);
    let mut exported = 0;
    for (kind, nlt) in [("POINT", "POINT"), ("POLYGON", "POLYGON")] {
        let out = format!("{dir}/incidents_{kind}.shp");
        gdal(
            "ogr2ogr",
            &token,
            &[
                "-f",
                "ESRI Shapefile",
                &out,
                &source,
                "-dialect",
                "sqlite",
                "-sql",
                &format!("SELECT * FROM incidents WHERE GeometryType(geometry) = '{kind}'"),
                "-nlt",
                nlt,
            ],
        )
        .await;
        let n = feature_count(&gdal("ogrinfo", &token, &["-so", "-al", &out]).await);
        assert!(n > 0, "{kind}");
        exported += n;
    }
    assert_eq!(exported, total, "every incident in one of the Shapefiles");

    // GeoPackage: one layer of any geometry.
    let gpkg = format!("{dir}/incidents.gpkg");
    gdal(
        "ogr2ogr",
        &token,
        &[
            "-f",
            "GPKG",
            "-nlt",
            "GEOMETRY",
            &gpkg,
            &source,
            "incidents",
        ],
    )
    .await;
    let info = gdal("ogrinfo", &token, &["-so", &gpkg, "incidents"]).await;
    assert_eq!(feature_count(&info), total);
    assert!(info.contains("Geometry: Unknown (any)"), "{info}");

    // -where: the same features as the server's own filter.
    let (_, severe) = app
        .get_json("/collections/incidents/items?limit=10000")
        .await;
    let expected = severe["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["severity"].as_u64().unwrap() >= 4)
        .count() as u64;
    let out = format!("{dir}/severe.gpkg");
    gdal(
        "ogr2ogr",
        &token,
        &[
            "-f",
            "GPKG",
            "-nlt",
            "GEOMETRY",
            "-where",
            "severity >= 4",
            &out,
            &source,
            "incidents",
        ],
    )
    .await;
    let n = feature_count(&gdal("ogrinfo", &token, &["-so", &out, "incidents"]).await);
    assert!(expected > 0);
    assert_eq!(n, expected);

    // GDAL sends a -where to the server as a CQL filter (it finds `cql-text` among filter-lang's
    // values and the queryables by the draft's link): the pages hold only the matches.
    let where_ =
        "severity >= 4 AND category <> 'vandalism' AND occurred_at >= '2026-01-01T00:00:00'";
    let wanted = severe["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let p = &f["properties"];
            p["severity"].as_u64().unwrap() >= 4
                && p["category"] != "vandalism"
                && p["occurred_at"].as_str().unwrap() >= "2026-01-01"
        })
        .count() as u64;
    let args: Vec<String> = [
        "--debug",
        "on",
        "-ro",
        "-so",
        &source,
        "incidents",
        "-where",
        where_,
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let auth = format!("Authorization: Bearer {token}");
    let o = tokio::task::spawn_blocking(move || {
        Command::new("ogrinfo")
            .env("GDAL_HTTP_HEADERS", auth)
            .env("CPL_CURL_VERBOSE", "YES")
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(feature_count(&String::from_utf8_lossy(&o.stdout)), wanted);
    assert!(!err.contains("evaluated on client side"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains("GET /collections/incidents/items?")
                && l.contains("filter=")
                && l.contains("filter-lang=cql-text")),
        "GDAL did not send the filter: {err}"
    );
    app.stop().await;
}

/// Issue 13, defect 3: a role that sees a layer only as counts (night walkers: incidents) can
/// copy everything it may read with GDAL in one go; the count-only layer is not offered.
#[tokio::test]
async fn gdal_copies_everything_a_counts_only_role_may_read() {
    let Some(_) = ogr2ogr() else { return };
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let token =
        crate::common::token_for(&app.service, "g-walker", "night_walker", "Nattvandrarna").await;
    let out = db.dir.path().join("walker.gpkg");
    let out = out.to_str().unwrap().to_owned();
    gdal(
        "ogr2ogr",
        &token,
        &[
            "-f",
            "GPKG",
            "-nlt",
            "GEOMETRY",
            &out,
            &format!("OAPIF:{}", app.base),
        ],
    )
    .await;
    let listing = gdal("ogrinfo", &token, &["-q", &out]).await;
    let client = crate::common::client_with_token(&token);
    let collections: serde_json::Value = client
        .get(app.url("/collections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(
            listing.contains(&format!(": {id} (")),
            "{id} copied:\n{listing}"
        );
    }
    assert!(!listing.contains(": incidents ("), "{listing}");
    assert_eq!(collections["countsOnly"][0]["id"], "incidents");
    app.stop().await;
}
