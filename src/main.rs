//! The `lagesbild` command: parses the command line, sets up logging and hands over to the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use lagesbild::cli::{Cli, Command, FileFormat};
use lagesbild::config::{OsEnv, Settings};
use lagesbild::service::Service;
use lagesbild::service::import::{read_csv, read_geojson};
use lagesbild::startup::{App, open_store, seed_demo_if_empty};
use time::OffsetDateTime;

/// jemalloc: its size classes fit our many small records without per-allocation headers, and
/// its background thread gives freed memory back to the system (measured in docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::debug!("jemalloc background thread not started: {e}");
    }
    lagesbild::telemetry::init("info,sqlx=warn");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, leaving out causes already spelled out by the message before them.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(cli.config.as_deref(), &OsEnv)?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            let app = App::build(settings, demo).await?;
            app.run_until_stopped(shutdown_signal())
                .await
                .context("the server failed")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = open_store(&settings).await?;
            eprintln!("the {} database is up to date", store.kind());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            layer,
            crs,
            format,
            dry_run,
        } => {
            let format = format.unwrap_or_else(|| {
                let name = file.to_string_lossy().to_ascii_lowercase();
                if name.ends_with(".csv") {
                    FileFormat::Csv
                } else {
                    FileFormat::Geojson
                }
            });
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let input = std::io::BufReader::new(input);
            let report = match format {
                FileFormat::Geojson => read_geojson(layer, input, crs),
                FileFormat::Csv => read_csv(layer, input, crs),
            }
            .with_context(|| format!("cannot import {}", file.display()))?;
            if !report.rejected.is_empty() {
                let mut err = std::io::stderr().lock();
                for r in &report.rejected {
                    let _ = writeln!(err, "{}: {r}", file.display());
                }
                let _ = writeln!(
                    err,
                    "nothing imported: {} of {} rows rejected; fix them and import again",
                    report.rejected.len(),
                    report.rejected.len() + report.drafts.len()
                );
                return Ok(ExitCode::from(2));
            }
            if dry_run {
                eprintln!(
                    "{}: all {} rows are valid (dry run, nothing stored)",
                    file.display(),
                    report.drafts.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let store = open_store(&settings).await?;
            let service = Service::open(store).await?;
            let bar = progress_bar(report.drafts.len() as u64, "importing");
            let tick = |n: u64| bar.set_position(n);
            let n = service
                .create_many(report.drafts, "import", &tick)
                .await?
                .len();
            bar.finish_and_clear();
            eprintln!("{}: imported {n} features into '{layer}'", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { layer, output } => {
            let store = open_store(&settings).await?;
            let service = Service::open(store).await?;
            let n = match &output {
                Some(path) => {
                    // Write to a temporary file and rename, so a failed export leaves no half file.
                    let tmp = path.with_extension("partial");
                    let f = std::fs::File::create(&tmp)
                        .with_context(|| format!("cannot write {}", tmp.display()))?;
                    let n = service
                        .export_geojson(layer, std::io::BufWriter::new(f))
                        .await?;
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    service
                        .export_geojson(layer, std::io::BufWriter::new(std::io::stdout()))
                        .await?
                }
            };
            eprintln!("exported {n} features from '{layer}'");
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed {
            demo,
            as_of,
            synthetic_incidents,
        } => {
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
            let store = open_store(&settings).await?;
            if demo {
                let n = seed_demo_if_empty(&store, as_of).await?;
                if n == 0 {
                    bail!(
                        "the database already holds features; the demo picture is only seeded into an empty database"
                    );
                }
                eprintln!("seeded the demo picture: {n} features");
            } else if let Some(n) = synthetic_incidents {
                let features = lagesbild::demo::synthetic_incidents(
                    lagesbild::demo::DEMO_SEED ^ n as u64,
                    as_of,
                    n,
                );
                let bar = progress_bar(n as u64, "inserting");
                let tick = |done: u64| bar.set_position(done);
                store.insert(&features, &tick).await?;
                bar.finish_and_clear();
                eprintln!("added {n} synthetic incidents");
            } else {
                if store.count(lagesbild::domain::Layer::Areas).await? > 0 {
                    bail!(
                        "the areas layer is not empty; import replacements with 'lagesbild import FILE --layer areas'"
                    );
                }
                let areas = lagesbild::demo::areas(as_of);
                store.insert(&areas, &|_| {}).await?;
                eprintln!("loaded {} approximate district outlines", areas.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A progress bar on a terminal; hidden when stderr is not one (CI, pipes).
fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
