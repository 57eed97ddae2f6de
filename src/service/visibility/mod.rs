//! Need to know, enforced: the one place that decides what a caller may see.
//!
//! Every path that returns data (items, single features, aggregates, exports, live events)
//! asks this module, with the caller's [`Viewer`]. The rules:
//!
//! - A feature above the role's classification ceiling does not exist for it: not in lists,
//!   not in counts, a 404 like any unknown id (the index filters on the ceiling, so even
//!   `numberMatched` cannot tell).
//! - `none`: the layer is refused (403, which says nothing about any feature).
//! - `aggregate`: only counts per area or 250 m grid cell; cells with fewer than
//!   [`MIN_CELL_COUNT`] features are left out.
//! - `coarse`: the position becomes the centre of its 250 m SWEREF 99 TM grid cell (stable: the
//!   same position always lands in the same cell) and the properties are reduced to category,
//!   ISO week and area. Filters are applied to what is shown, never to what is hidden: boxes and
//!   distances test the cell centre, time windows are widened to whole ISO weeks, and a status
//!   filter is refused, so many small questions cannot refine an answer.
//! - `exact`: everything, less the grant's hidden properties.

pub(crate) mod counts;
mod extents;
mod grid;
mod read_cover;
mod shown;
mod tile_cache;
mod tiles;

pub(crate) use counts::cpu_bound;
pub use extents::{LayerSummary, round_out};
pub use grid::Grid;
pub use read_cover::{COVERED_FOR, ReadCover};
pub use shown::{CoarseFeature, Shown};
pub use tile_cache::TileCache;
pub use tiles::TileAnswer;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::{Centroid, Geometry, Point};
use uuid::Uuid;

use super::{Change, Service, ServiceError};
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::time::{week_start, widen_to_weeks};
use crate::domain::{Feature, Layer};
use crate::filter::Refine;
use crate::index::query::matches_spatial;
use crate::index::{Filters, Page, Spatial};
use crate::store::audit::AuditRow;

/// Each grid cell's centre and the open area holding it (`None`: the cell has no centre),
/// worked out once per answer: many features share a cell, and the centre is a projection.
pub(crate) type Cells = HashMap<(i64, i64), Option<(Point<f64>, Option<Arc<str>>)>>;

/// Features a coarse answer coarsens on the calling thread; past this, on every core.
const COARSEN_ALONE: usize = 4_096;

/// The side of a coarse grid cell, in metres (SWEREF 99 TM).
pub const CELL_M: f64 = 250.0;
/// Aggregate cells (and categories within them) with fewer features than this are left out for
/// roles below `exact`.
pub const MIN_CELL_COUNT: usize = 3;
/// How far a coarse cell centre can be from the position it stands for (half the diagonal),
/// rounded up: candidates are searched this much wider, then tested on the centre.
pub(crate) const CELL_REACH_M: f64 = 180.0;

/// The most features a `filter` or `sortby` is applied to in one request (each is built as the
/// JSON the caller would receive, about 3 µs apiece): more is a 422 asking for a box or window.
pub const MAX_REFINED: usize = 250_000;

/// Refuses a filter or sortby over more than [`MAX_REFINED`] features.
fn too_many_to_refine(n: usize) -> Result<(), ServiceError> {
    if n > MAX_REFINED {
        return Err(ServiceError::Unanswerable(
            crate::domain::ValidationErrors::one(
                "filter",
                format!(
                    "a filter or sortby is applied to at most {MAX_REFINED} features, and {n} match the other parameters; narrow them with bbox or datetime"
                ),
            ),
        ));
    }
    Ok(())
}

/// A page of features as a caller may see them.
#[derive(Debug, Clone)]
pub struct Items {
    /// How many match in all (only what the caller may see).
    pub matched: usize,
    /// The page.
    pub features: Vec<Shown>,
}

/// What to count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateBy {
    /// 250 m grid cells.
    Grid,
    /// The areas layer's outlines.
    Area,
}

/// One counted cell or area.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// The cell (`E2648_N26280`: easting and northing over 250 m) or the area's id.
    pub key: String,
    /// The area's name.
    pub name: Option<Arc<str>>,
    /// The cell's square or the area's outline.
    pub geometry: Geometry<f64>,
    /// Features in it.
    pub count: usize,
    /// Features per category (categories under the minimum left out below `exact`).
    pub by_category: BTreeMap<&'static str, usize>,
}

