//! Item 1: counts-only access is k-anonymous against differencing. An automated attacker asks
//! every combination of box, category subset, time window (whole and partial weeks) and
//! partition (grid, areas) as a night walker (`aggregate` on incidents), and:
//!
//! - no answer shows a count under 3, or a per-question `suppressed` counter;
//! - no difference between two answers (all minus some categories, a long window minus its
//!   halves, an area minus its cells) comes out at 1 or 2;
//! - moving one incident between two cells that each hold fewer than 3 (same area, week and
//!   category) changes no answer at all: no answer depends on a bucket under 3.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::TestApp;
use super::{as_role, backends};
use lagesbild::domain::{FeatureDraft, Layer};

/// Alby (a shipped outline) at this latitude; four positions ~285 m apart, one per cell.
const LAT: f64 = 59.2356;
const CELLS: [f64; 4] = [17.8405, 17.8455, 17.8505, 17.8555];
const W47: &str = "2026-11-18T21:00:00Z";
const W48: &str = "2026-11-25T21:00:00Z";

/// (cell index, category, time, how many)
type Placement = (usize, &'static str, &'static str, usize);

const FIXTURE: [Placement; 8] = [
    (0, "shooting", W47, 3),
    (1, "shooting", W47, 1),
    (2, "shooting", W47, 1),
    (3, "shooting", W47, 3),
    (0, "vandalism", W47, 2),
    (1, "vandalism", W47, 4),
    (2, "shooting", W48, 3),
    (3, "shooting", W48, 1),
];

async fn seeded(url: &str, moved: bool) -> TestApp {
    let app = TestApp::spawn(url, false).await;
    let local = lagesbild::startup::local_viewer(&app.service).unwrap();
    let areas = lagesbild::service::import::read_geojson(
        Layer::Areas,
        lagesbild::demo::AREAS_GEOJSON.as_bytes(),
        Default::default(),
    )
    .unwrap();
    app.service
        .create_many(areas.drafts, &local, &|_| {})
        .await
        .unwrap();
    let mut drafts = Vec::new();
    for (i, (cell, category, at, n)) in FIXTURE.iter().enumerate() {
        // The variant moves the lone W47 shooting of cell 1 into cell 2 (both under 3).
        let cell = if moved && i == 1 { 2 } else { *cell };
        for k in 0..*n {
            #[allow(clippy::cast_precision_loss)]
            let lon = CELLS[cell] + 0.00001 * k as f64;
            let v = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, LAT]},
                "properties": {"category": category, "occurred_at": at, "severity": 2,
                    "organisation": "Polisen", "classification": "open"}});
            drafts.push(FeatureDraft::from_geojson(Layer::Incidents, v).unwrap());
        }
    }
    app.service
        .create_many(drafts, &local, &|_| {})
        .await
        .unwrap();
    app
}

/// Every question the attacker asks: (label, query string).
fn questions() -> Vec<String> {
    let windows = [
        None,
        Some("2026-11-16/2026-11-22"),
        Some("2026-11-23/2026-11-29"),
        Some("2026-11-16/2026-11-29"),
        Some("2026-11-18T00:00:00Z/2026-11-19T00:00:00Z"),
        Some("2026-11-18T21:00:00Z"),
    ];
    let categories = [
        None,
        Some("shooting"),
        Some("vandalism"),
        Some("shooting,vandalism"),
    ];
    let mut boxes: Vec<Option<String>> = vec![None];
    for lon in CELLS {
        boxes.push(Some(format!(
            "{},{},{},{}",
            lon - 0.0003,
            LAT - 0.0003,
            lon + 0.0003,
            LAT + 0.0003
        )));
    }
    let mut out = Vec::new();
    for by in ["grid", "area"] {
        for w in &windows {
            for c in &categories {
                for b in &boxes {
                    let mut q = format!("by={by}");
                    if let Some(w) = w {
                        q += &format!("&datetime={w}");
                    }
                    if let Some(c) = c {
                        q += &format!("&category={c}");
                    }
                    if let Some(b) = b {
                        q += &format!("&bbox={b}");
                    }
                    out.push(q);
                }
            }
        }
    }
    out
}

