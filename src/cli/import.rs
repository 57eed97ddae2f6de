//! `lagesbild import FILE --layer L`: checks every row, then stores all or nothing.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::output::progress_bar;
use super::{FileFormat, open_service};
use crate::config::Settings;
use crate::domain::Layer;
use crate::service::import::{InputCrs, read_csv, read_geojson};
use crate::startup::local_viewer;

/// Imports `file` into `layer` (exit code 2 when any row is rejected: nothing is stored).
///
/// # Errors
/// Unreadable file, store failures.
pub async fn run(
    settings: &Settings,
    file: &Path,
    layer: Layer,
    crs: InputCrs,
    format: Option<FileFormat>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let format = format.unwrap_or_else(|| {
        let name = file.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".csv") {
            FileFormat::Csv
        } else {
            FileFormat::Geojson
        }
    });
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
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
    let service = open_service(settings).await?;
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
