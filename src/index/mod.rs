//! The in-memory spatial index: one R-tree per layer, a cache of the store, never the truth.
//!
//! Each layer sits behind its own `RwLock`. Readers hold the read lock only while walking the
//! tree and copying out what they return (`Arc`s of a page, a vector tile's entries); writers
//! hold the write lock for one insert/remove (microseconds), so readers are never blocked for
//! long. Writes reach the index only after the store has committed them (see
//! [`crate::service`]).

mod entry;
pub mod params;
pub mod query;

use std::hash::BuildHasher;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use geo::{Geometry, Point};
use rstar::{AABB, RTree, RTreeObject};
use uuid::Uuid;

pub use entry::{IndexEntry, NONE_CODE, Organisations};
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

/// Finds slab slots by feature id: a hash table of 4-byte slots hashed by the id of the feature
/// in the slot (a `HashMap<Uuid, u32>` would need 20 bytes a bucket; at a million features that
/// is 44 MB against 10 MB).
#[derive(Default)]
struct IdTable {
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl IdTable {
    fn with_capacity(n: usize) -> Self {
        Self {
            table: hashbrown::HashTable::with_capacity(n),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    fn hash(&self, id: &Uuid) -> u64 {
        self.hasher.hash_one(id)
    }

    fn get(&self, id: &Uuid, slots: &[Option<Arc<Feature>>]) -> Option<u32> {
        self.table
            .find(self.hash(id), |s| slot_id(slots, *s) == Some(*id))
            .copied()
    }

    /// Adds `slot`, whose feature must already be in `slots`.
    fn insert(&mut self, slot: u32, slots: &[Option<Arc<Feature>>]) {
        let Some(id) = slot_id(slots, slot) else {
            return;
        };
        let hasher = &self.hasher;
        self.table.insert_unique(hasher.hash_one(id), slot, |s| {
            slot_id(slots, *s).map_or(0, |id| hasher.hash_one(id))
        });
    }

    /// Removes the slot of `id` (call before the slot is emptied).
    fn remove(&mut self, id: &Uuid, slots: &[Option<Arc<Feature>>]) -> Option<u32> {
        let hash = self.hash(id);
        self.table
            .find_entry(hash, |s| slot_id(slots, *s) == Some(*id))
            .ok()
            .map(|e| e.remove().0)
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

fn slot_id(slots: &[Option<Arc<Feature>>], slot: u32) -> Option<Uuid> {
    slots
        .get(slot as usize)
        .and_then(Option::as_ref)
        .map(|f| f.id)
}

/// One layer: the R-tree of entries and the slab of features they point into.
#[derive(Default)]
struct LayerIndex {
    tree: RTree<IndexEntry>,
    organisations: Organisations,
    slots: Vec<Option<Arc<Feature>>>,
    free: Vec<u32>,
    by_id: IdTable,
}

impl LayerIndex {
    fn feature(&self, slot: u32) -> Option<&Arc<Feature>> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn slot_of(&self, id: &Uuid) -> Option<u32> {
        self.by_id.get(id, &self.slots)
    }

    fn take_slot(&mut self, feature: Arc<Feature>) -> Option<u32> {
        if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = Some(feature);
            return Some(slot);
        }
        let slot = u32::try_from(self.slots.len()).ok()?;
        self.slots.push(Some(feature));
        Some(slot)
    }
}

/// A layer being loaded one feature at a time (start-up), installed with
/// [`FeatureIndex::install`]: no intermediate list of whole features.
pub struct LayerLoad {
    entries: Vec<IndexEntry>,
    organisations: Organisations,
    slots: Vec<Option<Arc<Feature>>>,
    by_id: IdTable,
}

impl LayerLoad {
    /// An empty load with room for `capacity` features.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
            organisations: Organisations::default(),
            slots: Vec::with_capacity(capacity),
            by_id: IdTable::with_capacity(capacity),
        }
    }

    /// Adds a feature; a second feature with an id already loaded is ignored.
    pub fn push(&mut self, feature: Feature) {
        let Ok(slot) = u32::try_from(self.slots.len()) else {
            tracing::error!(
                "more than 4 294 967 295 features in one layer; the rest are not indexed"
            );
            return;
        };
        if self.by_id.get(&feature.id, &self.slots).is_some() {
            tracing::warn!(id = %feature.id, "the same feature id twice in one load; keeping the first");
            return;
        }
        self.entries
            .push(IndexEntry::new(&feature, slot, &mut self.organisations));
        self.slots.push(Some(Arc::new(feature)));
        self.by_id.insert(slot, &self.slots);
    }
}

/// What [`FeatureIndex::extent_within`] finds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerExtent {
    /// `[min_lon, min_lat, max_lon, max_lat]`, if any feature counts.
    pub bbox: Option<[f64; 4]>,
    /// First and last time start (Unix seconds), if any feature has a time.
    pub time: Option<(i64, i64)>,
    /// How many features count.
    pub count: usize,
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

/// Sort key: newest first, then by id (its high 64 bits, then the slot), so pages are stable.
fn order_key(e: &IndexEntry) -> (std::cmp::Reverse<i64>, u64, u32) {
    (std::cmp::Reverse(e.time_start), e.id_high, e.slot)
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
        let mut load = LayerLoad::with_capacity(features.len());
        for f in features.into_iter().filter(|f| f.layer() == layer) {
            load.push(f);
        }
        self.install(layer, load);
    }

    /// Installs a layer built with [`LayerLoad`], replacing what the layer held.
    pub fn install(&self, layer: Layer, load: LayerLoad) {
        let tree = RTree::bulk_load(load.entries);
        *self.write(layer) = LayerIndex {
            tree,
            organisations: load.organisations,
            slots: load.slots,
            free: Vec::new(),
            by_id: load.by_id,
        };
    }

    /// Inserts a feature or replaces an older version of it. A version not newer than the one
    /// held is ignored, so replaying a change is harmless.
    pub fn upsert(&self, feature: Feature) {
        let layer = feature.layer();
        let mut ix = self.write(layer);
        if let Some(slot) = ix.slot_of(&feature.id) {
            let Some(old) = ix.feature(slot).cloned() else {
                return;
            };
            if old.meta.version >= feature.meta.version {
                return;
            }
            let ix = &mut *ix;
            ix.tree
                .remove(&IndexEntry::new(&old, slot, &mut ix.organisations));
            ix.tree
                .insert(IndexEntry::new(&feature, slot, &mut ix.organisations));
            ix.slots[slot as usize] = Some(Arc::new(feature));
            return;
        }
        let entry_id = feature.id;
        let feature = Arc::new(feature);
        let Some(slot) = ix.take_slot(Arc::clone(&feature)) else {
            tracing::error!("layer '{layer}' is full; feature {entry_id} is not indexed");
            return;
        };
        let ix = &mut *ix;
        ix.tree
            .insert(IndexEntry::new(&feature, slot, &mut ix.organisations));
        ix.by_id.insert(slot, &ix.slots);
    }

    /// Removes a feature; returns whether it was there.
    pub fn remove(&self, layer: Layer, id: Uuid) -> bool {
        let mut ix = self.write(layer);
        let ix = &mut *ix;
        let Some(slot) = ix.by_id.remove(&id, &ix.slots) else {
            return false;
        };
        if let Some(old) = ix.slots.get_mut(slot as usize).and_then(Option::take) {
            ix.tree
                .remove(&IndexEntry::new(&old, slot, &mut ix.organisations));
        }
        ix.free.push(slot);
        true
    }

    /// One feature by id.
    #[must_use]
    pub fn get(&self, layer: Layer, id: Uuid) -> Option<Arc<Feature>> {
        let ix = self.read(layer);
        ix.slot_of(&id).and_then(|slot| ix.feature(slot).cloned())
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
        if ix.by_id.len() == 0 {
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

    /// The box, time span and number of a layer's features classified at most `max_class`
    /// (one pass over the compact entries; the root envelope would include every class).
    #[must_use]
    pub fn extent_within(&self, layer: Layer, max_class: u8) -> LayerExtent {
        let ix = self.read(layer);
        let mut out = LayerExtent::default();
        for e in ix.tree.iter().filter(|e| e.classification <= max_class) {
            out.count += 1;
            let (lo, hi) = (e.envelope().lower(), e.envelope().upper());
            let b = [lo[0], lo[1], hi[0], hi[1]];
            out.bbox = Some(out.bbox.map_or(b, |a| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            }));
            if e.time_start != i64::MIN {
                let t = e.time_start;
                out.time = Some(out.time.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            }
        }
        out
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
        if page.limit == 0 {
            // A count: nothing collected, nothing sorted.
            return QueryResult {
                matched: hits(&ix, spatial, filters).count(),
                features: Vec::new(),
            };
        }
        let mut hits: Vec<&IndexEntry> = hits(&ix, spatial, filters).collect();
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
            .filter_map(|e| ix.feature(e.slot).cloned())
            .collect();
        QueryResult { matched, features }
    }

    /// Every feature matching `spatial` and `filters`, in no particular order (for callers that
    /// transform features before paging, such as coarsened views and aggregates).
    #[must_use]
    pub fn matching(
        &self,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
    ) -> Vec<Arc<Feature>> {
        let ix = self.read(layer);
        // The same test as every other answer (points decided from the entry alone).
        hits(&ix, spatial, filters)
            .filter_map(|e| ix.feature(e.slot))
            .cloned()
            .collect()
    }

    /// Runs `f` over the entries matching `spatial` and `filters` with the layer held for
    /// reading, so an answer that visits thousands of features once (a vector tile) can copy
    /// out just what it needs from the entries and their features. Writers to the layer wait while `f` runs: keep it
    /// to copying out what the answer needs, and build the answer after.
    pub fn with_matches<R>(
        &self,
        layer: Layer,
        spatial: &Spatial,
        filters: &Filters,
        f: impl FnOnce(Matches<'_>) -> R,
    ) -> R {
        let ix = self.read(layer);
        let entries = hits(&ix, spatial, filters).collect();
        f(Matches { ix: &ix, entries })
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
            if !filters.accepts(e) {
                continue;
            }
            // Points are measured from the entry; only a winner's feature is touched.
            let m = match e.point() {
                Some(p) => distance_m(&origin, &Geometry::Point(p)),
                None => match ix.feature(e.slot) {
                    Some(f) => distance_m(&origin, &f.geometry()),
                    None => continue,
                },
            };
            if best.len() == k && best.last().is_some_and(|(_, worst)| m >= *worst) {
                continue;
            }
            let Some(feature) = ix.feature(e.slot) else {
                continue;
            };
            let at = best.partition_point(|(_, x)| *x <= m);
            best.insert(at, (Arc::clone(feature), m));
            best.truncate(k);
        }
        best
    }
}

/// What [`FeatureIndex::with_matches`] shows while the layer is held: the matching entries,
/// in the tree's order, and their features.
pub struct Matches<'a> {
    ix: &'a LayerIndex,
    /// The matching entries.
    pub entries: Vec<&'a IndexEntry>,
}

impl<'a> Matches<'a> {
    /// The feature behind `entry`.
    #[must_use]
    pub fn feature(&self, entry: &IndexEntry) -> Option<&'a Arc<Feature>> {
        self.ix.feature(entry.slot)
    }

    /// The organisation owning `entry`'s feature.
    #[must_use]
    pub fn organisation(&self, entry: &IndexEntry) -> Option<&'a Arc<str>> {
        match self.ix.organisations.name(entry.organisation) {
            Some(o) => Some(o),
            None => self.feature(entry).map(|f| &f.meta.organisation),
        }
    }
}

