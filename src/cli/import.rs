//! `lagesbild import FILE --layer L`: checks every row while it is written into one open
//! transaction, and commits only if every row passed — all or nothing.
//!
//! CSV is streamed (memory bounded by a few batches, whatever the file's size); GeoJSON and
//! GeoPackage are read whole first. The report names every rejected row with every problem in
//! it, then how many rows have each problem; it says how the file was read (CSV separator and
//! encoding, times read as Swedish time, rows a mapping skipped, source fields left out). Ids
//! repeated within the file or taken in the database and incidents past the retention period
//! are refused, with what to do about them — in a dry run too, which writes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::output::progress_bar;
use super::{FileFormat, open_accounts};
use crate::config::Settings;
use crate::domain::Layer;
use crate::service::ServiceError;
use crate::service::bulk_import::{RowSource, StreamError, StreamOptions};
use crate::service::import::{
    Delimiter, ImportOptions, ImportReport, InputCrs, Mapping, read_gpkg, stream_csv, stream_json,
    summarise,
};
use crate::startup::local_viewer;
use crate::store::bulk::BulkMode;

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

fn print_rejected(file: &Path, report: &ImportReport, valid: u64) {
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
        report.rejected.len() as u64 + valid
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
    // The picture is not loaded: the rows go to the store, where a server finds them through
    // the change log (issue 17: an import into a million-feature database started with a
    // 12-second load of features it never used).
    let service = open_accounts(settings).await?;
    let viewer = local_viewer(&service)?;
    let layer = args.layer;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    // CSV is read as a stream (any size, a few batches in memory); GeoJSON and GeoPackage
    // are read whole, then handed on the same way.
    let source: RowSource = match format {
        FileFormat::Csv => {
            let input = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            Box::new(move |sink| stream_csv(layer, input, &options, sink))
        }
        FileFormat::Gpkg => {
            let report = read_gpkg(layer, file, args.source_layer.as_deref(), &options)
                .await
                .with_context(|| format!("cannot import {}", file.display()))?;
            Box::new(move |sink| Ok(hand_on(report, sink, size)))
        }
        _ => {
            // A FeatureCollection is read as a stream too; one Feature or an array of records
            // is read whole.
            let input = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            Box::new(move |sink| stream_json(layer, input, &options, sink))
        }
    };
    let bar = progress_bar(
        size,
        if args.dry_run {
            "checking"
        } else {
            "importing"
        },
    );
    let ticker = bar.clone();
    let options = StreamOptions {
        layer,
        mode: if args.dry_run {
            BulkMode::Check
        } else {
            // The command line's process does nothing else meanwhile: it may hold the
            // database alone (see `BulkMode::Load`).
            BulkMode::Load
        },
        new_ids: args.new_ids,
        allow_expired: args.allow_expired,
    };
    let result = service
        .import_streamed(
            &viewer,
            source,
            options,
            // Decoded Windows-1252 text is longer than the file: never past its end.
            Arc::new(move |n| ticker.set_position(n.min(size))),
        )
        .await;
    bar.finish_and_clear();
    service.store().close().await;
    let report = match result {
        Ok(r) => r,
        Err(StreamError::Read(e)) => {
            return Err(anyhow::Error::new(e).context(format!("cannot import {}", file.display())));
        }
        Err(StreamError::Service(ServiceError::Store(e))) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot import {}: nothing imported",
                file.display()
            )));
        }
        Err(StreamError::Service(e)) => {
            anyhow::bail!("cannot import {}: {e}; nothing imported", file.display())
        }
    };
    print_report(file, &report.read);
    if !report.read.rejected.is_empty() {
        print_rejected(file, &report.read, report.rows);
        return Ok(ExitCode::from(2));
    }
    let mut refused = false;
    if !report.repeated.is_empty() {
        eprintln!(
            "{}: {} rows repeat an id of an earlier row (e.g. {}); give every row its own id, or add --new-ids",
            file.display(),
            report.repeated.len(),
            report.repeated[0]
        );
        refused = true;
    }
    if !report.taken.is_empty() {
        eprintln!(
            "{}: {} features have ids that exist already in the database (e.g. {}); to import them as new features, add --new-ids",
            file.display(),
            report.taken.len(),
            report.taken[0]
        );
        refused = true;
    }
    if report.expired > 0 {
        let cutoff = service
            .retention_cutoff()
            .map(|c| c.date().to_string())
            .unwrap_or_default();
        let expired = report.expired;
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
            report.rows
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !report.committed {
        anyhow::bail!(
            "cannot import {}: the database did not take the rows; nothing imported",
            file.display()
        );
    }
    eprintln!(
        "{}: imported {} features into '{}'",
        file.display(),
        report.stored,
        args.layer
    );
    Ok(ExitCode::SUCCESS)
}

/// Hands the drafts of a file read whole on to `sink`, with progress as the share of the file's
/// `size` handed on so far; the report keeps the rest.
fn hand_on(
    mut report: ImportReport,
    sink: &mut dyn FnMut(crate::domain::FeatureDraft, u64) -> bool,
    size: u64,
) -> ImportReport {
    let drafts = std::mem::take(&mut report.drafts);
    let n = drafts.len().max(1) as u64;
    for (i, d) in drafts.into_iter().enumerate() {
        if !sink(d, size.saturating_mul(i as u64 + 1) / n) {
            break;
        }
    }
    report
}
