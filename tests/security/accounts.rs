//! Item 7: the login answer never says whether a name exists, and nobody can keep an account
//! locked: an address that fails too often waits; a name that fails too often is slowed down,
//! and the right password still signs in.

use serde_json::json;

use super::backends;
use super::common::{TestApp, password_of, settings, token_for};

async fn login(app: &TestApp, from: &str, user: &str, password: &str) -> (u16, serde_json::Value) {
    let r = app
        .anonymous
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", from)
        .body(json!({"username": user, "password": password}).to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let mut body: serde_json::Value = r.json().await.unwrap_or_default();
    // The wait left changes with the second the request lands in.
    if let Some(o) = body.as_object_mut() {
        o.remove("detail");
    }
    (status, body)
}

#[tokio::test]
async fn existing_and_unknown_names_answer_alike_and_the_right_password_is_never_locked_out() {
    let (urls, _db) = backends().await;
    for url in urls {
        let mut s = settings(&url);
        s.trust_proxy = true;
        let app = TestApp::spawn_with(s, false).await;
        token_for(&app.service, "anna", "police", "Polisen").await;
        // Six wrong passwords for anna from one address, six for a name nobody has from
        // another: every answer pairs up, the throttled ones too.
        for i in 0..6 {
            let known = login(&app, "10.0.0.1", "anna", "fel lösenord här").await;
            let unknown = login(&app, "10.0.0.2", "ingen-alls", "fel lösenord här").await;
            assert_eq!(known, unknown, "{url}: attempt {i}");
            assert_eq!(known.0, if i < 5 { 401 } else { 429 }, "{url}: attempt {i}");
        }
        // From fresh addresses, a wrong password: the same answer again (slowed, not refused).
        assert_eq!(
            login(&app, "10.0.0.3", "anna", "fel igen här").await,
            login(&app, "10.0.0.4", "ingen-alls", "fel igen här").await
        );
        // The attacker cannot keep anna out: her right password from her own address works.
        let (status, _) = login(&app, "10.0.0.9", "anna", &password_of("anna")).await;
        assert_eq!(status, 200, "{url}");
        // The attacking address still waits, whatever name it tries.
        assert_eq!(
            login(&app, "10.0.0.1", "anna", &password_of("anna"))
                .await
                .0,
            429
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_forged_forwarded_for_entry_does_not_choose_the_address() {
    // Behind a trusted proxy the address is the entry the proxy appended (the last), never one
    // the client wrote itself: rotating a forged first entry does not escape the throttle.
    let (urls, _db) = backends().await;
    for url in urls {
        let mut s = settings(&url);
        s.trust_proxy = true;
        let app = TestApp::spawn_with(s, false).await;
        for i in 0..6 {
            let forged = format!("203.0.113.{i}, 10.9.9.9");
            let r = app
                .anonymous
                .post(app.url("/auth/login"))
                .header("content-type", "application/json")
                .header("x-forwarded-for", forged)
                .body(
                    json!({"username": "vem-som-helst", "password": "fel lösenord här"})
                        .to_string(),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                if i < 5 { 401 } else { 429 },
                "{url}: attempt {i}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn attempts_sent_at_once_or_between_own_logins_still_count() {
    let (urls, _db) = backends().await;
    for url in urls {
        let mut s = settings(&url);
        s.trust_proxy = true;
        let app = TestApp::spawn_with(s, false).await;
        token_for(&app.service, "offer", "police", "Polisen").await;
        token_for(&app.service, "insider", "night_walker", "Nattvandrarna").await;
        // 30 wrong passwords at once from one address: no more than 5 are even tried.
        let attempts = (0..30).map(|_| login(&app, "10.1.1.1", "offer", "gissning-123456"));
        let answers = futures_util::future::join_all(attempts).await;
        let tried = answers.iter().filter(|(s, _)| *s == 401).count();
        assert!(tried <= 5, "{url}: {tried} guesses were tried");
        assert!(answers.iter().all(|(s, _)| *s == 401 || *s == 429), "{url}");
        // An insider alternating guesses with its own successful logins is not reset.
        for round in 0..3 {
            for _ in 0..2 {
                login(&app, "10.2.2.2", "offer", "gissning-654321").await;
            }
            let (status, _) = login(&app, "10.2.2.2", "insider", &password_of("insider")).await;
            if round == 2 {
                assert_eq!(status, 429, "{url}: the address waits after 5 failures");
            }
        }
        app.stop().await;
    }
}
