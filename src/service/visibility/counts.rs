//! Counts below `exact` precision, k-anonymous however the questions are combined.
//!
//! Every count a role below `exact` receives is a sum of *published buckets*, and no published
//! bucket holds fewer than [`MIN_CELL_COUNT`] features:
//!
//! - **The fixed partition.** A feature belongs to exactly one grid bucket: its 250 m SWEREF 99
//!   TM cell, the ISO week its time starts in, and its category. The areas layer gives a second
//!   partition: area × week × category, an area holding the cells whose centre lies in it.
//!   Questions select whole buckets (a box selects cells by their centre, a time window whole
//!   weeks, a category filter whole categories), so no question can split a bucket.
//! - **Primary suppression.** A bucket under the minimum is never published; it adds nothing to
//!   any count.
//! - **Secondary suppression**, as statistical offices do. An area's count minus the sum of its
//!   published cells would reveal what its suppressed cells hold; where that residual is 1 or 2,
//!   the smallest published cells of that area, week and category are suppressed too until it is
//!   at least the minimum. Only areas whose outlines overlap no smaller counted area take part
//!   (an outer area minus the districts inside it could otherwise be worked out).
//! - **Decided on the whole layer.** Whether a bucket is published depends only on the features
//!   of its week and category over the whole layer, never on the box asked for, so asking about a
//!   smaller box cannot change a cell's number.
//! - **No finer counter.** Answers do not say how many buckets were suppressed (a counter per
//!   question would locate them); they state the rule instead.
//!
//! What stays public: a published bucket's exact count (at least the minimum), and which buckets
//! are published. The automated differencing attacker in `tests/security/counts.rs` checks this.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use geo::Geometry;
use uuid::Uuid;

use super::{
    AggregateBy, Bucket, CELL_REACH_M, MIN_CELL_COUNT, representative_point, widen_spatial,
};
use crate::domain::access::Viewer;
use crate::domain::time::TimeSpan;
use crate::domain::time::week_start;
use crate::domain::{Feature, Layer, Properties};
use crate::index::query::matches_spatial;
use crate::index::{Filters, Spatial};
use crate::service::Service;

/// A 250 m cell (easting and northing over the cell size).
type Cell = (i64, i64);
/// The week (Monday 00:00 UTC, Unix seconds; `i64::MIN` for features without time) and the
/// category code ([`crate::index::NONE_CODE`] for none) that, with a cell or an area,
/// make a bucket.
type Slice = (i64, u8);

/// The week a feature counts in below exact: the ISO week its time starts in.
fn week_of(f: &Feature) -> i64 {
    let start = f.properties.time_span().start;
    if start == i64::MIN {
        i64::MIN
    } else {
        week_start(start)
    }
}

