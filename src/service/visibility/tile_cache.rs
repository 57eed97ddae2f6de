//! Cut tiles kept for the next caller who sees the layer the same way, and dropped the moment
//! a change touches them: no tile is ever served older than the picture.
//!
//! - **Keyed by the view, not the caller.** A tile's content depends only on the layer, the
//!   tile, the filters and the view class (precision, classification ceiling and hidden
//!   properties), so every caller of one role shares it, and no role ever gets another's.
//! - **Invalidated where it changed.** Every change to the index passes through
//!   `Service::announce`, which drops the tiles whose buffered box meets the feature's old or
//!   new envelope (grown by a coarse cell's reach for coarse tiles). Counts-only tiles of the
//!   layer all go (suppression is decided on the whole layer), and a change to the areas drops
//!   every coarse and counts tile (they carry area names and the area partition).
//! - **No stale insert.** A tile cut while a change to its layer was being applied is returned
//!   but not kept: each layer has an epoch, read before cutting and checked before keeping.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CELL_REACH_M, ExactRead};
use crate::domain::Layer;
use crate::domain::access::Precision;
use crate::index::Filters;
use crate::tiles::{BUFFER, Built, TileId};

/// Tiles kept before the cache starts over.
const MAX_ENTRIES: usize = 20_000;
/// Bytes kept before the cache starts over.
const MAX_BYTES: usize = 256 * 1024 * 1024;

/// What decides a tile's content besides the layer and the tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewKey {
    /// Exact, coarse or aggregate.
    pub precision: Precision,
    /// The classification ceiling's code.
    pub ceiling: u8,
    /// Hidden properties, sorted.
    pub hide: Vec<String>,
    /// The time window.
    pub time: Option<(i64, i64)>,
    /// Categories.
    pub categories: Option<Vec<u8>>,
    /// Statuses.
    pub statuses: Option<Vec<u8>>,
}

impl ViewKey {
    /// The key of `filters` seen at `precision` under `ceiling`, hiding `hide`.
    #[must_use]
    pub fn new(precision: Precision, ceiling: u8, hide: &[String], filters: &Filters) -> Self {
        let mut hide = hide.to_vec();
        hide.sort();
        Self {
            precision,
            ceiling,
            hide,
            time: filters.time.map(|t| (t.start, t.end)),
            categories: filters.categories.clone(),
            statuses: filters.statuses.clone(),
        }
    }
}

/// A kept tile and what its audit record needs.
#[derive(Debug, Clone)]
pub struct CachedTile {
    /// The encoded tile.
    pub built: Arc<Built>,
    /// What it hands out at exact precision (for the audit record of each read).
    pub read: Arc<ExactRead>,
    /// Which keeping this is: unique per kept tile, so a tile cut again after a change is
    /// another generation (a [`ReadCover`](super::ReadCover) covers one generation).
    pub generation: u64,
}

type Key = (Layer, TileId, ViewKey);

/// The cache ([`Service::read_tile`](crate::service::Service::read_tile) uses it).
#[derive(Default)]
pub struct TileCache {
    entries: Mutex<Entries>,
    epochs: [AtomicU64; Layer::ALL.len()],
    /// The last generation handed out.
    generations: AtomicU64,
    off: bool,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, CachedTile>,
    bytes: usize,
}

fn slot(layer: Layer) -> usize {
    Layer::ALL.iter().position(|l| *l == layer).unwrap_or(0)
}

fn meets(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1]
}

impl TileCache {
    /// A cache that keeps tiles, or (`enabled` false) one that keeps none.
    #[must_use]
    pub fn new(enabled: bool) -> Self {
        Self {
            off: !enabled,
            ..Self::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether tiles are kept at all (`tile_cache` on).
    #[must_use]
    pub fn keeps(&self) -> bool {
        !self.off
    }

    /// The layer's epoch: read before cutting a tile, handed back to [`TileCache::keep`].
    #[must_use]
    pub fn epoch(&self, layer: Layer) -> u64 {
        self.epochs[slot(layer)].load(Ordering::Acquire)
    }

    /// A kept tile.
    #[must_use]
    pub fn get(&self, layer: Layer, tile: TileId, view: &ViewKey) -> Option<CachedTile> {
        self.lock().map.get(&(layer, tile, view.clone())).cloned()
    }

    /// Keeps a tile cut at `epoch`, unless its layer has changed since; returns the kept
    /// tile's generation.
    pub fn keep(
        &self,
        layer: Layer,
        tile: TileId,
        view: ViewKey,
        epoch: u64,
        built: Arc<Built>,
        read: Arc<ExactRead>,
    ) -> Option<u64> {
        if self.off {
            return None;
        }
        let mut e = self.lock();
        // Checked under the lock that invalidation also takes: no change slips in between.
        if self.epoch(layer) != epoch {
            return None;
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let cached = CachedTile {
            built,
            read,
            generation,
        };
        let size = cached.built.bytes.len();
        if e.map.len() >= MAX_ENTRIES || e.bytes + size > MAX_BYTES {
            e.map.clear();
            e.bytes = 0;
        }
        if let Some(old) = e.map.insert((layer, tile, view), cached) {
            e.bytes = e.bytes.saturating_sub(old.built.bytes.len());
        }
        e.bytes += size;
        Some(generation)
    }

    /// Drops what a change of a `layer` feature from envelope `before` to `after` touches.
    pub fn invalidate(&self, layer: Layer, envelopes: &[[f64; 4]]) {
        let mut e = self.lock();
        self.epochs[slot(layer)].fetch_add(1, Ordering::AcqRel);
        let reach = crate::domain::crs::METRES_PER_DEGREE;
        let before = e.map.len();
        e.map.retain(|(l, tile, view), _| {
            if layer == Layer::Areas && view.precision != Precision::Exact {
                return false;
            }
            if *l != layer {
                return true;
            }
            match view.precision {
                Precision::Aggregate | Precision::None => false,
                Precision::Coarse => {
                    // A coarse tile holds the cells reaching into it (their centres up to a
                    // cell's reach beyond it), and a cell the features up to a reach from its
                    // centre: a change twice the reach away can still change a count in it.
                    let b = tile.bounds_with(BUFFER);
                    let dlat = 2.0 * CELL_REACH_M / reach;
                    let dlon = dlat / b[1].abs().max(b[3].abs()).min(85.0).to_radians().cos();
                    let grown = [b[0] - dlon, b[1] - dlat, b[2] + dlon, b[3] + dlat];
                    !envelopes.iter().any(|env| meets(grown, *env))
                }
                Precision::Exact => {
                    let b = tile.bounds_with(BUFFER);
                    !envelopes.iter().any(|env| meets(b, *env))
                }
            }
        });
        if e.map.len() != before {
            e.bytes = e.map.values().map(|c| c.built.bytes.len()).sum();
        }
        if layer == Layer::Areas {
            // Coarse and counts tiles of every layer name areas: none of them is current now.
            for epoch in &self.epochs {
                epoch.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Drops everything (the picture was read again whole).
    pub fn clear(&self) {
        let mut e = self.lock();
        for epoch in &self.epochs {
            epoch.fetch_add(1, Ordering::AcqRel);
        }
        e.map.clear();
        e.bytes = 0;
    }

    /// How many tiles are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