/// What an answer handed out at exact precision, for its audit record.
#[derive(Debug, Clone, Default)]
pub struct ExactRead {
    /// Features at exact precision.
    pub count: usize,
    /// The restricted ones among them.
    pub restricted: Vec<Uuid>,
    /// The feature, when there was exactly one.
    pub single: Option<Uuid>,
}

impl ExactRead {
    /// What `shown` hands out exactly.
    #[must_use]
    pub fn of(shown: &[Shown]) -> Self {
        let mut r = Self::default();
        for s in shown {
            if let Shown::Exact { feature, .. } = s {
                r.count += 1;
                r.single = Some(feature.id);
                if feature.meta.classification == crate::domain::Classification::Restricted {
                    r.restricted.push(feature.id);
                }
            }
        }
        if r.count != 1 {
            r.single = None;
        }
        r
    }
}

/// Counts per cell or area.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// The counted buckets, largest first.
    pub buckets: Vec<Bucket>,
    /// Whether small buckets were left out (below `exact`; see [`SUPPRESSION_RULE`]). How many
    /// is deliberately not said: a count per question would locate them.
    pub suppressing: bool,
    /// The smallest count shown (1 for exact viewers).
    pub min_count: usize,
}

/// What a counts answer below `exact` leaves out, in words (shown with every such answer).
pub const SUPPRESSION_RULE: &str = "Counts below 3 per 250 m cell, ISO week and category (and per area, week and category) are not shown, nor are some further cells whose number would let the hidden ones be worked out; an area whose outline overlaps a smaller one is not counted; every total is the sum of what is shown.";

fn forbidden(viewer: &Viewer, layer: Layer, what: &str) -> ServiceError {
    ServiceError::Forbidden(format!(
        "your role ({}) {what} the layer '{layer}'",
        viewer.role.label
    ))
}

/// A spatial predicate widened by the cell reach, to find every feature whose cell centre may
/// pass the original predicate.
fn widen_spatial(spatial: &Spatial) -> Spatial {
    match spatial {
        Spatial::All => Spatial::All,
        Spatial::Bbox(b) => Spatial::Bbox(b.grown(CELL_REACH_M)),
        Spatial::Near { point, metres } => Spatial::Near {
            point: *point,
            metres: metres + CELL_REACH_M,
        },
        Spatial::Intersects(g) => Spatial::WithinDistance {
            geometry: g.clone(),
            metres: CELL_REACH_M,
        },
        Spatial::WithinDistance { geometry, metres } => Spatial::WithinDistance {
            geometry: geometry.clone(),
            metres: metres + CELL_REACH_M,
        },
    }
}

/// The bounding box of a predicate, for the audit log.
pub(crate) fn spatial_bbox(spatial: &Spatial) -> Option<[f64; 4]> {
    match spatial {
        Spatial::All => None,
        Spatial::Bbox(b) => Some(b.to_array()),
        Spatial::Near { point, metres } => Some(crate::index::query::grow_bounds(
            [point.x(), point.y(), point.x(), point.y()],
            *metres,
        )),
        Spatial::Intersects(g) => Some(crate::domain::geometry::bounds(g)),
        Spatial::WithinDistance { geometry, metres } => Some(crate::index::query::grow_bounds(
            crate::domain::geometry::bounds(geometry),
            *metres,
        )),
    }
}

fn representative_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        other => other.centroid(),
    }
}

impl Service {
    /// The precision `viewer` has on `layer`, refusing layers it has no access to at all.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none`.
    pub fn precision(&self, viewer: &Viewer, layer: Layer) -> Result<Precision, ServiceError> {
        match viewer.precision(layer) {
            Precision::None => Err(forbidden(viewer, layer, "has no access to")),
            p => Ok(p),
        }
    }

    /// The JSON Schema of `layer`'s features as `viewer` receives them: its exact fields less
    /// the grant's hidden ones, or the coarse view's. `id` is the document's `$id`.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none` and `aggregate` layers (they have no features).
    pub fn feature_schema(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: &str,
    ) -> Result<serde_json::Value, ServiceError> {
        match self.precision(viewer, layer)? {
            Precision::None | Precision::Aggregate => Err(forbidden(
                viewer,
                layer,
                "sees only counts (GET /collections/{id}/aggregate) in",
            )),
            Precision::Coarse => Ok(crate::domain::schema::feature_schema(layer, true, &[], id)),
            Precision::Exact => Ok(crate::domain::schema::feature_schema(
                layer,
                false,
                &Self::hidden(viewer, layer),
                id,
            )),
        }
    }

