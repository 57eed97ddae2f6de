//! The briefing request: what a caller asks for (area or box, window, layers, categories,
//! paper), checked, then made into pages. The HTTP handler and the command line both call
//! [`make_briefing`]; neither knows how a request is read.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::{BriefingRequest, MAX_TITLE_CHARS, Paper, page, render};
use crate::domain::access::Viewer;
use crate::domain::{Bbox, Layer, Properties, ValidationErrors};
use crate::service::{Service, ServiceError};

/// Query parameters of the briefing exports.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BriefingQuery {
    /// PDF only: a briefing pack of an overview page and one page per named area
    /// (comma-separated, e.g. `Alby,Fittja,Hallunda`), like a GIS atlas.
    pub pack: Option<String>,
    /// An area's name (e.g. `Alby`): the map shows it with some surroundings.
    pub area: Option<String>,
    /// Or `min_lon,min_lat,max_lon,max_lat`. Without either: every area.
    pub bbox: Option<String>,
    /// First day of the window, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day of the window, inclusive (default: the day of `as_of`).
    pub to: Option<String>,
    /// Comma-separated layers (default `incidents,risk_environments,cameras,patrol_routes`).
    pub layers: Option<String>,
    /// Comma-separated incident categories (default: all).
    pub category: Option<String>,
    /// The title (default "Lägesbild"; cut at 120 characters; shown as text, never markup).
    pub title: Option<String>,
    /// Who the map is for (default "chefssamrådet"), in the classification banner.
    pub audience: Option<String>,
    /// `a4` (default) or `a3`.
    pub paper: Option<String>,
    /// `landscape` (default) or `portrait`.
    pub orientation: Option<String>,
    /// PNG only: 150 (default) or 300 dots per inch.
    pub dpi: Option<String>,
    /// "Data as of" (RFC 3339); also what "now" means, so the same request gives the same bytes.
    pub as_of: Option<String>,
}

/// "Data as of" from the parameter (RFC 3339, to UTC), else the server's clock to the second.
pub(super) fn parse_as_of(
    service: &Service,
    as_of: Option<&str>,
) -> Result<OffsetDateTime, BriefingError> {
    match as_of {
        Some(t) => Ok(OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| {
                BriefingError::bad(
                    "as_of",
                    format!("'{t}' is not an RFC 3339 time, e.g. 2026-11-23T08:00:00Z"),
                )
            })?
            .to_offset(time::UtcOffset::UTC)),
        None => Ok(service
            .clock()
            .now()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)),
    }
}

/// The first and last day asked for (`to` defaults to the day of `as_of`, `from` to `default_days`
/// before it), at most a year apart.
pub(super) fn parse_days(
    from: Option<&str>,
    to: Option<&str>,
    as_of: OffsetDateTime,
    default_days: i64,
) -> Result<(Date, Date), BriefingError> {
    let to = to
        .map(|s| day("to", s))
        .transpose()?
        .unwrap_or(as_of.date());
    let from = from
        .map(|s| day("from", s))
        .transpose()?
        .unwrap_or(to - time::Duration::days(default_days));
    if from > to {
        return Err(BriefingError::bad(
            "from",
            format!("{from} is after {to}; give from ≤ to"),
        ));
    }
    if (to - from).whole_days() > 366 {
        return Err(BriefingError::bad(
            "from",
            "the window is longer than a year; choose a shorter one",
        ));
    }
    Ok((from, to))
}

fn day(name: &str, s: &str) -> Result<Date, BriefingError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| BriefingError::bad(name, format!("'{s}' is not a date; write YYYY-MM-DD")))
}

fn clamp(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.chars().count() > max {
        let mut cut: String = clean.chars().take(max - 1).collect();
        cut.push('…');
        cut
    } else {
        clean.to_owned()
    }
}

