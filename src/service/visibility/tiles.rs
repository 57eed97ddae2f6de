//! Vector tiles of a layer as a caller may see them: the same grants as items and counts, cut
//! per tile from the index (never from a cache, so no tile can be older than the picture).
//!
//! - `exact`: the features in the tile (with a buffer), their properties less the hidden ones,
//!   as in `/items`; the read is audited like a page of items (restricted ids named).
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
use serde_json::Value as Json;

use super::{AggregateBy, Items, Shown, cpu_bound, spatial_bbox};
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
    pub built: Built,
    /// The precision it was cut at.
    pub precision: Precision,
}

/// A JSON property value as a tile value (objects and arrays as their JSON text).
fn tile_value(v: &Json) -> Option<Value> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) if i < 0 => Value::Sint(i),
            (_, Some(u)) => Value::Uint(u),
            _ => Value::Double(n.as_f64().unwrap_or(0.0)),
        }),
        Json::String(s) => Some(Value::Str(s.clone())),
        other => Some(Value::Str(other.to_string())),
    }
}

/// The properties a feature carries into a tile: `id` and what `/items` shows of it.
fn shown_properties(shown: &Shown, today: time::Date) -> Vec<(String, Value)> {
    let mut out = vec![("id".to_owned(), Value::Str(shown.id().to_string()))];
    if let Ok(v) = shown.to_value(today)
        && let Some(props) = v.get("properties").and_then(Json::as_object)
    {
        for (k, v) in props {
            if k == "links" {
                continue;
            }
            if let Some(tv) = tile_value(v) {
                out.push((k.clone(), tv));
            }
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
        let area = Spatial::Bbox(Bbox::clamped(tile.bounds_with(BUFFER)));
        let name = layer.as_str();
        let built = match precision {
            Precision::None => unreachable_none(viewer, layer)?,
            Precision::Aggregate => {
                let agg = self
                    .read_aggregate(viewer, layer, AggregateBy::Grid, &area, filters)
                    .await?;
                cpu_bound(|| {
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
                })
            }
            Precision::Coarse | Precision::Exact => {
                let items = self.tile_items(viewer, layer, precision, &area, filters)?;
                let today = self.clock().now().date();
                let built = cpu_bound(|| {
                    let mut b = LayerBuilder::new(tile, name);
                    // Gridded anyway: properties would be thrown away.
                    let with_props = items.features.len() <= MAX_POINTS;
                    for shown in &items.features {
                        let props = if with_props {
                            shown_properties(shown, today)
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
                if precision == Precision::Exact {
                    self.audit_read(
                        viewer,
                        layer,
                        AuditAction::Read,
                        spatial_bbox(&Spatial::Bbox(Bbox::clamped(tile.bounds()))),
                        &items.features,
                    )
                    .await?;
                }
                built
            }
        };
        Ok(TileAnswer { built, precision })
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

/// `precision` already refused `none`; kept as an error rather than a panic.
fn unreachable_none(viewer: &Viewer, layer: Layer) -> Result<Built, ServiceError> {
    Err(super::forbidden(viewer, layer, "has no access to"))
}