/// The entries of `ix` matching `spatial` and `filters`, in the tree's order.
fn hits<'a>(
    ix: &'a LayerIndex,
    spatial: &'a Spatial,
    filters: &'a Filters,
) -> impl Iterator<Item = &'a IndexEntry> + 'a {
    let b = candidate_bounds(spatial);
    let env = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
    let candidates: Box<dyn Iterator<Item = &IndexEntry> + 'a> = match spatial {
        Spatial::All => Box::new(ix.tree.iter()),
        _ => Box::new(ix.tree.locate_in_envelope_intersecting(&env)),
    };
    candidates.filter(move |e| {
        filters.accepts(e)
            && match (spatial, e.point()) {
                (Spatial::All, _) => true,
                // A point's envelope is the point: intersecting the box is the whole test.
                (Spatial::Bbox(_), Some(_)) => true,
                // Points are tested from the entry, without touching the feature.
                (_, Some(p)) => matches_spatial(spatial, &Geometry::Point(p)),
                (_, None) => ix
                    .feature(e.slot)
                    .is_some_and(|f| matches_spatial(spatial, &f.geometry())),
            }
    })
}

/// A box surely holding every match of a distance or intersection predicate.
fn candidate_bounds(spatial: &Spatial) -> [f64; 4] {
    match spatial {
        Spatial::All => [-180.0, -90.0, 180.0, 90.0],
        Spatial::Bbox(b) => b.to_array(),
        Spatial::Near { point, metres } => {
            grow_bounds([point.x(), point.y(), point.x(), point.y()], *metres)
        }
        Spatial::Intersects(g) => bounds(g),
        Spatial::WithinDistance { geometry, metres } => grow_bounds(bounds(geometry), *metres),
    }
}
