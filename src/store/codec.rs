//! Geometry and row conversions shared by both back-ends: geometry travels as OGC WKB.

use std::sync::Arc;

use geo::Geometry;
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Feature, Layer, Meta, Properties, StoredColumns};

/// Encodes a geometry as 2D OGC WKB.
///
/// # Errors
/// Only for geometries geozero cannot write (none that pass domain validation).
pub fn to_wkb(g: &Geometry<f64>) -> Result<Vec<u8>, StoreError> {
    g.to_wkb(CoordDimensions::xy())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode geometry as WKB: {e}")))
}

/// Decodes OGC WKB into a geometry.
///
/// # Errors
/// When the bytes are not valid WKB.
pub fn from_wkb(bytes: &[u8]) -> Result<Geometry<f64>, StoreError> {
    // The common case, a 2D point (21 bytes), read directly; everything else through geozero.
    if let Some(p) = wkb_point(bytes) {
        return Ok(Geometry::Point(p));
    }
    Wkb(bytes)
        .to_geo()
        .map_err(|e| StoreError::Corrupt(format!("cannot decode WKB geometry: {e}")))
}

/// A 2D OGC WKB point (byte order, type 1, x, y), or `None` for anything else.
fn wkb_point(b: &[u8]) -> Option<geo::Point<f64>> {
    if b.len() != 21 {
        return None;
    }
    let f64_at = |i: usize| -> Option<f64> {
        let raw: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
        Some(if b[0] == 1 {
            f64::from_le_bytes(raw)
        } else {
            f64::from_be_bytes(raw)
        })
    };
    let kind: [u8; 4] = b.get(1..5)?.try_into().ok()?;
    let kind = match b[0] {
        1 => u32::from_le_bytes(kind),
        0 => u32::from_be_bytes(kind),
        _ => return None,
    };
    (kind == 1).then_some(geo::Point::new(f64_at(5)?, f64_at(13)?))
}

/// The columns every back-end reads back for a feature.
pub struct FeatureRow {
    pub(super) id: Uuid,
    pub(super) layer: String,
    pub(super) geom: Vec<u8>,
    pub(super) properties: String,
    pub(super) organisation: String,
    pub(super) classification: String,
    pub(super) created_at: OffsetDateTime,
    pub(super) updated_at: OffsetDateTime,
    pub(super) created_by: String,
    pub(super) version: i64,
    /// The columns the document may leave out ([`StoredColumns`]); `None` where the
    /// document is whole (the snapshot).
    pub(super) category: Option<String>,
    pub(super) status: Option<String>,
    pub(super) time_start: Option<OffsetDateTime>,
}

/// Shares equal strings (organisations, account names) between features to save memory.
#[derive(Default)]
pub struct Interner(std::collections::HashMap<String, Arc<str>>);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_owned(), Arc::clone(&a));
        a
    }
}

/// The columns as both back-ends' queries return them ([`super::read`]'s order).
pub type RowTuple = (
    Uuid,
    String,
    Vec<u8>,
    String,
    String,
    String,
    OffsetDateTime,
    OffsetDateTime,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<OffsetDateTime>,
);

impl From<RowTuple> for FeatureRow {
    fn from(r: RowTuple) -> Self {
        let (
            id,
            layer,
            geom,
            properties,
            organisation,
            classification,
            created_at,
            updated_at,
            created_by,
            version,
            category,
            status,
            time_start,
        ) = r;
        Self {
            id,
            layer,
            geom,
            properties,
            organisation,
            classification,
            created_at,
            updated_at,
            created_by,
            version,
            category,
            status,
            time_start,
        }
    }
}

impl FeatureRow {
    /// Turns a row into a domain feature.
    ///
    /// # Errors
    /// When a stored value no longer reads (a sign of a bad manual edit).
    pub fn into_feature(self, strings: &mut Interner) -> Result<Feature, StoreError> {
        RowRef {
            id: self.id,
            layer: &self.layer,
            geom: &self.geom,
            properties: &self.properties,
            organisation: &self.organisation,
            classification: &self.classification,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: &self.created_by,
            version: self.version,
            category: self.category.as_deref(),
            status: self.status.as_deref(),
            time_start: self.time_start,
        }
        .to_feature(strings)
    }
}

/// A feature row's values borrowed from wherever they were read: a query's row or snapshot's
/// record ([`FeatureRow`]), or a binary `COPY`'s buffer ([`super::pgcopy_out`]).
pub(super) struct RowRef<'a> {
    pub(super) id: Uuid,
    pub(super) layer: &'a str,
    pub(super) geom: &'a [u8],
    pub(super) properties: &'a str,
    pub(super) organisation: &'a str,
    pub(super) classification: &'a str,
    pub(super) created_at: OffsetDateTime,
    pub(super) updated_at: OffsetDateTime,
    pub(super) created_by: &'a str,
    pub(super) version: i64,
    pub(super) category: Option<&'a str>,
    pub(super) status: Option<&'a str>,
    pub(super) time_start: Option<OffsetDateTime>,
}

