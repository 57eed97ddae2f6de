//! A measure's follow-up: did the incidents it aims at change in its area, compared with a
//! comparison area over the same windows? Counts are exact, so only roles that read both the
//! measure and the incidents exactly get one; the statistics are in [`crate::analysis::rates`].

use std::sync::Arc;

use geo::{Centroid, Geometry, MultiPolygon, Polygon};
use time::{Date, Duration};
use uuid::Uuid;

use super::visibility::Shown;
use super::{Service, ServiceError};
use crate::analysis::rates::{FollowUpCounts, Verdict, follow_up};
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::measure::Measure;
use crate::domain::time::TimeSpan;
use crate::domain::{Feature, Layer, Properties};
use crate::index::{Filters, Spatial};
use crate::store::audit::AuditRow;

/// The longest window compared on each side of a measure's start.
pub const MAX_WINDOW_DAYS: i64 = 365;

/// A measure's follow-up, as the agenda and the lägesbild document show it.
#[derive(Debug, Clone)]
pub struct FollowUp {
    /// The measure.
    pub measure: Uuid,
    /// The area it is followed up in.
    pub area: String,
    /// What it is compared with.
    pub comparison: String,
    /// The window before its start (first and last day).
    pub before: (Date, Date),
    /// The window from its start (first and last day), as long as the one before.
    pub after: (Date, Date),
    /// The four counts of the target categories.
    pub counts: FollowUpCounts,
    /// What can honestly be said.
    pub verdict: Verdict,
}

/// The named outlines a viewer may see: (name, polygons).
fn outlines(areas: &[Arc<Feature>]) -> Vec<(String, Geometry<f64>)> {
    areas
        .iter()
        .filter_map(|a| match &a.properties {
            Properties::Area(p) => Some((p.name.to_string(), a.geometry().into_owned())),
            _ => None,
        })
        .collect()
}

fn polygons(g: &Geometry<f64>) -> Vec<Polygon<f64>> {
    match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(m) => m.0.clone(),
        _ => Vec::new(),
    }
}

impl Service {
    /// The follow-up of measure `id` as of `today`.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for roles that do not read incidents exactly (the counts
    /// would say more than their grant) and for the measure's own grant; [`ServiceError::NotFound`];
    /// [`ServiceError::Invalid`] when the measure lies in no area or names an unknown comparison
    /// area.
    pub async fn measure_follow_up(
        &self,
        viewer: &Viewer,
        id: Uuid,
        today: Date,
    ) -> Result<FollowUp, ServiceError> {
        let shown = self.read_item(viewer, Layer::Measures, id).await?;
        let Shown::Exact { feature, .. } = shown else {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) sees measures only coarsely; a follow-up needs them exactly",
                viewer.role.label
            )));
        };
        if viewer.precision(Layer::Incidents) != Precision::Exact {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not count incidents exactly, so it gets no follow-up (it would show counts below 3)",
                viewer.role.label
            )));
        }
        let Properties::Measure(m) = &feature.properties else {
            return Err(ServiceError::NotFound(Layer::Measures, id));
        };
        let areas = outlines(&self.counted_areas(viewer));
        let (area_name, target) = target_area(&feature.geometry(), &areas).ok_or_else(|| {
            crate::domain::ValidationErrors::one(
                "/geometry",
                "the measure lies in no area; draw it inside one (or as the area's outline)",
            )
        })?;
        let (comparison_name, comparison) = comparison_area(m, &area_name, &areas)?;
        let end = m.end.unwrap_or(today).min(today);
        let days = (end - m.start).whole_days().clamp(0, MAX_WINDOW_DAYS);
        let after = (m.start, m.start + Duration::days((days - 1).max(0)));
        let before = (
            m.start - Duration::days(days.max(1)),
            m.start - Duration::days(1),
        );
        let count = |region: &Geometry<f64>, (first, last): (Date, Date)| -> u64 {
            if days == 0 {
                return 0;
            }
            let filters = Filters {
                time: Some(TimeSpan {
                    start: first.midnight().assume_utc().unix_timestamp(),
                    end: last.midnight().assume_utc().unix_timestamp() + 86_399,
                }),
                categories: Some(m.target_categories.iter().map(|c| c.code()).collect()),
                statuses: None,
                max_classification: Some(viewer.role.ceiling.code()),
            };
            self.index()
                .matching(
                    Layer::Incidents,
                    &Spatial::Intersects(region.clone()),
                    &filters,
                )
                .len() as u64
        };
        let counts = FollowUpCounts {
            before: count(&target, before),
            after: count(&target, after),
            comparison_before: count(&comparison, before),
            comparison_after: count(&comparison, after),
        };
        let verdict = if days < 7 {
            Verdict::TooFew
        } else {
            follow_up(counts)
        };
        let row = AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
            .layer(Layer::Incidents)
            .features([id])
            .detail(format!(
                "follow-up of measure {id}: {} and {} incidents at exact precision",
                counts.before + counts.after,
                counts.comparison_before + counts.comparison_after
            ));
        self.audit(viewer, row).await?;
        Ok(FollowUp {
            measure: id,
            area: area_name,
            comparison: comparison_name,
            before,
            after,
            counts,
            verdict,
        })
    }
}

/// The area a measure targets: its own outline when it is a polygon, else the visible area
/// holding its centre.
fn target_area(
    g: &Geometry<f64>,
    areas: &[(String, Geometry<f64>)],
) -> Option<(String, Geometry<f64>)> {
    use geo::Intersects;
    if matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_)) {
        let name = areas
            .iter()
            .find(|(_, a)| a.intersects(g))
            .map_or_else(|| "åtgärdens område".to_owned(), |(n, _)| n.clone());
        return Some((name, g.clone()));
    }
    let centre = g.centroid()?;
    areas
        .iter()
        .find(|(_, a)| a.intersects(&centre))
        .map(|(n, a)| (n.clone(), a.clone()))
}

/// The comparison: the named area, or every other visible area.
fn comparison_area(
    m: &Measure,
    target: &str,
    areas: &[(String, Geometry<f64>)],
) -> Result<(String, Geometry<f64>), ServiceError> {
    if let Some(name) = &m.comparison_area {
        return areas
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, g)| (n.clone(), g.clone()))
            .ok_or_else(|| {
                let names: Vec<&str> = areas.iter().map(|(n, _)| n.as_str()).collect();
                crate::domain::ValidationErrors::one(
                    "/properties/comparison_area",
                    format!("no area named '{name}'; areas: {}", names.join(", ")),
                )
                .into()
            });
    }
    let rest: Vec<Polygon<f64>> = areas
        .iter()
        .filter(|(n, _)| n != target)
        .flat_map(|(_, g)| polygons(g))
        .collect();
    Ok((
        "övriga områden".to_owned(),
        Geometry::MultiPolygon(MultiPolygon(rest)),
    ))
}
