//! `lagesbild serve`: the API and the map until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::startup::App;

/// Serves until stopped, then finishes requests in flight.
///
/// # Errors
/// The address is taken, the store cannot be opened, the server fails.
pub async fn run(
    mut settings: Settings,
    bind: Option<SocketAddr>,
    demo: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(b) = bind {
        settings.bind = b;
    }
    let app = App::build(settings, demo).await?;
    app.run_until_stopped(shutdown_signal())
        .await
        .context("the server failed")?;
    Ok(ExitCode::SUCCESS)
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
