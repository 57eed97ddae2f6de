//! `lagesbild export`: a layer as GeoJSON, or a briefing map (PDF/PNG), as the local
//! administrator or as a role (`--as-role`). Written via a temporary file, so a failure leaves
//! no half-written file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{ExportWhat, open_service, viewer_as};
use crate::config::Settings;
use crate::domain::Layer;

/// `lagesbild export briefing …`.
///
/// # Errors
/// Bad parameters, grants, store or file failures.
pub async fn briefing(settings: &Settings, what: ExportWhat) -> anyhow::Result<ExitCode> {
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
    } = what
    else {
        bail!("not a briefing");
    };
    let service = open_service(settings).await?;
    let viewer = viewer_as(&service, as_role.as_deref())?;
    let name = output.to_string_lossy().to_ascii_lowercase();
    let format = if name.ends_with(".png") {
        "png"
    } else if name.ends_with(".pdf") {
        "pdf"
    } else {
        bail!("--output must end in .pdf or .png");
    };
    let q = crate::briefing::request::BriefingQuery {
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
    let bytes = crate::briefing::request::make_briefing(&service, &viewer, &q, format).await?;
    write_whole(&output, &bytes)
}

/// Writes `bytes` via a temporary file, so a failure leaves no half-written document.
fn write_whole(output: &std::path::Path, bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let tmp = output.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, output).with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("wrote {} ({} bytes)", output.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}

/// `lagesbild export lagesbild …`.
///
/// # Errors
/// Bad parameters, grants, store or file failures.
pub async fn lagesbild(
    settings: &Settings,
    q: &crate::briefing::lagesbild::LagesbildQuery,
    output: &std::path::Path,
    as_role: Option<&str>,
) -> anyhow::Result<ExitCode> {
    if !output
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".pdf")
    {
        bail!("--output must end in .pdf");
    }
    let service = open_service(settings).await?;
    let viewer = viewer_as(&service, as_role)?;
    let bytes = crate::briefing::lagesbild::make_lagesbild(&service, &viewer, q).await?;
    write_whole(output, &bytes)
}

/// `lagesbild export --layer L [--output FILE]`: GeoJSON to a file or standard output.
///
/// # Errors
/// Grants, store or file failures.
pub async fn layer(
    settings: &Settings,
    layer: Option<Layer>,
    output: Option<PathBuf>,
    as_role: Option<String>,
) -> anyhow::Result<ExitCode> {
    let Some(layer) = layer else {
        bail!(
            "give --layer L for GeoJSON, or 'lagesbild export briefing --output FILE.pdf' for a briefing map"
        );
    };
    let service = open_service(settings).await?;
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
