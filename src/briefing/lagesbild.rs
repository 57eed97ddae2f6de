//! The lägesbild document the law asks for (Lag 2023:196 om kommuners ansvar för
//! brottsförebyggande arbete, 4 §): a title page; (1) the mapping of crime — a map, counts per
//! area and category against the previous period and the same period last year, a 12-month
//! trend per category; (2) other relevant information and (3) the analysis — the text stored
//! for the report period, with the densest cells the service computes; the measures and their
//! follow-up; the sources used and those left out. Every number passed the caller's grant:
//! counts below exact are suppressed ("–") and the page says so; nothing is left out silently.
//! Deterministic for a given `as_of` and stored text; audited as an export.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime};

use super::document::{Column, Document, banner};
use super::page::{label, value_label};
use super::request::{BriefingError, BriefingQuery, parse_as_of, parse_days};
use super::{page, render};
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::incident::IncidentCategory;
use crate::domain::{Classification, Layer};
use crate::index::{Filters, Page, Spatial};
use crate::service::agenda::Period;
use crate::service::reports::ReportText;
use crate::service::visibility::{AggregateBy, SUPPRESSION_RULE, Shown};
use crate::service::{Service, ServiceError};
use crate::store::audit::AuditRow;

/// Query parameters of `GET /exports/lagesbild.pdf` and `lagesbild export lagesbild`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LagesbildQuery {
    /// First day of the period, `YYYY-MM-DD` (default: 364 days before `to`, a year).
    pub from: Option<String>,
    /// Last day, inclusive (default: the day of `as_of`).
    pub to: Option<String>,
    /// The report period whose stored text is printed (default: the year of `to`).
    pub period: Option<String>,
    /// Who the document is for (default "kommunens ledning och chefssamrådet").
    pub audience: Option<String>,
    /// The municipality or unit named on the title page (default "Kommunen").
    pub municipality: Option<String>,
    /// "Data as of" (RFC 3339); also what "now" means, so the same request gives the same bytes.
    pub as_of: Option<String>,
}