    fn ceiling_filters(viewer: &Viewer, filters: &Filters) -> Filters {
        let mut f = filters.clone();
        f.max_classification = Some(viewer.role.ceiling.code());
        f
    }

    fn hidden(viewer: &Viewer, layer: Layer) -> Arc<[String]> {
        Arc::from(viewer.role.grant(layer).hide.as_slice())
    }

    /// The area holding `p`, by name (any classification: for the server's own records).
    pub(crate) fn area_of(&self, p: Point<f64>) -> Option<Arc<str>> {
        self.area_at(p, None)
    }

    /// The counted area (a district or other, never a municipality) holding `p`, by name, among
    /// areas classified at most `max_class`.
    fn area_at(&self, p: Point<f64>, max_class: Option<u8>) -> Option<Arc<str>> {
        let hit = self.index().query(
            Layer::Areas,
            &Spatial::Intersects(Geometry::Point(p)),
            &Filters {
                max_classification: max_class,
                ..Filters::default()
            },
            Page {
                offset: 0,
                limit: 64,
            },
        );
        hit.features.iter().find_map(|a| match &a.properties {
            crate::domain::Properties::Area(area) if area.is_counted() => {
                Some(Arc::from(&*area.name))
            }
            _ => None,
        })
    }

    /// The coarse view of a feature (`cells` keeps each cell's centre and area for the answer).
    fn coarsen(&self, f: &Feature, cells: &mut Cells) -> Option<CoarseFeature> {
        let p = representative_point(&f.geometry())?;
        let cell = self.grid.cell_of(p)?;
        let (centre, area) = cells
            .entry(cell)
            .or_insert_with(|| {
                let centre = self.grid.centre(cell)?;
                // Coarse views name only open areas, so the name never says more than the role
                // may see.
                let area = self.area_at(centre, Some(crate::domain::Classification::Open.code()));
                Some((centre, area))
            })
            .clone()?;
        let layer = f.layer();
        let span = f.properties.time_span();
        Some(CoarseFeature {
            id: f.id,
            layer,
            cell,
            centre,
            category: f
                .properties
                .category_code()
                .and_then(|c| layer.category_names().get(usize::from(c)).copied()),
            week_start: (span.start != i64::MIN).then(|| week_start(span.start)),
            area,
        })
    }

    /// A page of `layer`'s features as `viewer` may see them; reads of exact or restricted
    /// data are audited before they are returned.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none` and `aggregate` layers and for filters on what a
    /// coarse view hides; store failures writing the audit record.
    pub async fn read_items(
        &self,
        viewer: &Viewer,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
        page: Page,
    ) -> Result<Items, ServiceError> {
        self.read_items_refined(viewer, layer, spatial, filters, &Refine::default(), page)
            .await
    }

    /// [`Service::read_items`] with a CQL2 filter and an order (`refine`), both applied to the
    /// features as `viewer` receives them — never to what its view hides.
    ///
    /// # Errors
    /// As [`Service::read_items`]; [`ServiceError::Unanswerable`] when more than
    /// [`MAX_REFINED`] features would be tested.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, user = %viewer.user))]
    pub async fn read_items_refined(
        &self,
        viewer: &Viewer,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
        refine: &Refine,
        page: Page,
    ) -> Result<Items, ServiceError> {
        let precision = self.precision(viewer, layer)?;
        let filters = Self::ceiling_filters(viewer, filters);
        // A CQL2 filter or an order works on the features as the caller receives them: every
        // one that passes the plain filters is shown first, then tested and sorted, then paged.
        let (inner_page, refined) = if refine.is_none() {
            (page, false)
        } else {
            (
                Page {
                    offset: 0,
                    limit: usize::MAX,
                },
                true,
            )
        };
        let items = match precision {
            Precision::None | Precision::Aggregate => {
                return Err(forbidden(
                    viewer,
                    layer,
                    "sees only counts (GET /collections/{id}/aggregate) in",
                ));
            }
            Precision::Coarse => self.coarse_items(viewer, layer, spatial, &filters, inner_page)?,
            Precision::Exact => {
                if refined {
                    // Counted before anything is built or sorted.
                    let counted = self.index().query(
                        layer,
                        spatial,
                        &filters,
                        Page {
                            offset: 0,
                            limit: 0,
                        },
                    );
                    too_many_to_refine(counted.matched)?;
                }
                let r = self.index().query(layer, spatial, &filters, inner_page);
                let hide = Self::hidden(viewer, layer);
                Items {
                    matched: r.matched,
                    features: r
                        .features
                        .into_iter()
                        .map(|feature| Shown::Exact {
                            feature,
                            hide: Arc::clone(&hide),
                        })
                        .collect(),
                }
            }
        };
        if refined {
            let (items, restricted) = self.refined(items, refine, page)?;
            if precision == Precision::Exact {
                self.audit_refined(viewer, layer, spatial, refine, &items, restricted)
                    .await?;
            }
            return Ok(items);
        }
        self.audit_read(
            viewer,
            layer,
            AuditAction::Read,
            spatial_bbox(spatial),
            &items.features,
        )
        .await?;
        Ok(items)
    }

