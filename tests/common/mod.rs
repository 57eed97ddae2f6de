//! Shared test helpers: isolated databases and a server on a random port.
#![allow(dead_code)]

pub mod proxy;

use lagesbild::config::Settings;
use lagesbild::startup::App;
use sqlx::Connection;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The PostgreSQL server the PostGIS tests use (`TEST_DATABASE_URL`, a maintenance database URL,
/// set by `scripts/test`). Outside CI, `None` skips those tests with a note; under CI a missing
/// server is a failure, never a silent skip.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") => {
            panic!(
                "TEST_DATABASE_URL is not set under CI: PostGIS tests must run (scripts/test starts a cluster)"
            )
        }
        _ => {
            eprintln!(
                "TEST_DATABASE_URL is not set: skipping a PostGIS test (run scripts/test to include them)"
            );
            None
        }
    }
}

/// A new, empty PostGIS database on the test server; returns its URL.
pub async fn fresh_pg_url(admin: &str) -> String {
    let name = format!("lagesbild_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let (base, _) = admin
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL names a database");
    format!("{base}/{name}")
}

/// A temporary directory holding an SQLite file; keep the guard alive for the test.
pub struct SqliteDb {
    pub dir: tempfile::TempDir,
    pub url: String,
}

pub fn fresh_sqlite() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lagesbild.db").display());
    SqliteDb { dir, url }
}

/// A running server on 127.0.0.1 with a random port. `client` is signed in as an administrator
/// (API token); `anonymous` is not signed in at all.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub anonymous: reqwest::Client,
    pub admin_token: String,
    pub clock: lagesbild::service::clock::Clock,
    pub service: std::sync::Arc<lagesbild::service::Service>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

pub fn settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_owned(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        web_dir: None,
        ..Settings::default()
    }
}

impl TestApp {
    pub async fn spawn(database_url: &str, demo: bool) -> Self {
        Self::spawn_with(settings(database_url), demo).await
    }

    pub async fn spawn_with(settings: Settings, demo: bool) -> Self {
        Self::spawn_with_clock(settings, demo, lagesbild::service::clock::Clock::system()).await
    }

    pub async fn spawn_with_clock(
        settings: Settings,
        demo: bool,
        clock: lagesbild::service::clock::Clock,
    ) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            lagesbild::telemetry::init("debug");
        }
        let app = App::build_with(settings, demo, clock.clone())
            .await
            .expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let service = app.service();
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(async move {
            app.run_until_stopped(async move {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        let admin_token = token_for(&service, "test-admin", "admin", "Polisen").await;
        Self {
            base,
            client: client_with_token(&admin_token),
            anonymous: reqwest::Client::new(),
            admin_token,
            clock,
            service,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server and waits until it has closed the store.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task ends");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/geo+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }
}

/// Makes (or reuses) an account with `role` and `organisation`, and an API token for it.
pub async fn token_for(
    service: &lagesbild::service::Service,
    name: &str,
    role: &str,
    organisation: &str,
) -> String {
    let admin = lagesbild::startup::local_viewer(service).expect("an admin role");
    if service.store().user(name).await.expect("store").is_none() {
        service
            .add_user(
                lagesbild::service::accounts::NewUser {
                    name: name.to_owned(),
                    display_name: name.to_owned(),
                    organisation: organisation.to_owned(),
                    role: role.to_owned(),
                    password: format!("{name}-lösenord-123"),
                },
                &admin,
            )
            .await
            .expect("add test account");
    }
    let (_, token) = service
        .create_token(name, "test", None, &admin)
        .await
        .expect("token");
    token
}

/// The password `token_for` gives an account.
pub fn password_of(name: &str) -> String {
    format!("{name}-lösenord-123")
}

/// A client sending `Authorization: Bearer <token>` on every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A valid incident feature at `lon,lat`.
pub fn incident(lon: f64, lat: f64, category: &str, occurred_at: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": category, "occurred_at": occurred_at, "severity": 2,
            "organisation": "Polisen", "description": "Test"}
    })
}

/// Asserts an RFC 9457 problem response with `status`, returning its body.
pub async fn assert_problem(r: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(ct, "application/problem+json", "content type");
    let body: serde_json::Value = r.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:lagesbild:problem:")),
        "{body}"
    );
    body
}

/// The pointers named in a problem's `errors`.
pub fn pointers(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"].as_array().map_or_else(Vec::new, |a| {
        a.iter()
            .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
            .collect()
    })
}

/// Sends `body` as GeoJSON with `req` (a POST, PUT or PATCH built by any client).
pub async fn send_geojson(
    req: reqwest::RequestBuilder,
    body: &serde_json::Value,
) -> reqwest::Response {
    req.header("content-type", "application/geo+json")
        .body(body.to_string())
        .send()
        .await
        .expect("request")
}

/// Sends a JSON Merge Patch with `If-Match: "<version>"`.
pub async fn send_patch(
    req: reqwest::RequestBuilder,
    version: i64,
    patch: &serde_json::Value,
) -> reqwest::Response {
    req.header("content-type", "application/merge-patch+json")
        .header("if-match", format!("\"{version}\""))
        .body(patch.to_string())
        .send()
        .await
        .expect("request")
}

/// GETs `url` with `client` and reads the JSON body.
/// GET `url` (with `accept`, if given): status, content type and body text.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    accept: Option<&str>,
) -> (u16, String, String) {
    let mut req = client.get(url);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.expect("body"))
}

/// GET `url` and read the JSON body.
pub async fn get_value(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client
        .get(url)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json body")
}

/// Every `event:`/`data:` pair a live event stream sends until it is quiet for `quiet`.
#[allow(dead_code)] // Not every test binary reads event streams.
pub async fn read_events(
    r: &mut reqwest::Response,
    quiet: std::time::Duration,
) -> Vec<(String, serde_json::Value)> {
    let mut buf = String::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(quiet, r.chunk()).await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
    buf.split("\n\n")
        .filter_map(|block| {
            let (mut kind, mut data) = (None, None);
            for line in block.lines() {
                if let Some(k) = line.strip_prefix("event: ") {
                    kind = Some(k.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).ok();
                }
            }
            Some((kind?, data?))
        })
        .collect()
}

/// Percent-encodes a query value (everything but unreserved characters).
#[allow(dead_code)] // Not every test binary builds queries with geometries.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Streams `batches` into `store` as a command-line import does (`BulkMode::Load`), then asks
/// it to commit.
pub async fn load_stream(
    store: &lagesbild::store::Store,
    batches: Vec<Vec<lagesbild::domain::Feature>>,
) -> Result<lagesbild::store::bulk::BulkOutcome, lagesbild::store::StoreError> {
    use lagesbild::store::bulk::{BulkMessage, BulkMode};
    let (tx, rx) = tokio::sync::mpsc::channel(batches.len() + 1);
    for features in batches {
        tx.send(BulkMessage::Batch {
            features,
            chosen: vec![],
        })
        .await
        .expect("the bulk insert listens");
    }
    tx.send(BulkMessage::Commit(None))
        .await
        .expect("the bulk insert listens");
    drop(tx);
    store.insert_stream(rx, BulkMode::Load, &|_| {}).await
}