/// (area, category) → [period, previous, last year]; `None` where not shown.
type AreaTable = BTreeMap<(String, &'static str), [Option<usize>; 3]>;
/// Month labels, and per category the 12 monthly counts.
type Trend = (Vec<String>, BTreeMap<&'static str, Vec<usize>>);

/// What the document holds, gathered as the caller may see it.
struct Content {
    period: Period,
    previous: Period,
    last_year: Period,
    as_of: OffsetDateTime,
    /// (area, category) → [period, previous, last year]; `None` where not shown.
    counts: Option<AreaTable>,
    /// Month labels and per category the 12 monthly counts (suppressed cells add nothing).
    trend: Option<Trend>,
    /// The densest cells of the period: (cell, area, count, commonest category).
    hotspots: Option<Vec<(String, String, usize, &'static str)>>,
    suppressed: bool,
    text: Result<Option<ReportText>, String>,
    text_period: String,
    measures: Option<Vec<MeasureLine>>,
    follow_up_note: Option<String>,
    classification: Classification,
    map: Option<String>,
    /// Per area (by name): the working cameras' coverage of the period's incidents; `None` where
    /// the role does not see cameras exactly.
    coverage: Option<Vec<(String, crate::service::cameras::AreaCoverage)>>,
    /// Active routes (by name) and their scores over the period; `None` where the role does
    /// not count incidents or read routes exactly.
    routes: Option<Vec<(String, crate::service::routes::RouteScoreNote)>>,
}

struct MeasureLine {
    title: String,
    status: &'static str,
    owner: String,
    start: Option<Date>,
    due: Option<Date>,
    follow_up: String,
}

/// The 12 months ending with `to`'s month, each as the ISO weeks whose Monday lies in it (so
/// months never share a week and counts below exact, which are per week, add up).
fn months(to: Date) -> Vec<(String, Period)> {
    let mut out = Vec::new();
    let (mut y, mut m) = (to.year(), to.month());
    for _ in 0..12 {
        let first = Date::from_calendar_date(y, m, 1).unwrap_or(to);
        let monday = first
            + Duration::days(i64::from(
                (7 - first.weekday().number_days_from_monday()) % 7,
            ));
        let last_day = Date::from_calendar_date(y, m, m.length(y)).unwrap_or(to);
        let last_monday =
            last_day - Duration::days(i64::from(last_day.weekday().number_days_from_monday()));
        out.push((
            format!("{}-{:02}", y, u8::from(m)),
            Period {
                from: monday,
                to: last_monday + Duration::days(6),
            },
        ));
        if m == Month::January {
            y -= 1;
        }
        m = m.previous();
    }
    out.reverse();
    out
}

fn span(p: Period) -> Filters {
    Filters {
        time: Some(p.span()),
        ..Filters::default()
    }
}

async fn gather(
    service: &Service,
    viewer: &Viewer,
    q: &LagesbildQuery,
) -> Result<Content, BriefingError> {
    let as_of = parse_as_of(service, q.as_of.as_deref())?;
    let (from, to) = parse_days(q.from.as_deref(), q.to.as_deref(), as_of, 364)?;
    // Below exact, counts are per whole ISO week: the periods are the whole weeks inside the
    // one asked for, so no week is counted in two columns.
    let (from, to) = if matches!(
        viewer.precision(Layer::Incidents),
        Precision::Coarse | Precision::Aggregate
    ) {
        let days_to_monday = |d: Date| i64::from((7 - d.weekday().number_days_from_monday()) % 7);
        let first = from + Duration::days(days_to_monday(from));
        let last = to - Duration::days(i64::from(to.weekday().number_days_from_sunday()));
        if last < first {
            return Err(BriefingError::bad(
                "from",
                "the period holds no whole ISO week; counts below exact are per week, so choose at least a week from Monday to Sunday",
            ));
        }
        (first, last)
    } else {
        (from, to)
    };
    let text_period = q.period.clone().unwrap_or_else(|| to.year().to_string());
    crate::service::reports::check_period(&text_period).map_err(BriefingError::Invalid)?;
    let length = Duration::days((to - from).whole_days() + 1);
    let period = Period { from, to };
    let previous = Period {
        from: from - length,
        to: from - Duration::days(1),
    };
    let year = Duration::weeks(52);
    let last_year = Period {
        from: from - year,
        to: to - year,
    };
    let mut classification = Classification::Open;
    let incidents = viewer.precision(Layer::Incidents);
    let suppressed = matches!(incidents, Precision::Coarse | Precision::Aggregate);
    if suppressed {
        classification = classification.max(Classification::Internal);
    } else if incidents == Precision::Exact {
        // Exact counts may include anything up to the ceiling: classified as the ceiling.
        classification = classification.max(viewer.role.ceiling);
    }

    // (1) The mapping: counts per area and category, and the trend.
    let counted = service.counted_areas(viewer);
    let areas: BTreeMap<uuid::Uuid, String> = counted
        .iter()
        .filter_map(|a| match &a.properties {
            crate::domain::Properties::Area(p) => Some((a.id, p.name.to_string())),
            _ => None,
        })
        .collect();
    let (counts, trend, hotspots) = if incidents == Precision::None {
        (None, None, None)
    } else {
        let mut per = Vec::new();
        for p in [period, previous, last_year] {
            per.push(
                service
                    .area_counts(viewer, p)
                    .await
                    .map_err(BriefingError::Service)?,
            );
        }
        let mut counts = AreaTable::new();
        for (i, c) in per.iter().enumerate() {
            for (area, cats) in c {
                let Some(name) = areas.get(area) else {
                    continue;
                };
                for (cat, n) in cats {
                    let e = counts
                        .entry((name.clone(), cat))
                        .or_insert_with(|| if suppressed { [None; 3] } else { [Some(0); 3] });
                    e[i] = Some(*n);
                }
            }
        }
        let mut labels = Vec::new();
        let mut series: BTreeMap<&'static str, Vec<usize>> = IncidentCategory::NAMES
            .iter()
            .map(|c| (*c, Vec::new()))
            .collect();
        for (label, p) in months(to) {
            let agg = service
                .read_aggregate(
                    viewer,
                    Layer::Incidents,
                    AggregateBy::Grid,
                    &Spatial::All,
                    &span(p),
                )
                .await
                .map_err(BriefingError::Service)?;
            for s in series.values_mut() {
                s.push(0);
            }
            for b in agg.buckets {
                for (cat, n) in b.by_category {
                    if let Some(s) = series.get_mut(cat)
                        && let Some(last) = s.last_mut()
                    {
                        *last += n;
                    }
                }
            }
            labels.push(label);
        }
        let cells = service
            .read_aggregate(
                viewer,
                Layer::Incidents,
                AggregateBy::Grid,
                &Spatial::All,
                &span(period),
            )
            .await
            .map_err(BriefingError::Service)?;
        let outlines = service.counted_areas(viewer);
        let hot = cells
            .buckets
            .iter()
            .take(10)
            .map(|b| {
                use geo::{Centroid, Intersects};
                let centre = b.geometry.centroid();
                let area = outlines
                    .iter()
                    .find(|a| centre.is_some_and(|c| a.geometry().intersects(&c)))
                    .and_then(|a| areas.get(&a.id).cloned())
                    .unwrap_or_else(|| "utanför områdena".to_owned());
                let top = b
                    .by_category
                    .iter()
                    .max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c)))
                    .map_or("", |(c, _)| *c);
                (b.key.clone(), area, b.count, top)
            })
            .collect();
        (Some(counts), Some((labels, series)), Some(hot))
    };

    // (2) and (3): the stored text, if the role reads the meetings' records.
    let text = match service.report_text(viewer, &text_period).await {
        Ok(t) => {
            if let Some(t) = &t {
                classification = classification.max(t.draft.classification);
            }
            Ok(t)
        }
        Err(ServiceError::Forbidden(m)) => Err(m),
        Err(e) => return Err(BriefingError::Service(e)),
    };

    // The measures and their follow-up.
    let (measures, follow_up_note) = if viewer.precision(Layer::Measures) == Precision::Exact {
        let items = service
            .read_items(
                viewer,
                Layer::Measures,
                &Spatial::All,
                &Filters::default(),
                Page {
                    offset: 0,
                    limit: usize::MAX,
                },
            )
            .await
            .map_err(BriefingError::Service)?;
        let may_follow = incidents == Precision::Exact;
        let mut lines = Vec::new();
        for shown in items.features {
            let Shown::Exact { feature, hide } = shown else {
                continue;
            };
            let crate::domain::Properties::Measure(m) = &feature.properties else {
                continue;
            };
            classification = classification.max(feature.meta.classification);
            let follow_up = if !may_follow {
                String::new()
            } else {
                match service
                    .measure_follow_up(viewer, feature.id, as_of.date())
                    .await
                {
                    Ok(f) => format!(
                        "{}: före {} ({} – {}), efter {} ({} – {}); {}: {} → {}. {}",
                        f.area,
                        f.counts.before,
                        f.before.0,
                        f.before.1,
                        f.counts.after,
                        f.after.0,
                        f.after.1,
                        f.comparison,
                        f.counts.comparison_before,
                        f.counts.comparison_after,
                        f.verdict.swedish()
                    ),
                    Err(ServiceError::Invalid(_)) => {
                        "Ingen uppföljning: åtgärden ligger i inget område.".to_owned()
                    }
                    Err(e) => return Err(BriefingError::Service(e)),
                }
            };
            // The grant's hidden properties stay hidden on paper too.
            let hidden = |f: &str| hide.iter().any(|h| h == f);
            lines.push(MeasureLine {
                title: if hidden("title") {
                    "–".to_owned()
                } else {
                    m.title.to_string()
                },
                status: if hidden("status") {
                    "–"
                } else {
                    m.status.as_str()
                },
                owner: if hidden("owner") {
                    "–".to_owned()
                } else {
                    m.owner.to_string()
                },
                start: (!hidden("start")).then_some(m.start),
                due: if hidden("due") { None } else { m.due },
                follow_up,
            });
        }
        lines.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.title.cmp(&b.title)));
        let note = (!may_follow).then(|| {
            "Uppföljningen (antal före och efter) visas inte med din behörighet: den skulle visa antal under 3.".to_owned()
        });
        (Some(lines), note)
    } else {
        (None, None)
    };

    // The map of the period: every area the role sees.
    let map_query = BriefingQuery {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        title: Some("Kartläggning – händelser, riskmiljöer, kameror och rutter".into()),
        audience: q.audience.clone(),
        as_of: Some(as_of.format(&Rfc3339).unwrap_or_default()),
        ..BriefingQuery::default()
    };
    let map = match map_query.parse(service, viewer) {
        Ok((request, _)) => {
            let scene = service
                .briefing_scene(viewer, request, "lagesbild")
                .await
                .map_err(BriefingError::Service)?;
            classification = classification.max(scene.classification);
            Some(page::svg(&scene))
        }
        // No area to draw (none visible): the document says so.
        Err(BriefingError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let area_outlines: Vec<(uuid::Uuid, geo::Geometry<f64>)> = counted
        .iter()
        .map(|a| (a.id, a.geometry().into_owned()))
        .collect();
    let coverage = service
        .coverage_by_area(viewer, &span(period), &area_outlines)
        .await
        .map_err(BriefingError::Service)?
        .map(|by_area| {
            let mut rows: Vec<(String, crate::service::cameras::AreaCoverage)> = by_area
                .into_iter()
                .filter_map(|(id, c)| Some((areas.get(&id)?.clone(), c)))
                .filter(|(_, c)| c.incidents > 0.0)
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows
        });
    if coverage.is_some() {
        // Worked out from the camera register, which is internal.
        classification = classification.max(Classification::Internal);
    }
    let routes = service
        .active_route_scores(viewer, &span(period))
        .await
        .map_err(BriefingError::Service)?
        .map(|by_id| {
            let mut rows: Vec<(String, crate::service::routes::RouteScoreNote)> =
                by_id.into_values().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows
        });
    Ok(Content {
        coverage,
        routes,
        period,
        previous,
        last_year,
        as_of,
        counts,
        trend,
        hotspots,
        suppressed,
        text,
        text_period,
        measures,
        follow_up_note,
        classification,
        map,
    })
}

fn shown(n: Option<usize>) -> String {
    n.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

fn category(c: &str) -> String {
    label("incidents", c)
}

fn compose(c: &Content, viewer: &Viewer, q: &LagesbildQuery) -> Vec<String> {
    let audience = q
        .audience
        .as_deref()
        .map_or("kommunens ledning och chefssamrådet".to_owned(), |a| {
            a.chars().filter(|c| !c.is_control()).take(80).collect()
        });
    let municipality: String = q
        .municipality
        .as_deref()
        .unwrap_or("Kommunen")
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let as_of = c
        .as_of
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default();
    let mut doc = Document::new(
        banner(c.classification, &audience),
        &format!(
            "Lägesbild {} · {} – {} · data per {as_of} UTC · lagesbild",
            municipality, c.period.from, c.period.to
        ),
    );

    // Title page.
    doc.space(120.0);
    doc.heading("Lägesbild", 2);
    doc.paragraph(&municipality, 14.0, false);
    doc.paragraph(
        "Kartläggning och analys av brottsligheten enligt 4 § lagen (2023:196) om kommuners ansvar för brottsförebyggande arbete",
        10.0,
        false,
    );
    doc.space(12.0);
    doc.paragraph(
        &format!(
            "Period: {} – {}. Jämförs med föregående lika långa period ({} – {}) och samma period ett år tidigare ({} – {}).",
            c.period.from, c.period.to, c.previous.from, c.previous.to, c.last_year.from, c.last_year.to
        ),
        9.0,
        false,
    );
    doc.paragraph(
        &format!(
            "Data per {as_of} UTC. Mottagare: {audience}. Framtagen med rollen {}.",
            viewer.role.label
        ),
        9.0,
        false,
    );
    doc.space(12.0);
    doc.paragraph("Innehåll", 11.0, false);
    for s in [
        "1. Kartläggning av brottsligheten",
        "2. Annan relevant information",
        "3. Analys",
        "4. Åtgärder och uppföljning",
        "5. Källor",
    ] {
        doc.paragraph(s, 9.0, false);
    }

    // 1. The mapping.
    doc.heading("1. Kartläggning av brottsligheten", 1);
    doc.paragraph(
        "Brottslighetens omfattning per område och kategori under perioden, mot föregående period och samma period ett år tidigare, och utvecklingen de senaste tolv månaderna.",
        9.0,
        false,
    );
    if c.suppressed {
        doc.paragraph(
            &format!("– = visas inte med din behörighet. {SUPPRESSION_RULE}"),
            7.5,
            true,
        );
    }
    match &c.counts {
        None => doc.paragraph(
            "Händelser ingår inte i din behörighet; kartläggningen av brottsligheten visas inte.",
            9.0,
            true,
        ),
        Some(counts) => {
            doc.heading("Händelser per område och kategori", 2);
            if counts.is_empty() {
                doc.paragraph(
                    if c.suppressed {
                        "Inga antal att visa (färre än 3 visas inte)."
                    } else {
                        "Inga händelser i områdena under perioden."
                    },
                    9.0,
                    true,
                );
            }
            let w = Document::width();
            let columns = [
                Column::text("Område", w * 0.22),
                Column::text("Kategori", w * 0.33),
                Column::number("Perioden", w * 0.15),
                Column::number("Föregående", w * 0.15),
                Column::number("Ett år tidigare", w * 0.15),
            ];
            let rows: Vec<Vec<String>> = counts
                .iter()
                .map(|((area, cat), n)| {
                    vec![
                        area.clone(),
                        category(cat),
                        shown(n[0]),
                        shown(n[1]),
                        shown(n[2]),
                    ]
                })
                .collect();
            doc.table(&columns, &rows, None);
        }
    }
    if let Some((labels, series)) = &c.trend {
        doc.heading("Utveckling de senaste tolv månaderna", 2);
        doc.paragraph(
            "Händelser per kategori och månad (en månad är de ISO-veckor som börjar i den).",
            7.5,
            true,
        );
        let w = Document::width();
        let mut columns = vec![Column::text("Kategori", 88.0)];
        for l in labels {
            columns.push(Column::number(l.rsplit('-').next().unwrap_or(l), 26.0));
        }
        columns.push(Column::text("Trend", w - 88.0 - 26.0 * 12.0));
        let mut rows = Vec::new();
        let mut sparks = Vec::new();
        for (cat, values) in series {
            if values.iter().all(|v| *v == 0) {
                continue;
            }
            let mut row = vec![category(cat)];
            row.extend(values.iter().map(|v| {
                if *v == 0 && c.suppressed {
                    "–".to_owned()
                } else {
                    v.to_string()
                }
            }));
            row.push(String::new());
            rows.push(row);
            #[allow(clippy::cast_precision_loss)]
            sparks.push(values.iter().map(|v| *v as f64).collect());
        }
        doc.paragraph(
            &format!(
                "Månader: {} till {}.",
                labels.first().map_or("", String::as_str),
                labels.last().map_or("", String::as_str)
            ),
            7.5,
            true,
        );
        doc.table(&columns, &rows, Some(&sparks));
    }
    match &c.map {
        Some(svg) => doc.full_page(svg.clone()),
        None => doc.paragraph("Ingen karta: du ser inga områden.", 9.0, true),
    }

    // 2. Other relevant information.
    doc.heading("2. Annan relevant information", 1);
    match &c.text {
        Err(_) => doc.paragraph(
            &format!("Den sparade texten för {} visas inte med din behörighet.", c.text_period),
            9.0,
            true,
        ),
        Ok(None) => doc.paragraph(
            &format!(
                "Ingen text sparad för rapportperioden {}. Säkerhetssamordnaren skriver den med PUT /reports/lagesbild/{}.",
                c.text_period, c.text_period
            ),
            9.0,
            true,
        ),
        Ok(Some(t)) if t.draft.other_information.is_empty() => {
            doc.paragraph("Ingen annan information har skrivits för perioden.", 9.0, true);
        }
        Ok(Some(t)) => {
            for s in &t.draft.other_information {
                doc.heading(&s.heading, 2);
                doc.paragraph(&s.text, 9.0, false);
            }
        }
    }

    // 3. The analysis.
    doc.heading("3. Analys", 1);
    match &c.text {
        Ok(Some(t)) if !t.draft.analysis.trim().is_empty() => {
            doc.paragraph(&t.draft.analysis, 9.0, false);
        }
        Ok(_) => doc.paragraph(
            &format!("Ingen skriven analys sparad för {}.", c.text_period),
            9.0,
            true,
        ),
        Err(_) => doc.paragraph(
            "Den skrivna analysen visas inte med din behörighet.",
            9.0,
            true,
        ),
    }
    if let Some(hot) = &c.hotspots {
        doc.heading("Tätaste 250 m-rutor under perioden", 2);
        if hot.is_empty() {
            doc.paragraph("Inga rutor att visa.", 9.0, true);
        } else {
            let w = Document::width();
            let rows: Vec<Vec<String>> = hot
                .iter()
                .map(|(cell, area, n, top)| {
                    vec![cell.clone(), area.clone(), n.to_string(), category(top)]
                })
                .collect();
            doc.table(
                &[
                    Column::text("Ruta (SWEREF 99 TM / 250 m)", w * 0.3),
                    Column::text("Område", w * 0.25),
                    Column::number("Händelser", w * 0.15),
                    Column::text("Vanligast", w * 0.3),
                ],
                &rows,
                None,
            );
        }
    }

    if let Some(rows) = &c.coverage {
        doc.heading("Kamerornas täckning under perioden", 2);
        if rows.is_empty() {
            doc.paragraph("Inga händelser att räkna täckning för.", 9.0, true);
        } else {
            let pct = |x: f64, n: f64| format!("{:.1} %", x / n * 100.0).replace('.', ",");
            let error = rows.first().map_or(0.0, |(_, r)| r.error_m);
            doc.paragraph(
                &format!(
                    "Andel av periodens händelser som ligger inom synfältet för en kamera i drift, och intervallet när ett positionsfel på {error:.0} m räknas in (säkert inom – möjligen inom)."
                ),
                9.0,
                false,
            );
            let w = Document::width();
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(name, r)| {
                    vec![
                        name.clone(),
                        format!("{:.0}", r.incidents),
                        pct(r.seen, r.incidents),
                        format!(
                            "{} – {}",
                            pct(r.certainly, r.incidents),
                            pct(r.possibly, r.incidents)
                        ),
                    ]
                })
                .collect();
            doc.table(
                &[
                    Column::text("Område", w * 0.35),
                    Column::number("Händelser", w * 0.15),
                    Column::number("Inom synfält", w * 0.2),
                    Column::text("Intervall", w * 0.3),
                ],
                &table,
                None,
            );
            if rows.iter().any(|(_, r)| r.cameras_partial) {
                doc.paragraph(
                    "Fler kameror än som räknas i ett svar (5 000): täckningen gäller de första.",
                    9.0,
                    true,
                );
            }
        }
    }

    if let Some(rows) = &c.routes {
        doc.heading("Rutternas poäng under perioden", 2);
        if rows.is_empty() {
            doc.paragraph("Inga aktiva rutter.", 9.0, true);
        } else {
            doc.paragraph(
                "Händelser inom 100 m av varje aktiv rutt per km, också räknat bara under ruttens dagar och tider där behörigheten ger klockslag; träffindex (PAI): korridorens andel av händelserna i områdena den passerar delat med dess andel av ytan; heta celler (Gi*) som passeras per timmes promenad (4,5 km/h).",
                9.0,
                false,
            );
            let n = |x: f64, d: usize| format!("{x:.d$}").replace('.', ",");
            let w = Document::width();
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(name, r)| {
                    vec![
                        name.clone(),
                        format!("{} km", n(r.length_m / 1000.0, 1)),
                        n(r.per_km, 1),
                        r.in_hours_per_km
                            .map_or_else(|| "–".to_owned(), |v| n(v, 1)),
                        r.pai.map_or_else(|| "–".to_owned(), |v| n(v, 2)),
                        n(r.hot_cells_per_hour, 1),
                    ]
                })
                .collect();
            doc.table(
                &[
                    Column::text("Rutt", w * 0.3),
                    Column::number("Längd", w * 0.12),
                    Column::number("Händelser/km", w * 0.15),
                    Column::number("Under tiderna/km", w * 0.17),
                    Column::number("PAI", w * 0.1),
                    Column::number("Heta celler/h", w * 0.16),
                ],
                &table,
                None,
            );
        }
    }

    // 4. Measures and follow-up.
    doc.heading("4. Åtgärder och uppföljning", 1);
    match &c.measures {
        None => doc.paragraph("Åtgärder ingår inte i din behörighet.", 9.0, true),
        Some(lines) if lines.is_empty() => doc.paragraph("Inga åtgärder registrerade.", 9.0, true),
        Some(lines) => {
            let w = Document::width();
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|m| {
                    vec![
                        m.title.clone(),
                        value_label(m.status),
                        m.owner.clone(),
                        m.start.map_or_else(|| "–".to_owned(), |d| d.to_string()),
                        m.due.map_or_else(|| "–".to_owned(), |d| d.to_string()),
                    ]
                })
                .collect();
            doc.table(
                &[
                    Column::text("Åtgärd", w * 0.34),
                    Column::text("Status", w * 0.16),
                    Column::text("Ansvarig", w * 0.26),
                    Column::text("Start", w * 0.12),
                    Column::text("Klar senast", w * 0.12),
                ],
                &rows,
                None,
            );
            doc.heading("Uppföljning", 2);
            if let Some(note) = &c.follow_up_note {
                doc.paragraph(note, 9.0, true);
            } else {
                doc.paragraph(
                    "Händelser av åtgärdens kategorier i dess område, lika långa perioder före och efter starten, mot ett jämförelseområde; kvoten av kvoterna med 95 % exakt konfidensintervall.",
                    7.5,
                    true,
                );
                for m in lines {
                    doc.paragraph(&m.title, 9.0, false);
                    doc.paragraph(&m.follow_up, 8.0, false);
                }
            }
        }
    }

    // 5. Sources.
    doc.heading("5. Källor", 1);
    doc.heading("Använda", 2);
    let mut left_out = Vec::new();
    for layer in Layer::ALL {
        let p = viewer.precision(*layer);
        let what = match p {
            Precision::None => {
                left_out.push(format!("{}: ingår inte i din behörighet.", layer.title()));
                continue;
            }
            Precision::Aggregate => "antal per område och ruta (under 3 visas inte)",
            Precision::Coarse => "grovt (250 m-ruta, vecka, kategori; antal under 3 visas inte)",
            Precision::Exact => "exakt",
        };
        doc.paragraph(&format!("{}: {what}.", layer.title()), 8.5, false);
    }
    match &c.text {
        Ok(Some(t)) => doc.paragraph(
            &format!(
                "Sparad text för {} (version {}, ändrad {}).",
                t.period,
                t.version,
                t.updated_at.date()
            ),
            8.5,
            false,
        ),
        Ok(None) => left_out.push(format!("Ingen sparad text för {}.", c.text_period)),
        Err(_) => left_out.push(format!(
            "Den sparade texten för {} (din behörighet).",
            c.text_period
        )),
    }
    if c.suppressed {
        left_out.push(format!("Små antal: {SUPPRESSION_RULE}"));
    }
    if c.follow_up_note.is_some() {
        left_out.push("Åtgärdernas uppföljning (din behörighet).".to_owned());
    }
    doc.heading("Utelämnade", 2);
    if left_out.is_empty() {
        doc.paragraph("Inget.", 8.5, false);
    }
    for l in &left_out {
        doc.paragraph(l, 8.5, false);
    }
    doc.paragraph(
        "Områdesgränserna är ungefärliga och projektets egna (geodata/), inte officiella gränser.",
        7.5,
        true,
    );
    doc.finish()
}

