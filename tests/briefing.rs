//! Briefing maps checked as a reader would: the PDF's text (pdftotext), its validity (qpdf),
//! the PNG's pixels at a known feature, grants, determinism and bad input.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::{TestApp, assert_problem, client_with_token, fresh_sqlite, token_for};
use lagesbild::briefing::{BriefingRequest, Paper, page};
use lagesbild::domain::incident::{Incident, IncidentCategory, IncidentStatus};
use lagesbild::domain::{Classification, Feature, Layer, Meta, Properties};
use time::macros::{date, datetime};

const AS_OF: &str = "2026-11-23T08:00:00Z";

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("-v").output().is_ok();
    assert!(
        ok || std::env::var("CI").is_err(),
        "{name} is missing under CI (scripts/test installs poppler-utils and qpdf)"
    );
    ok
}

fn incident(lon: f64, lat: f64, category: IncidentCategory, class: Classification) -> Feature {
    let at = datetime!(2026-11-20 21:00 UTC);
    Feature {
        id: uuid::Uuid::new_v4(),
        geom: geo::Point::new(lon, lat).into(),
        properties: Properties::Incident(Incident {
            category,
            occurred_at: at,
            severity: 3,
            status: IncidentStatus::Open,
            reference: None,
            description: "".into(),
        }),
        meta: Meta {
            organisation: Arc::from("Polisen"),
            classification: class,
            created_at: at,
            updated_at: at,
            created_by: Arc::from("test"),
            version: 1,
        },
    }
}

/// A picture of two incidents near Alby centrum: a restricted shooting and an internal act of
/// vandalism 300 m east, plus the shipped areas.
async fn scene_app() -> (common::SqliteDb, TestApp) {
    scene_app_with(None).await
}

/// The same picture, with `basemap` drawn under it.
async fn scene_app_with(basemap: Option<std::path::PathBuf>) -> (common::SqliteDb, TestApp) {
    let db = fresh_sqlite();
    let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut features = lagesbild::demo::areas(datetime!(2026-11-23 08:00 UTC));
    features.push(incident(
        17.8448,
        59.2393,
        IncidentCategory::Shooting,
        Classification::Restricted,
    ));
    features.push(incident(
        17.8500,
        59.2393,
        IncidentCategory::Vandalism,
        Classification::Internal,
    ));
    store.insert(&features, &|_| {}).await.unwrap();
    store.close().await;
    let mut settings = common::settings(&db.url);
    settings.basemap = basemap;
    let app = TestApp::spawn_with(settings, false).await;
    (db, app)
}

/// The page the scene's URL asks for (`BBOX`, 10–23 November, landscape), to place things on it.
fn scene_request(paper: Paper) -> BriefingRequest {
    BriefingRequest {
        bbox: [17.835, 59.233, 17.860, 59.246],
        area: None,
        from: date!(2026 - 11 - 10),
        to: date!(2026 - 11 - 23),
        layers: vec![Layer::Incidents],
        categories: Vec::new(),
        title: String::new(),
        audience: String::new(),
        paper,
        landscape: true,
        as_of: datetime!(2026-11-23 08:00 UTC),
    }
}

/// The colour of a 150 dpi PNG of `request`'s page where `lon, lat` lands.
fn pixel_at(
    img: &tiny_skia::Pixmap,
    request: &BriefingRequest,
    lon: f64,
    lat: f64,
) -> (u8, u8, u8) {
    let (x, y) = page::position(request, lon, lat).unwrap();
    let k = 150.0 / 72.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = img
        .pixel((x * k).round() as u32, (y * k).round() as u32)
        .unwrap();
    (p.red(), p.green(), p.blue())
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.pdf");
    std::fs::write(&path, bytes).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "qpdf --check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const BBOX: &str = "17.835,59.233,17.860,59.246";

#[tokio::test]
async fn a_briefing_pdf_reads_right_is_valid_and_the_same_twice() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let (_db, app) = scene_app().await;
    let police = client_with_token(&token_for(&app.service, "p", "police", "Polisen").await);
    let url = app.url(&format!(
        "/exports/briefing.pdf?bbox={BBOX}&from=2026-11-10&to=2026-11-23&as_of={AS_OF}&title=L%C3%A4gesbild%20%3Cb%3EAlby%3C%2Fb%3E"
    ));
    let get = || async { police.get(&url).send().await.unwrap() };
    let r = get().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_text(&bytes);
    for expected in [
        "Lägesbild <b>Alby</b>", // the title, as text (markup stays text)
        "BEGRÄNSAD – endast för chefssamrådet", // a restricted feature is on it
        "2026-11-10 – 2026-11-23", // the window …
        "2026-W46",              // … and its ISO weeks
        "Data per 2026-11-23 08:00",
        "Teckenförklaring",
        "Skottlossning (1)", // the legend of what is on the map
        "Skadegörelse (1)",
        "Händelser per område",
        "Alby",
        "SWEREF 99 TM",
    ] {
        assert!(text.contains(expected), "'{expected}' not in:\n{text}");
    }
    assert!(
        !text.contains("Bilbrand"),
        "the legend lists only what is on the map"
    );
    // Reproducible: the same request, the same bytes.
    assert_eq!(get().await.bytes().await.unwrap(), bytes);
    app.stop().await;
}

