//! The adversarial suite (issue 9): one attacker per guarantee of `docs/SECURITY.md`, each run
//! against a real server on both back-ends (SQLite always; PostGIS when `TEST_DATABASE_URL` is
//! set, which `scripts/test` does and CI requires). Every test here failed on the code before
//! the guarantee it names was built.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod atomic_audit;
mod counts;
mod events;
mod extents;
mod geometry;
mod headers;
mod hidden;
mod ids;
mod limits;
mod pii;

use common::{fresh_pg_url, fresh_sqlite, pg_admin_url};

/// A database on each back-end: an SQLite file always, a fresh PostGIS database when a test
/// server is configured. Keep the returned guard alive while the test runs.
pub async fn backends() -> (Vec<String>, Option<common::SqliteDb>) {
    let db = fresh_sqlite();
    let mut urls = vec![db.url.clone()];
    if let Some(admin) = pg_admin_url() {
        urls.push(fresh_pg_url(&admin).await);
    }
    (urls, Some(db))
}

/// A client of a fresh account of `role` (organisation as the shipped roles expect).
pub async fn as_role(app: &common::TestApp, role: &str) -> reqwest::Client {
    let org = match role {
        "police" | "admin" => "Polisen",
        "night_walker" => "Nattvandrarna i Botkyrka",
        _ => "Botkyrka kommun",
    };
    let name = format!("s-{}", role.replace('_', "-"));
    common::client_with_token(&common::token_for(&app.service, &name, role, org).await)
}

/// POSTs `body` to a collection as `client` and returns the created feature (asserting 201).
pub async fn create(
    app: &common::TestApp,
    client: &reqwest::Client,
    layer: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let r = common::send_geojson(
        client.post(app.url(&format!("/collections/{layer}/items"))),
        body,
    )
    .await;
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

/// Audit records of `action`, newest first.
pub async fn audit_rows(
    app: &common::TestApp,
    action: &str,
) -> Vec<lagesbild::store::audit::AuditRow> {
    app.service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some(action.into()),
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
}
