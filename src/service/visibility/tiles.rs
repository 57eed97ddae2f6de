//! Vector tiles of a layer as a caller may see them: the same grants as items and counts, cut
//! per tile from the index, and kept per view only until a change touches the tile (see
//! `tile_cache`), so no tile is older than the picture.
//!
//! - `exact`: the features in the tile (with a buffer) with what draws, filters and finds them
//!   (id, category, status, time, organisation, classification) less the grant's hidden
//!   properties; the read is audited like a page of items (restricted ids named).
//! - `coarse`: one feature per 250 m cell with what is in it (`count`, `category`,
//!   `categories`), as the cell's square (its centre where a cell is a few pixels), and the
//!   count again at the centre (`label`) in the tile holding it; no id, time or area of any
//!   feature, so no tile says more than the cell; no status filter.
//! - `aggregate`: the published 250 m cells (k ≥ 3, secondary suppression, decided on the whole
//!   layer) as squares with `count`; where a cell would be smaller than a few pixels, its centre
//!   as a point with `count`.
//!
//! More points than a tile draws well are gridded into cells of a few pixels carrying `count`
//! (sums of what the caller may see, so a grid cell reveals nothing a count would not).

use std::sync::Arc;

use geo::Geometry;

use super::shown::CoarseFeature;
use super::tile_cache::ViewKey;
use super::{AggregateBy, ExactRead, Items, Shown, cpu_bound, spatial_bbox};
use crate::domain::Layer;
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::AuditAction;
use crate::domain::bbox::Bbox;
use crate::domain::feature::Classification;
use crate::index::{Filters, IndexEntry, Page, Spatial};
use crate::service::{Service, ServiceError};
use crate::tiles::{
    BUFFER, Built, EXTENT, Key, LayerBuilder, MAX_POINTS, Tags, TileId, Value, ValueRef,
};

/// Below this many tile units per 250 m cell, counted cells are drawn as points (a square of a
/// few units would vanish when simplified).
const MIN_CELL_UNITS: f64 = 16.0;

/// What a tile read's audit record adds to its detail: that it stands for the same caller's
/// re-reads of the unchanged tile for a while (see `read_cover`).
fn covering_note() -> String {
    format!(
        "; covers this caller's re-reads of the unchanged tile for {} s",
        super::COVERED_FOR.as_secs()
    )
}

/// One tile, as the caller may see it.
pub struct TileAnswer {
    /// The encoded MVT (one layer, named after the collection).
    pub built: Arc<Built>,
    /// The precision it was cut at.
    pub precision: Precision,
    /// Whether it came from the cache (cut earlier for the same view, unchanged since).
    pub cached: bool,
}

/// An instant as RFC 3339 in UTC (`2026-11-23T12:00:00Z`, as `time` formats a whole second),
/// written into `buf`; `None` for the open ends of a span and years RFC 3339 cannot write.
fn instant(t: i64, buf: &mut [u8; 20]) -> Option<&str> {
    if t == i64::MIN || t == i64::MAX {
        return None;
    }
    let at = time::OffsetDateTime::from_unix_timestamp(t).ok()?;
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let digits = |buf: &mut [u8; 20], at: usize, v: u32, n: usize| {
        let mut v = v;
        for i in (0..n).rev() {
            // One decimal digit.
            #[allow(clippy::cast_possible_truncation)]
            let d = (v % 10) as u8;
            buf[at + i] = b'0' + d;
            v /= 10;
        }
    };
    *buf = *b"0000-00-00T00:00:00Z";
    digits(buf, 0, year, 4);
    digits(buf, 5, u32::from(u8::from(at.month())), 2);
    digits(buf, 8, u32::from(at.day()), 2);
    digits(buf, 11, u32::from(at.hour()), 2);
    digits(buf, 14, u32::from(at.minute()), 2);
    digits(buf, 17, u32::from(at.second()), 2);
    std::str::from_utf8(buf).ok()
}

