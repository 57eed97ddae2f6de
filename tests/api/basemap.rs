//! The basemap (issue 16): a PMTiles archive handed out with HTTP range requests, MBTiles tiles
//! read by the server, the build script tested on a small fictitious municipality, and a file
//! that is neither refused at start.

use std::path::{Path, PathBuf};
use std::process::Command;

use lagesbild::startup::App;
use lagesbild::tiles::{Value, decode};

use crate::common::{TestApp, assert_problem, fresh_sqlite, settings};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/basemap")
        .join(name)
}

async fn spawn_with_basemap(path: &Path) -> (crate::common::SqliteDb, TestApp) {
    let db = fresh_sqlite();
    let mut s = settings(&db.url);
    s.basemap = Some(path.to_path_buf());
    let app = TestApp::spawn_with(s, false).await;
    (db, app)
}

#[tokio::test]
async fn without_a_basemap_the_server_says_so() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let r = app.anonymous.get(app.url("/basemap")).send().await.unwrap();
    let body = assert_problem(r, 404).await;
    assert!(
        body["detail"].as_str().unwrap().contains("basemap"),
        "{body}"
    );
    let r = app
        .anonymous
        .get(app.url("/basemap/archive.pmtiles"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn a_pmtiles_archive_is_read_by_range_requests() {
    let file = fixture("provkarta.pmtiles");
    let whole = std::fs::read(&file).unwrap();
    let (_db, app) = spawn_with_basemap(&file).await;
    let about = crate::common::get_value(&app.anonymous, &app.url("/basemap")).await;
    assert_eq!(about["format"], "pmtiles");
    let url = app.url(about["url"].as_str().unwrap());
    // The header, as pmtiles.js asks for it first.
    let r = app
        .anonymous
        .get(&url)
        .header("Range", "bytes=0-126")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-126/{}", whole.len()).as_str()
    );
    let head = r.bytes().await.unwrap();
    assert_eq!(head.len(), 127);
    assert_eq!(&head[..8], b"PMTiles\x03");
    assert_eq!(head.as_ref(), &whole[..127]);
    // A range inside, and the whole file.
    let r = app
        .anonymous
        .get(&url)
        .header("Range", "bytes=200-299")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &whole[200..300]);
    let r = app.anonymous.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.bytes().await.unwrap().as_ref(), whole.as_slice());
    // Past the end: 416, not a silently short answer.
    let r = app
        .anonymous
        .get(&url)
        .header("Range", format!("bytes={}-", whole.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    app.stop().await;
}

#[tokio::test]
async fn a_file_that_is_no_tile_archive_stops_the_start() {
    let db = fresh_sqlite();
    for (bad, why) in [
        (fixture("README.md"), "neither a PMTiles"),
        (fixture("missing.pmtiles"), "cannot be opened"),
    ] {
        let mut s = settings(&db.url);
        s.basemap = Some(bad.clone());
        let Err(e) = App::build(s, false).await else {
            panic!("{} was taken as a basemap", bad.display());
        };
        assert!(e.to_string().contains(why), "{e}");
    }
}

/// `ogr2ogr`, or `None` outside CI when GDAL is not installed (scripts/test installs it).
fn gdal() -> bool {
    if Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "GDAL (ogr2ogr) is missing under CI; scripts/test installs gdal-bin"
    );
    eprintln!("ogr2ogr not found: skipping the basemap build test");
    false
}

