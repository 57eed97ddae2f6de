//! The in-memory spatial index: one R-tree per layer, a cache of the store, never the truth.
//!
//! Each layer sits behind its own `RwLock`. Readers hold the read lock only while walking the
//! tree and cloning `Arc`s of the page they return; writers hold the write lock for one
//! insert/remove (microseconds), so readers are never blocked for long. Writes reach the index
//! only after the store has committed them (see [`crate::service`]).

mod entry;
pub mod query;

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use geo::{Geometry, Point};
use rstar::{AABB, RTree};
use uuid::Uuid;

pub use entry::{IndexEntry, NONE_CODE};
pub use query::{Filters, Spatial};

use crate::domain::crs::METRES_PER_DEGREE;
use crate::domain::geometry::bounds;
use crate::domain::{Feature, Layer};
use query::{distance_m, grow_bounds, matches_spatial};

/// A page of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many matching features to skip.
    pub offset: usize,
    /// How many to return at most.
    pub limit: usize,
}

/// The answer to [`FeatureIndex::query`].
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// How many features match in all.
    pub matched: usize,
    /// The requested page, newest first (by the layer's time), then by id.
    pub features: Vec<Arc<Feature>>,
}

#[derive(Default)]
struct LayerIndex {
    tree: RTree<IndexEntry>,
    by_id: HashMap<Uuid, Arc<Feature>>,
}

/// All layers' R-trees.
pub struct FeatureIndex {
    layers: Vec<RwLock<LayerIndex>>,
}

impl Default for FeatureIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// Sort key: newest first, then by id, so pages are stable.
fn order_key(e: &IndexEntry) -> (std::cmp::Reverse<i64>, u128) {
    (std::cmp::Reverse(e.time_start), e.feature.id.as_u128())
}

