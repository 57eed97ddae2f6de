//! Near repeats: the Knox test against a brute-force pair count over what the caller reads
//! exactly; near-repeat zones after a new shooting, for each kind of role (exact around the
//! position, coarse around the cell and to the end of the week, counts-only none), and the
//! zone announced on the live stream. SQLite and PostGIS.

use std::time::Duration;

use geo::Point;
use lagesbild::domain::{Classification, Layer, Properties};
use lagesbild::service::visibility::Grid;
use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, get_value,
    pg_admin_url, read_events, send_geojson, token_for,
};

async fn check(url: &str) {
    let app = TestApp::spawn(url, true).await;
    let grid = Grid::new().unwrap();
    let police = client_with_token(&token_for(&app.service, "nr-pol", "police", "Polisen").await);
    let coord = client_with_token(
        &token_for(
            &app.service,
            "nr-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let social = client_with_token(
        &token_for(&app.service, "nr-soc", "social_services", "Botkyrka kommun").await,
    );
    let walker = client_with_token(
        &token_for(&app.service, "nr-walk", "night_walker", "Nattvandrarna").await,
    );

    // 1. Knox as the coordinator: observed pairs equal a brute-force count within its ceiling.
    let q = "/analysis/near-repeat?datetime=2025-12-01/2026-12-01&space=150&space_bands=2&time=14&time_bands=2&iterations=99&seed=3";
    let k = get_value(&coord, &app.url(q)).await;
    assert_eq!(k["seed"], 3, "{url}: {k}");
    let events: Vec<(f64, f64, f64)> = app
        .service
        .unrestricted()
        .all(Layer::Incidents)
        .iter()
        .filter(|f| f.meta.classification <= Classification::Internal)
        .filter_map(|f| {
            let Properties::Incident(i) = &f.properties else {
                return None;
            };
            let t = i.occurred_at.to_offset(time::UtcOffset::UTC);
            let inside = t.date() >= time::macros::date!(2025 - 12 - 01)
                && t.date() <= time::macros::date!(2026 - 12 - 01);
            let p = f.geom.point()?;
            let (x, y) = grid.project(p)?;
            inside.then_some((x, y, i.occurred_at.unix_timestamp() as f64 / 86_400.0))
        })
        .collect();
    assert_eq!(
        k["events"].as_u64().unwrap() as usize,
        events.len(),
        "{url}"
    );
    for band in k["bands"].as_array().unwrap() {
        let (s0, s1) = (
            band["space"][0].as_f64().unwrap(),
            band["space"][1].as_f64().unwrap(),
        );
        let (t0, t1) = (
            band["time"][0].as_f64().unwrap(),
            band["time"][1].as_f64().unwrap(),
        );
        let mut n = 0u64;
        for i in 0..events.len() {
            for j in i + 1..events.len() {
                let d = ((events[i].0 - events[j].0).powi(2) + (events[i].1 - events[j].1).powi(2))
                    .sqrt();
                let dt = (events[i].2 - events[j].2).abs();
                n += u64::from(d >= s0 && d < s1 && dt >= t0 && dt < t1);
            }
        }
        assert_eq!(
            band["observed"].as_u64().unwrap(),
            n,
            "{url}: {}",
            band["label"]
        );
        let p = band["p"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 1.0);
    }
    assert_eq!(
        get_value(&coord, &app.url(q)).await["bands"],
        k["bands"],
        "same seed, same table"
    );
    assert_problem(social.get(app.url(q)).send().await.unwrap(), 403).await;
    // Too few incidents: refused without saying how many, and the question is audited first
    // (its box, window and categories), so a refusal is no unlogged counter.
    let p = assert_problem(
        coord
            .get(app.url("/analysis/near-repeat?datetime=2026-11-20&category=explosion&bbox=17.84,59.23,17.85,59.24"))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().starts_with("fewer than 20"),
        "{p}"
    );
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("aggregate".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        rows.iter().any(|r| r
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("near repeat")
                && d.contains("2026-11-20")
                && d.contains("explosion"))
            && r.bbox.is_some()),
        "{url}: the refused question is in the audit log"
    );
    // Bounded work: bands reaching beyond 2 km are refused.
    let p = assert_problem(
        coord
            .get(app.url("/analysis/near-repeat?space=1000&space_bands=3"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(p.to_string().contains("space_bands"), "{p}");
    let p = assert_problem(
        coord
            .get(app.url("/analysis/near-repeat?space=5"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(p.to_string().contains("space"), "{p}");

    // 2. A shooting now: zones for every kind of role, and the live announcement.
    let mut stream = social.get(app.url("/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let shot = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.8448, 59.2393]},
        "properties": {"category": "shooting", "occurred_at": now.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "severity": 5, "organisation": "Polisen", "classification": "internal", "description": "Skott vid torget"}});
    let r = send_geojson(police.post(app.url("/collections/incidents/items")), &shot).await;
    assert_eq!(r.status(), 201, "{url}");
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exact = get_value(&police, &app.url("/analysis/near-repeat-zones")).await;
    let zone = exact["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{url}: {exact}"));
    assert_eq!(zone["properties"]["exact"], true);
    assert_eq!(zone["properties"]["radius_m"], 100.0);
    // The circle is 100 m around the position.
    let ring = zone["geometry"]["coordinates"][0].as_array().unwrap();
    let (cx, cy) = grid.project(Point::new(17.8448, 59.2393)).unwrap();
    for c in ring {
        let (x, y) = grid
            .project(Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .unwrap();
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        assert!((d - 100.0).abs() < 0.5, "{url}: {d}");
    }
    // Coarse: around the cell's centre, wider, to the end of the week plus 14 days.
    let coarse = get_value(&social, &app.url("/analysis/near-repeat-zones")).await;
    let cz = coarse["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{url}: {coarse}"));
    assert_eq!(cz["properties"]["exact"], false);
    assert_eq!(cz["properties"]["radius_m"], 280.0);
    let until = cz["properties"]["until"].as_str().unwrap();
    assert!(
        until.ends_with("T00:00:00Z"),
        "{until}: a week's end, not the day"
    );
    assert_problem(
        walker
            .get(app.url("/analysis/near-repeat-zones"))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    // The social services' stream announced the zone, as they see it.
    let events = read_events(&mut stream, Duration::from_millis(800)).await;
    let announced = events
        .iter()
        .find(|(k, d)| k == "near_repeat_zone" && d["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{url}: {events:?}"));
    assert_eq!(announced.1["properties"]["exact"], false, "{url}");
    // Bad rules, by parameter.
    for (q, name) in [
        ("radius=5", "radius"),
        ("days=100", "days"),
        ("category=graffiti", "category"),
    ] {
        let p = assert_problem(
            police
                .get(app.url(&format!("/analysis/near-repeat-zones?{q}")))
                .send()
                .await
                .unwrap(),
            400,
        )
        .await;
        assert!(p.to_string().contains(name), "{q}: {p}");
    }
    app.stop().await;
}

#[tokio::test]
async fn near_repeats_are_tested_zoned_and_announced_on_sqlite() {
    let db = fresh_sqlite();
    check(&db.url).await;
}

#[tokio::test]
async fn near_repeats_are_tested_zoned_and_announced_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    check(&fresh_pg_url(&admin).await).await;
}