/// A coarse layer's tile: one feature per 250 m cell holding what the caller may see, with
/// `count`, the commonest `category`, `categories` ("code n, code n", most first) and `cell_m`,
/// drawn as the cell's square (its centre as a point where a cell would be a few pixels). No
/// feature's id, time or area: a cell is all a coarse role sees of a position, and every tile
/// holding the cell says the same of it, however deep.
fn coarse_cells(tile: TileId, name: &str, grid: &super::Grid, items: &Items) -> Built {
    type Cell<'a> = (
        geo::Point<f64>,
        u64,
        std::collections::BTreeMap<&'a str, u64>,
    );
    let mut cells: std::collections::BTreeMap<(i64, i64), Cell<'_>> =
        std::collections::BTreeMap::new();
    for shown in &items.features {
        if let Shown::Coarse(CoarseFeature {
            cell,
            centre,
            category,
            ..
        }) = shown
        {
            let entry = cells
                .entry(*cell)
                .or_insert_with(|| (*centre, 0, std::collections::BTreeMap::new()));
            entry.1 += 1;
            if let Some(c) = category {
                *entry.2.entry(c).or_default() += 1;
            }
        }
    }
    let as_points = cell_units(tile) < MIN_CELL_UNITS;
    let mut b = LayerBuilder::new(tile, name);
    let mut listed = String::new();
    for (cell, (centre, count, categories)) in &cells {
        let mut ranked: Vec<(&str, u64)> = categories.iter().map(|(k, n)| (*k, *n)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let geometry = match (as_points, grid.square(*cell)) {
            (false, Some(square)) => Geometry::Polygon(square),
            _ => Geometry::Point(*centre),
        };
        listed.clear();
        for (i, (k, n)) in ranked.iter().enumerate() {
            use std::fmt::Write as _;
            let _ = write!(listed, "{}{k} {n}", if i == 0 { "" } else { ", " });
        }
        b.add_with(&geometry, *count, |tags| {
            tags.uint("count", *count);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            tags.uint("cell_m", super::CELL_M as u64);
            if let Some((top, _)) = ranked.first() {
                tags.str("category", top);
            }
            if !listed.is_empty() {
                tags.str("categories", &listed);
            }
        });
        // Where the count is written: the cell's centre, in the one tile holding it (a square
        // cut by tile edges would otherwise be labelled once per piece).
        let (x, y) = tile.to_tile(centre.x(), centre.y());
        let extent = f64::from(EXTENT);
        if !as_points && (0.0..extent).contains(&x) && (0.0..extent).contains(&y) {
            b.add_with(&Geometry::Point(*centre), 0, |tags| {
                tags.uint("count", *count);
                tags.value("label", &Value::Bool(true));
            });
        }
    }
    b.finish()
}

/// The keys an exact feature's properties go under in one tile, looked up once per tile;
/// `None` where the grant hides the property or the layer has none.
struct ExactKeys {
    /// The values met so far of the properties with few values, by code.
    categories: [Option<ValueRef>; 256],
    statuses: [Option<ValueRef>; 256],
    classifications: [Option<ValueRef>; 3],
    organisations: Vec<(Arc<str>, ValueRef)>,
    id: Key,
    category: Option<Key>,
    status: Option<Key>,
    start: Option<Key>,
    end: Option<Key>,
    organisation: Option<Key>,
    classification: Option<Key>,
}

impl ExactKeys {
    fn new(layer: Layer, hide: &[String], tags: &mut Tags) -> Self {
        // The id is never hidden: it is how the feature is asked for.
        let id = tags.key("id");
        let mut key = |name: Option<&str>| {
            name.filter(|n| !hide.iter().any(|h| h == n))
                .map(|n| tags.key(n))
        };
        let category = key(layer.category_property());
        let status = key(Some("status").filter(|_| !layer.status_names().is_empty()));
        let temporal = layer.temporal_properties();
        let start = key(temporal.map(|(s, _)| s));
        let end = key(temporal.and_then(|(_, e)| e));
        let organisation = key(Some("organisation"));
        let classification = key(Some("classification"));
        Self {
            categories: [None; 256],
            statuses: [None; 256],
            classifications: [None; 3],
            organisations: Vec::new(),
            id,
            category,
            status,
            start,
            end,
            organisation,
            classification,
        }
    }
}