impl FeatureIndex {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Self {
            layers: Layer::ALL
                .iter()
                .map(|_| RwLock::new(LayerIndex::default()))
                .collect(),
        }
    }

    fn read(&self, layer: Layer) -> RwLockReadGuard<'_, LayerIndex> {
        // A poisoned lock only means a writer panicked mid-update of a plain data structure;
        // rstar and HashMap stay consistent per operation, so keep serving.
        self.layers[usize::from(layer.code())]
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self, layer: Layer) -> RwLockWriteGuard<'_, LayerIndex> {
        self.layers[usize::from(layer.code())]
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces a layer's content with `features` (bulk load: fast and well balanced).
    /// Features of other layers are ignored.
    pub fn load(&self, layer: Layer, features: Vec<Feature>) {
        let arcs: Vec<Arc<Feature>> = features
            .into_iter()
            .filter(|f| f.layer() == layer)
            .map(Arc::new)
            .collect();
        let by_id = arcs.iter().map(|f| (f.id, Arc::clone(f))).collect();
        let tree = RTree::bulk_load(arcs.into_iter().map(IndexEntry::new).collect());
        *self.write(layer) = LayerIndex { tree, by_id };
    }

    /// Inserts a feature or replaces an older version of it. A version not newer than the one
    /// held is ignored, so replaying a change is harmless.
    pub fn upsert(&self, feature: Feature) {
        let layer = feature.layer();
        let feature = Arc::new(feature);
        let mut ix = self.write(layer);
        if let Some(old) = ix.by_id.get(&feature.id).cloned() {
            if old.meta.version >= feature.meta.version {
                return;
            }
            ix.tree.remove(&IndexEntry::new(old));
        }
        ix.by_id.insert(feature.id, Arc::clone(&feature));
        ix.tree.insert(IndexEntry::new(feature));
    }

    /// Removes a feature; returns whether it was there.
    pub fn remove(&self, layer: Layer, id: Uuid) -> bool {
        let mut ix = self.write(layer);
        match ix.by_id.remove(&id) {
            Some(old) => {
                ix.tree.remove(&IndexEntry::new(old));
                true
            }
            None => false,
        }
    }

    /// One feature by id.
    #[must_use]
    pub fn get(&self, layer: Layer, id: Uuid) -> Option<Arc<Feature>> {
        self.read(layer).by_id.get(&id).cloned()
    }

    /// How many features a layer holds.
    #[must_use]
    pub fn len(&self, layer: Layer) -> usize {
        self.read(layer).by_id.len()
    }

    /// True when no layer holds anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        Layer::ALL.iter().all(|l| self.len(*l) == 0)
    }

    /// The bounding box `[min_lon, min_lat, max_lon, max_lat]` of a layer, if it holds anything.
    #[must_use]
    pub fn extent(&self, layer: Layer) -> Option<[f64; 4]> {
        let ix = self.read(layer);
        if ix.by_id.is_empty() {
            return None;
        }
        let env = ix.tree.root().envelope();
        Some([
            env.lower()[0],
            env.lower()[1],
            env.upper()[0],
            env.upper()[1],
        ])
    }

    /// The time span covered by a layer's features, in Unix seconds, if it has any times.
    #[must_use]
    pub fn time_extent(&self, layer: Layer) -> Option<(i64, i64)> {
        let ix = self.read(layer);
        let mut it = ix.tree.iter().filter(|e| e.time_start != i64::MIN);
        let first = it.next()?;
        Some(
            it.fold((first.time_start, first.time_start), |(lo, hi), e| {
                (lo.min(e.time_start), hi.max(e.time_start))
            }),
        )
    }

    /// Features matching `spatial` and `filters`, with the total count and one page.
    #[must_use]
    pub fn query(
        &self,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
        page: Page,
    ) -> QueryResult {
        let ix = self.read(layer);
        let b = candidate_bounds(spatial);
        let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
        // Candidates from the tree, each with whether its geometry still needs the exact test.
        let candidates: Box<dyn Iterator<Item = (&IndexEntry, bool)> + '_> = match spatial {
            Spatial::All => Box::new(ix.tree.iter().map(|e| (e, false))),
            Spatial::Bbox(_) => {
                // A point's envelope is the point: intersecting the box is the whole test.
                Box::new(
                    ix.tree
                        .locate_in_envelope_intersecting(&env)
                        .map(|e| (e, !matches!(e.feature.geometry, Geometry::Point(_)))),
                )
            }
            _ => Box::new(
                ix.tree
                    .locate_in_envelope_intersecting(&env)
                    .map(|e| (e, true)),
            ),
        };
        let mut hits: Vec<&IndexEntry> = candidates
            .filter(|(e, refine)| {
                filters.accepts(e.time_start, e.time_end, e.category, e.status)
                    && (!refine || matches_spatial(spatial, &e.feature.geometry))
            })
            .map(|(e, _)| e)
            .collect();
        let matched = hits.len();
        let end = page.offset.saturating_add(page.limit).min(matched);
        if page.offset >= matched {
            return QueryResult {
                matched,
                features: Vec::new(),
            };
        }
        if end < matched {
            hits.select_nth_unstable_by_key(end, |e| order_key(e));
        }
        let head = &mut hits[..end];
        head.sort_unstable_by_key(|e| order_key(e));
        let features = head[page.offset..]
            .iter()
            .map(|e| Arc::clone(&e.feature))
            .collect();
        QueryResult { matched, features }
    }

    /// The `k` features nearest to `point` that pass `filters`, nearest first, with their
    /// distance in metres (see [`query::distance_m`]).
    #[must_use]
    pub fn nearest(
        &self,
        layer: Layer,
        point: Point<f64>,
        k: usize,
        filters: &Filters,
    ) -> Vec<(Arc<Feature>, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let ix = self.read(layer);
        let origin = Geometry::Point(point);
        let mut best: Vec<(Arc<Feature>, f64)> = Vec::with_capacity(k + 1);
        for (e, d2) in ix
            .tree
            .nearest_neighbor_iter_with_distance_2(&[point.x(), point.y()])
        {
            // The tree orders by degree distance; turn it into a lower bound in metres (a degree
            // of longitude shrinks with cos(latitude), so use the highest latitude reachable).
            let d = d2.sqrt();
            let lat = (point.y().abs() + d).min(89.9).to_radians();
            let lower_bound_m = d * METRES_PER_DEGREE * lat.cos() * 0.99;
            if best.len() == k && best.last().is_some_and(|(_, worst)| lower_bound_m > *worst) {
                break;
            }
            if !filters.accepts(e.time_start, e.time_end, e.category, e.status) {
                continue;
            }
            let m = distance_m(&origin, &e.feature.geometry);
            if best.len() == k && best.last().is_some_and(|(_, worst)| m >= *worst) {
                continue;
            }
            let at = best.partition_point(|(_, x)| *x <= m);
            best.insert(at, (Arc::clone(&e.feature), m));
            best.truncate(k);
        }
        best
    }
}

/// A box surely holding every match of a distance or intersection predicate.
fn candidate_bounds(spatial: &Spatial) -> [f64; 4] {
    match spatial {
        Spatial::All => [-180.0, -90.0, 180.0, 90.0],
        Spatial::Bbox(b) => *b,
        Spatial::Near { point, metres } => {
            grow_bounds([point.x(), point.y(), point.x(), point.y()], *metres)
        }
        Spatial::Intersects(g) => bounds(g),
        Spatial::WithinDistance { geometry, metres } => grow_bounds(bounds(geometry), *metres),
    }
}
