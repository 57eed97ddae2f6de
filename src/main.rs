//! The `lagesbild` command: parses the command line, sets up logging and hands over to the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use lagesbild::cli::{Cli, Command, ExportWhat, FileFormat, TokenCommand, UserCommand};
use lagesbild::config::{OsEnv, Settings};
use lagesbild::service::Service;
use lagesbild::service::accounts::{NewUser, generated_password};
use lagesbild::service::import::{read_csv, read_geojson};
use lagesbild::startup::{App, local_viewer, open_store, seed_demo_if_empty, service_options};
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
            let service = open_service(&settings).await?;
            let viewer = local_viewer(&service)?;
            let bar = progress_bar(report.drafts.len() as u64, "importing");
            let tick = |n: u64| bar.set_position(n);
            let n = service
                .create_many(report.drafts, &viewer, &tick)
                .await?
                .len();
            bar.finish_and_clear();
            eprintln!("{}: imported {n} features into '{layer}'", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            what: Some(what), ..
        } => {
            let ExportWhat::Briefing {
                output,
                area,
                bbox,
                pack,
                from,
                to,
                layers,
                category,
                title,
                audience,
                paper,
                orientation,
                dpi,
                as_of,
                as_role,
            } = *what;
            let service = open_service(&settings).await?;
            let viewer = viewer_as(&service, as_role.as_deref())?;
            let name = output.to_string_lossy().to_ascii_lowercase();
            let format = if name.ends_with(".png") {
                "png"
            } else if name.ends_with(".pdf") {
                "pdf"
            } else {
                bail!("--output must end in .pdf or .png");
            };
            let q = lagesbild::briefing::request::BriefingQuery {
                pack,
                area,
                bbox,
                from,
                to,
                layers,
                category,
                title,
                audience,
                paper,
                orientation,
                dpi,
                as_of,
            };
            let bytes =
                lagesbild::briefing::request::make_briefing(&service, &viewer, &q, format).await?;
            // Via a temporary file, so a failure leaves no half-written briefing.
            let tmp = output.with_extension("partial");
            std::fs::write(&tmp, &bytes)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &output)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("wrote {} ({} bytes)", output.display(), bytes.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            layer,
            output,
            as_role,
            what: None,
        } => {
            let Some(layer) = layer else {
                bail!(
                    "give --layer L for GeoJSON, or 'lagesbild export briefing --output FILE.pdf' for a briefing map"
                );
            };
            let service = open_service(&settings).await?;
            let viewer = viewer_as(&service, as_role.as_deref())?;
            let n = match &output {
                Some(path) => {
                    // Write to a temporary file and rename, so a failed export leaves no half file.
                    let tmp = path.with_extension("partial");
                    let f = std::fs::File::create(&tmp)
                        .with_context(|| format!("cannot write {}", tmp.display()))?;
                    let n = match service
                        .export_geojson(&viewer, layer, std::io::BufWriter::new(f))
                        .await
                    {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = std::fs::remove_file(&tmp);
                            return Err(e.into());
                        }
                    };
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    service
                        .export_geojson(&viewer, layer, std::io::BufWriter::new(std::io::stdout()))
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
        Command::User(cmd) => {
            let service = open_service(&settings).await?;
            let admin = local_viewer(&service)?;
            user_command(&service, &admin, cmd).await
        }
        Command::Token(cmd) => {
            let service = open_service(&settings).await?;
            let admin = local_viewer(&service)?;
            match cmd {
                TokenCommand::Create { user, label, days } => {
                    let valid = days.map(|d| time::Duration::days(i64::from(d)));
                    let (id, token) = service.create_token(&user, &label, valid, &admin).await?;
                    eprintln!("token {id} for '{user}' ({label}); it is shown only now:");
                    println_out(&token);
                }
                TokenCommand::List => {
                    for t in service.store().tokens().await? {
                        let state = match (t.revoked_at, t.expires_at) {
                            (Some(r), _) => format!("revoked {}", r.date()),
                            (None, Some(e)) => format!("expires {}", e.date()),
                            (None, None) => "active".into(),
                        };
                        println_out(&format!(
                            "{}  {:<16} {:<30} {state}",
                            t.id, t.user_name, t.label
                        ));
                    }
                }
                TokenCommand::Revoke { id } => {
                    service.revoke_token(id, &admin).await?;
                    eprintln!("token {id} revoked");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            since,
            user,
            action,
            limit,
            json,
        } => {
            let since = match since {
                Some(s) => {
                    let span = lagesbild::domain::time::parse_datetime(&s)
                        .map_err(|e| anyhow::anyhow!("--since: {}", e.message))?;
                    Some(
                        OffsetDateTime::from_unix_timestamp(span.start)
                            .context("--since needs a start")?,
                    )
                }
                None => None,
            };
            let service = open_service(&settings).await?;
            let admin = local_viewer(&service)?;
            let filter = lagesbild::store::access::AuditFilter {
                since,
                until: None,
                actor: user,
                action,
                limit: limit.clamp(1, 1_000_000),
            };
            for r in service.read_audit(&admin, &filter).await? {
                let at =
                    r.at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                if json {
                    let v = serde_json::json!({"id": r.id, "at": at, "actor": r.actor, "role": r.role,
                        "action": r.action, "layer": r.layer, "features": r.features, "bbox": r.bbox,
                        "address": r.address, "outcome": r.outcome, "detail": r.detail});
                    println_out(&v.to_string());
                } else {
                    // Every field escaped: records written before escaping was done at write
                    // time, or by another tool, must not drive the terminal.
                    let p = |s: &str| lagesbild::domain::text::printable(s, 2000);
                    println_out(&format!(
                        "{:>6} {at} {:<18} {:<10} {:<10} {:<17} {:<10} {} {}",
                        r.id,
                        p(&r.actor),
                        p(&r.action),
                        p(&r.outcome),
                        p(r.layer.as_deref().unwrap_or("-")),
                        p(r.address.as_deref().unwrap_or("-")),
                        r.bbox
                            .as_deref()
                            .map(|b| format!("bbox={}", p(b)))
                            .unwrap_or_default(),
                        p(r.detail.as_deref().unwrap_or("")),
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge => {
            let service = open_service(&settings).await?;
            let admin = local_viewer(&service)?;
            let report = service.purge(&admin).await?;
            match report.cutoff {
                None => {
                    eprintln!("retention is off (retention_incidents_months = 0): nothing removed")
                }
                Some(c) => eprintln!(
                    "removed {} incidents from before {} for good; {} weekly counts kept",
                    report.removed,
                    c.date(),
                    report.weekly_counts
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Roles => {
            let options = service_options(&settings, lagesbild::service::clock::Clock::system())?;
            println_out(&lagesbild::domain::access::matrix_markdown(&options.roles));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The local administrator, or a role's view when asked (`--as-role`).
fn viewer_as(
    service: &Service,
    role_id: Option<&str>,
) -> anyhow::Result<lagesbild::domain::access::Viewer> {
    let mut viewer = local_viewer(service)?;
    if let Some(role_id) = role_id {
        let role = service.roles().get(role_id).with_context(|| {
            format!(
                "unknown role '{role_id}'; roles: {}",
                service.roles().ids().collect::<Vec<_>>().join(", ")
            )
        })?;
        viewer.role = std::sync::Arc::clone(role);
        viewer.role_id = std::sync::Arc::from(role_id);
    }
    Ok(viewer)
}

/// Opens the store and the picture with the configured roles.
async fn open_service(settings: &Settings) -> anyhow::Result<Service> {
    let options = service_options(settings, lagesbild::service::clock::Clock::system())?;
    let store = open_store(settings).await?;
    Ok(Service::open_with(store, options).await?)
}

/// A line on standard output (the data a command was asked for; messages go to stderr).
fn println_out(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// A password read from standard input, or a generated one (then `true`: show it once).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    Ok(if from_stdin {
        (read_password()?, false)
    } else {
        (generated_password(), true)
    })
}

/// Reads one line (a password) from standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

async fn user_command(
    service: &Service,
    admin: &lagesbild::domain::access::Viewer,
    cmd: UserCommand,
) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            organisation,
            display_name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            service
                .add_user(
                    NewUser {
                        display_name: display_name.unwrap_or_else(|| name.clone()),
                        name: name.clone(),
                        organisation,
                        role,
                        password: password.clone(),
                    },
                    admin,
                )
                .await?;
            eprintln!("account '{name}' added");
            if generated {
                eprintln!("its password, shown only now:");
                println_out(&password);
            }
        }
        UserCommand::List => {
            for u in service.store().users().await? {
                println_out(&format!(
                    "{:<20} {:<22} {:<28} {}",
                    u.name,
                    u.role,
                    u.organisation,
                    if u.disabled { "disabled" } else { "active" }
                ));
            }
        }
        UserCommand::Disable { name } => {
            service.set_user_disabled(&name, true, admin).await?;
            eprintln!("account '{name}' disabled; its sessions and tokens no longer work");
        }
        UserCommand::Enable { name } => {
            service.set_user_disabled(&name, false, admin).await?;
            eprintln!("account '{name}' enabled");
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            service.set_password(&name, &password, admin).await?;
            eprintln!("new password set for '{name}'; its sessions were ended");
            if generated {
                eprintln!("the new password, shown only now:");
                println_out(&password);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