/// What an exact feature carries into a tile, written into the layer's tables: enough to
/// draw, filter and find it (`id`, its category, status, time, organisation and
/// classification, less what the grant hides). The whole feature is one
/// `GET /collections/{id}/items/{featureId}` away, audited like any read.
fn write_exact(
    layer: Layer,
    entry: &IndexEntry,
    organisation: Option<&Arc<str>>,
    keys: &mut ExactKeys,
    tags: &mut Tags,
) {
    /// The value `name` of a vocabulary, looked up once per tile by its code.
    fn coded(
        seen: &mut [Option<ValueRef>],
        code: usize,
        name: &str,
        tags: &mut Tags,
    ) -> Option<ValueRef> {
        let slot = seen.get_mut(code)?;
        Some(*slot.get_or_insert_with(|| tags.shared_str(name)))
    }
    let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
    tags.str_at(
        keys.id,
        entry.id().hyphenated().encode_lower(&mut id),
        false,
    );
    let (category, status) = (usize::from(entry.category), usize::from(entry.status));
    if let Some(k) = keys.category
        && let Some(name) = layer.category_names().get(category)
        && let Some(v) = coded(&mut keys.categories, category, name, tags)
    {
        tags.pair(k, v);
    }
    if let Some(k) = keys.status
        && let Some(name) = layer.status_names().get(status)
        && let Some(v) = coded(&mut keys.statuses, status, name, tags)
    {
        tags.pair(k, v);
    }
    let mut buf = [0u8; 20];
    // Times to the second seldom repeat: stored without a lookup.
    if let Some(k) = keys.start
        && let Some(t) = instant(entry.time_start, &mut buf)
    {
        tags.str_at(k, t, false);
    }
    if let Some(k) = keys.end
        && let Some(t) = instant(entry.time_end, &mut buf)
    {
        tags.str_at(k, t, false);
    }
    if let Some(k) = keys.organisation
        && let Some(org) = organisation
    {
        let v = if let Some((_, v)) = keys.organisations.iter().find(|(o, _)| Arc::ptr_eq(o, org)) {
            *v
        } else {
            let v = tags.shared_str(org);
            keys.organisations.push((Arc::clone(org), v));
            v
        };
        tags.pair(k, v);
    }
    if let Some(k) = keys.classification
        && let Some(name) = Classification::NAMES.get(usize::from(entry.classification))
        && let Some(v) = coded(
            &mut keys.classifications,
            usize::from(entry.classification),
            name,
            tags,
        )
    {
        tags.pair(k, v);
    }
}