/// An answer as comparable numbers: (name or cell key) -> (count, per category).
type Answer = BTreeMap<String, (u64, BTreeMap<String, u64>)>;

fn numbers(v: &Value) -> Answer {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let key = p["name"]
                .as_str()
                .map_or_else(|| p["key"].as_str().unwrap().to_owned(), str::to_owned);
            let cats = p["categories"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .collect();
            (key, (p["count"].as_u64().unwrap(), cats))
        })
        .collect()
}

async fn ask_all(app: &TestApp) -> BTreeMap<String, Answer> {
    let walker = as_role(app, "night_walker").await;
    let mut out = BTreeMap::new();
    for q in questions() {
        let r = walker
            .get(app.url(&format!("/collections/incidents/aggregate?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v.get("suppressed").is_none(),
            "{q}: a per-question counter: {v}"
        );
        assert!(v["suppression"].is_string(), "{q}: the rule must be stated");
        let a = numbers(&v);
        for (key, (n, cats)) in &a {
            assert!(*n >= 3, "{q}: {key} shows {n}");
            assert!(cats.values().all(|c| *c >= 3), "{q}: {key} {cats:?}");
        }
        out.insert(q, a);
    }
    out
}

fn small(d: i64) -> bool {
    d == 1 || d == 2
}

fn count(a: &Answer, key: &str) -> i64 {
    a.get(key).map_or(0, |(n, _)| i64::try_from(*n).unwrap())
}

#[tokio::test]
async fn no_combination_of_count_questions_reveals_a_bucket_under_three() {
    let (urls, _db) = backends().await;
    for url in &urls {
        let app = seeded(url, false).await;
        let answers = ask_all(&app).await;
        let get = |q: &str| answers.get(q).unwrap_or_else(|| panic!("asked {q}"));
        let mut derived = 0;
        for w in [
            "",
            "&datetime=2026-11-16/2026-11-29",
            "&datetime=2026-11-16/2026-11-22",
        ] {
            // Categories: all minus each category, and all minus the sum of both.
            let all = get(&format!("by=grid{w}"));
            let shooting = get(&format!("by=grid{w}&category=shooting"));
            let vandalism = get(&format!("by=grid{w}&category=vandalism"));
            for key in all.keys() {
                for d in [
                    count(all, key) - count(shooting, key),
                    count(all, key) - count(vandalism, key),
                    count(all, key) - count(shooting, key) - count(vandalism, key),
                ] {
                    assert!(!small(d), "{url}{w}: category difference {d} in {key}");
                    derived += 1;
                }
            }
            // An area minus the cells whose centre it holds (here: every shown cell is in Alby).
            for c in ["", "&category=shooting", "&category=vandalism"] {
                let area = get(&format!("by=area{w}{c}"));
                let cells = get(&format!("by=grid{w}{c}"));
                let d = count(area, "Alby")
                    - cells
                        .values()
                        .map(|(n, _)| i64::try_from(*n).unwrap())
                        .sum::<i64>();
                assert!(!small(d), "{url}{w}{c}: area minus cells is {d}");
                derived += 1;
            }
        }
        // A two-week window minus each of its weeks, per cell and per area.
        let both = get("by=grid&datetime=2026-11-16/2026-11-29");
        let w47 = get("by=grid&datetime=2026-11-16/2026-11-22");
        let w48 = get("by=grid&datetime=2026-11-23/2026-11-29");
        for key in both.keys() {
            for d in [
                count(both, key) - count(w47, key),
                count(both, key) - count(w48, key),
                count(both, key) - count(w47, key) - count(w48, key),
            ] {
                assert!(!small(d), "{url}: week difference {d} in {key}");
                derived += 1;
            }
        }
        // A small box around each cell shows that cell's published number or nothing.
        for lon in CELLS {
            let b = format!(
                "{},{},{},{}",
                lon - 0.0003,
                LAT - 0.0003,
                lon + 0.0003,
                LAT + 0.0003
            );
            let one = get(&format!("by=grid&bbox={b}"));
            for (key, (n, _)) in one {
                assert_eq!(
                    count(get("by=grid"), key),
                    i64::try_from(*n).unwrap(),
                    "{url}: box {b}"
                );
            }
        }
        assert!(derived > 20, "the attacker worked: {derived}");
        // The areas still say something: Alby's published totals are there.
        assert!(
            count(get("by=area"), "Alby") >= 3,
            "{url}: {:?}",
            get("by=area")
        );
        app.stop().await;

        // Moving a lone incident to another sparse cell of the same area, week and category
        // changes no answer.
        let moved_url = if url.starts_with("sqlite:") {
            let db = super::common::fresh_sqlite();
            let app = seeded(&db.url, true).await;
            let moved = ask_all(&app).await;
            app.stop().await;
            drop(db);
            moved
        } else {
            let admin = super::common::pg_admin_url().unwrap();
            let fresh = super::common::fresh_pg_url(&admin).await;
            let app = seeded(&fresh, true).await;
            let moved = ask_all(&app).await;
            app.stop().await;
            moved
        };
        for (q, a) in &answers {
            assert_eq!(
                a, &moved_url[q],
                "{url}: the answer to {q} depends on a bucket under 3"
            );
        }
    }
}

#[tokio::test]
async fn counts_follow_every_write_at_once() {
    // The published buckets are cached per question; a write must be seen by the next count.
    let (urls, _db) = backends().await;
    for url in &urls {
        let app = seeded(url, false).await;
        let walker = as_role(&app, "night_walker").await;
        let ask = || async {
            let v: Value = walker
                .get(app.url("/collections/incidents/aggregate?by=grid&category=explosion"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            numbers(&v)
        };
        assert!(ask().await.is_empty(), "{url}: no explosions yet");
        let local = lagesbild::startup::local_viewer(&app.service).unwrap();
        let drafts = (0..3)
            .map(|k| {
                #[allow(clippy::cast_precision_loss)]
                let lon = CELLS[0] + 0.00001 * f64::from(k);
                FeatureDraft::from_geojson(
                    Layer::Incidents,
                    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, LAT]},
                        "properties": {"category": "explosion", "occurred_at": W47, "severity": 4,
                            "organisation": "Polisen", "classification": "open"}}),
                )
                .unwrap()
            })
            .collect();
        app.service
            .create_many(drafts, &local, &|_| {})
            .await
            .unwrap();
        let after = ask().await;
        assert_eq!(
            after.values().map(|(n, _)| *n).sum::<u64>(),
            3,
            "{url}: {after:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn an_outer_area_around_the_districts_cannot_be_differenced() {
    // A coordinator draws a municipality-wide area around the districts. Were it counted, the
    // outer count minus the inner ones would reveal incidents outside them; it is left out of
    // the area counts below exact (the smaller, non-overlapping areas are kept).
    let (urls, _db) = backends().await;
    for url in &urls {
        let app = seeded(url, false).await;
        let local = lagesbild::startup::local_viewer(&app.service).unwrap();
        let outer = FeatureDraft::from_geojson(
            Layer::Areas,
            json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
                [17.70, 59.15], [18.00, 59.15], [18.00, 59.30], [17.70, 59.30], [17.70, 59.15]]]},
                "properties": {"name": "Hela kommunen", "municipality": "Botkyrka",
                    "organisation": "Botkyrka kommun", "classification": "open"}}),
        )
        .unwrap();
        app.service
            .create_many(vec![outer], &local, &|_| {})
            .await
            .unwrap();
        // Two lone incidents outside every district, inside the outer area.
        let drafts = [(17.72, 59.16), (17.99, 59.29)]
            .iter()
            .map(|(lon, lat)| {
                FeatureDraft::from_geojson(
                    Layer::Incidents,
                    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"category": "shooting", "occurred_at": W47, "severity": 4,
                            "organisation": "Polisen", "classification": "open"}}),
                )
                .unwrap()
            })
            .collect();
        app.service
            .create_many(drafts, &local, &|_| {})
            .await
            .unwrap();
        let walker = as_role(&app, "night_walker").await;
        let v: Value = walker
            .get(app.url("/collections/incidents/aggregate?by=area"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names = numbers(&v);
        assert!(!names.contains_key("Hela kommunen"), "{url}: {names:?}");
        assert!(names.contains_key("Alby"), "{url}: {names:?}");
        app.stop().await;
    }
}
