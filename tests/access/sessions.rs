//! Signing in: sessions and their cookie, CSRF, expiry, logout, throttling, tokens, disabling.

use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use super::common::{
    TestApp, assert_problem, client_with_token, fresh_sqlite, incident, password_of, settings,
    token_for,
};
use lagesbild::service::clock::Clock;

async fn app_with_clock() -> (super::common::SqliteDb, TestApp) {
    let db = fresh_sqlite();
    let app = TestApp::spawn_with_clock(
        settings(&db.url),
        false,
        Clock::manual(datetime!(2026-11-23 09:00 UTC)),
    )
    .await;
    (db, app)
}

async fn login(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.anonymous
        .post(app.url("/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

fn session_cookie(r: &reqwest::Response) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

async fn with_cookie(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.anonymous
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_session_cookie_is_httponly_strict_and_writes_need_the_csrf_token() {
    let (_db, app) = app_with_clock().await;
    token_for(&app.service, "anna", "police", "Polisen").await;
    let r = login(&app, "anna", &password_of("anna")).await;
    assert_eq!(r.status(), 200);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in [
        "lagesbild_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http: {set}");
    let cookie = session_cookie(&r);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["role"], "police");
    let csrf = me["csrfToken"].as_str().unwrap().to_owned();

    // Reads work with the cookie alone.
    assert_eq!(
        with_cookie(&app, &cookie, "/collections/incidents/items")
            .await
            .status(),
        200
    );
    let session: Value = with_cookie(&app, &cookie, "/auth/session")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["csrfToken"], csrf.as_str());

    // A write without the CSRF token is refused and nothing is stored.
    let body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
    let post = |token: Option<&str>| {
        let mut req = app
            .anonymous
            .post(app.url("/collections/incidents/items"))
            .header("cookie", &cookie)
            .header("content-type", "application/geo+json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    let p = assert_problem(post(None).await.unwrap(), 403).await;
    assert!(
        p["detail"].as_str().unwrap().contains("x-csrf-token"),
        "{p}"
    );
    assert_problem(post(Some("wrong")).await.unwrap(), 403).await;
    assert_eq!(
        app.service
            .unrestricted()
            .len(lagesbild::domain::Layer::Incidents),
        0
    );
    assert_eq!(post(Some(&csrf)).await.unwrap().status(), 201);

    // Behind TLS the cookie is Secure.
    app.stop().await;
    let db = fresh_sqlite();
    let mut s = settings(&db.url);
    s.public_url = Some("https://lagesbild.example.se".into());
    let app = TestApp::spawn_with(s, false).await;
    token_for(&app.service, "anna", "police", "Polisen").await;
    let r = login(&app, "anna", &password_of("anna")).await;
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_at_expiry_logout_and_when_the_account_is_disabled() {
    let (_db, app) = app_with_clock().await;
    token_for(&app.service, "anna", "police", "Polisen").await;
    let r = login(&app, "anna", &password_of("anna")).await;
    let cookie = session_cookie(&r);
    let csrf = r.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(Duration::hours(11));
    assert_eq!(
        with_cookie(&app, &cookie, "/collections").await.status(),
        200
    );
    app.clock.advance(Duration::hours(2));
    let p = assert_problem(with_cookie(&app, &cookie, "/collections").await, 401).await;
    assert!(
        p["detail"].as_str().unwrap().contains("sign in again"),
        "{p}"
    );

    // Logout ends the session at once.
    let r = login(&app, "anna", &password_of("anna")).await;
    let cookie = session_cookie(&r);
    let csrf2 = r.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(csrf, csrf2, "every session has its own CSRF token");
    let out = app
        .anonymous
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf2)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_problem(with_cookie(&app, &cookie, "/collections").await, 401).await;

    // Disabled while signed in: the next request is refused, by cookie and by token alike.
    let token = token_for(&app.service, "anna", "police", "Polisen").await;
    let cookie = session_cookie(&login(&app, "anna", &password_of("anna")).await);
    let admin = lagesbild::startup::local_viewer(&app.service).unwrap();
    app.service
        .set_user_disabled("anna", true, &admin)
        .await
        .unwrap();
    assert_problem(with_cookie(&app, &cookie, "/collections").await, 401).await;
    let r = client_with_token(&token)
        .get(app.url("/collections"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("disabled"), "{p}");
    let p = assert_problem(login(&app, "anna", &password_of("anna")).await, 401).await;
    assert!(p["detail"].as_str().unwrap().contains("disabled"), "{p}");
    app.stop().await;
}

#[tokio::test]
async fn tampered_cookies_wrong_passwords_and_missing_credentials_get_401() {
    let (_db, app) = app_with_clock().await;
    token_for(&app.service, "anna", "police", "Polisen").await;
    let cookie = session_cookie(&login(&app, "anna", &password_of("anna")).await);
    // Flip one character of the session value.
    let mut tampered = cookie.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = with_cookie(&app, &tampered, "/collections/incidents/items").await;
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer realm=\"lagesbild\""
    );
    assert_problem(r, 401).await;
    assert_problem(
        app.anonymous
            .get(app.url("/collections"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    assert_problem(
        app.anonymous
            .get(app.url("/collections/incidents/items"))
            .header("authorization", "Basic YW5uYTp4")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let p = assert_problem(login(&app, "anna", "fel lösenord här").await, 401).await;
    let q = assert_problem(login(&app, "ingen-alls", "fel lösenord här").await, 401).await;
    assert_eq!(
        p["detail"], q["detail"],
        "an unknown name and a wrong password look alike"
    );
    assert_problem(
        app.anonymous
            .post(app.url("/auth/login"))
            .json(&json!({"username": "anna"}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    // Every refusal above is in the audit log, with the address and what was asked.
    let refused = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("denied".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(refused.len() >= 3, "{refused:?}");
    assert!(refused.iter().all(|r| {
        r.outcome == "unauthenticated"
            && r.address.as_deref() == Some("127.0.0.1")
            && r.detail
                .as_deref()
                .is_some_and(|d| d.contains("/collections"))
    }));
    // The public resources stay public.
    for path in ["/", "/conformance", "/api", "/health"] {
        assert_eq!(
            app.anonymous
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{path}"
        );
    }
    let health: Value = app
        .anonymous
        .get(app.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        health.get("features").is_none(),
        "health tells nothing about the data"
    );
    app.stop().await;
}

#[tokio::test]
async fn five_failed_logins_slow_the_account_and_the_source_down() {
    let (_db, app) = app_with_clock().await;
    token_for(&app.service, "anna", "police", "Polisen").await;
    for _ in 0..5 {
        assert_problem(login(&app, "anna", "fel lösenord här").await, 401).await;
    }
    // Now even the right password waits.
    let r = login(&app, "anna", &password_of("anna")).await;
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let p = assert_problem(r, 429).await;
    assert!(p["detail"].as_str().unwrap().contains("try again"), "{p}");
    // Another account from the same address is slowed down too.
    token_for(&app.service, "bertil", "police", "Polisen").await;
    assert_eq!(
        login(&app, "bertil", &password_of("bertil")).await.status(),
        429
    );
    // After the wait, the right password works and resets the count.
    app.clock.advance(Duration::seconds(31));
    assert_eq!(
        login(&app, "anna", &password_of("anna")).await.status(),
        200
    );
    let throttled = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("login".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        throttled
            .iter()
            .any(|r| r.outcome == "throttled" && r.actor == "anna")
    );
    assert_eq!(
        throttled.iter().filter(|r| r.outcome == "failed").count(),
        5
    );
    app.stop().await;
}

#[tokio::test]
async fn revoked_and_expired_tokens_stop_working() {
    let (_db, app) = app_with_clock().await;
    token_for(&app.service, "integration", "police", "Polisen").await;
    let admin = lagesbild::startup::local_viewer(&app.service).unwrap();
    let (id, token) = app
        .service
        .create_token(
            "integration",
            "RAKEL-koppling",
            Some(Duration::days(1)),
            &admin,
        )
        .await
        .unwrap();
    assert!(token.starts_with("lgb_"));
    let client = client_with_token(&token);
    assert_eq!(
        client
            .get(app.url("/collections"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.clock.advance(Duration::days(2));
    assert_problem(
        client.get(app.url("/collections")).send().await.unwrap(),
        401,
    )
    .await;

    let (id2, token2) = app
        .service
        .create_token("integration", "export", None, &admin)
        .await
        .unwrap();
    assert_ne!(id, id2);
    let client = client_with_token(&token2);
    assert_eq!(
        client
            .get(app.url("/collections"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.service.revoke_token(id2, &admin).await.unwrap();
    let p = assert_problem(
        client.get(app.url("/collections")).send().await.unwrap(),
        401,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    // Tokens are stored only as hashes.
    let stored = app.service.store().tokens().await.unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.token_hash != token2.as_bytes() && t.token_hash.len() == 32)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_demo_makes_one_account_per_role_only_when_bound_to_this_machine() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let users = app.service.store().users().await.unwrap();
    let roles: Vec<&str> = super::roles().ids().collect();
    for role in &roles {
        let u = users
            .iter()
            .find(|u| u.role == *role)
            .unwrap_or_else(|| panic!("no demo account for {role}"));
        assert!(u.password_hash.starts_with("$argon2id$"));
    }
    app.stop().await;
    // A second start makes no new accounts (and shows no passwords).
    let app = TestApp::spawn(&db.url, true).await;
    assert_eq!(
        app.service.store().users().await.unwrap().len(),
        users.len()
    );
    app.stop().await;

    let db = fresh_sqlite();
    let mut s = settings(&db.url);
    s.bind = "0.0.0.0:0".parse().unwrap();
    let app = TestApp::spawn_with(s, true).await;
    let users = app.service.store().users().await.unwrap();
    assert_eq!(users.len(), 1, "only the test's own admin: {users:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_login_page_is_public_swedish_and_self_contained() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let page = app
        .anonymous
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("lang=\"sv\"") && page.contains("id=\"login-form\""));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no other host"
    );
    for js in ["/web/js/strings.js", "/web/js/auth.js"] {
        let r = app.anonymous.get(app.url(js)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{js}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript")
        );
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{js} calls no other host"
        );
    }
    let strings = app
        .anonymous
        .get(app.url("/web/js/strings.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(strings.contains("Fel användarnamn eller lösenord"));
    app.stop().await;
}

/// The id of `user`'s token, read from the store.
async fn token_id(store: &lagesbild::store::Store, user: &str) -> uuid::Uuid {
    store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.user_name == user)
        .unwrap()
        .id
}

#[tokio::test]
async fn a_revocation_made_elsewhere_is_refused_within_the_recheck_interval() {
    let (db, app) = app_with_clock().await;
    let now = datetime!(2026-11-23 09:00 UTC);
    let recheck =
        lagesbild::service::DEFAULT_CREDENTIAL_RECHECK + std::time::Duration::from_millis(100);

    // A token revoked in the database by another instance.
    let token = token_for(&app.service, "anna", "police", "Polisen").await;
    let anna = client_with_token(&token);
    let get = |c: &reqwest::Client| c.get(app.url("/collections")).send();
    assert_eq!(get(&anna).await.unwrap().status(), 200);
    // Another instance's (or an operator's) hand on the same database: this server's memory
    // of the credential is not told.
    let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
    let id = token_id(&store, "anna").await;
    assert!(store.revoke_token(id, now).await.unwrap());
    tokio::time::sleep(recheck).await;
    let p = assert_problem(get(&anna).await.unwrap(), 401).await;
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    // Refused from then on, not trusted again.
    assert_eq!(get(&anna).await.unwrap().status(), 401);

    // A session ended elsewhere, and an account disabled elsewhere (token and session alike).
    token_for(&app.service, "bo", "police", "Polisen").await;
    let cookie = session_cookie(&login(&app, "bo", &password_of("bo")).await);
    assert_eq!(
        with_cookie(&app, &cookie, "/collections").await.status(),
        200
    );
    let secret = cookie.split_once('=').unwrap().1;
    let hash = lagesbild::service::accounts::secret_hash(secret);
    store.end_session(&hash, now).await.unwrap();
    tokio::time::sleep(recheck).await;
    assert_problem(with_cookie(&app, &cookie, "/collections").await, 401).await;

    let cilla = client_with_token(&token_for(&app.service, "cilla", "police", "Polisen").await);
    assert_eq!(get(&cilla).await.unwrap().status(), 200);
    assert!(store.set_user_disabled("cilla", true, now).await.unwrap());
    tokio::time::sleep(recheck).await;
    let p = assert_problem(get(&cilla).await.unwrap(), 401).await;
    assert!(p["detail"].as_str().unwrap().contains("disabled"), "{p}");
    app.stop().await;
}

#[tokio::test]
async fn with_no_recheck_interval_every_request_asks_the_database() {
    let db = fresh_sqlite();
    let app = TestApp::spawn_with(
        lagesbild::config::Settings {
            credential_recheck_ms: 0,
            ..settings(&db.url)
        },
        false,
    )
    .await;
    let token = token_for(&app.service, "anna", "police", "Polisen").await;
    let anna = client_with_token(&token);
    assert_eq!(
        anna.get(app.url("/collections"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
    let id = token_id(&store, "anna").await;
    assert!(
        store
            .revoke_token(id, time::OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    assert_problem(anna.get(app.url("/collections")).send().await.unwrap(), 401).await;
    app.stop().await;
}