    /// Audits a filtered or sorted exact read whatever its page holds: an empty page still
    /// answered how many matched, so the record names the filter, the count and every
    /// restricted feature that matched (a filter cannot probe restricted text unrecorded).
    async fn audit_refined(
        &self,
        viewer: &Viewer,
        layer: Layer,
        spatial: &Spatial,
        refine: &Refine,
        items: &Items,
        restricted: Vec<Uuid>,
    ) -> Result<(), ServiceError> {
        let named: Vec<Uuid> = match items.features.as_slice() {
            [one] if restricted.is_empty() => vec![one.id()],
            _ => restricted.clone(),
        };
        let row = AuditRow::new(self.clock().now(), AuditAction::Read, AuditOutcome::Ok)
            .layer(layer)
            .bbox(spatial_bbox(spatial))
            .features(named)
            .detail(format!(
                "{} features at exact precision on the page; {} matched filter {} sortby {}; {} of them restricted",
                items.features.len(),
                items.matched,
                refine.text.as_deref().unwrap_or("(none)"),
                if refine.sort.is_empty() { "(none)" } else { "given" },
                restricted.len()
            ));
        self.audit(viewer, row).await
    }

    /// Applies `refine` to every feature shown, then takes `page`; also the restricted features
    /// among all that matched (for the audit record).
    fn refined(
        &self,
        items: Items,
        refine: &Refine,
        page: Page,
    ) -> Result<(Items, Vec<Uuid>), ServiceError> {
        too_many_to_refine(items.features.len())?;
        let today = self.clock().now().date();
        let mut rows: Vec<(serde_json::Value, Shown)> = Vec::with_capacity(items.features.len());
        for shown in items.features {
            let value = shown
                .to_value(today)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            if refine.filter.as_ref().is_none_or(|f| f.matches(&value)) {
                rows.push((value, shown));
            }
        }
        if !refine.sort.is_empty() {
            // Stable: ties keep the default order.
            rows.sort_by(|a, b| crate::filter::order(&a.0, &b.0, &refine.sort));
        }
        let restricted: Vec<Uuid> = rows
            .iter()
            .filter_map(|(_, s)| match s {
                Shown::Exact { feature, .. }
                    if feature.meta.classification == crate::domain::Classification::Restricted =>
                {
                    Some(feature.id)
                }
                _ => None,
            })
            .collect();
        Ok((
            Items {
                matched: rows.len(),
                features: rows
                    .into_iter()
                    .skip(page.offset)
                    .take(page.limit)
                    .map(|(_, s)| s)
                    .collect(),
            },
            restricted,
        ))
    }

