//! Vector tiles of a layer as a caller may see them: the same grants as items and counts, cut
//! per tile from the index, and kept per view only until a change touches the tile (see
//! `tile_cache`), so no tile is older than the picture.
//!
//! - `exact`: the features in the tile (with a buffer) with what draws, filters and finds them
//!   (id, category, status, time, organisation, classification) less the grant's hidden
//!   properties; the read is audited like a page of items (restricted ids named).
//! - `coarse`: each feature at its 250 m cell centre with category, week and area, selected by
//!   the centre; no status filter.
//! - `aggregate`: the published 250 m cells (k ≥ 3, secondary suppression, decided on the whole
//!   layer) as squares with `count`; where a cell would be smaller than a few pixels, its centre
//!   as a point with `count`.
//!
//! More points than a tile draws well are gridded into cells of a few pixels carrying `count`
//! (sums of what the caller may see, so a grid cell reveals nothing a count would not).

use std::sync::Arc;

use geo::Geometry;

use super::tile_cache::{CachedTile, ViewKey};
use super::{AggregateBy, ExactRead, Items, Shown, cpu_bound, spatial_bbox};
use crate::domain::Layer;
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::AuditAction;
use crate::domain::bbox::Bbox;
use crate::index::{Filters, Page, Spatial};
use crate::service::{Service, ServiceError};
use crate::tiles::{BUFFER, Built, EXTENT, LayerBuilder, MAX_POINTS, TileId, Value};

/// Below this many tile units per 250 m cell, counted cells are drawn as points (a square of a
/// few units would vanish when simplified).
const MIN_CELL_UNITS: f64 = 16.0;

/// One tile, as the caller may see it.
pub struct TileAnswer {
    /// The encoded MVT (one layer, named after the collection).
    pub built: Arc<Built>,
    /// The precision it was cut at.
    pub precision: Precision,
    /// Whether it came from the cache (cut earlier for the same view, unchanged since).
    pub cached: bool,
}

/// An instant as RFC 3339 (UTC), if it is one.
fn instant(t: i64) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    if t == i64::MIN || t == i64::MAX {
        return None;
    }
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
}

/// What a feature carries into a tile: enough to draw, filter and find it (`id`, its category,
/// status, time, organisation and classification, less what the grant hides). The whole
/// feature is one `GET /collections/{id}/items/{featureId}` away, audited like any read.
fn shown_properties(shown: &Shown) -> Vec<(String, Value)> {
    let mut out = vec![("id".to_owned(), Value::Str(shown.id().to_string()))];
    match shown {
        Shown::Coarse(c) => {
            if let Some(cat) = c.category {
                out.push(("category".to_owned(), Value::Str(cat.to_owned())));
            }
            if let Some(w) = c.week_start {
                out.push((
                    "week".to_owned(),
                    Value::Str(crate::domain::time::week_label(w)),
                ));
            }
            if let Some(a) = &c.area {
                out.push(("area".to_owned(), Value::Str(a.to_string())));
            }
        }
        Shown::Exact { feature, hide } => {
            let layer = feature.layer();
            let mut push = |name: &str, v: Value| {
                if !hide.iter().any(|h| h == name) {
                    out.push((name.to_owned(), v));
                }
            };
            if let (Some(name), Some(code)) = (
                layer.category_property(),
                feature.properties.category_code(),
            ) && let Some(v) = layer.category_names().get(usize::from(code))
            {
                push(name, Value::Str((*v).to_owned()));
            }
            if let Some(code) = feature.properties.status_code()
                && let Some(v) = layer.status_names().get(usize::from(code))
            {
                push("status", Value::Str((*v).to_owned()));
            }
            if let Some((start, end)) = layer.temporal_properties() {
                let span = feature.properties.time_span();
                if let Some(t) = instant(span.start) {
                    push(start, Value::Str(t));
                }
                if let (Some(end), Some(t)) = (end, instant(span.end)) {
                    push(end, Value::Str(t));
                }
            }
            push(
                "organisation",
                Value::Str(feature.meta.organisation.to_string()),
            );
            push(
                "classification",
                Value::Str(feature.meta.classification.as_str().to_owned()),
            );
        }
    }
    out
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
            let read = ExactRead {
                count: hit.exact,
                restricted: hit.restricted,
                single: hit.single,
            };
            self.audit_exact(viewer, layer, AuditAction::Read, audit_box, &read)
                .await?;
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
            Precision::Coarse | Precision::Exact => {
                let items = self.tile_items(viewer, layer, precision, &area, filters)?;
                let built = cpu_bound(|| {
                    let mut b = LayerBuilder::new(tile, name);
                    // Gridded anyway: properties would be thrown away.
                    let with_props = items.features.len() <= MAX_POINTS;
                    for shown in &items.features {
                        let props = if with_props {
                            shown_properties(shown)
                        } else {
                            Vec::new()
                        };
                        match shown {
                            Shown::Exact { feature, .. } => b.add(&feature.geometry, 1, props),
                            Shown::Coarse(c) => b.add(&Geometry::Point(c.centre), 1, props),
                        }
                    }
                    b.finish()
                });
                let read = ExactRead::of(&items.features);
                self.audit_exact(viewer, layer, AuditAction::Read, audit_box, &read)
                    .await?;
                (built, read)
            }
        };
        let built = Arc::new(built);
        self.tile_cache.keep(
            layer,
            tile,
            view,
            epoch,
            CachedTile {
                built: Arc::clone(&built),
                exact: read.count,
                restricted: read.restricted,
                single: read.single,
            },
        );
        Ok(TileAnswer {
            built,
            precision,
            cached: false,
        })
    }

    /// Every feature of the tile's area as `viewer` sees it (exact or coarse), unpaged.
    fn tile_items(
        &self,
        viewer: &Viewer,
        layer: Layer,
        precision: Precision,
        area: &Spatial,
        filters: &Filters,
    ) -> Result<Items, ServiceError> {
        let all = Page {
            offset: 0,
            limit: usize::MAX,
        };
        let filters = Self::ceiling_filters(viewer, filters);
        if precision == Precision::Coarse {
            return self.coarse_items(viewer, layer, area, &filters, all);
        }
        let hide: Arc<[String]> = Self::hidden(viewer, layer);
        let features = cpu_bound(|| {
            let mut f = self.index().matching(layer, area, &filters);
            // In a fixed order, so the same content always makes the same bytes (and ETag)
            // however the R-tree is arranged.
            f.sort_unstable_by_key(|f| f.id);
            f
        });
        Ok(Items {
            matched: features.len(),
            features: features
                .into_iter()
                .map(|feature| Shown::Exact {
                    feature,
                    hide: Arc::clone(&hide),
                })
                .collect(),
        })
    }
}

/// Tile units a 250 m cell spans at the tile's zoom (at its latitude).
fn cell_units(tile: TileId) -> f64 {
    let [w, s, e, n] = tile.bounds();
    let lat = f64::midpoint(s, n).to_radians();
    let width_m = (e - w) * crate::domain::crs::METRES_PER_DEGREE * lat.cos();
    f64::from(EXTENT) * super::CELL_M / width_m.max(f64::MIN_POSITIVE)
}
