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