#[tokio::test]
async fn the_png_has_the_symbol_colour_at_the_feature_and_grants_hold() {
    let (_db, app) = scene_app().await;
    let police = client_with_token(&token_for(&app.service, "p", "police", "Polisen").await);
    let coordinator = client_with_token(
        &token_for(&app.service, "s", "security_coordinator", "Botkyrka kommun").await,
    );
    let url = app.url(&format!(
        "/exports/briefing.png?bbox={BBOX}&from=2026-11-10&to=2026-11-23&as_of={AS_OF}&dpi=150"
    ));
    let request = scene_request(Paper::A4);
    let pixel = |png: &[u8], lon: f64, lat: f64| {
        let img = tiny_skia::Pixmap::decode_png(png).unwrap();
        // A4 landscape at 150 dpi is 1754 × 1240.17 px; renderers round the last pixel either way.
        assert!(
            img.width().abs_diff(1754) <= 1 && img.height().abs_diff(1240) <= 1,
            "{}×{}",
            img.width(),
            img.height()
        );
        pixel_at(&img, &request, lon, lat)
    };
    let close = |a: (u8, u8, u8), b: (u8, u8, u8)| {
        a.0.abs_diff(b.0) < 12 && a.1.abs_diff(b.1) < 12 && a.2.abs_diff(b.2) < 12
    };
    let png = police
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // Shooting is #000000, vandalism #E69F00 in web/symbols.json.
    assert!(
        close(pixel(&png, 17.8448, 59.2393), (0, 0, 0)),
        "{:?}",
        pixel(&png, 17.8448, 59.2393)
    );
    assert!(
        close(pixel(&png, 17.8500, 59.2393), (0xE6, 0x9F, 0x00)),
        "{:?}",
        pixel(&png, 17.8500, 59.2393)
    );
    // The coordinator's ceiling is internal: the restricted shooting is not on their map.
    let png = coordinator
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        !close(pixel(&png, 17.8448, 59.2393), (0, 0, 0)),
        "a restricted feature leaked"
    );
    assert!(close(pixel(&png, 17.8500, 59.2393), (0xE6, 0x9F, 0x00)));
    // The PDF, turned into pixels by poppler's pdftoppm, has the symbols at the same places.
    if tool("pdftoppm") {
        let pdf = police
            .get(
                url.replace("briefing.png", "briefing.pdf")
                    .replace("&dpi=150", ""),
            )
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.pdf"), &pdf).unwrap();
        let o = Command::new("pdftoppm")
            .args(["-r", "150", "-png", "-singlefile"])
            .arg(dir.path().join("p.pdf"))
            .arg(dir.path().join("p"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let from_pdf = std::fs::read(dir.path().join("p.png")).unwrap();
        assert!(
            close(pixel(&from_pdf, 17.8448, 59.2393), (0, 0, 0)),
            "{:?}",
            pixel(&from_pdf, 17.8448, 59.2393)
        );
        assert!(close(
            pixel(&from_pdf, 17.8500, 59.2393),
            (0xE6, 0x9F, 0x00)
        ));
    }
    if tool("pdftotext") && tool("qpdf") {
        let pdf = coordinator
            .get(
                url.replace("briefing.png", "briefing.pdf")
                    .replace("&dpi=150", ""),
            )
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = pdf_text(&pdf);
        assert!(
            text.contains("INTERN")
                && !text.contains("BEGRÄNSAD")
                && !text.contains("Skottlossning"),
            "{text}"
        );
    }
    // A night walker sees incidents only as counts of at least 3: none here.
    let walker =
        client_with_token(&token_for(&app.service, "n", "night_walker", "Nattvandrarna").await);
    let png = walker
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!close(pixel(&png, 17.8448, 59.2393), (0, 0, 0)));
    assert!(!close(pixel(&png, 17.8500, 59.2393), (0xE6, 0x9F, 0x00)));
    // Every export is audited.
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("export".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        rows.len() >= 4
            && rows.iter().all(|r| r
                .detail
                .as_deref()
                .is_some_and(|d| d.starts_with("briefing")))
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_briefing_requests_get_a_problem_or_a_sensible_clamp() {
    let (_db, app) = scene_app().await;
    let c = &app.client;
    let get = |q: &str| c.get(app.url(&format!("/exports/briefing.pdf?{q}"))).send();
    let p = assert_problem(get("area=Atlantis").await.unwrap(), 404).await;
    assert!(p["detail"].as_str().unwrap().contains("Alby"), "{p}");
    assert_problem(get("bbox=17.9,59.3,17.8,59.2").await.unwrap(), 400).await;
    assert_problem(get("bbox=17.8,59.2,17.8,59.2").await.unwrap(), 400).await;
    assert_problem(get("from=2026-11-23&to=2026-11-01").await.unwrap(), 400).await;
    assert_problem(get("from=igår").await.unwrap(), 400).await;
    assert_problem(
        c.get(app.url("/exports/briefing.png?dpi=1500"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_problem(get("paper=a0").await.unwrap(), 400).await;
    assert_problem(get("layers=boats").await.unwrap(), 400).await;
    assert_problem(
        c.get(app.url("/exports/briefing.docx"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(
        app.anonymous
            .get(app.url("/exports/briefing.pdf"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    // A 5 000-character title is cut (request targets over 8 KiB are refused with 414); a window
    // without data is a valid map saying so.
    let long = "x".repeat(5_000);
    let r = get(&format!(
        "area=alby&from=2020-01-01&to=2020-01-31&title={long}&as_of={AS_OF}"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    if tool("pdftotext") && tool("qpdf") {
        let text = pdf_text(&bytes);
        assert!(text.contains("Inga händelser"), "{text}");
        assert!(
            text.contains("xxxx…") && !text.contains(&"x".repeat(200)),
            "the title is cut: {text}"
        );
        assert!(text.contains("Område: Alby"));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_briefing_pack_has_an_overview_and_a_page_per_area() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let (_db, app) = scene_app().await;
    let r = app
        .client
        .get(app.url(&format!(
            "/exports/briefing.pdf?pack=Alby,Fittja&title=Chefssamr%C3%A5d&as_of={AS_OF}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pack.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let pages = Command::new("qpdf")
        .arg("--show-npages")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&pages.stdout).trim(), "3");
    let text = pdf_text(&bytes);
    for t in [
        "Chefssamråd",
        "Chefssamråd – Alby",
        "Chefssamråd – Fittja",
        "Område: Fittja",
    ] {
        assert!(text.contains(t), "'{t}' not in {text}");
    }
    assert_problem(
        app.client
            .get(app.url("/exports/briefing.png?pack=Alby"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_problem(
        app.client
            .get(app.url("/exports/briefing.pdf?pack=Alby,Atlantis"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_counts_only_briefing_shows_what_the_aggregate_shows_and_says_what_it_holds_back() {
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    // Six open acts of vandalism in Alby in one week: four in one cell, two in the next.
    let db = fresh_sqlite();
    let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut features = lagesbild::demo::areas(datetime!(2026-11-23 08:00 UTC));
    for (lon, n) in [(17.8455, 4), (17.8505, 2)] {
        for k in 0..n {
            features.push(incident(
                lon + 0.00001 * f64::from(k),
                59.2356,
                IncidentCategory::Vandalism,
                Classification::Open,
            ));
        }
    }
    store.insert(&features, &|_| {}).await.unwrap();
    store.close().await;
    let app = TestApp::spawn(&db.url, false).await;
    let walker =
        client_with_token(&token_for(&app.service, "n", "night_walker", "Nattvandrarna").await);
    let agg: serde_json::Value = walker
        .get(app.url("/collections/incidents/aggregate?by=area&datetime=2026-11-10/2026-11-23"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alby = agg["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["name"] == "Alby")
        .unwrap()["properties"]["count"]
        .as_u64()
        .unwrap();
    assert_eq!(alby, 6);
    let pdf = walker
        .get(app.url(&format!(
            "/exports/briefing.pdf?bbox={BBOX}&from=2026-11-10&to=2026-11-23&as_of={AS_OF}"
        )))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = pdf_text(&pdf);
    assert!(!text.contains("Inga händelser"), "{text}");
    assert!(
        text.contains("visas inte"),
        "the page says what it holds back: {text}"
    );
    // Alby and its vandalism: 6 now (as the aggregate says), and "–" (never 0) for the previous
    // period that shows nothing (pdftotext puts each table cell on its own line).
    let cells: Vec<&str> = text.lines().map(str::trim).collect();
    assert!(cells.contains(&"Skadegörelse"), "{text}");
    assert_eq!(cells.iter().filter(|l| **l == "6").count(), 2, "{text}");
    assert_eq!(cells.iter().filter(|l| **l == "–").count(), 2, "{text}");
    app.stop().await;
}

/// Whitespace collapsed, so text wrapped over lines in the PDF compares with the API's.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_lagesbild_document_has_every_section_the_stored_text_and_the_verdicts() {
    let db = fresh_sqlite();
    // The server's day is the document's: follow-ups compare on the same day.
    let app = TestApp::spawn_with_clock(
        common::settings(&db.url),
        true,
        lagesbild::service::clock::Clock::manual(datetime!(2026-12-01 08:00 UTC)),
    )
    .await;
    let coord = client_with_token(
        &token_for(
            &app.service,
            "lb-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let walker = client_with_token(
        &token_for(&app.service, "lb-walk", "night_walker", "Nattvandrarna").await,
    );
    let text_url = app.url("/reports/lagesbild/2026");
    let put = |c: &reqwest::Client, body: serde_json::Value, version: Option<&str>| {
        let mut r = c
            .put(&text_url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(v) = version {
            r = r.header("if-match", v);
        }
        r.send()
    };
    let body = serde_json::json!({
        "other_information": [{"heading": "Trygghetsmätning 2026",
            "text": "Andelen som känner sig otrygga i Alby centrum kvällstid har ökat sedan förra mätningen."}],
        "analysis": "Skadegörelsen samlas kring Alby torg och gångtunneln; orsakerna finns främst på platsen (belysning, skymda hörn)."
    });
    let r = put(&coord, body.clone(), None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"1\"");
    // Changing a stored text needs the version read; a stale one is refused.
    assert_problem(put(&coord, body.clone(), None).await.unwrap(), 428).await;
    let mut changed = body.clone();
    changed["analysis"] = serde_json::json!(format!(
        "{} Insatserna följs upp nedan.",
        body["analysis"].as_str().unwrap()
    ));
    let r = put(&coord, changed.clone(), Some("\"1\"")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_problem(
        put(&coord, changed.clone(), Some("\"1\"")).await.unwrap(),
        409,
    )
    .await;
    // Bad input by field; the personal-data guard; who may write.
    let mut pii = changed.clone();
    pii["other_information"][0]["text"] = serde_json::json!("Ring 070-123 45 67 om du ser något");
    let p = assert_problem(put(&coord, pii, Some("\"2\"")).await.unwrap(), 422).await;
    assert_eq!(
        common::pointers(&p),
        vec!["/other_information/0/text"],
        "{p}"
    );
    let p = assert_problem(
        coord
            .put(app.url("/reports/lagesbild/20%2026"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
        400, // a malformed period in the path, named
    )
    .await;
    assert!(p.to_string().contains("period"), "{p}");
    assert_problem(put(&walker, body.clone(), None).await.unwrap(), 403).await;
    // The internal text does not exist for the open role.
    assert_problem(walker.get(&text_url).send().await.unwrap(), 404).await;
    let got: serde_json::Value = coord
        .get(&text_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["analysis"], changed["analysis"]);

    // The document, as the coordinator sees it.
    let q = "/exports/lagesbild.pdf?to=2026-11-30&period=2026&as_of=2026-12-01T08:00:00Z&municipality=Botkyrka%20kommun";
    let r = coord.get(app.url(q)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap().to_vec();
    let again = coord
        .get(app.url(q))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(pdf, again.to_vec(), "the same as_of, the same bytes");
    if !tool("pdftotext") || !tool("qpdf") {
        return;
    }
    let text = flat(&pdf_text(&pdf));
    for needle in [
        "INTERN – för kommunens ledning och chefssamrådet",
        "Botkyrka kommun",
        "4 § lagen (2023:196)",
        "1. Kartläggning av brottsligheten",
        "Händelser per område och kategori",
        "Utveckling de senaste tolv månaderna",
        "2. Annan relevant information",
        "Trygghetsmätning 2026",
        "Andelen som känner sig otrygga i Alby centrum kvällstid",
        "3. Analys",
        "Insatserna följs upp nedan.",
        "Tätaste 250 m-rutor",
        "Kamerornas täckning under perioden",
        "positionsfel på 83 m",
        "Rutternas poäng under perioden",
        "Under tiderna/km",
        "4. Åtgärder och uppföljning",
        "5. Källor",
        "Kameror: exakt.",
        "Täthet: kvartisk kärna, bandbredd",
    ] {
        assert!(text.contains(needle), "missing '{needle}' in:\n{text}");
    }
    // Each measure's follow-up verdict, as the follow-up endpoint says it on the same day.
    let measures: serde_json::Value = coord
        .get(app.url("/collections/measures/items?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut verdicts = 0;
    for m in measures["features"].as_array().unwrap() {
        let title = m["properties"]["title"].as_str().unwrap();
        assert!(text.contains(title), "measure '{title}' listed");
        let r = coord
            .get(app.url(&format!(
                "/collections/measures/items/{}/follow-up",
                m["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let f: serde_json::Value = r.json().await.unwrap();
            let verdict = flat(f["verdictText"].as_str().unwrap());
            assert!(text.contains(&verdict), "verdict '{verdict}' for '{title}'");
            verdicts += 1;
        }
    }
    assert!(verdicts > 0, "the demo's measures are followed up");

    // The night walker's document: counts held back and said so, no follow-up, no internal text.
    let r = walker.get(app.url(q)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = flat(&pdf_text(&r.bytes().await.unwrap()));
    assert!(text.contains("– = visas inte med din behörighet"), "{text}");
    // Below exact the periods are whole ISO weeks (to 2026-11-30, a Monday: up to the Sunday).
    assert!(text.contains("Period: 2025-12-01 – 2026-11-29"), "{text}");
    assert!(
        text.contains("Uppföljningen (antal före och efter) visas inte"),
        "{text}"
    );
    assert!(
        !text.contains("Andelen som känner sig otrygga"),
        "internal text leaked"
    );
    assert!(!text.contains("BEGRÄNSAD"), "{text}");
    assert!(
        text.contains("Kameror: ingår inte i din behörighet."),
        "{text}"
    );
    assert!(
        !text.contains("Kamerornas täckning"),
        "no camera coverage without the cameras"
    );

    // Bad parameters by name.
    for (q, status, name) in [
        ("to=2026-13-01", 400, "to"),
        ("from=2026-12-01&to=2026-11-01", 400, "from"),
        ("from=2024-01-01&to=2026-11-01", 400, "from"),
        ("period=a%20b", 400, "period"),
        ("as_of=igår", 400, "as_of"),
        ("titel=x", 400, "titel"),
    ] {
        let p = assert_problem(
            coord
                .get(app.url(&format!("/exports/lagesbild.pdf?{q}")))
                .send()
                .await
                .unwrap(),
            status,
        )
        .await;
        assert!(p.to_string().contains(name), "{q}: {p}");
    }
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("report.edit".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "two writes of the text audited");
    app.stop().await;
}

/// The test municipality's basemap (`tests/fixtures/basemap/`): a lake, Provgatan (a main
/// street) and Sjövägen, a station, over the scene around Alby.
fn provkarta() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/basemap/provkarta.pmtiles")
}

#[tokio::test]
async fn a_briefing_draws_the_basemap_with_its_names_as_text_and_its_attribution() {
    let (_db, app) = scene_app_with(Some(provkarta())).await;
    let police = client_with_token(&token_for(&app.service, "p", "police", "Polisen").await);
    // A3 landscape: the screen would show this scale at zoom 14.4, where street names are drawn.
    let query = format!("bbox={BBOX}&from=2026-11-10&to=2026-11-23&as_of={AS_OF}&paper=a3");
    let request = scene_request(Paper::A3);
    let zoom =
        lagesbild::basemap::draw::screen_zoom(page::points_per_metre(&request).unwrap(), 59.24);
    assert!(zoom > 14.0 && zoom < 15.0, "{zoom}");
    let png = police
        .get(app.url(&format!("/exports/briefing.png?{query}&dpi=150")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let img = tiny_skia::Pixmap::decode_png(&png).unwrap();
    let pixel = |lon: f64, lat: f64| pixel_at(&img, &request, lon, lat);
    let near = |a: (u8, u8, u8), b: (u8, u8, u8)| {
        a.0.abs_diff(b.0) < 20 && a.1.abs_diff(b.1) < 20 && a.2.abs_diff(b.2) < 20
    };
    // The lake (#b9d3e6 in the style) in the map's top left, Provgatan (#f6e3b4) where it
    // crosses 17.855° E (it runs from 17.80° E, 59.235° N to 17.90° E, 59.238° N), each under
    // the areas' faint veil at most.
    let lake = pixel(17.838, 59.2457);
    assert!(near(lake, (0xb9, 0xd3, 0xe6)), "the lake: {lake:?}");
    // On the edge between two of the zoom-14 tiles it is drawn from (both tiles carry the lake
    // to their buffers): still the lake, not a gap.
    let edge = -180.0 + 360.0 * 9004.0 / 16384.0;
    assert!((17.835..17.85).contains(&edge));
    for dx in [-0.00004, 0.0, 0.00004] {
        let at = pixel(edge + dx, 59.2457);
        assert!(
            near(at, (0xb9, 0xd3, 0xe6)),
            "the lake at a tile edge: {at:?}"
        );
    }
    let street = pixel(17.855, 59.235 + 0.003 * 0.55);
    assert!(near(street, (0xf6, 0xe3, 0xb4)), "Provgatan: {street:?}");
    // Without a basemap the same places are the map's plain background.
    let (_db2, plain) = scene_app().await;
    let police2 = client_with_token(&token_for(&plain.service, "p", "police", "Polisen").await);
    let png = police2
        .get(plain.url(&format!("/exports/briefing.png?{query}&dpi=150")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let plain_img = tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert!(!near(
        pixel_at(&plain_img, &request, 17.838, 59.2457),
        (0xb9, 0xd3, 0xe6)
    ));
    plain.stop().await;
    if tool("pdftotext") && tool("qpdf") {
        let pdf = police
            .get(app.url(&format!("/exports/briefing.pdf?{query}")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = pdf_text(&pdf);
        for expected in [
            "Provgatan",     // a street name, drawn along the street
            "Sjövägen",      // the other street
            "Provstationen", // a station
            "Bakgrundskarta: Provkarta – Provdata (fiktiv)",
        ] {
            assert!(text.contains(expected), "'{expected}' not in:\n{text}");
        }
        // Outside the clip outline: never in the archive, never on paper.
        assert!(!text.contains("Utanförby"), "{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_demo_draws_its_own_overview_map_on_screen_and_on_paper() {
    let db = fresh_sqlite();
    let app = TestApp::spawn_with(common::settings(&db.url), true).await;
    let anonymous = reqwest::Client::new();
    let d = common::get_value(&anonymous, &app.url("/basemap")).await;
    assert_eq!(d["format"], "pmtiles");
    assert_eq!(d["name"], "Översiktskarta (demo)");
    assert!(
        d["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("OpenStreetMap") && a.contains("Översiktskarta")),
        "{d}"
    );
    // The archive the browser reads starts as PMTiles v3.
    let head = anonymous
        .get(app.url("/basemap/archive.pmtiles"))
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 206);
    assert_eq!(&head.bytes().await.unwrap()[..], b"PMTiles\x03");
    // The tile over Fittja and Masmo at zoom 14 holds the stations, the metro line between
    // them, the district outline and the demo's streets.
    let basemap = app.service.basemap().unwrap();
    let (x, y) = lagesbild::basemap::draw::tile_of(17.871, 59.2485, 14);
    let tile = basemap.tile(14, x, y).await.unwrap().unwrap();
    let layers = lagesbild::tiles::decode(&tile).unwrap();
    let names: Vec<String> = layers["places"]
        .iter()
        .filter_map(|(_, p)| match p.get("name") {
            Some(lagesbild::tiles::Value::Str(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(names.iter().any(|n| n == "Masmo"), "{names:?}");
    assert!(layers["railways"].iter().any(
        |(_, p)| matches!(p.get("kind"), Some(lagesbild::tiles::Value::Str(k)) if k == "subway")
    ));
    assert!(layers.contains_key("boundaries") && layers.contains_key("roads"));
    if tool("pdftotext") && tool("qpdf") {
        let police = client_with_token(&token_for(&app.service, "p", "police", "Polisen").await);
        let pdf = police
            .get(app.url(
                "/exports/briefing.pdf?bbox=17.84,59.238,17.89,59.256&from=2026-11-10&to=2026-11-23",
            ))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = pdf_text(&pdf);
        assert!(
            text.contains("Masmo"),
            "a station only the overview names:\n{text}"
        );
        assert!(
            text.contains("Bakgrundskarta: Översiktskarta (demo)"),
            "{text}"
        );
    }
    app.stop().await;
}
