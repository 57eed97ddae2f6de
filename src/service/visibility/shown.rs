//! What a caller receives of one feature: the feature less its hidden properties, or its coarse
//! view (cell centre, category, week, area) — the only things ever serialised.

use std::sync::Arc;

use geo::Point;
use serde_json::{Value, json};
use time::Date;
use uuid::Uuid;

use super::CELL_M;
use crate::domain::geojson_out::Shape;
use crate::domain::time::week_label;
use crate::domain::{Feature, Layer};

/// One feature as a caller may see it.
#[derive(Debug, Clone)]
pub enum Shown {
    /// The feature, less the grant's hidden properties.
    Exact {
        /// The feature.
        feature: Arc<Feature>,
        /// Properties to leave out.
        hide: Arc<[String]>,
    },
    /// The coarsened view.
    Coarse(CoarseFeature),
}

/// A feature snapped to its grid cell, with category, week and area only.
#[derive(Debug, Clone, PartialEq)]
pub struct CoarseFeature {
    /// The feature's id.
    pub id: Uuid,
    /// Its layer.
    pub layer: Layer,
    /// The grid cell (easting and northing divided by [`CELL_M`]).
    pub cell: (i64, i64),
    /// The cell's centre (lon, lat).
    pub centre: Point<f64>,
    /// Its category, if the layer has one.
    pub category: Option<&'static str>,
    /// The Monday (00:00 UTC, Unix seconds) of its ISO week, if the layer has time.
    pub week_start: Option<i64>,
    /// The area holding the cell centre.
    pub area: Option<Arc<str>>,
}

impl Shown {
    /// Whether two views show the same thing (for exact views: the same version, and the same
    /// hidden-property set; for coarse views: the same cell, category, week and area).
    #[must_use]
    pub fn same_view(&self, other: &Shown) -> bool {
        match (self, other) {
            (Shown::Coarse(a), Shown::Coarse(b)) => a == b,
            (Shown::Exact { feature: a, .. }, Shown::Exact { feature: b, .. }) => {
                let today = time::OffsetDateTime::UNIX_EPOCH.date();
                a.id == b.id && self.to_value(today).ok() == other.to_value(today).ok()
            }
            _ => false,
        }
    }

    /// [`Feature::touch`] of an exact view (a coarse view holds no free text).
    #[must_use]
    pub fn touch(&self) -> u32 {
        match self {
            Shown::Exact { feature, .. } => feature.touch(),
            Shown::Coarse(_) => 0,
        }
    }

    /// The feature's id.
    #[must_use]
    pub fn id(&self) -> Uuid {
        match self {
            Shown::Exact { feature, .. } => feature.id,
            Shown::Coarse(c) => c.id,
        }
    }

    /// The RFC 7946 Feature a client receives.
    ///
    /// # Errors
    /// Only if serialisation fails.
    pub fn to_json(&self, today: Date) -> Result<String, serde_json::Error> {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out, today)?;
        // serde_json and the straight writer write UTF-8 only.
        String::from_utf8(out).map_err(<serde_json::Error as serde::ser::Error>::custom)
    }

    /// [`Shown::to_json`] appended to `out`: no string of its own (a page of features writes
    /// each straight into its body).
    ///
    /// # Errors
    /// Only if serialisation fails.
    pub fn write_json(&self, out: &mut Vec<u8>, today: Date) -> Result<(), serde_json::Error> {
        if self.write_shaped(out, today, Shape::default())? {
            return Ok(());
        }
        serde_json::to_writer(out, &self.to_value(today)?)
    }

    /// [`Shown::write_json`] shaped by `shape` (its `hide` is this view's own), written
    /// straight: `Ok(false)`, with nothing written, for a view only the general path (its JSON
    /// value, transformed and cut) writes — a coarse one, or an exact one that is not an
    /// incident with a point (unless it is whole and hides nothing).
    ///
    /// # Errors
    /// A position SWEREF 99 TM cannot hold; serialisation.
    pub fn write_shaped(
        &self,
        out: &mut Vec<u8>,
        today: Date,
        shape: Shape<'_>,
    ) -> Result<bool, serde_json::Error> {
        match self {
            Shown::Exact { feature, hide } => crate::domain::geojson_out::write_shaped(
                out,
                feature,
                today,
                &Shape {
                    hide: &hide[..],
                    ..shape
                },
            ),
            Shown::Coarse(_) => Ok(false),
        }
    }

    /// As [`Shown::to_json`], as a JSON value.
    ///
    /// # Errors
    /// Only if serialisation fails.
    pub fn to_value(&self, today: Date) -> Result<Value, serde_json::Error> {
        match self {
            Shown::Exact { feature, hide } => {
                let mut v = serde_json::to_value(feature.geojson(today))?;
                if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
                    for h in hide.iter() {
                        props.remove(h);
                    }
                }
                Ok(v)
            }
            Shown::Coarse(c) => Ok(json!({
                "type": "Feature",
                "id": c.id,
                "geometry": crate::domain::feature::rounded_geojson(&geo::Geometry::Point(c.centre)),
                "properties": {
                    "category": c.category,
                    "week": c.week_start.map(week_label),
                    "area": c.area.as_deref(),
                    "precision": "coarse",
                    "cell_m": CELL_M,
                },
            })),
        }
    }
}
