//! `lagesbild import FILE --layer L`: checks every row, then stores all or nothing.
//!
//! The report names every rejected row with every problem in it, then how many rows have each
//! problem; it says how the file was read (CSV separator and encoding, times read as Swedish
//! time, rows a mapping skipped, source fields left out). Before anything is stored — and in a
//! dry run — ids that exist already and incidents past the retention period are refused, with
//! what to do about them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::output::progress_bar;
use super::{FileFormat, open_accounts};
use crate::config::Settings;
use crate::domain::Layer;
use crate::service::import::{
    Delimiter, ImportOptions, ImportReport, InputCrs, Mapping, read_csv_with, read_gpkg,
    read_json_with, summarise,
};
use crate::startup::local_viewer;

/// What `lagesbild import` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// The file.
    pub file: PathBuf,
    /// The layer.
    pub layer: Layer,
    /// The coordinates' CRS.
    pub crs: InputCrs,
    /// The format (from the name's ending when `None`).
    pub format: Option<FileFormat>,
    /// The GeoPackage table.
    pub source_layer: Option<String>,
    /// Check only.
    pub dry_run: bool,
    /// A mapping file.
    pub map: Option<PathBuf>,
    /// CSV separator (detected when `None`).
    pub delimiter: Option<Delimiter>,
    /// Drop the file's ids: every feature is new.
    pub new_ids: bool,
    /// Import incidents past the retention period anyway.
    pub allow_expired: bool,
}

/// How many rejected rows are printed in full before the summary (all of them are counted).
const MAX_ROWS_SHOWN: usize = 1000;

fn print_report(file: &Path, report: &ImportReport) {
    let mut err = std::io::stderr().lock();
    if let Some(d) = &report.csv_dialect {
        let _ = writeln!(err, "{}: read as CSV ({d})", file.display());
    }
    if let Some(s) = &report.source {
        let _ = writeln!(err, "{}: read the {s}", file.display());
    }
    if report.swedish_times > 0 {
        let _ = writeln!(
            err,
            "{}: {} times had no offset and were read as Swedish time (CET/CEST)",
            file.display(),
            report.swedish_times
        );
    }
    if !report.skipped.is_empty() {
        let total: usize = report.skipped.values().sum();
        let list: Vec<String> = report
            .skipped
            .iter()
            .map(|(why, n)| format!("{why} ({n})"))
            .collect();
        let _ = writeln!(
            err,
            "{}: the mapping left out {total} rows with values it has no entry for: {}",
            file.display(),
            list.join(", ")
        );
    }
    if !report.ignored_fields.is_empty() {
        let list: Vec<&str> = report.ignored_fields.iter().map(String::as_str).collect();
        let _ = writeln!(
            err,
            "{}: source fields not imported (not mapped): {}",
            file.display(),
            list.join(", ")
        );
    }
}

fn print_rejected(file: &Path, report: &ImportReport) {
    let mut err = std::io::stderr().lock();
    for r in report.rejected.iter().take(MAX_ROWS_SHOWN) {
        let _ = writeln!(err, "{}: {r}", file.display());
    }
    if report.rejected.len() > MAX_ROWS_SHOWN {
        let _ = writeln!(
            err,
            "{}: … and {} more rejected rows (counted below)",
            file.display(),
            report.rejected.len() - MAX_ROWS_SHOWN
        );
    }
    let _ = writeln!(err, "problems, by the number of rows that have them:");
    for p in summarise(&report.rejected) {
        let _ = writeln!(
            err,
            "{:>8} rows: {} (first: {})",
            p.rows, p.problem, p.first
        );
    }
    let _ = writeln!(
        err,
        "nothing imported: {} of {} rows rejected; fix them and import again",
        report.rejected.len(),
        report.rejected.len() + report.drafts.len()
    );
}

