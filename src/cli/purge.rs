//! `lagesbild purge`: retention now (incidents past their time removed for good, weekly counts
//! kept).

use std::process::ExitCode;

use super::open_service;
use crate::config::Settings;
use crate::startup::local_viewer;

/// Runs retention once.
///
/// # Errors
/// Store failures.
pub async fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let service = open_service(settings).await?;
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