impl RowRef<'_> {
    /// The domain feature the row holds.
    ///
    /// # Errors
    /// When a stored value no longer reads (a sign of a bad manual edit).
    pub(super) fn to_feature(&self, strings: &mut Interner) -> Result<Feature, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("feature {}: {what}: {e}", self.id))
        };
        let layer: Layer = self.layer.parse().map_err(|e| corrupt("layer", &e))?;
        let columns = StoredColumns {
            category: self.category,
            status: self.status,
            time_start: self.time_start,
        };
        let properties = Properties::from_stored(layer, self.properties, &columns)
            .map_err(|e| corrupt("properties", &e))?;
        let geometry = from_wkb(self.geom).map_err(|e| corrupt("geometry", &e))?;
        let classification = self
            .classification
            .parse()
            .map_err(|e| corrupt("classification", &e))?;
        Ok(Feature {
            id: self.id,
            geom: geometry.into(),
            properties,
            meta: Meta {
                organisation: strings.get(self.organisation),
                classification,
                created_at: self.created_at,
                updated_at: self.updated_at,
                created_by: strings.get(self.created_by),
                version: self.version,
            },
        })
    }
}

/// Column values derived from a feature for filtering in SQL.
pub struct Derived {
    pub(super) wkb: Vec<u8>,
    pub(super) bounds: [f64; 4],
    pub(super) category: Option<&'static str>,
    pub(super) status: Option<&'static str>,
    pub(super) time_start: Option<OffsetDateTime>,
    pub(super) time_end: Option<OffsetDateTime>,
    /// The row's document ([`Properties::to_stored_json`]).
    pub(super) properties: String,
}

impl Derived {
    /// Computes the derived columns of `f`.
    ///
    /// # Errors
    /// When the geometry cannot be encoded.
    pub fn of(f: &Feature) -> Result<Self, StoreError> {
        let layer = f.layer();
        let span = f.properties.time_span();
        let ts = |t: i64| {
            (t != i64::MIN && t != i64::MAX)
                .then(|| OffsetDateTime::from_unix_timestamp(t).ok())
                .flatten()
        };
        Ok(Self {
            wkb: to_wkb(&f.geometry())?,
            bounds: crate::domain::geometry::bounds(&f.geometry()),
            category: f
                .properties
                .category_code()
                .and_then(|c| layer.category_names().get(usize::from(c)).copied()),
            status: f
                .properties
                .status_code()
                .and_then(|c| layer.status_names().get(usize::from(c)).copied()),
            time_start: ts(span.start),
            time_end: ts(span.end),
            properties: f.properties.to_stored_json(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(f: &Feature, properties: String, columns: Option<&Derived>) -> FeatureRow {
        FeatureRow {
            id: f.id,
            layer: f.layer().as_str().to_owned(),
            geom: to_wkb(&f.geometry()).unwrap(),
            properties,
            organisation: f.meta.organisation.to_string(),
            classification: f.meta.classification.as_str().to_owned(),
            created_at: f.meta.created_at,
            updated_at: f.meta.updated_at,
            created_by: f.meta.created_by.to_string(),
            version: f.meta.version,
            category: columns.and_then(|d| d.category).map(str::to_owned),
            status: columns.and_then(|d| d.status).map(str::to_owned),
            time_start: columns.and_then(|d| d.time_start),
        }
    }

    /// Every demo feature of every layer reads back as written: from a row (a document that
    /// leaves out what the columns hold, completed from them) and whole (the snapshot's form,
    /// no columns); incidents' documents are the shorter.
    #[test]
    fn rows_and_snapshot_rows_read_back_every_layer() {
        let mut strings = Interner::default();
        let mut shorter = 0;
        for f in crate::demo::demo(time::macros::datetime!(2026-11-23 12:00 UTC)) {
            let d = Derived::of(&f).unwrap();
            let stored = d.properties.clone();
            let whole = f.properties.to_json();
            assert!(stored.len() <= whole.len(), "{stored} / {whole}");
            shorter += usize::from(stored.len() < whole.len());
            let back = row(&f, stored, Some(&d))
                .into_feature(&mut strings)
                .unwrap();
            assert_eq!(back, f);
            let back = row(&f, whole, None).into_feature(&mut strings).unwrap();
            assert_eq!(back, f);
        }
        assert!(shorter > 1000, "{shorter}");
    }

    proptest! {
        #[test]
        fn wkb_round_trips_points_and_lines(coords in proptest::collection::vec((-180.0f64..180.0, -90.0f64..90.0), 2..20)) {
            let line: Geometry<f64> = geo::LineString::from(coords.clone()).into();
            prop_assert_eq!(from_wkb(&to_wkb(&line).unwrap()).unwrap(), line);
            let p: Geometry<f64> = geo::Point::from(coords[0]).into();
            prop_assert_eq!(from_wkb(&to_wkb(&p).unwrap()).unwrap(), p.clone());
            // The direct point reader agrees with geozero, in both byte orders.
            let le = to_wkb(&p).unwrap();
            prop_assert_eq!(Wkb(&le).to_geo().unwrap(), Geometry::Point(wkb_point(&le).unwrap()));
            let mut be = vec![0u8, 0, 0, 0, 1];
            be.extend_from_slice(&coords[0].0.to_be_bytes());
            be.extend_from_slice(&coords[0].1.to_be_bytes());
            prop_assert_eq!(Wkb(&be).to_geo().unwrap(), Geometry::Point(wkb_point(&be).unwrap()));
        }
    }
}
