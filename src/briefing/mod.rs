//! Briefing maps for the chiefs' meeting: one page with the map, title, window, "data as of",
//! audience and classification banner, legend, scale bar, north arrow, SWEREF 99 TM ticks and a
//! summary table, as a vector PDF or a PNG. Every feature drawn passed the caller's grant
//! (`service::visibility`), and every export is audited.

mod base;
pub mod document;
pub mod lagesbild;
pub mod page;
pub mod render;
pub mod request;

use std::collections::BTreeMap;

use serde::Deserialize;
use time::{Date, OffsetDateTime};

use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::time::TimeSpan;
use crate::domain::{Classification, Layer, Properties};
use crate::index::{Filters, Page, Spatial};
use crate::service::visibility::{AggregateBy, Shown};
use crate::service::{Service, ServiceError};
use crate::store::audit::AuditRow;

/// The symbols of the web client, read here too: one definition of colours.
pub const SYMBOLS_JSON: &str = include_str!("../../web/symbols.json");

/// Longest title kept (longer ones are cut with "…").
pub const MAX_TITLE_CHARS: usize = 120;

/// Paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    /// 210 × 297 mm.
    A4,
    /// 297 × 420 mm.
    A3,
}

/// What to draw, for whom.
#[derive(Debug, Clone)]
pub struct BriefingRequest {
    /// The map's extent `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: [f64; 4],
    /// The area asked for, if any (named in the title line).
    pub area: Option<String>,
    /// First day of the window (UTC).
    pub from: Date,
    /// Last day of the window (UTC), inclusive.
    pub to: Date,
    /// The layers to draw.
    pub layers: Vec<Layer>,
    /// Incident categories to draw (all when empty).
    pub categories: Vec<u8>,
    /// The title (already clamped).
    pub title: String,
    /// Who it is for ("chefssamrådet").
    pub audience: String,
    /// A4 or A3.
    pub paper: Paper,
    /// Landscape (true) or portrait.
    pub landscape: bool,
    /// "Data as of": also the clock for what counts as current, so the bytes are reproducible.
    pub as_of: OffsetDateTime,
}

/// One drawn feature.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Its layer.
    pub layer: Layer,
    /// The geometry as drawn (coarse features: their cell centre).
    pub geometry: geo::Geometry<f64>,
    /// The value the symbol is chosen by (category, level, status, kind).
    pub key: String,
    /// A risk environment past its review date.
    pub stale: bool,
}

/// Counts for the summary table: area → category → (window, previous window).
pub type Summary = BTreeMap<String, BTreeMap<String, (usize, usize)>>;

/// Everything a page needs, already filtered by the caller's grants.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The request.
    pub request: BriefingRequest,
    /// Area outlines and names (the offline base).
    pub areas: Vec<(String, geo::Geometry<f64>)>,
    /// The features drawn.
    pub marks: Vec<Mark>,
    /// Counts per 250 m cell for layers the role sees only as counts: (square, count).
    pub cells: Vec<(geo::Geometry<f64>, usize)>,
    /// The incidents' kernel density surface (the web client's): cells and their share of the
    /// densest, with its legend line.
    pub density: Vec<(geo::Polygon<f64>, f64)>,
    /// "Täthet: kvartisk kärna, bandbredd … m, rutor … m", when a surface is drawn.
    pub density_note: Option<String>,
    /// The summary table.
    pub summary: Summary,
    /// Whether counts were suppressed (the role counts below exact): the page then prints "–"
    /// where nothing is shown, never 0, and says why.
    pub suppressed: bool,
    /// The most sensitive classification among what is shown.
    pub classification: Classification,
    /// The basemap under the map, when one is configured (public data: no grant applies).
    pub base: Option<crate::basemap::draw::BaseDrawing>,
}

fn day_span(from: Date, to: Date) -> TimeSpan {
    TimeSpan {
        start: from.midnight().assume_utc().unix_timestamp(),
        end: to.midnight().assume_utc().unix_timestamp() + 86_399,
    }
}

/// The value a feature's symbol is chosen by (see `web/symbols.json`).
fn key_of(p: &Properties) -> String {
    match p {
        Properties::Incident(i) => i.category.as_str(),
        Properties::RiskEnvironment(r) => r.level.as_str(),
        Properties::Camera(c) => c.status.as_str(),
        Properties::PatrolRoute(r) => r.kind.as_str(),
        Properties::Measure(m) => m.status.as_str(),
        Properties::Walk(_) | Properties::Area(_) => "",
    }
    .to_owned()
}