impl Service {
    /// The tile `tile` of `layer` as `viewer` may see it, filtered by time window, categories and
    /// statuses like items (`filters`). Exact reads are audited before the tile is returned.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none` layers and for a status filter below `exact`;
    /// store failures writing the audit record.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, z = tile.z, x = tile.x, y = tile.y))]
    pub async fn read_tile(
        &self,
        viewer: &Viewer,
        layer: Layer,
        tile: TileId,
        filters: &Filters,
    ) -> Result<TileAnswer, ServiceError> {
        let precision = self.precision(viewer, layer)?;
        if precision != Precision::Exact && filters.statuses.is_some() {
            return Err(super::forbidden(
                viewer,
                layer,
                "sees category, week and area only (no status filter) in",
            ));
        }
        let view = ViewKey::new(
            precision,
            viewer.role.ceiling.code(),
            &viewer.role.grant(layer).hide,
            filters,
        );
        let audit_box = spatial_bbox(&Spatial::Bbox(Bbox::clamped(tile.bounds())));
        if let Some(hit) = self.tile_cache.get(layer, tile, &view) {
            // While the database is out of reach no exact read is answered, covered or not
            // (the outage rule: what must be recorded is not handed out).
            if hit.read.count > 0 && self.database_down() {
                return Err(Self::unavailable_error());
            }
            if hit.read.count > 0 && !self.read_cover.covers(viewer, hit.generation) {
                self.audit_exact(
                    viewer,
                    layer,
                    AuditAction::Read,
                    audit_box,
                    &hit.read,
                    &covering_note(),
                )
                .await?;
                self.read_cover.cover(viewer, hit.generation);
            }
            return Ok(TileAnswer {
                built: hit.built,
                precision,
                cached: true,
            });
        }
        let epoch = self.tile_cache.epoch(layer);
        let area = Spatial::Bbox(Bbox::clamped(tile.bounds_with(BUFFER)));
        let name = layer.as_str();
        let (built, read) = match precision {
            Precision::None => return Err(super::forbidden(viewer, layer, "has no access to")),
            Precision::Aggregate => {
                let agg = self
                    .read_aggregate(viewer, layer, AggregateBy::Grid, &area, filters)
                    .await?;
                let built = cpu_bound(|| {
                    let mut b = LayerBuilder::new(tile, name);
                    let cell_units = cell_units(tile);
                    for bucket in &agg.buckets {
                        let count = u64::try_from(bucket.count).unwrap_or(u64::MAX);
                        let props = vec![
                            ("key".to_owned(), Value::Str(bucket.key.clone())),
                            ("count".to_owned(), Value::Uint(count)),
                        ];
                        if cell_units < MIN_CELL_UNITS {
                            if let Some(c) = geo::Centroid::centroid(&bucket.geometry) {
                                b.add(&Geometry::Point(c), count, props);
                            }
                        } else {
                            b.add(&bucket.geometry, count, props);
                        }
                    }
                    b.finish()
                });
                (built, ExactRead::default())
            }
            Precision::Exact => {
                let (built, read) =
                    cpu_bound(|| self.exact_tile(viewer, layer, tile, &area, filters));
                // Kept tiles' first reads cover re-reads; with the cache off nothing is kept.
                let note = if self.tile_cache.keeps() {
                    covering_note()
                } else {
                    String::new()
                };
                self.audit_exact(viewer, layer, AuditAction::Read, audit_box, &read, &note)
                    .await?;
                (built, read)
            }
            Precision::Coarse => {
                // Cells reaching into the tile: their centres up to a cell's reach (half its
                // diagonal, and a little) beyond its buffer. The kept tile is dropped by a
                // change up to twice that away (`tile_cache`).
                let [w, s, e, n] = tile.bounds_with(BUFFER);
                let reach_lat = super::CELL_REACH_M / crate::domain::crs::METRES_PER_DEGREE;
                let reach_lon = reach_lat / s.abs().max(n.abs()).to_radians().cos().max(0.01);
                let around = Spatial::Bbox(Bbox::clamped([
                    w - reach_lon,
                    s - reach_lat,
                    e + reach_lon,
                    n + reach_lat,
                ]));
                let items = self.coarse_tile_items(viewer, layer, &around, filters)?;
                let built = cpu_bound(|| coarse_cells(tile, name, &self.grid, &items));
                (built, ExactRead::default())
            }
        };
        let built = Arc::new(built);
        let exact = read.count > 0;
        let kept =
            self.tile_cache
                .keep(layer, tile, view, epoch, Arc::clone(&built), Arc::new(read));
        // The record just committed covers this caller's re-reads of the tile as kept.
        if let Some(generation) = kept
            && exact
        {
            self.read_cover.cover(viewer, generation);
        }
        Ok(TileAnswer {
            built,
            precision,
            cached: false,
        })
    }

    /// Every feature of the tile's area at coarse precision, unpaged.
    fn coarse_tile_items(
        &self,
        viewer: &Viewer,
        layer: Layer,
        area: &Spatial,
        filters: &Filters,
    ) -> Result<Items, ServiceError> {
        let all = Page {
            offset: 0,
            limit: usize::MAX,
        };
        let filters = Self::ceiling_filters(viewer, filters);
        self.coarse_items(viewer, layer, area, &filters, all)
    }

