//! Measures (åtgärder): created and changed through the same paths as every layer, with their
//! own rules refused by field, on SQLite and PostGIS.

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, pg_admin_url, pointers,
    send_geojson, token_for,
};

fn measure() -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.8448, 59.2393]},
        "properties": {"title": "Belysning vid gångtunneln", "description": "Nya armaturer",
            "kind": "situational", "cause": {"bone": "place", "text": "Mörk passage"},
            "owner": "Tekniska förvaltningen", "status": "decided", "decided_at": "2026-W49",
            "start": "2026-12-07", "due": "2027-01-31", "horizon": "short",
            "target_categories": ["vandalism", "threat_violence"],
            "organisation": "Botkyrka kommun", "classification": "open"}})
}

async fn check(url: &str) {
    let app = TestApp::spawn(url, false).await;
    let coordinator = client_with_token(
        &token_for(
            &app.service,
            "m-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let items = app.url("/collections/measures/items");
    let r = send_geojson(coordinator.post(&items), &measure()).await;
    assert_eq!(r.status(), 201, "{url}");
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["properties"]["status"], "decided");

    // Its own rules, each named by field.
    for (change, pointer) in [
        (json!({"due": "2026-11-01"}), "/properties/due"),
        (json!({"status": "done"}), "/properties/end"),
        (
            json!({"target_categories": []}),
            "/properties/target_categories",
        ),
        (
            json!({"target_categories": ["graffiti"]}),
            "/properties/target_categories",
        ),
        (json!({"decided_at": null}), "/properties/decided_at"),
        (
            json!({"description": "Ring 070-123 45 67"}),
            "/properties/description",
        ),
    ] {
        let mut body = measure();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body["properties"].as_object_mut().unwrap().remove(k);
            } else {
                body["properties"][k] = v.clone();
            }
        }
        let p = assert_problem(send_geojson(coordinator.post(&items), &body).await, 422).await;
        assert!(
            pointers(&p).iter().any(|x| x.starts_with(pointer)),
            "{url} {change}: {p}"
        );
    }
    // Filters: kind as category, status, the start–end span as time.
    let page: Value = coordinator
        .get(app.url(
            "/collections/measures/items?category=situational&status=decided&datetime=2026-12-10",
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["numberMatched"], 1, "{url}: {page}");
    // Social services make their own, and may not change the coordinator's.
    let social = client_with_token(
        &token_for(
            &app.service,
            "m-social",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let mut theirs = measure();
    theirs["properties"]["organisation"] = json!("Polisen");
    assert_problem(send_geojson(social.post(&items), &theirs).await, 403).await;
    // Night walkers see open measures only.
    let walker = client_with_token(
        &token_for(&app.service, "m-walker", "night_walker", "Nattvandrarna").await,
    );
    let mut internal = measure();
    internal["properties"]["classification"] = json!("internal");
    assert_eq!(
        send_geojson(coordinator.post(&items), &internal)
            .await
            .status(),
        201
    );
    let seen: Value = walker
        .get(&items)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["numberMatched"], 1, "{url}: only the open one");
    app.stop().await;
}

#[tokio::test]
async fn measures_follow_their_rules_and_the_grants_on_sqlite() {
    let db = fresh_sqlite();
    check(&db.url).await;
}

#[tokio::test]
async fn measures_follow_their_rules_and_the_grants_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    check(&fresh_pg_url(&admin).await).await;
}

/// Counts incidents of `categories` intersecting `region` between two days, by brute force.
fn brute_count(
    app: &TestApp,
    region: &geo::Geometry<f64>,
    categories: &[&str],
    from: &str,
    to: &str,
) -> u64 {
    use geo::Intersects;
    let day = |s: &str| {
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    };
    let (from, to) = (day(from), day(to));
    app.service
        .unrestricted()
        .all(lagesbild::domain::Layer::Incidents)
        .iter()
        .filter(|f| match &f.properties {
            lagesbild::domain::Properties::Incident(i) => {
                categories.contains(&i.category.as_str())
                    && (from..=to).contains(&i.occurred_at.date())
                    && f.geometry().intersects(region)
            }
            _ => false,
        })
        .count() as u64
}

