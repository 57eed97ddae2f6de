//! Items 9 and 10: anonymous callers cannot grow the audit log or the server log at will, hold
//! connections open, or write terminal escapes into what an administrator reads.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common::{TestApp, assert_problem, settings};
use super::{audit_rows, backends};

async fn audit_len(app: &TestApp) -> usize {
    app.service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn oversized_names_and_paths_are_refused_before_lookup_or_audit() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let before = audit_len(&app).await;
        // A 1.9 MB account name, and one with terminal escapes.
        for name in [
            "x".repeat(1_900_000),
            "anna\u{1b}[2J\u{1b}[1;1Hforged".to_owned(),
        ] {
            let r = app
                .anonymous
                .post(app.url("/auth/login"))
                .header("content-type", "application/json")
                .body(json!({"username": name, "password": "whatever-at-all"}).to_string())
                .send()
                .await
                .unwrap();
            // 400 for the escapes; the huge body may also meet the body limit first (413).
            let status = r.status().as_u16();
            assert!(status == 400 || status == 413, "{url}: {status}");
            assert_problem(r, status).await;
        }
        // A 60 kB path, unauthenticated: 414 problem+json.
        let long = format!("/collections/{}", "a".repeat(60_000));
        assert_problem(app.anonymous.get(app.url(&long)).send().await.unwrap(), 414).await;
        // Headers over the limit: 431 problem+json.
        let r = app
            .anonymous
            .get(app.url("/collections"))
            .header("x-filler", "b".repeat(20_000))
            .send()
            .await
            .unwrap();
        assert_problem(r, 431).await;
        assert_eq!(audit_len(&app).await, before, "{url}: nothing recorded");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_flood_of_anonymous_refusals_is_recorded_as_a_few_rows() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let before = audit_rows(&app, "denied").await.len();
        for _ in 0..60 {
            let r = app
                .anonymous
                .get(app.url("/collections"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        }
        let rows = audit_rows(&app, "denied").await.len() - before;
        assert!(
            (1..=lagesbild::service::audit::ANONYMOUS_REFUSALS_PER_MINUTE as usize).contains(&rows),
            "{url}: {rows} rows for 60 refusals"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn audit_fields_are_capped_and_printable() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let row = lagesbild::store::audit::AuditRow::new(
            app.service.clock().now(),
            lagesbild::domain::audit::AuditAction::Login,
            lagesbild::domain::audit::AuditOutcome::Failed,
        )
        .actor(&format!("evil\u{1b}]0;pwned\u{7}{}", "y".repeat(10_000)))
        .detail("d".repeat(100_000));
        app.service.audit_anonymous(row).await.unwrap();
        let stored = &audit_rows(&app, "login").await[0];
        assert!(!stored.actor.chars().any(char::is_control), "{url}");
        assert!(
            stored.actor.starts_with("evil\\u{1b}]0;pwned\\u{7}"),
            "{url}"
        );
        assert!(stored.actor.chars().count() <= 65);
        assert!(stored.detail.as_ref().unwrap().chars().count() <= 1001);
        app.stop().await;
    }
}

#[tokio::test]
async fn half_open_connections_are_closed_after_the_header_read_timeout() {
    let (urls, _db) = backends().await;
    let url = &urls[0];
    let mut s = settings(url);
    s.header_read_timeout_secs = 1;
    let app = TestApp::spawn_with(s, false).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..100 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /collections HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(c);
    }
    // The server still answers while they hang.
    let r = app.anonymous.get(app.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Every one of them is closed by the server (generous bound: these machines are shared).
    for mut c in held {
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(30), c.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(_) | Err(_))),
            "a half-open connection was still held after 30 s"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn one_account_cannot_hold_every_connection_with_event_streams() {
    let (urls, _db) = backends().await;
    let app = TestApp::spawn(&urls[0], false).await;
    let walker = super::as_role(&app, "night_walker").await;
    let mut open = Vec::new();
    for _ in 0..lagesbild::api::events::MAX_STREAMS_PER_ACCOUNT {
        let r = walker.get(app.url("/events")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let p = assert_problem(walker.get(app.url("/events")).send().await.unwrap(), 429).await;
    assert!(p["detail"].as_str().unwrap().contains("per account"), "{p}");
    // Another account is not affected; closing one stream frees a place.
    let other = super::as_role(&app, "field_worker").await;
    assert_eq!(
        other.get(app.url("/events")).send().await.unwrap().status(),
        200
    );
    drop(open.pop());
    let mut freed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = walker.get(app.url("/events")).send().await.unwrap();
        if r.status() == 200 {
            freed = true;
            break;
        }
    }
    assert!(freed, "a closed stream frees its place");
    // And the server stops listening for it: no subscriber outlives its connection.
    drop(open);
    let mut ended = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The field worker's stream and the last walker stream were dropped with their
        // responses above (never bound): every subscriber ends once its client has gone.
        if app.service.subscribers() == 0 {
            ended = true;
            break;
        }
    }
    assert!(ended, "{} subscribers left", app.service.subscribers());
    app.stop().await;
}
