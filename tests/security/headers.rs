//! Item 14: caching, framing and content-type headers; cross-origin cookie writes; the bearer
//! scheme in any case; incident times in year 9999.

use serde_json::json;

use super::common::{TestApp, assert_problem, incident, password_of, send_geojson, token_for};
use super::{backends, create};

#[tokio::test]
async fn data_and_pages_are_not_stored_or_framed() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, true).await;
        for path in [
            "/",
            "/?f=html",
            "/collections",
            "/collections/incidents/items",
            "/nowhere",
        ] {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let h = r.headers();
            assert_eq!(h["cache-control"], "no-store", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        }
        let r = app
            .anonymous
            .get(app.url("/web/js/main.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["cache-control"], "no-cache");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        for scheme in ["bearer", "BEARER", "Bearer"] {
            let r = app
                .anonymous
                .get(app.url("/collections"))
                .header("authorization", format!("{scheme} {}", app.admin_token))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{scheme}");
        }
        let r = app
            .anonymous
            .get(app.url("/collections"))
            .header("authorization", format!("Basic {}", app.admin_token))
            .send()
            .await
            .unwrap();
        assert_problem(r, 401).await;
        app.stop().await;
    }
}

#[tokio::test]
async fn cookie_writes_from_another_origin_are_refused_and_change_nothing() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        token_for(&app.service, "olle", "police", "Polisen").await;
        let browser = reqwest::Client::new();
        let r = browser
            .post(app.url("/auth/login"))
            .header("content-type", "application/json")
            .body(json!({"username": "olle", "password": password_of("olle")}).to_string())
            .send()
            .await
            .unwrap();
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set.split(';').next().unwrap().to_owned();
        let login: serde_json::Value = r.json().await.unwrap();
        let csrf = login["csrfToken"].as_str().unwrap().to_owned();
        let body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
        let post = |origin: Option<&str>, site: Option<&str>| {
            let mut req = browser
                .post(app.url("/collections/incidents/items"))
                .header("x-csrf-token", &csrf)
                .header("cookie", &cookie);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            if let Some(s) = site {
                req = req.header("sec-fetch-site", s);
            }
            req
        };
        assert_problem(
            send_geojson(post(Some("http://evil.example"), None), &body).await,
            403,
        )
        .await;
        assert_problem(
            send_geojson(post(None, Some("cross-site")), &body).await,
            403,
        )
        .await;
        assert_eq!(
            app.service
                .unrestricted()
                .len(lagesbild::domain::Layer::Incidents),
            0
        );
        let own = app.base.clone();
        let r = send_geojson(post(Some(&own), Some("same-origin")), &body).await;
        assert_eq!(r.status(), 201);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_incident_in_year_9999_is_refused() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        for when in ["9999-01-01T00:00:00Z", "1850-01-01T00:00:00Z"] {
            let p = assert_problem(
                send_geojson(
                    app.client.post(app.url("/collections/incidents/items")),
                    &incident(17.84, 59.24, "vandalism", when),
                )
                .await,
                422,
            )
            .await;
            assert_eq!(p["errors"][0]["pointer"], "/properties/occurred_at", "{p}");
        }
        create(
            &app,
            &app.client,
            "incidents",
            &incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z"),
        )
        .await;
        app.stop().await;
    }
}

#[tokio::test]
async fn a_page_elsewhere_cannot_sign_a_browser_in() {
    let (urls, _db) = backends().await;
    let app = TestApp::spawn(&urls[0], false).await;
    token_for(&app.service, "lisa", "police", "Polisen").await;
    let body = json!({"username": "lisa", "password": password_of("lisa")}).to_string();
    let r = app
        .anonymous
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 403).await;
    assert!(r_set_cookie_absent(&p));
    let r = app
        .anonymous
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .header("origin", app.base.clone())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

/// A refused sign-in is a problem body, nothing more.
fn r_set_cookie_absent(p: &serde_json::Value) -> bool {
    p["detail"].as_str().is_some_and(|d| d.contains("own page"))
}