/// Makes the lägesbild PDF as `viewer` may see it, and audits it. The one use case behind
/// `GET /exports/lagesbild.pdf` and `lagesbild export lagesbild`.
///
/// # Errors
/// [`BriefingError::Invalid`] for parameters; [`BriefingError::Service`] for store failures.
#[tracing::instrument(level = "debug", skip_all, fields(user = %viewer.user))]
pub async fn make_lagesbild(
    service: &Service,
    viewer: &Viewer,
    q: &LagesbildQuery,
) -> Result<Vec<u8>, BriefingError> {
    let content = gather(service, viewer, q).await?;
    let pages = compose(&content, viewer, q);
    let row = AuditRow::new(service.clock().now(), AuditAction::Export, AuditOutcome::Ok).detail(
        format!(
            "lägesbild pdf: {} to {}, text {}, {} pages, classified {}",
            content.period.from,
            content.period.to,
            content.text_period,
            pages.len(),
            content.classification
        ),
    );
    service
        .audit(viewer, row)
        .await
        .map_err(BriefingError::Service)?;
    tokio::task::spawn_blocking(move || render::pdf(&pages))
        .await
        .map_err(|e| BriefingError::Render(e.to_string()))?
        .map_err(|e| BriefingError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_whole_weeks_that_never_overlap() {
        let ms = months(date!(2026 - 11 - 23));
        assert_eq!(ms.len(), 12);
        assert_eq!(ms[0].0, "2025-12");
        assert_eq!(ms[11].0, "2026-11");
        for w in ms.windows(2) {
            assert_eq!(w[0].1.to + Duration::days(1), w[1].1.from, "{w:?}");
        }
        for (_, p) in &ms {
            assert_eq!(p.from.weekday(), time::Weekday::Monday);
            assert_eq!(p.to.weekday(), time::Weekday::Sunday);
        }
        // November 2026: Mondays 2, 9, 16, 23, 30.
        assert_eq!(ms[11].1.from, date!(2026 - 11 - 02));
        assert_eq!(ms[11].1.to, date!(2026 - 12 - 06));
    }
}