/// The areas whose outlines overlap none of the others kept, the smallest kept first (areas
/// that only touch along a border do not overlap).
fn non_overlapping(mut areas: Vec<AreaCells>) -> Vec<AreaCells> {
    use geo::{Area, Relate};
    areas.sort_by(|a, b| {
        a.outline
            .unsigned_area()
            .total_cmp(&b.outline.unsigned_area())
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut kept: Vec<AreaCells> = Vec::with_capacity(areas.len());
    for a in areas {
        let overlaps = kept.iter().any(|k| {
            let m = k.outline.relate(&a.outline);
            m.is_intersects() && !m.is_touches()
        });
        if !overlaps {
            kept.push(a);
        }
    }
    kept.sort_by_key(|a| a.id);
    kept
}

/// One visible area: id, name, outline and the cells (with data) whose centre it holds.
struct AreaCells {
    id: Uuid,
    name: Arc<str>,
    outline: Geometry<f64>,
    cells: HashSet<Cell>,
}

/// The published buckets of one question's weeks and categories, over the whole layer.
pub struct Published {
    /// Cell buckets at or over the minimum, after secondary suppression.
    cells: HashMap<(Cell, Slice), usize>,
    /// Area buckets at or over the minimum, after secondary suppression.
    areas: HashMap<(Uuid, Slice), usize>,
    /// The visible areas.
    area_list: Vec<AreaCells>,
}

/// What a set of published buckets depends on: the layer, the viewer's ceiling, the weeks and
/// the categories (never the box asked about).
type CountsKey = (Layer, u8, Option<(i64, i64)>, Option<Vec<u8>>);

/// Published buckets already computed, valid while the picture has not changed since.
#[derive(Default)]
pub struct CountsCache {
    entries: std::sync::Mutex<HashMap<CountsKey, (u64, Arc<Published>)>>,
}

/// Entries kept before the cache starts over (each is one window and category choice).
const CACHED_QUESTIONS: usize = 64;

/// Runs CPU-heavy work without stalling the async runtime: on a multi-threaded runtime the
/// worker hands its other tasks over first (`block_in_place`); elsewhere (tests) it runs inline.
pub(crate) fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

impl Service {
    /// Every published bucket of `layer` for the weeks and categories `filters` select, as
    /// `viewer` (below exact) may count them: from the cache while nothing has changed since,
    /// else computed over the whole layer without stalling the runtime.
    pub(super) fn published_buckets(
        &self,
        viewer: &Viewer,
        layer: Layer,
        filters: &Filters,
    ) -> Arc<Published> {
        let key: CountsKey = (
            layer,
            viewer.role.ceiling.code(),
            filters.time.map(|t| (t.start, t.end)),
            filters.categories.clone(),
        );
        let generation = self.generation();
        let lock = || {
            self.counts_cache
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((g, p)) = lock().get(&key)
            && *g == generation
        {
            return Arc::clone(p);
        }
        let published = Arc::new(cpu_bound(|| self.compute_published(viewer, layer, filters)));
        let mut entries = lock();
        if entries.len() >= CACHED_QUESTIONS {
            entries.clear();
        }
        entries.insert(key, (generation, Arc::clone(&published)));
        published
    }

    /// [`Service::published_buckets`], computed.
    fn compute_published(&self, viewer: &Viewer, layer: Layer, filters: &Filters) -> Published {
        // Whole weeks only: a feature counts in the week it starts, and is selected by it.
        let window = filters.time;
        let mut raw: HashMap<(Cell, Slice), usize> = HashMap::new();
        for f in self.index().matching(layer, &Spatial::All, filters) {
            let week = week_of(&f);
            if let Some(TimeSpan { start, end }) = window
                && !(start..=end).contains(&week)
            {
                continue;
            }
            let Some(cell) = representative_point(&f.geometry()).and_then(|p| self.grid.cell_of(p))
            else {
                continue;
            };
            let category = f
                .properties
                .category_code()
                .unwrap_or(crate::index::NONE_CODE);
            *raw.entry((cell, (week, category))).or_default() += 1;
        }
        // Only areas that overlap no other counted area make the area partition (the smaller
        // kept first): nested or overlapping outlines could be differenced (the outer minus the
        // inner ones). Decided on the outlines alone, never on the data.
        let area_list = non_overlapping(self.area_cells(viewer, raw.keys().map(|(c, _)| *c)));

        // Area buckets from every feature (before any suppression), then primary suppression.
        let mut area_raw: HashMap<(Uuid, Slice), usize> = HashMap::new();
        for a in &area_list {
            for ((cell, slice), n) in &raw {
                if a.cells.contains(cell) {
                    *area_raw.entry((a.id, *slice)).or_default() += n;
                }
            }
        }
        // Primary suppression, grouped by slice: slices never affect each other.
        let mut by_slice: HashMap<Slice, Vec<(Cell, usize)>> = HashMap::new();
        for ((cell, slice), n) in raw {
            if n >= MIN_CELL_COUNT {
                by_slice.entry(slice).or_default().push((cell, n));
            }
        }
        let areas: HashMap<(Uuid, Slice), usize> = area_raw
            .iter()
            .filter(|(_, n)| **n >= MIN_CELL_COUNT)
            .map(|(k, n)| (*k, *n))
            .collect();

        // Secondary suppression of cells against each published area bucket, until no residual
        // of 1 or 2 is left (each round suppresses at least one cell bucket, so it ends).
        let mut cells: HashMap<(Cell, Slice), usize> = HashMap::new();
        for (slice, mut shown) in by_slice {
            shown.sort_unstable_by_key(|(c, n)| (*n, *c));
            loop {
                let mut changed = false;
                for a in &area_list {
                    let Some(total) = areas.get(&(a.id, slice)).copied() else {
                        continue;
                    };
                    loop {
                        let inside: usize = shown
                            .iter()
                            .filter(|(c, _)| a.cells.contains(c))
                            .map(|(_, n)| n)
                            .sum();
                        let residual = total.saturating_sub(inside);
                        if residual == 0 || residual >= MIN_CELL_COUNT {
                            break;
                        }
                        // The smallest published cell of this area (the list is sorted).
                        let Some(i) = shown.iter().position(|(c, _)| a.cells.contains(c)) else {
                            break;
                        };
                        shown.remove(i);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            cells.extend(shown.into_iter().map(|(c, n)| ((c, slice), n)));
        }
        Published {
            cells,
            areas,
            area_list,
        }
    }

    /// The areas `viewer` may see, each with the given cells whose centre it holds.
    fn area_cells(&self, viewer: &Viewer, cells: impl Iterator<Item = Cell>) -> Vec<AreaCells> {
        let ceiling = Filters {
            max_classification: Some(viewer.role.ceiling.code()),
            ..Filters::default()
        };
        let mut list: Vec<AreaCells> = self
            .index()
            .matching(Layer::Areas, &Spatial::All, &ceiling)
            .iter()
            .filter_map(|a| match &a.properties {
                Properties::Area(p) if p.is_counted() => Some(AreaCells {
                    id: a.id,
                    name: Arc::from(&*p.name),
                    outline: a.geometry().into_owned(),
                    cells: HashSet::new(),
                }),
                _ => None,
            })
            .collect();
        list.sort_by_key(|a| a.id);
        let distinct: HashSet<Cell> = cells.collect();
        for cell in distinct {
            let Some(centre) = self.grid.centre(cell) else {
                continue;
            };
            let here = Spatial::Intersects(Geometry::Point(centre));
            for a in &mut list {
                if matches_spatial(&here, &a.outline) {
                    a.cells.insert(cell);
                }
            }
        }
        list
    }

    /// The buckets a question below exact receives: published cells whose centre, or visible
    /// areas whose outline, passes `spatial`, each the sum of its published buckets.
    pub(super) fn anonymous_buckets(
        &self,
        viewer: &Viewer,
        layer: Layer,
        by: AggregateBy,
        spatial: &Spatial,
        filters: &Filters,
    ) -> Vec<Bucket> {
        let published = self.published_buckets(viewer, layer, filters);
        let names = layer.category_names();
        let name_of = |code: u8| names.get(usize::from(code)).copied();
        let mut out: BTreeMap<String, Bucket> = BTreeMap::new();
        match by {
            AggregateBy::Grid => {
                for ((cell, (_, category)), n) in &published.cells {
                    let Some(centre) = self.grid.centre(*cell) else {
                        continue;
                    };
                    if !matches!(spatial, Spatial::All)
                        && !matches_spatial(spatial, &Geometry::Point(centre))
                    {
                        continue;
                    }
                    let key = format!("E{}_N{}", cell.0, cell.1);
                    let b = out.entry(key.clone()).or_insert_with(|| Bucket {
                        key,
                        name: None,
                        geometry: self
                            .grid
                            .square(*cell)
                            .map_or(Geometry::Point(centre), Geometry::Polygon),
                        count: 0,
                        by_category: BTreeMap::new(),
                    });
                    b.count += n;
                    if let Some(c) = name_of(*category) {
                        *b.by_category.entry(c).or_default() += n;
                    }
                }
            }
            AggregateBy::Area => {
                let wanted: HashSet<Uuid> = match spatial {
                    Spatial::All => published.area_list.iter().map(|a| a.id).collect(),
                    _ => published
                        .area_list
                        .iter()
                        .filter(|a| matches_spatial(spatial, &a.outline))
                        .map(|a| a.id)
                        .collect(),
                };
                for a in published
                    .area_list
                    .iter()
                    .filter(|a| wanted.contains(&a.id))
                {
                    for ((id, (_, category)), n) in &published.areas {
                        if *id != a.id {
                            continue;
                        }
                        let key = a.id.to_string();
                        let b = out.entry(key.clone()).or_insert_with(|| Bucket {
                            key,
                            name: Some(Arc::clone(&a.name)),
                            geometry: a.outline.clone(),
                            count: 0,
                            by_category: BTreeMap::new(),
                        });
                        b.count += n;
                        if let Some(c) = name_of(*category) {
                            *b.by_category.entry(c).or_default() += n;
                        }
                    }
                }
            }
        }
        out.into_values().collect()
    }

    /// The box and time span of what `viewer`, counting only, may see of `layer`: the published
    /// cells' squares and published areas' outlines, and the weeks of published buckets.
    pub(super) fn published_extent(
        &self,
        viewer: &Viewer,
        layer: Layer,
    ) -> (Option<[f64; 4]>, Option<(i64, i64)>) {
        let ceiling = Filters {
            max_classification: Some(viewer.role.ceiling.code()),
            ..Filters::default()
        };
        let p = self.published_buckets(viewer, layer, &ceiling);
        let mut bbox: Option<[f64; 4]> = None;
        let mut grow = |b: [f64; 4]| {
            bbox = Some(bbox.map_or(b, |a| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            }));
        };
        let cells: HashSet<Cell> = p.cells.keys().map(|(c, _)| *c).collect();
        for cell in cells {
            if let Some(sq) = self.grid.square(cell) {
                grow(crate::domain::geometry::bounds(&Geometry::Polygon(sq)));
            }
        }
        let areas: HashSet<Uuid> = p.areas.keys().map(|(id, _)| *id).collect();
        for a in p.area_list.iter().filter(|a| areas.contains(&a.id)) {
            grow(crate::domain::geometry::bounds(&a.outline));
        }
        let weeks = p
            .cells
            .keys()
            .map(|(_, (w, _))| *w)
            .chain(p.areas.keys().map(|(_, (w, _))| *w))
            .filter(|w| *w != i64::MIN);
        let span = weeks.fold(None, |acc: Option<(i64, i64)>, w| {
            Some(acc.map_or((w, w), |(lo, hi)| (lo.min(w), hi.max(w))))
        });
        (bbox, span)
    }
}

/// Counts at exact precision, keyed by cell or area id: the cell's or area's geometry, the
/// count, the count per category, the area's name.
type Counted = HashMap<
    String,
    (
        Geometry<f64>,
        usize,
        BTreeMap<&'static str, usize>,
        Option<Arc<str>>,
    ),
>;

impl Service {
    /// Counts for a viewer who sees the layer exactly: every feature it may see, in every cell
    /// whose centre, or area whose outline, passes `spatial`.
    pub(super) fn exact_buckets(
        &self,
        viewer: &Viewer,
        layer: Layer,
        by: AggregateBy,
        spatial: &Spatial,
        filters: &Filters,
    ) -> Vec<Bucket> {
        let counts = match by {
            AggregateBy::Grid => self.exact_grid(layer, spatial, filters),
            AggregateBy::Area => self.exact_areas(viewer, layer, spatial, filters),
        };
        counts
            .into_iter()
            .map(|(key, (geometry, count, mut by_category, name))| {
                by_category.retain(|c, _| !c.is_empty());
                Bucket {
                    key,
                    name,
                    geometry,
                    count,
                    by_category,
                }
            })
            .collect()
    }

    /// Every visible feature of every cell whose centre passes `spatial`.
    fn exact_grid(&self, layer: Layer, spatial: &Spatial, filters: &Filters) -> Counted {
        let category = category_of(layer);
        let mut counts: Counted = HashMap::new();
        // Every feature of every cell whose centre passes the predicate.
        for f in self
            .index()
            .matching(layer, &widen_spatial(spatial), filters)
        {
            let Some(cell) = representative_point(&f.geometry()).and_then(|p| self.grid.cell_of(p))
            else {
                continue;
            };
            let Some(centre) = self.grid.centre(cell) else {
                continue;
            };
            if !matches!(spatial, Spatial::All)
                && !matches_spatial(spatial, &Geometry::Point(centre))
            {
                continue;
            }
            let key = format!("E{}_N{}", cell.0, cell.1);
            let entry = counts.entry(key).or_insert_with(|| {
                let square = self
                    .grid
                    .square(cell)
                    .map_or(Geometry::Point(centre), Geometry::Polygon);
                (square, 0, BTreeMap::new(), None)
            });
            entry.1 += 1;
            *entry.2.entry(category(&f)).or_default() += 1;
        }
        counts
    }

    /// The areas the viewer may see, each counted on its own (outlines may overlap).
    fn exact_areas(
        &self,
        viewer: &Viewer,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
    ) -> Counted {
        let category = category_of(layer);
        let mut counts: Counted = HashMap::new();
        // The areas the viewer may see, each counted on its own (outlines may overlap).
        let areas = self.index().matching(
            Layer::Areas,
            spatial,
            &Self::ceiling_filters(viewer, &Filters::default()),
        );
        for area in &areas {
            let crate::domain::Properties::Area(a) = &area.properties else {
                continue;
            };
            if !a.is_counted() {
                continue;
            }
            let name: Arc<str> = Arc::from(&*a.name);
            let inside = self.index().matching(
                layer,
                &Spatial::WithinDistance {
                    geometry: area.geometry().into_owned(),
                    metres: CELL_REACH_M,
                },
                filters,
            );
            let outline = Spatial::Intersects(area.geometry().into_owned());
            for f in inside {
                if !matches_spatial(&outline, &f.geometry()) {
                    continue;
                }
                let entry = counts.entry(area.id.to_string()).or_insert_with(|| {
                    (
                        area.geometry().into_owned(),
                        0,
                        BTreeMap::new(),
                        Some(Arc::clone(&name)),
                    )
                });
                entry.1 += 1;
                *entry.2.entry(category(&f)).or_default() += 1;
            }
        }
        counts
    }
}

/// The category name of a feature (empty when it has none).
fn category_of(layer: Layer) -> impl Fn(&Feature) -> &'static str {
    let names = layer.category_names();
    move |f: &Feature| {
        f.properties
            .category_code()
            .and_then(|c| names.get(usize::from(c)).copied())
            .unwrap_or("")
    }
}
