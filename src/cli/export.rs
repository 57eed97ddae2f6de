//! `lagesbild export`: a layer as GeoJSON, or a briefing map (PDF/PNG), as the local
//! administrator or as a role (`--as-role`). Written via a temporary file, so a failure leaves
//! no half-written file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{ExportWhat, open_service, viewer_as};
use crate::config::Settings;
use crate::domain::Layer;
use crate::domain::access::Viewer;
use crate::service::Service;
use crate::service::import::InputCrs;

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
    crs: Option<InputCrs>,
) -> anyhow::Result<ExitCode> {
    let Some(layer) = layer else {
        bail!(
            "give --layer L for GeoJSON, or 'lagesbild export briefing --output FILE.pdf' for a briefing map"
        );
    };
    let gpkg = output
        .as_ref()
        .is_some_and(|p| p.to_string_lossy().to_ascii_lowercase().ends_with(".gpkg"));
    if crs.is_some_and(|c| c != InputCrs::Wgs84) && !gpkg {
        bail!("GeoJSON is always WGS84 (RFC 7946); --crs EPSG:3006 goes with --output FILE.gpkg");
    }
    let service = open_service(settings).await?;
    let viewer = viewer_as(&service, as_role.as_deref())?;
    if let (true, Some(path)) = (gpkg, &output) {
        return geopackage(&service, &viewer, layer, path, crs.unwrap_or_default()).await;
    }
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

/// A layer as a GeoPackage feature table (`--output FILE.gpkg`): what `viewer` may see, as it
/// may see it (the export is audited as any), with a column per property of the role's schema.
async fn geopackage(
    service: &Service,
    viewer: &Viewer,
    layer: Layer,
    path: &std::path::Path,
    crs: InputCrs,
) -> anyhow::Result<ExitCode> {
    let mut buf = Vec::new();
    service.export_geojson(viewer, layer, &mut buf).await?;
    let fc: serde_json::Value = serde_json::from_slice(&buf).context("the export")?;
    let features = fc["features"].as_array().cloned().unwrap_or_default();
    let schema = service.feature_schema(viewer, layer, "")?;
    let columns: Vec<crate::gpkg::OutColumn> = schema["properties"]["properties"]["properties"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, s)| crate::gpkg::OutColumn {
                    name: name.clone(),
                    sql_type: crate::gpkg::sql_type(s),
                })
                .collect()
        })
        .unwrap_or_default();
    if path.exists() {
        bail!(
            "{} exists; a GeoPackage export writes a new file",
            path.display()
        );
    }
    // A name of our own beside the target, so no other file is touched.
    let tmp = path.with_extension(format!("partial-{}.gpkg", uuid::Uuid::new_v4().simple()));
    let gcrs = match crs {
        InputCrs::Wgs84 => crate::gpkg::GpkgCrs::Wgs84,
        InputCrs::Sweref99Tm => crate::gpkg::GpkgCrs::Sweref99Tm,
    };
    let written = crate::gpkg::write_table(
        &tmp,
        layer.as_str(),
        layer.title(),
        &columns,
        &features,
        gcrs,
    )
    .await;
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "exported {n} features from '{layer}' to the GeoPackage {} (table '{layer}')",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
