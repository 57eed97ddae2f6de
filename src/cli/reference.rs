//! `lagesbild reference import|list`: the reference layers (buildings, paths).

use std::process::ExitCode;

use super::ReferenceCommand;
use super::output::println_out;
use crate::config::Settings;
use crate::service::import::InputCrs;
use crate::service::reference::read_reference_file;
use crate::startup::open_store;

/// Runs a reference command.
///
/// # Errors
/// A file refused (every problem listed), store failures.
pub async fn run(settings: &Settings, cmd: ReferenceCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    match cmd {
        ReferenceCommand::Import {
            kind,
            file,
            source_layer,
            crs,
        } => {
            let read = match read_reference_file(
                kind,
                &file,
                source_layer.as_deref(),
                crs == InputCrs::Sweref99Tm,
            )
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            store
                .replace_reference(
                    kind,
                    &read.geometries,
                    &read.source,
                    crate::domain::time::now_utc(),
                )
                .await?;
            eprintln!(
                "{} {} imported from {} (the layer replaced whole)",
                read.geometries.len(),
                kind.as_str(),
                read.source
            );
            Ok(ExitCode::SUCCESS)
        }
        ReferenceCommand::List => {
            let sources = store.reference_sources().await?;
            if sources.is_empty() {
                eprintln!(
                    "no reference layers imported; lagesbild reference import buildings|paths FILE"
                );
            }
            for s in sources {
                println_out(&format!(
                    "{:<10} {:>8} features  imported {}  from {}",
                    s.kind,
                    s.features,
                    s.imported_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    crate::domain::text::printable(&s.source, 500)
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