    fn coarse_items(
        &self,
        viewer: &Viewer,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
        page: Page,
    ) -> Result<Items, ServiceError> {
        if filters.statuses.is_some() {
            return Err(forbidden(
                viewer,
                layer,
                "sees category, week and area only (no status filter) in",
            ));
        }
        let mut widened = filters.clone();
        widened.time = filters.time.map(widen_to_weeks);
        let candidates = self
            .index()
            .matching(layer, &widen_spatial(spatial), &widened);
        let coarsen_all = |features: &[Arc<Feature>]| -> Vec<CoarseFeature> {
            let mut cells = HashMap::new();
            features
                .iter()
                .filter_map(|f| self.coarsen(f, &mut cells))
                .filter(|c| {
                    matches!(spatial, Spatial::All)
                        || matches_spatial(spatial, &Geometry::Point(c.centre))
                })
                .collect()
        };
        // Each feature is projected to find its cell: past a few thousand, on every core.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let mut shown: Vec<CoarseFeature> = if candidates.len() < COARSEN_ALONE || threads < 2 {
            coarsen_all(&candidates)
        } else {
            let per = candidates.len().div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = candidates
                    .chunks(per)
                    .map(|chunk| s.spawn(move || coarsen_all(chunk)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join())
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|_| ServiceError::Internal("a coarsening thread failed".into()))?
            .concat()
        };
        let matched = shown.len();
        if page.limit == 0 {
            // A count (`limit=0`): nothing to order.
            return Ok(Items {
                matched,
                features: Vec::new(),
            });
        }
        let order = |a: &CoarseFeature, b: &CoarseFeature| {
            b.week_start
                .cmp(&a.week_start)
                .then_with(|| a.id.cmp(&b.id))
        };
        // Only the features up to the page's end are ordered: the rest are first set apart
        // after them (in linear time), as a page is usually far smaller than the match.
        let end = page.offset.saturating_add(page.limit);
        if end < shown.len() {
            shown.select_nth_unstable_by(end, order);
            shown.truncate(end);
        }
        shown.sort_unstable_by(order);
        let features = shown
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .map(Shown::Coarse)
            .collect();
        Ok(Items { matched, features })
    }

    /// One feature as `viewer` may see it. A feature above the ceiling answers like an unknown
    /// id; exact reads are audited.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`]; [`ServiceError::Forbidden`] for `none` and `aggregate`.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, %id))]
    pub async fn read_item(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
    ) -> Result<Shown, ServiceError> {
        let precision = self.precision(viewer, layer)?;
        if precision == Precision::Aggregate {
            return Err(forbidden(
                viewer,
                layer,
                "sees only counts (GET /collections/{id}/aggregate) in",
            ));
        }
        let find = || {
            self.index()
                .get(layer, id)
                .filter(|f| viewer.may_see_classification(f.meta.classification))
        };
        let feature = match find() {
            Some(f) => f,
            None => {
                // Perhaps written through another instance a moment ago: apply the log, then
                // look again.
                self.refresh_from_log().await?;
                find().ok_or(ServiceError::NotFound(layer, id))?
            }
        };
        let shown = if precision == Precision::Exact {
            Shown::Exact {
                feature,
                hide: Self::hidden(viewer, layer),
            }
        } else {
            Shown::Coarse(
                self.coarsen(&feature, &mut HashMap::new())
                    .ok_or(ServiceError::NotFound(layer, id))?,
            )
        };
        self.audit_read(
            viewer,
            layer,
            AuditAction::Read,
            None,
            std::slice::from_ref(&shown),
        )
        .await?;
        Ok(shown)
    }

    /// Audits a read when it handed out exact or restricted data: the box asked for, how many
    /// features were exact, and the ids of the restricted ones (a single-feature read names its
    /// feature). Lists of many exact but unrestricted features are traceable by box and time.
    async fn audit_read(
        &self,
        viewer: &Viewer,
        layer: Layer,
        action: AuditAction,
        bbox: Option<[f64; 4]>,
        shown: &[Shown],
    ) -> Result<(), ServiceError> {
        let exact = ExactRead::of(shown);
        self.audit_exact(viewer, layer, action, bbox, &exact, "")
            .await
    }

    /// Audits a read that handed out `exact` (nothing when it holds no exact feature); `note`
    /// ends the record's detail.
    async fn audit_exact(
        &self,
        viewer: &Viewer,
        layer: Layer,
        action: AuditAction,
        bbox: Option<[f64; 4]>,
        exact: &ExactRead,
        note: &str,
    ) -> Result<(), ServiceError> {
        if exact.count == 0 {
            return Ok(());
        }
        let named: Vec<Uuid> = match exact.single {
            Some(id) => vec![id],
            None => exact.restricted.clone(),
        };
        let row = AuditRow::new(self.clock().now(), action, AuditOutcome::Ok)
            .layer(layer)
            .bbox(bbox)
            .features(named)
            .detail(format!(
                "{} features at exact precision, {} of them restricted{note}",
                exact.count,
                exact.restricted.len()
            ));
        self.audit(viewer, row).await
    }

    /// Counts of `layer`'s features per grid cell or area, as `viewer` may see them: cells
    /// (and categories in them) under [`MIN_CELL_COUNT`] are left out below `exact`; time windows
    /// are widened to whole weeks and cells or areas are selected whole, by their centre or
    /// outline, so no answer depends on a position inside a cell.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none`; status filters below `exact`.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, user = %viewer.user))]
    pub async fn read_aggregate(
        &self,
        viewer: &Viewer,
        layer: Layer,
        by: AggregateBy,
        spatial: &Spatial,
        filters: &Filters,
    ) -> Result<Aggregate, ServiceError> {
        let precision = self.precision(viewer, layer)?;
        let exact = precision == Precision::Exact;
        let mut filters = Self::ceiling_filters(viewer, filters);
        if !exact {
            if filters.statuses.is_some() {
                return Err(forbidden(
                    viewer,
                    layer,
                    "sees category, week and area only (no status filter) in",
                ));
            }
            filters.time = filters.time.map(widen_to_weeks);
            let mut buckets = self.anonymous_buckets(viewer, layer, by, spatial, &filters);
            buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            return Ok(Aggregate {
                buckets,
                suppressing: true,
                min_count: MIN_CELL_COUNT,
            });
        }
        let mut buckets = self.exact_buckets(viewer, layer, by, spatial, &filters);
        buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        if !buckets.is_empty() {
            let row = AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
                .layer(layer)
                .bbox(spatial_bbox(spatial))
                .detail(format!("{} buckets at exact precision", buckets.len()));
            self.audit(viewer, row).await?;
        }
        Ok(Aggregate {
            buckets,
            suppressing: false,
            min_count: 1,
        })
    }

    /// The area outlines `viewer` may see (within its ceiling): the base of maps and briefings.
    #[must_use]
    pub fn visible_areas(&self, viewer: &Viewer) -> Vec<Arc<Feature>> {
        self.visible_areas_in(viewer, &Spatial::All)
    }

    /// The counted outlines `viewer` may see (districts and other areas; municipality outlines
    /// frame maps but are never counted): what counts, the agenda and briefings go by.
    #[must_use]
    pub fn counted_areas(&self, viewer: &Viewer) -> Vec<Arc<Feature>> {
        self.counted_areas_in(viewer, &Spatial::All)
    }

    /// [`Service::counted_areas`] that meet `spatial`.
    #[must_use]
    pub fn counted_areas_in(&self, viewer: &Viewer, spatial: &Spatial) -> Vec<Arc<Feature>> {
        self.visible_areas_in(viewer, spatial)
            .into_iter()
            .filter(
                |a| matches!(&a.properties, crate::domain::Properties::Area(p) if p.is_counted()),
            )
            .collect()
    }

    /// The area outlines `viewer` may see that meet `spatial`.
    #[must_use]
    pub fn visible_areas_in(&self, viewer: &Viewer, spatial: &Spatial) -> Vec<Arc<Feature>> {
        self.index().matching(
            Layer::Areas,
            spatial,
            &Self::ceiling_filters(viewer, &Filters::default()),
        )
    }

    /// A committed change as `viewer` may see it, or `None` when it is none of their business:
    /// a subscriber hears of a change only when its own view of the feature changed (a coarse
    /// viewer does not learn that a hidden status changed), a feature moved above its ceiling
    /// is `deleted` for it, and deletions are told only to those who could see the feature.
    #[must_use]
    pub fn view_change(&self, viewer: &Viewer, change: &Change) -> Option<(&'static str, Shown)> {
        let mut cells = HashMap::new();
        match change {
            Change::Upserted(f) => self.show(viewer, f, &mut cells).map(|s| ("upserted", s)),
            Change::Deleted(f) => self.show(viewer, f, &mut cells).map(|s| ("deleted", s)),
            Change::Replaced { before, after } => {
                let old = self.show(viewer, before, &mut cells);
                let new = self.show(viewer, after, &mut cells);
                match (old, new) {
                    (None, None) => None,
                    (Some(old), None) => Some(("deleted", old)),
                    (None, Some(new)) => Some(("upserted", new)),
                    (Some(old), Some(new)) => (!old.same_view(&new)).then_some(("upserted", new)),
                }
            }
        }
    }

    /// One feature as `viewer` may see it (no audit: callers audit what they hand out).
    pub(crate) fn show(
        &self,
        viewer: &Viewer,
        feature: &Arc<Feature>,
        cells: &mut Cells,
    ) -> Option<Shown> {
        let layer = feature.layer();
        if !viewer.may_see_classification(feature.meta.classification) {
            return None;
        }
        match viewer.precision(layer) {
            Precision::None | Precision::Aggregate => None,
            Precision::Coarse => self.coarsen(feature, cells).map(Shown::Coarse),
            Precision::Exact => Some(Shown::Exact {
                feature: Arc::clone(feature),
                hide: Self::hidden(viewer, layer),
            }),
        }
    }
}
