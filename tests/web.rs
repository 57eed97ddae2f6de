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

/// Runs `web/e2e/{script}` with `node` against `app`: `BASE`, `ARTIFACTS`, and for each
/// `(VAR, user, role, organisation)` an account made here, passed as `VAR_USER`/`VAR_PASS`.
/// Fails the test with the script's output.
async fn run_script(
    node: &'static str,
    app: &TestApp,
    script: &'static str,
    users: &[(&'static str, &'static str, &str, &str)],
) {
    let mut env = vec![
        ("BASE".to_owned(), app.base.clone()),
        (
            "ARTIFACTS".to_owned(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("web/e2e/artifacts")
                .display()
                .to_string(),
        ),
    ];
    for (var, user, role, organisation) in users {
        token_for(&app.service, user, role, organisation).await;
        env.push((format!("{var}_USER"), (*user).to_owned()));
        env.push((format!("{var}_PASS"), password_of(user)));
    }
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(node)
            .arg(web.join("e2e").join(script))
            .current_dir(&web)
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    #[allow(clippy::print_stdout)] // the script's lines, shown with --nocapture
    {
        println!("{stdout}");
    }
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
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
    run_script(
        node,
        &app,
        "smoke.mjs",
        &[
            ("POLICE", "e2e-polis", "police", "Polisen"),
            (
                "COORD",
                "e2e-samordnare",
                "security_coordinator",
                "Botkyrka kommun",
            ),
            ("FIELD", "e2e-falt", "field_worker", "Botkyrka kommun"),
            (
                "WALKER",
                "e2e-vandrare",
                "night_walker",
                "Nattvandrarna i Botkyrka",
            ),
        ],
    )
    .await;
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
    run_script(
        node,
        &app,
        "a11y.mjs",
        &[
            ("POLICE", "a11y-polis", "police", "Polisen"),
            (
                "COORD",
                "a11y-samordnare",
                "security_coordinator",
                "Botkyrka kommun",
            ),
        ],
    )
    .await;
    app.stop().await;
}
