//! While PostGIS cannot be reached (issue 14): reads of the picture go on for callers the
//! database confirmed before; writes, and whatever must be recorded first, answer 503
//! problem+json with `Retry-After`; `/health` says `degraded`; and when the database is back,
//! what other writers did meanwhile reaches the picture. The network is cut by a TCP proxy
//! between the server and PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::proxy::{Proxy, upstream_of};
use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, incident, pg_admin_url, send_geojson,
    token_for,
};

/// The column of zoom `z`'s tile holding longitude `lon`.
fn tile_col(z: u32, lon: f64) -> u32 {
    let n = f64::from(1u32 << z);
    // In range for the test's positions.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    x
}

/// The row of zoom `z`'s tile holding latitude `lat`.
fn tile_row(z: u32, lat: f64) -> u32 {
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    y
}

async fn health(app: &TestApp) -> Value {
    app.anonymous
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_for_health(app: &TestApp, status: &str) {
    // The bound is only so a broken probe fails rather than hangs.
    let deadline = Instant::now() + Duration::from_secs(60);
    while health(app).await["status"] != status {
        assert!(Instant::now() < deadline, "/health never said {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(http: &reqwest::Client, app: &TestApp) -> reqwest::Response {
    http.get(app.url("/collections/incidents/items?limit=0"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn postgis_out_of_reach_reads_go_on_writes_answer_503_and_the_picture_catches_up() {
    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let proxy = Proxy::start(upstream_of(&url)).await;
    let app = TestApp::spawn(&proxy.url_for(&url), false).await;
    assert_eq!(health(&app).await["status"], "ok");
    assert_eq!(health(&app).await["database"], "reachable");

    // A municipal reader (no audited reads) confirmed before the outage; another account's
    // token the server has never seen.
    let reader = client_with_token(
        &token_for(&app.service, "fault-soc", "social_services", "Kommunen").await,
    );
    let stranger =
        client_with_token(&token_for(&app.service, "fault-new", "police", "Polisen").await);
    let writer =
        client_with_token(&token_for(&app.service, "fault-pol", "police", "Polisen").await);
    for lon in [17.83, 17.84] {
        let r = send_geojson(
            writer.post(app.url("/collections/incidents/items")),
            &incident(lon, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    // A restricted one, whose exact reads are audited.
    let mut secret = incident(17.87, 59.24, "shooting", "2026-11-01T23:00:00Z");
    secret["properties"]["classification"] = serde_json::json!("restricted");
    let r = send_geojson(
        writer.post(app.url("/collections/incidents/items")),
        &secret,
    )
    .await;
    assert_eq!(r.status(), 201);
    let secret_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before: Value = count(&reader, &app).await.json().await.unwrap();
    let before = before["numberMatched"].as_u64().unwrap();
    assert_eq!(
        before, 2,
        "the municipal reader does not see the restricted one"
    );

    // A token confirmed once, then revoked (by another instance, in the database): refused
    // once the recheck interval has passed, and not remembered for the outage.
    let revoked = client_with_token(
        &token_for(&app.service, "fault-rev", "social_services", "Kommunen").await,
    );
    assert_eq!(count(&revoked, &app).await.status(), 200);
    {
        use sqlx::Connection;
        let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE user_name = 'fault-rev'")
            .execute(&mut db)
            .await
            .unwrap();
        db.close().await.unwrap();
    }
    tokio::time::sleep(
        lagesbild::service::DEFAULT_CREDENTIAL_RECHECK + std::time::Duration::from_millis(100),
    )
    .await;
    assert_eq!(count(&revoked, &app).await.status(), 401);

    // A kept tile with the restricted incident, read twice by police: the first read's record
    // covers the second. During the outage even a covered re-read is refused.
    let tile_url = app.url(&format!(
        "/collections/incidents/tiles/WebMercatorQuad/14/{}/{}",
        tile_row(14, 59.24),
        tile_col(14, 17.87)
    ));
    for expected in ["miss", "hit"] {
        let r = writer.get(&tile_url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-lagesbild-tile-cache"], expected);
    }

    proxy.cut();
    wait_for_health(&app, "degraded").await;
    let p = assert_problem(count(&revoked, &app).await, 503).await;
    assert_eq!(p["type"], "urn:lagesbild:problem:database-unavailable");
    assert_eq!(health(&app).await["database"], "unreachable");

    // Reads of the picture go on.
    let r = count(&reader, &app).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["numberMatched"], before);
    // A read that must be audited before it is answered (the police see restricted
    // incidents exactly) cannot keep that promise: 503, never an answer without its record.
    let r = writer
        .get(app.url("/collections/incidents/items?limit=10"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 503).await;
    assert_eq!(p["type"], "urn:lagesbild:problem:database-unavailable");
    let p = assert_problem(writer.get(&tile_url).send().await.unwrap(), 503).await;
    assert_eq!(p["type"], "urn:lagesbild:problem:database-unavailable");
    // A write: 503 at once, with Retry-After, and nothing written.
    let r = send_geojson(
        writer.post(app.url("/collections/incidents/items")),
        &incident(17.85, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
    )
    .await;
    let retry = r.headers().get("retry-after").cloned();
    let p = assert_problem(r, 503).await;
    assert_eq!(p["type"], "urn:lagesbild:problem:database-unavailable");
    assert!(retry.is_some_and(|v| v.to_str().unwrap().parse::<u32>().unwrap() > 0));
    // A caller the database never confirmed cannot be recognised: 503, not 401, not a read.
    let p = assert_problem(count(&stranger, &app).await, 503).await;
    assert_eq!(p["type"], "urn:lagesbild:problem:database-unavailable");
    // An unknown token is no better off.
    let p = assert_problem(count(&client_with_token("not-a-token"), &app).await, 503).await;
    assert_eq!(p["status"], 503);

    // By id, a feature the reader may not see and one that does not exist answer alike,
    // for a read and for a write (nothing tells them apart, not even the outage).
    let mut answers = Vec::new();
    for id in [secret_id.clone(), uuid::Uuid::new_v4().to_string()] {
        let path = format!("/collections/incidents/items/{id}");
        let read = reader.get(app.url(&path)).send().await.unwrap().status();
        let write = reader
            .patch(app.url(&path))
            .header("content-type", "application/merge-patch+json")
            .header("if-match", "\"1\"")
            .body(r#"{"properties": {"severity": 1}}"#)
            .send()
            .await
            .unwrap()
            .status();
        answers.push((read, write));
    }
    assert_eq!(answers[0], answers[1], "hidden and unknown ids told apart");

    // Meanwhile another instance writes to the database directly.
    let other =
        lagesbild::service::Service::open(lagesbild::store::Store::connect(&url).await.unwrap())
            .await
            .unwrap();
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    let draft = lagesbild::domain::FeatureDraft::from_geojson(
        lagesbild::domain::Layer::Incidents,
        incident(17.86, 59.24, "car_fire", "2026-11-02T22:00:00Z"),
    )
    .unwrap();
    other.create_many(vec![draft], &ov, &|_| {}).await.unwrap();

    proxy.restore();
    wait_for_health(&app, "ok").await;
    // What was written meanwhile reaches the picture.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = count(&reader, &app).await.json().await.unwrap();
        if v["numberMatched"] == before + 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the write made during the outage never reached the picture: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Writes work again, and so does the stranger.
    let r = send_geojson(
        writer.post(app.url("/collections/incidents/items")),
        &incident(17.85, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
    )
    .await;
    assert_eq!(r.status(), 201);
    assert_eq!(count(&stranger, &app).await.status(), 200);
    other.store().close().await;
    app.stop().await;
}