async fn follow_up_check(url: &str) {
    let app = TestApp::spawn(url, true).await;
    let police = client_with_token(&token_for(&app.service, "f-police", "police", "Polisen").await);
    // A measure in Alby that started 60 days before the demo's today.
    let today = time::OffsetDateTime::now_utc().date();
    let start = today - time::Duration::days(60);
    let mut body = measure();
    body["properties"]["start"] = json!(start.to_string());
    body["properties"]["due"] = json!((start + time::Duration::days(120)).to_string());
    body["properties"]["status"] = json!("ongoing");
    body["properties"]["organisation"] = json!("Polisen");
    body["properties"]["target_categories"] =
        json!(["vandalism", "car_fire", "disorder_gathering"]);
    let r = send_geojson(police.post(app.url("/collections/measures/items")), &body).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f: Value = police
        .get(app.url(&format!("/collections/measures/items/{id}/follow-up")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["area"], "Alby", "{url}: {f}");
    assert!(
        f["counts"]["before"].as_u64().unwrap() + f["counts"]["after"].as_u64().unwrap() > 0,
        "{url}: the demo has incidents to count here: {f}"
    );
    assert_eq!(f["comparison"], "övriga områden");
    // The counts equal a brute-force scan of the same windows and outlines.
    let areas = app
        .service
        .unrestricted()
        .all(lagesbild::domain::Layer::Areas);
    let name_of = |a: &lagesbild::domain::Feature| match &a.properties {
        lagesbild::domain::Properties::Area(p) => p.name.to_string(),
        _ => String::new(),
    };
    let alby = areas
        .iter()
        .find(|a| name_of(a) == "Alby")
        .unwrap()
        .geometry()
        .into_owned();
    let rest = geo::Geometry::MultiPolygon(geo::MultiPolygon(
        areas
            .iter()
            .filter(|a| name_of(a) != "Alby")
            .flat_map(|a| match &*a.geometry() {
                geo::Geometry::Polygon(p) => vec![p.clone()],
                geo::Geometry::MultiPolygon(m) => m.0.clone(),
                _ => vec![],
            })
            .collect(),
    ));
    let cats = ["vandalism", "car_fire", "disorder_gathering"];
    let w = |k: &str, e: &str| f[k][e].as_str().unwrap().to_owned();
    let (bf, bt, af, at) = (
        w("before", "from"),
        w("before", "to"),
        w("after", "from"),
        w("after", "to"),
    );
    assert_eq!(
        f["counts"]["before"],
        brute_count(&app, &alby, &cats, &bf, &bt),
        "{url}: {f}"
    );
    assert_eq!(
        f["counts"]["after"],
        brute_count(&app, &alby, &cats, &af, &at),
        "{url}: {f}"
    );
    assert_eq!(
        f["counts"]["comparisonBefore"],
        brute_count(&app, &rest, &cats, &bf, &bt)
    );
    assert_eq!(
        f["counts"]["comparisonAfter"],
        brute_count(&app, &rest, &cats, &af, &at)
    );
    assert!(f["verdictText"].as_str().unwrap().ends_with('.'), "{f}");
    // On PostGIS, the database counts the same thing with ST_Intersects.
    if url.starts_with("postgres") {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let day = |s: &str| {
            time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap()
                .midnight()
                .assume_utc()
        };
        for (from, to, key) in [(&bf, &bt, "before"), (&af, &at, "after")] {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM features i JOIN features a ON ST_Intersects(i.geom, a.geom) \
                 WHERE i.layer = 'incidents' AND i.deleted_at IS NULL AND a.layer = 'areas' \
                 AND a.deleted_at IS NULL AND a.properties->>'name' = 'Alby' \
                 AND i.category = ANY($1) AND i.time_start >= $2 AND i.time_start < $3",
            )
            .bind(
                cats.iter()
                    .map(|c| (*c).to_owned())
                    .collect::<Vec<String>>(),
            )
            .bind(day(from))
            .bind(day(to) + time::Duration::days(1))
            .fetch_one(&mut c)
            .await
            .unwrap();
            assert_eq!(f["counts"][key], n, "{url}: PostGIS counts {n} {key}: {f}");
        }
    }
    // Roles that do not count incidents exactly get no follow-up.
    for role in [
        "social_services",
        "night_walker",
        "meeting_viewer",
        "field_worker",
    ] {
        let c = client_with_token(
            &token_for(&app.service, &format!("f-{role}"), role, "Botkyrka kommun").await,
        );
        let r = c
            .get(app.url(&format!("/collections/measures/items/{id}/follow-up")))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        // 404 where the measure itself is out of sight (night walkers: an internal measure).
        assert!(status == 403 || status == 404, "{url} {role}: {status}");
        assert_problem(r, status).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_measures_follow_up_counts_what_a_scan_counts_on_sqlite() {
    let db = fresh_sqlite();
    follow_up_check(&db.url).await;
}

#[tokio::test]
async fn a_measures_follow_up_counts_what_a_scan_counts_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    follow_up_check(&fresh_pg_url(&admin).await).await;
}