/// Imports a file into a layer (exit code 2 when any row is rejected or a check refuses the
/// file: nothing is stored).
///
/// # Errors
/// Unreadable file or mapping, store failures.
pub async fn run(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let file = args.file.as_path();
    let format = args.format.unwrap_or_else(|| {
        let name = file.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".csv") || name.ends_with(".txt") || name.ends_with(".tsv") {
            FileFormat::Csv
        } else if name.ends_with(".gpkg") {
            FileFormat::Gpkg
        } else {
            FileFormat::Geojson
        }
    });
    let mapping = match &args.map {
        None => None,
        Some(p) => Some(Mapping::load(p).map_err(anyhow::Error::msg)?),
    };
    let options = ImportOptions {
        crs: args.crs,
        mapping,
        delimiter: args.delimiter,
    };
    if !file.is_file() {
        anyhow::bail!("cannot open {}: no such file", file.display());
    }
    if args.source_layer.is_some() && format != FileFormat::Gpkg {
        anyhow::bail!(
            "--source-layer names a GeoPackage table; {} is not a GeoPackage",
            file.display()
        );
    }
    let mut report = if format == FileFormat::Gpkg {
        read_gpkg(args.layer, file, args.source_layer.as_deref(), &options).await
    } else {
        let input =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let input = std::io::BufReader::new(input);
        match format {
            FileFormat::Csv => read_csv_with(args.layer, input, &options),
            _ => read_json_with(args.layer, input, &options),
        }
    }
    .with_context(|| format!("cannot import {}", file.display()))?;
    print_report(file, &report);
    if !report.rejected.is_empty() {
        print_rejected(file, &report);
        return Ok(ExitCode::from(2));
    }
    if args.new_ids {
        for d in &mut report.drafts {
            d.id = None;
        }
    }
    // The picture is not loaded: the rows go to the store, where a server finds them through
    // the change log (issue 17: an import into a million-feature database started with a
    // 12-second load of features it never used).
    let service = open_accounts(settings).await?;
    // Ids that are taken (live, or deleted and kept): the import would fail on the first.
    let ids: Vec<uuid::Uuid> = report.drafts.iter().filter_map(|d| d.id).collect();
    let taken = service.store().taken_ids(&ids).await?;
    // Incidents past the retention period would be removed at the next start.
    let expired = match service.retention_cutoff() {
        Some(cutoff) if args.layer == Layer::Incidents => report
            .drafts
            .iter()
            .filter(|d| d.properties.time_span().start < cutoff.unix_timestamp())
            .count(),
        _ => 0,
    };
    let mut refused = false;
    if !taken.is_empty() {
        eprintln!(
            "{}: {} features have ids that exist already in the database (e.g. {}); to import them as new features, add --new-ids",
            file.display(),
            taken.len(),
            taken[0]
        );
        refused = true;
    }
    if expired > 0 {
        let cutoff = service
            .retention_cutoff()
            .map(|c| c.date().to_string())
            .unwrap_or_default();
        if args.allow_expired {
            eprintln!(
                "{}: {expired} incidents are from before {cutoff}, past the retention period ({} months): they will be reduced to weekly counts per area and category at the next start or `lagesbild purge`",
                file.display(),
                service.retention().incidents_months
            );
        } else {
            eprintln!(
                "{}: {expired} incidents are from before {cutoff}, past the retention period ({} months), and would be removed at the next start (weekly counts kept); leave them out, or add --allow-expired to import them for the weekly counts",
                file.display(),
                service.retention().incidents_months
            );
            refused = true;
        }
    }
    if refused {
        eprintln!("nothing imported");
        return Ok(ExitCode::from(2));
    }
    if args.dry_run {
        eprintln!(
            "{}: all {} rows are valid and can be imported (dry run, nothing stored)",
            file.display(),
            report.drafts.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let viewer = local_viewer(&service)?;
    let bar = progress_bar(report.drafts.len() as u64, "importing");
    let tick = |n: u64| bar.set_position(n);
    let n = service.import_stored(report.drafts, &viewer, &tick).await?;
    service.store().close().await;
    bar.finish_and_clear();
    eprintln!(
        "{}: imported {n} features into '{}'",
        file.display(),
        args.layer
    );
    Ok(ExitCode::SUCCESS)
}