    /// The tile at exact precision, and what it handed out for the audit record. What the tile
    /// needs is copied out of the index under the layer's read lock (entries, not features)
    /// and the tile is built after. Up to [`MAX_POINTS`] features are written in id order with
    /// their properties, so the same content makes the same bytes (and ETag) on every instance
    /// however its R-tree is arranged; past that, the tile is always gridded (points summed in
    /// any order alike, lines and polygons in id order, no properties).
    fn exact_tile(
        &self,
        viewer: &Viewer,
        layer: Layer,
        tile: TileId,
        area: &Spatial,
        filters: &Filters,
    ) -> (Built, ExactRead) {
        let filters = Self::ceiling_filters(viewer, filters);
        let hide = &viewer.role.grant(layer).hide;
        let restricted = Classification::Restricted.code();
        // Under the layer's read lock only what the tile needs is copied out (entries, not
        // features; a line's or polygon's feature by its `Arc`), so writers never wait on the
        // encoding or on clipping.
        let lent = self.index().with_matches(layer, area, &filters, |m| {
            let shape =
                |e: &IndexEntry| e.point().is_none().then(|| m.feature(e).cloned()).flatten();
            if m.entries.len() <= MAX_POINTS {
                Lent::Features(
                    m.entries
                        .iter()
                        .map(|e| {
                            let organisation = m.organisation(e).cloned();
                            ((*e).clone(), organisation, shape(e))
                        })
                        .collect(),
                )
            } else {
                Lent::Grid {
                    count: m.entries.len(),
                    points: m.entries.iter().filter_map(|e| e.point()).collect(),
                    restricted: m
                        .entries
                        .iter()
                        .filter(|e| e.classification == restricted)
                        .map(|e| e.id())
                        .collect(),
                    shapes: m.entries.iter().filter_map(|e| shape(e)).collect(),
                }
            }
        });
        let mut b = LayerBuilder::new(tile, layer.as_str());
        let mut read = ExactRead::default();
        match lent {
            Lent::Features(mut features) => {
                read.count = features.len();
                // By id, so the same content makes the same bytes on every instance.
                features.sort_unstable_by_key(|(e, ..)| (e.id_high, e.id_low));
                let mut keys: Option<ExactKeys> = None;
                for (e, organisation, feature) in &features {
                    let id = e.id();
                    if e.classification == restricted {
                        read.restricted.push(id);
                    }
                    read.single = Some(id);
                    let props = |tags: &mut Tags| {
                        let keys = keys.get_or_insert_with(|| ExactKeys::new(layer, hide, tags));
                        write_exact(layer, e, organisation.as_ref(), keys, tags);
                    };
                    match (e.point(), feature) {
                        (Some(p), _) => b.add_with(&Geometry::Point(p), 1, props),
                        (None, Some(f)) => b.add_with(&f.geometry(), 1, props),
                        (None, None) => {}
                    }
                }
            }
            Lent::Grid {
                count,
                points,
                mut restricted,
                mut shapes,
            } => {
                // Gridded whatever lies in the buffer: counts only, summed in any order alike;
                // lines and polygons in id order.
                read.count = count;
                b.grid_points();
                for p in points {
                    b.add_with(&Geometry::Point(p), 1, |_| {});
                }
                shapes.sort_unstable_by_key(|f| f.id);
                for f in &shapes {
                    b.add_with(&f.geometry(), 1, |_| {});
                }
                restricted.sort_unstable();
                read.restricted = restricted;
            }
        }
        if read.count != 1 {
            read.single = None;
        }
        (b.finish(), read)
    }
}

/// A feature as an exact tile copies it out of the index: its entry, its organisation, and
/// for a line or polygon the feature itself.
type LentFeature = (
    IndexEntry,
    Option<Arc<str>>,
    Option<Arc<crate::domain::Feature>>,
);

/// What an exact tile copies out of the index: up to [`MAX_POINTS`] features as their entries
/// (with the organisation, and the feature of a line or polygon), or, past that, what a
/// gridded tile needs (positions, restricted ids, lines and polygons).
enum Lent {
    Features(Vec<LentFeature>),
    Grid {
        count: usize,
        points: Vec<geo::Point<f64>>,
        restricted: Vec<uuid::Uuid>,
        shapes: Vec<Arc<crate::domain::Feature>>,
    },
}

/// Tile units a 250 m cell spans at the tile's zoom (at its latitude).
fn cell_units(tile: TileId) -> f64 {
    let [w, s, e, n] = tile.bounds();
    let lat = f64::midpoint(s, n).to_radians();
    let width_m = (e - w) * crate::domain::crs::METRES_PER_DEGREE * lat.cos();
    f64::from(EXTENT) * super::CELL_M / width_m.max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::format_description::well_known::Rfc3339;

    use super::instant;

    #[test]
    fn instants_are_written_as_time_formats_them() {
        let mut buf = [0u8; 20];
        // From 1900 to 9999, in uneven steps that land on every field's edges now and then.
        let mut t = -2_208_988_800_i64;
        while t < 253_402_300_799 {
            let ours = instant(t, &mut buf).map(str::to_owned);
            let theirs = time::OffsetDateTime::from_unix_timestamp(t)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            assert_eq!(ours.as_deref(), Some(theirs.as_str()), "{t}");
            t += 86_399 * 37 + 3_599;
        }
        for edge in [0, 951_782_400, 1_767_225_599, 253_402_300_799] {
            let theirs = time::OffsetDateTime::from_unix_timestamp(edge)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            assert_eq!(instant(edge, &mut buf), Some(theirs.as_str()));
        }
        assert_eq!(instant(i64::MIN, &mut buf), None);
        assert_eq!(instant(i64::MAX, &mut buf), None);
        assert_eq!(instant(253_402_300_800, &mut buf), None);
    }
}
