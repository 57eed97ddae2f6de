//! `lagesbild seed`: the demo picture, the district outlines, or synthetic incidents.

use std::process::ExitCode;

use anyhow::{Context, bail};
use time::OffsetDateTime;

use super::output::progress_bar;
use crate::config::Settings;
use crate::startup::{open_store, seed_demo_if_empty};

/// Seeds the store.
///
/// # Errors
/// A bad date, a store that is not empty where it must be, store failures.
pub async fn run(
    settings: &Settings,
    demo: bool,
    as_of: Option<String>,
    synthetic_incidents: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let as_of = match as_of {
        Some(d) => time::Date::parse(
            &d,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .with_context(|| format!("--as-of '{d}' is not a date (YYYY-MM-DD)"))?
        .midnight()
        .assume_utc(),
        None => OffsetDateTime::now_utc(),
    };
    let store = open_store(settings).await?;
    if demo {
        let n = seed_demo_if_empty(&store, as_of).await?;
        if n == 0 {
            bail!(
                "the database already holds features; the demo picture is only seeded into an empty database"
            );
        }
        eprintln!("seeded the demo picture: {n} features");
    } else if let Some(n) = synthetic_incidents {
        let features =
            crate::demo::synthetic_incidents(crate::demo::DEMO_SEED ^ n as u64, as_of, n);
        let bar = progress_bar(n as u64, "inserting");
        let tick = |done: u64| bar.set_position(done);
        store.insert(&features, &tick).await?;
        bar.finish_and_clear();
        eprintln!("added {n} synthetic incidents");
    } else {
        if store.count(crate::domain::Layer::Areas).await? > 0 {
            bail!(
                "the areas layer is not empty; import replacements with 'lagesbild import FILE --layer areas'"
            );
        }
        let areas = crate::demo::areas(as_of);
        store.insert(&areas, &|_| {}).await?;
        eprintln!("loaded {} approximate district outlines", areas.len());
    }
    // Closed, so SQLite checkpoints and removes its write-ahead log (else as large as the seed).
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