/// Runs scripts/basemap-build on the fixture municipality, writing `output`.
fn build(output: &Path) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(root.join("scripts/basemap-build"));
    cmd.current_dir(root).args([
        "--clip",
        "tests/fixtures/basemap/clip.geojson",
        "--output",
        output.to_str().unwrap(),
        "--attribution",
        "Provdata (fiktiv)",
        "--name",
        "Provkarta",
        "--maxzoom",
        "14",
        "--layer",
        "water=tests/fixtures/basemap/water.geojson",
        "--layer",
        "roads=tests/fixtures/basemap/roads.geojson@SELECT geometry, namn AS name, CASE WHEN klass = 'huvudgata' THEN 'major' ELSE 'minor' END AS kind FROM vaglinje",
        "--layer",
        "places=tests/fixtures/basemap/places.geojson@SELECT geometry, namn AS name, typ AS kind FROM platser",
    ]);
    if let Ok(py) = std::env::var("TEST_PYENV") {
        cmd.env(
            "PMTILES_CONVERT",
            Path::new(&py).join("bin/pmtiles-convert"),
        );
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn the_build_script_clips_to_the_municipality_and_mbtiles_are_served() {
    if !gdal() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prov.mbtiles");
    let o = build(&out);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let log = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(log.contains("water: 1 features"), "{log}");
    assert!(log.contains("places: 2 features"), "{log}");
    // Bad arguments are said in words.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(root.join("scripts/basemap-build"))
        .args([
            "--clip",
            "nowhere.geojson",
            "--output",
            "x.pmtiles",
            "--osm",
            "x.pbf",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nowhere.geojson: no such file"));

    let (_db, app) = spawn_with_basemap(&out).await;
    let about = crate::common::get_value(&app.anonymous, &app.url("/basemap")).await;
    assert_eq!(about["format"], "mbtiles");
    assert_eq!(about["attribution"], "Provdata (fiktiv)");
    assert_eq!(about["maxzoom"], 14);
    // The tile at zoom 14 holding the station.
    let (z, x, y) = tile_of(14, 17.855, 59.239);
    let r = app
        .anonymous
        .get(app.url(&format!("/basemap/{z}/{x}/{y}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz = r.bytes().await.unwrap();
    let plain = gunzip(&gz);
    let layers = decode(&plain).unwrap();
    let names: Vec<String> = layers["places"]
        .iter()
        .filter_map(|(_, p)| match p.get("name") {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(names.contains(&"Provstationen".to_owned()), "{names:?}");
    assert!(
        layers.contains_key("roads"),
        "{:?}",
        layers.keys().collect::<Vec<_>>()
    );
    // Nothing from outside the municipality anywhere in the archive.
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        !contains(&bytes, b"Utanf"),
        "an uncompressed tile names a place outside"
    );
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", out.display()))
        .await
        .unwrap();
    let tiles: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT tile_data FROM tiles")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!tiles.is_empty());
    for (data,) in &tiles {
        let plain = gunzip(data);
        assert!(
            !contains(&plain, "Utanförby".as_bytes()),
            "outside the clip"
        );
    }
    // No such tile: 204; not a tile: 400.
    let r = app
        .anonymous
        .get(app.url("/basemap/3/0/0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for bad in ["/basemap/3/9/0", "/basemap/x/0/0", "/basemap/30/0/0"] {
        let r = app.anonymous.get(app.url(bad)).send().await.unwrap();
        assert_problem(r, 400).await;
    }
    pool.close().await;
    app.stop().await;

    // The OpenStreetMap preset, on a fictitious cut: every layer from its tags, clipped.
    let osm = dir.path().join("osm.mbtiles");
    let o = Command::new(root.join("scripts/basemap-build"))
        .current_dir(root)
        .args([
            "--clip",
            "tests/fixtures/basemap/clip.geojson",
            "--osm",
            "tests/fixtures/basemap/prov.osm",
            "--output",
            osm.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in [
        "water: 1 features",
        "roads: 2 features",
        "places: 2 features",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", osm.display()))
        .await
        .unwrap();
    let (attribution,): (String,) =
        sqlx::query_as("SELECT value FROM metadata WHERE name = 'attribution'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(attribution.contains("OpenStreetMap"), "{attribution}");
    // Every (name, kind) per layer over the archive's most detailed zoom.
    let tiles: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT tile_data FROM tiles WHERE zoom_level = (SELECT max(zoom_level) FROM tiles)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (data,) in &tiles {
        for (layer, features) in decode(&gunzip(data)).unwrap() {
            for (_, p) in features {
                let text = |k: &str| match p.get(k) {
                    Some(Value::Str(s)) => s.clone(),
                    _ => String::new(),
                };
                seen.insert((layer.clone(), text("name"), text("kind")));
            }
        }
    }
    let has =
        |l: &str, n: &str, k: &str| seen.contains(&(l.to_owned(), n.to_owned(), k.to_owned()));
    assert!(has("places", "Provstationen", "station"), "{seen:?}");
    assert!(has("places", "Provområdet", "district"), "{seen:?}");
    assert!(has("roads", "Provgatan", "major"), "{seen:?}");
    assert!(has("roads", "", "path"), "{seen:?}");
    assert!(!seen.iter().any(|(_, n, _)| n == "Utanförby"), "{seen:?}");
    pool.close().await;

    // And as PMTiles, when pmtiles-convert is there (scripts/test installs it).
    if std::env::var("TEST_PYENV").is_ok() {
        let pm = dir.path().join("prov.pmtiles");
        let o = build(&pm);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(&std::fs::read(&pm).unwrap()[..8], b"PMTiles\x03");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes.to_vec();
    }
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout
}

/// The Web Mercator tile (z, x, y) holding a position.
fn tile_of(z: u32, lon: f64, lat: f64) -> (u32, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let r = lat.to_radians();
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    (z, x, y)
}

/// The basemap routes are the same for every role and for no role at all: they hand out the
/// configured file only, never anything of the picture (access matrix of the basemap routes).
#[tokio::test]
async fn every_role_and_anonymous_get_the_same_basemap_and_nothing_more() {
    let file = fixture("provkarta.pmtiles");
    let (_db, app) = spawn_with_basemap(&file).await;
    let mut clients = vec![("anonymous".to_owned(), reqwest::Client::new())];
    for role in [
        "police",
        "social_services",
        "field_worker",
        "night_walker",
        "meeting_viewer",
        "admin",
    ] {
        let token =
            crate::common::token_for(&app.service, &format!("bm-{role}"), role, "Polisen").await;
        clients.push((role.to_owned(), crate::common::client_with_token(&token)));
    }
    let mut answers = Vec::new();
    for (who, c) in &clients {
        let about = c.get(app.url("/basemap")).send().await.unwrap();
        assert_eq!(about.status(), 200, "{who}");
        let about = about.text().await.unwrap();
        let head = c
            .get(app.url("/basemap/archive.pmtiles"))
            .header("Range", "bytes=0-126")
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 206, "{who}");
        let head = head.bytes().await.unwrap().to_vec();
        // MBTiles tiles are not served from a PMTiles basemap, to anyone.
        let tile = c
            .get(app.url("/basemap/14/9000/4700"))
            .send()
            .await
            .unwrap();
        assert_eq!(tile.status(), 404, "{who}");
        answers.push((about, head));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "an answer depends on the role"
    );
    app.stop().await;
}