impl Service {
    /// Gathers a briefing page's content as `viewer` may see it, and audits the export.
    ///
    /// # Errors
    /// Store failures writing the audit records.
    pub async fn briefing_scene(
        &self,
        viewer: &Viewer,
        request: BriefingRequest,
        format: &str,
    ) -> Result<Scene, ServiceError> {
        let spatial = Spatial::Bbox(crate::domain::Bbox::clamped(request.bbox));
        let window = day_span(request.from, request.to);
        let days = (request.to - request.from).whole_days() + 1;
        let previous = day_span(
            request.from - time::Duration::days(days),
            request.from - time::Duration::days(1),
        );
        let everything = Page {
            offset: 0,
            limit: usize::MAX,
        };
        let mut marks = Vec::new();
        let mut cells = Vec::new();
        let mut suppressed = false;
        let mut classification = Classification::Open;
        for layer in &request.layers {
            let precision = viewer.precision(*layer);
            let mut filters = Filters::default();
            if matches!(layer, Layer::Incidents | Layer::Walks) {
                filters.time = Some(window);
            }
            if *layer == Layer::Incidents && !request.categories.is_empty() {
                filters.categories = Some(request.categories.clone());
            }
            match precision {
                Precision::None => {}
                Precision::Aggregate => {
                    let agg = self
                        .read_aggregate(viewer, *layer, AggregateBy::Grid, &spatial, &filters)
                        .await?;
                    suppressed |= agg.suppressing;
                    cells.extend(agg.buckets.into_iter().map(|b| (b.geometry, b.count)));
                }
                Precision::Coarse | Precision::Exact => {
                    let items = self
                        .read_items(viewer, *layer, &spatial, &filters, everything)
                        .await?;
                    for shown in items.features {
                        match shown {
                            Shown::Exact { feature, .. } => {
                                classification = classification.max(feature.meta.classification);
                                let key = key_of(&feature.properties);
                                let stale = match &feature.properties {
                                    Properties::RiskEnvironment(r) => {
                                        r.is_stale(request.as_of.date())
                                    }
                                    Properties::Camera(c) => c.is_stale(request.as_of.date()),
                                    _ => false,
                                };
                                marks.push(Mark {
                                    layer: *layer,
                                    geometry: feature.geometry().into_owned(),
                                    key,
                                    stale,
                                });
                            }
                            Shown::Coarse(c) => {
                                classification = classification.max(Classification::Internal);
                                marks.push(Mark {
                                    layer: *layer,
                                    geometry: geo::Geometry::Point(c.centre),
                                    key: c.category.unwrap_or("").to_owned(),
                                    stale: false,
                                });
                            }
                        }
                    }
                }
            }
        }
        // The base: area outlines the role may see.
        let areas = self
            .visible_areas_in(viewer, &spatial)
            .iter()
            .filter_map(|a| match &a.properties {
                Properties::Area(p) => Some((p.name.to_string(), a.geometry().into_owned())),
                _ => None,
            })
            .collect::<Vec<_>>();
        // The summary: incidents per area and category, window against the previous window.
        let mut summary = Summary::new();
        if viewer.precision(Layer::Incidents) != Precision::None
            && request.layers.contains(&Layer::Incidents)
        {
            for (span, slot) in [(window, 0), (previous, 1)] {
                let mut f = Filters {
                    time: Some(span),
                    ..Filters::default()
                };
                if !request.categories.is_empty() {
                    f.categories = Some(request.categories.clone());
                }
                let agg = self
                    .read_aggregate(viewer, Layer::Incidents, AggregateBy::Area, &spatial, &f)
                    .await?;
                suppressed |= agg.suppressing;
                for b in agg.buckets {
                    let name = b.name.as_deref().unwrap_or("").to_owned();
                    for (cat, n) in b.by_category {
                        let e = summary
                            .entry(name.clone())
                            .or_default()
                            .entry(cat.to_owned())
                            .or_default();
                        if slot == 0 {
                            e.0 += n;
                        } else {
                            e.1 += n;
                        }
                    }
                }
            }
        }
        // The density surface of the incidents, as the web client draws it zoomed out.
        let (mut density, mut density_note) = (Vec::new(), None);
        if request.layers.contains(&Layer::Incidents)
            && matches!(
                viewer.precision(Layer::Incidents),
                Precision::Exact | Precision::Coarse
            )
        {
            let mut f = Filters {
                time: Some(window),
                ..Filters::default()
            };
            if !request.categories.is_empty() {
                f.categories = Some(request.categories.clone());
            }
            let s = self
                .density_surface(viewer, &spatial, &f, None, None)
                .await?;
            let max = s.cells.iter().map(|c| c.1).fold(0.0_f64, f64::max);
            if max > 0.0 {
                density = s.cells.into_iter().map(|(p, d)| (p, d / max)).collect();
                density_note = Some(format!(
                    "Täthet: kvartisk kärna, bandbredd {:.0} m, rutor {:.0} m (som kartan på skärmen); positionsfel median ca 83 m",
                    s.bandwidth_m, s.cell_m
                ));
            }
        }
        // The basemap under the whole frame (wider than the box in one direction).
        let base = match (
            self.basemap(),
            page::points_per_metre(&request),
            page::map_extent(&request),
        ) {
            (Some(b), Some(scale), Some(extent)) => {
                Some(crate::basemap::draw::gather(b, extent, scale).await)
            }
            _ => None,
        };
        let row = AuditRow::new(self.clock().now(), AuditAction::Export, AuditOutcome::Ok)
            .bbox(Some(request.bbox))
            .detail(format!(
                "briefing {format}: '{}', {} to {}, {} features, {} count cells",
                request.title,
                request.from,
                request.to,
                marks.len(),
                cells.len()
            ));
        self.audit(viewer, row).await?;
        Ok(Scene {
            request,
            areas,
            marks,
            cells,
            density,
            density_note,
            summary,
            suppressed,
            classification,
            base,
        })
    }
}