impl BriefingQuery {
    pub(super) fn parse(
        &self,
        service: &Service,
        viewer: &Viewer,
    ) -> Result<(BriefingRequest, u32), BriefingError> {
        let as_of = parse_as_of(service, self.as_of.as_deref())?;
        let (from, to) = parse_days(self.from.as_deref(), self.to.as_deref(), as_of, 29)?;
        let areas = service.visible_areas(viewer);
        let bounds_of = |g: &geo::Geometry<f64>| crate::domain::geometry::bounds(g);
        let (bbox, area) = match (&self.area, &self.bbox) {
            (Some(_), Some(_)) => {
                return Err(BriefingError::bad("area", "give area or bbox, not both"));
            }
            (Some(name), None) => {
                let found = areas.iter().find(|a| matches!(&a.properties, Properties::Area(p) if p.name.eq_ignore_ascii_case(name)));
                let Some(a) = found else {
                    let mut names: Vec<String> = areas
                        .iter()
                        .filter_map(|a| match &a.properties {
                            Properties::Area(p) => Some(p.name.to_string()),
                            _ => None,
                        })
                        .collect();
                    names.sort();
                    return Err(BriefingError::NotFound(format!(
                        "no area named '{}'; areas: {}",
                        clamp(name, 60),
                        names.join(", ")
                    )));
                };
                let b = bounds_of(&a.geometry());
                let (dx, dy) = ((b[2] - b[0]) * 0.25, (b[3] - b[1]) * 0.25);
                let name = match &a.properties {
                    Properties::Area(p) => p.name.to_string(),
                    _ => name.clone(),
                };
                ([b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy], Some(name))
            }
            (None, Some(b)) => {
                let b: Bbox = b
                    .parse()
                    .map_err(|e| BriefingError::Invalid(ValidationErrors::from(e)))?;
                let b = b.to_array();
                if b[2] - b[0] < 1e-4 || b[3] - b[1] < 1e-4 {
                    return Err(BriefingError::bad(
                        "bbox",
                        "the box is empty (under about 10 m across)",
                    ));
                }
                if b[2] - b[0] > 10.0 || b[3] - b[1] > 10.0 {
                    return Err(BriefingError::bad(
                        "bbox",
                        "the box is wider than 10°; a briefing map covers a municipality",
                    ));
                }
                (b, None)
            }
            (None, None) => {
                let b = areas.iter().map(|a| bounds_of(&a.geometry())).fold(
                    [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
                    |acc, b| {
                        [
                            acc[0].min(b[0]),
                            acc[1].min(b[1]),
                            acc[2].max(b[2]),
                            acc[3].max(b[3]),
                        ]
                    },
                );
                if b[0] > b[2] {
                    return Err(BriefingError::bad(
                        "bbox",
                        "there are no areas to show; give a bbox",
                    ));
                }
                (b, None)
            }
        };
        let layers = match &self.layers {
            None => vec![
                Layer::Incidents,
                Layer::RiskEnvironments,
                Layer::Cameras,
                Layer::PatrolRoutes,
            ],
            Some(l) => l
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<Layer>()
                        .map_err(|e| BriefingError::bad("layers", e.to_string()))
                })
                .collect::<Result<_, _>>()?,
        };
        let categories = match &self.category {
            None => Vec::new(),
            Some(c) => c
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Layer::Incidents
                        .category_names()
                        .iter()
                        .position(|n| *n == s)
                        .and_then(|p| u8::try_from(p).ok())
                        .ok_or_else(|| {
                            BriefingError::bad(
                                "category",
                                format!(
                                    "unknown category '{s}'; allowed: {}",
                                    Layer::Incidents.category_names().join(", ")
                                ),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let paper = match self.paper.as_deref() {
            None | Some("a4") => Paper::A4,
            Some("a3") => Paper::A3,
            Some(o) => return Err(BriefingError::bad("paper", format!("'{o}': use a4 or a3"))),
        };
        let landscape = match self.orientation.as_deref() {
            None | Some("landscape") => true,
            Some("portrait") => false,
            Some(o) => {
                return Err(BriefingError::bad(
                    "orientation",
                    format!("'{o}': use landscape or portrait"),
                ));
            }
        };
        let dpi = match self.dpi.as_deref() {
            None | Some("150") => 150,
            Some("300") => 300,
            Some(o) => return Err(BriefingError::bad("dpi", format!("'{o}': use 150 or 300"))),
        };
        let title = clamp(
            self.title.as_deref().unwrap_or("Lägesbild"),
            MAX_TITLE_CHARS,
        );
        let audience = clamp(self.audience.as_deref().unwrap_or("chefssamrådet"), 60);
        Ok((
            BriefingRequest {
                bbox,
                area,
                from,
                to,
                layers,
                categories,
                title: if title.is_empty() {
                    "Lägesbild".into()
                } else {
                    title
                },
                audience: if audience.is_empty() {
                    "chefssamrådet".into()
                } else {
                    audience
                },
                paper,
                landscape,
                as_of,
            },
            dpi,
        ))
    }
}

/// Why a briefing was not made.
#[derive(Debug, thiserror::Error)]
pub enum BriefingError {
    /// A parameter is wrong (named in the errors).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A named area does not exist (for the caller).
    #[error("{0}")]
    NotFound(String),
    /// The service refused (grants) or failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Rendering failed.
    #[error("rendering failed: {0}")]
    Render(String),
}

impl BriefingError {
    /// One bad parameter.
    pub(super) fn bad(name: &str, message: impl Into<String>) -> Self {
        BriefingError::Invalid(ValidationErrors::one(name, message))
    }
}

/// Makes a briefing — one page, or with `pack` an overview plus a page per area — as `viewer`
/// may see it: the bytes of a PDF (`format` "pdf") or PNG. The one use case behind
/// `GET /exports/briefing.{pdf,png}` and `lagesbild export briefing`.
///
/// # Errors
/// [`BriefingError::Invalid`] and [`BriefingError::NotFound`] for parameters;
/// [`BriefingError::Service`] for grants and store failures.
#[tracing::instrument(level = "debug", skip_all, fields(user = %viewer.user, format))]
pub async fn make_briefing(
    service: &Service,
    viewer: &Viewer,
    q: &BriefingQuery,
    format: &'static str,
) -> Result<Vec<u8>, BriefingError> {
    // One page, or a pack: the overview and a page per area.
    let mut queries = vec![q.clone()];
    if let Some(pack) = &q.pack {
        if format != "pdf" {
            return Err(BriefingError::bad(
                "pack",
                "a briefing pack is a PDF; ask for briefing.pdf",
            ));
        }
        if q.area.is_some() || q.bbox.is_some() {
            return Err(BriefingError::bad(
                "pack",
                "a pack shows its areas; leave out area and bbox",
            ));
        }
        let names: Vec<&str> = pack
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() || names.len() > 30 {
            return Err(BriefingError::bad(
                "pack",
                "name 1 to 30 areas, comma-separated",
            ));
        }
        for name in names {
            let mut page_q = q.clone();
            page_q.area = Some(name.to_owned());
            page_q.title = Some(format!(
                "{} – {name}",
                q.title.as_deref().unwrap_or("Lägesbild")
            ));
            queries.push(page_q);
        }
    }
    let mut scenes = Vec::with_capacity(queries.len());
    let mut dpi = 150;
    for page_q in &queries {
        let (request, d) = page_q.parse(service, viewer)?;
        dpi = d;
        scenes.push(
            service
                .briefing_scene(viewer, request, format)
                .await
                .map_err(BriefingError::Service)?,
        );
    }
    let bytes = tokio::task::spawn_blocking(move || {
        let pages: Vec<String> = scenes.iter().map(page::svg).collect();
        if format == "pdf" {
            render::pdf(&pages)
        } else {
            render::png(pages.first().map_or("", String::as_str), dpi)
        }
    })
    .await
    .map_err(|e| BriefingError::Render(e.to_string()))?
    .map_err(|e| BriefingError::Render(e.to_string()))?;
    Ok(bytes)
}
