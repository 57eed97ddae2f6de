//! The map client in a real browser: Debian's Chromium driven by playwright-core
//! (`web/e2e/smoke.mjs`) against a server with the demo picture. Screenshots land in
//! `web/e2e/artifacts/`. Outside CI the test is skipped when Chromium or `web/node_modules` is
//! missing (`scripts/test` installs both); under CI it must run.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, fresh_sqlite, password_of, token_for};

fn browser_tools() -> Option<&'static str> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let chromium = Path::new("/usr/bin/chromium").exists();
    let playwright = web.join("node_modules/playwright-core").exists();
    let node = Command::new("node").arg("--version").output().is_ok();
    if chromium && playwright && node {
        return Some("node");
    }
    assert!(
        std::env::var("CI").is_err(),
        "browser tests must run under CI: chromium {chromium}, web/node_modules/playwright-core {playwright}, node {node} (scripts/test installs them)"
    );
    eprintln!(
        "skipping the browser test: chromium, node or web/node_modules is missing (run scripts/test)"
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_client_works_in_chromium_without_other_hosts() {
    let Some(node) = browser_tools() else { return };
    let db = fresh_sqlite();
    // With a basemap: the fictitious municipality's PMTiles (made by scripts/basemap-build).
    let mut settings = common::settings(&db.url);
    settings.basemap = Some(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basemap/provkarta.pmtiles"),
    );
    let app = TestApp::spawn_with(settings, true).await;
    token_for(&app.service, "e2e-polis", "police", "Polisen").await;
    token_for(
        &app.service,
        "e2e-samordnare",
        "security_coordinator",
        "Botkyrka kommun",
    )
    .await;
    token_for(&app.service, "e2e-falt", "field_worker", "Botkyrka kommun").await;
    token_for(
        &app.service,
        "e2e-vandrare",
        "night_walker",
        "Nattvandrarna i Botkyrka",
    )
    .await;
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(node)
            .arg(web.join("e2e/smoke.mjs"))
            .current_dir(&web)
            .env("BASE", base)
            .env("POLICE_USER", "e2e-polis")
            .env("POLICE_PASS", password_of("e2e-polis"))
            .env("COORD_USER", "e2e-samordnare")
            .env("COORD_PASS", password_of("e2e-samordnare"))
            .env("FIELD_USER", "e2e-falt")
            .env("FIELD_PASS", password_of("e2e-falt"))
            .env("WALKER_USER", "e2e-vandrare")
            .env("WALKER_PASS", password_of("e2e-vandrare"))
            .env("ARTIFACTS", web.join("e2e/artifacts"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    app.stop().await;
}

/// Accessibility: axe-core's WCAG 2.1 A and AA rules on every view (sign-in, map, panels,
/// popups, meeting mode and the coordinator's agenda on black), and the main tasks done with
/// the keyboard alone (`web/e2e/a11y.mjs`), over the demo with its own overview map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_client_passes_axe_core_and_works_by_keyboard_alone() {
    let Some(node) = browser_tools() else { return };
    let db = fresh_sqlite();
    let app = TestApp::spawn_with(common::settings(&db.url), true).await;
    token_for(&app.service, "a11y-polis", "police", "Polisen").await;
    token_for(
        &app.service,
        "a11y-samordnare",
        "security_coordinator",
        "Botkyrka kommun",
    )
    .await;
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(node)
            .arg(web.join("e2e/a11y.mjs"))
            .current_dir(&web)
            .env("BASE", base)
            .env("POLICE_USER", "a11y-polis")
            .env("POLICE_PASS", password_of("a11y-polis"))
            .env("COORD_USER", "a11y-samordnare")
            .env("COORD_PASS", password_of("a11y-samordnare"))
            .env("ARTIFACTS", web.join("e2e/artifacts"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "accessibility test failed:\n{stdout}\n{stderr}"
    );
    app.stop().await;
}
