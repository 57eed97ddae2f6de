//! A feature of any layer: identity, geometry, typed properties and bookkeeping.

use std::sync::Arc;

use geo::Geometry;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::area::Area;
use super::camera::Camera;
use super::compact_geometry::CompactGeometry;
use super::error::{Checks, ValidationError, ValidationErrors};
use super::incident::Incident;
use super::layer::Layer;
use super::patrol_route::PatrolRoute;
use super::risk_environment::RiskEnvironment;
use super::text::check_label;
use super::time::TimeSpan;
use super::walk::Walk;

str_enum! {
    /// How sensitive a feature is; a role's grant has a ceiling on this.
    pub enum Classification {
        /// Öppen: may be shown to everyone with access to the picture.
        Open = "open",
        /// Intern: partners in the cooperation.
        Internal = "internal",
        /// Begränsad: need to know only.
        Restricted = "restricted",
    }
}

/// Properties written by the server, ignored when a client sends them back.
pub const READ_ONLY_PROPERTIES: &[&str] = &[
    "id",
    "layer",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "stale",
];

/// Bookkeeping kept for every feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// The reporting / owning organisation.
    pub organisation: Arc<str>,
    /// How sensitive the feature is.
    pub classification: Classification,
    /// When it was first stored.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub updated_at: OffsetDateTime,
    /// Who stored it first (account or integration name).
    pub created_by: Arc<str>,
    /// Increases by one on every change; the ETag.
    pub version: i64,
}

/// The typed properties of one layer's feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Properties {
    /// An incident.
    Incident(Incident),
    /// A risk environment.
    RiskEnvironment(Box<RiskEnvironment>),
    /// A camera.
    Camera(Box<Camera>),
    /// A patrol route.
    PatrolRoute(Box<PatrolRoute>),
    /// A walk done.
    Walk(Box<Walk>),
    /// An area.
    Area(Box<Area>),
    /// A measure.
    Measure(Box<super::measure::Measure>),
}

impl Properties {
    /// The layer these properties belong to.
    #[must_use]
    pub const fn layer(&self) -> Layer {
        match self {
            Properties::Incident(_) => Layer::Incidents,
            Properties::RiskEnvironment(_) => Layer::RiskEnvironments,
            Properties::Camera(_) => Layer::Cameras,
            Properties::PatrolRoute(_) => Layer::PatrolRoutes,
            Properties::Walk(_) => Layer::Walks,
            Properties::Area(_) => Layer::Areas,
            Properties::Measure(_) => Layer::Measures,
        }
    }

    /// Reads `layer`'s properties from JSON (unknown fields refused).
    ///
    /// # Errors
    /// The first field serde could not read, then every rule broken.
    pub fn from_value(layer: Layer, value: Value) -> Result<Self, ValidationErrors> {
        use super::error::read_json_ref as read;
        let typed = (|| {
            Ok(match layer {
                Layer::Incidents => Properties::Incident(read(&value)?),
                Layer::RiskEnvironments => Properties::RiskEnvironment(read(&value)?),
                Layer::Cameras => Properties::Camera(read(&value)?),
                Layer::PatrolRoutes => Properties::PatrolRoute(read(&value)?),
                Layer::Walks => Properties::Walk(read(&value)?),
                Layer::Areas => Properties::Area(read(&value)?),
                Layer::Measures => Properties::Measure(read(&value)?),
            })
        })();
        let props = match typed {
            Ok(p) => p,
            // Serde stops at the first problem: the schema names them all, in words.
            Err(first) => {
                let all = super::problems::property_problems(layer, &value);
                return Err(if all.is_empty() {
                    first
                } else {
                    ValidationErrors(all)
                });
            }
        };
        props.check()?;
        Ok(props)
    }

    /// Reads `layer`'s properties from stored JSON text straight into the typed struct (no
    /// intermediate JSON tree: this is the start-up path for millions of rows), then checks the
    /// rules as [`Properties::from_value`] does.
    ///
    /// # Errors
    /// The text does not read as the layer's properties, or breaks a rule.
    pub fn from_json_str(layer: Layer, text: &str) -> Result<Self, ValidationErrors> {
        fn read<T: serde::de::DeserializeOwned>(t: &str) -> Result<T, ValidationErrors> {
            serde_json::from_str(t).map_err(|e| ValidationErrors::one("", e.to_string()))
        }
        let props = match layer {
            Layer::Incidents => Properties::Incident(read(text)?),
            Layer::RiskEnvironments => Properties::RiskEnvironment(read(text)?),
            Layer::Cameras => Properties::Camera(read(text)?),
            Layer::PatrolRoutes => Properties::PatrolRoute(read(text)?),
            Layer::Walks => Properties::Walk(read(text)?),
            Layer::Areas => Properties::Area(read(text)?),
            Layer::Measures => Properties::Measure(read(text)?),
        };
        props.check_with(Checks::stored())?;
        Ok(props)
    }

    /// Checks the rules serde cannot express.
    fn check(&self) -> Result<(), ValidationErrors> {
        self.check_with(Checks::default())
    }

    fn check_with(&self, mut checks: Checks) -> Result<(), ValidationErrors> {
        match self {
            Properties::Incident(p) => p.check(&mut checks),
            Properties::RiskEnvironment(p) => p.check(&mut checks),
            Properties::Camera(p) => p.check(&mut checks),
            Properties::PatrolRoute(p) => p.check(&mut checks),
            Properties::Walk(p) => p.check(&mut checks),
            Properties::Area(p) => p.check(&mut checks),
            Properties::Measure(p) => p.check(&mut checks),
        }
        checks.finish()
    }

    /// The value the `category` filter matches, as its position in [`Layer::category_names`].
    #[must_use]
    pub fn category_code(&self) -> Option<u8> {
        match self {
            Properties::Incident(p) => Some(p.category.code()),
            Properties::RiskEnvironment(p) => Some(p.kind.code()),
            Properties::Camera(p) => Some(p.owner.code()),
            Properties::PatrolRoute(p) => Some(p.kind.code()),
            Properties::Walk(_) => None,
            Properties::Area(p) => p.police_classification.map(|c| c.code()),
            Properties::Measure(p) => Some(p.kind.code()),
        }
    }

    /// The value the `status` filter matches, as its position in [`Layer::status_names`].
    #[must_use]
    pub fn status_code(&self) -> Option<u8> {
        match self {
            Properties::Incident(p) => Some(p.status.code()),
            Properties::RiskEnvironment(p) => Some(p.status.code()),
            Properties::Camera(p) => Some(p.status.code()),
            Properties::PatrolRoute(p) => Some(p.status.code()),
            Properties::Measure(p) => Some(p.status.code()),
            Properties::Walk(_) | Properties::Area(_) => None,
        }
    }

    /// The time span the `datetime` filter matches; [`TimeSpan::ALL`] for timeless layers.
    #[must_use]
    pub fn time_span(&self) -> TimeSpan {
        match self {
            Properties::Incident(p) => TimeSpan::instant(p.occurred_at.unix_timestamp()),
            Properties::RiskEnvironment(p) => TimeSpan {
                start: p.since.midnight().assume_utc().unix_timestamp(),
                end: i64::MAX,
            },
            Properties::Walk(p) => TimeSpan {
                start: p.started_at.unix_timestamp(),
                end: p.ended_at.unix_timestamp(),
            },
            Properties::Measure(p) => TimeSpan {
                start: p.start.midnight().assume_utc().unix_timestamp(),
                end: p.end.map_or(i64::MAX, |e| {
                    e.midnight().assume_utc().unix_timestamp() + 86_399
                }),
            },
            Properties::Camera(_) | Properties::PatrolRoute(_) | Properties::Area(_) => {
                TimeSpan::ALL
            }
        }
    }

    /// The properties whole: a JSON object of every one of the layer's own fields (the index
    /// snapshot's form).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings, numbers and dates cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The properties as a row's `properties` document: as [`Properties::to_json`], except
    /// that an incident leaves out what its row's columns hold (see [`StoredColumns`]). Read
    /// back with [`Properties::from_stored`].
    #[must_use]
    pub fn to_stored_json(&self) -> String {
        match self {
            Properties::Incident(i) => {
                serde_json::to_string(&super::incident::StoredIncident::from(i))
                    .unwrap_or_else(|_| "{}".into())
            }
            other => other.to_json(),
        }
    }

    /// Reads a row's `properties` document, in the form [`Properties::to_stored_json`] writes
    /// or whole (rows written before it, the snapshot), taking what it leaves out from the
    /// row's `columns`; then checks the rules as [`Properties::from_json_str`] does.
    ///
    /// # Errors
    /// The text does not read as the layer's properties, a field is in neither the document
    /// nor its column, or a rule is broken.
    pub fn from_stored(
        layer: Layer,
        text: &str,
        columns: &StoredColumns<'_>,
    ) -> Result<Self, ValidationErrors> {
        if layer != Layer::Incidents {
            return Self::from_json_str(layer, text);
        }
        let stored: super::incident::StoredIncidentRead =
            serde_json::from_str(text).map_err(|e| ValidationErrors::one("", e.to_string()))?;
        let props = Properties::Incident(
            stored
                .complete(columns)
                .map_err(|e| ValidationErrors::one("", e))?,
        );
        props.check_with(Checks::stored())?;
        Ok(props)
    }
}

/// The values a feature's row keeps in columns of their own, which its `properties` document
/// may leave out ([`Properties::to_stored_json`]): an incident's `category`, `status` and
/// `occurred_at` (`time_start`, whole seconds). None of them for a document that is whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoredColumns<'a> {
    /// The `category` column.
    pub category: Option<&'a str>,
    /// The `status` column.
    pub status: Option<&'a str>,
    /// The `time_start` column.
    pub time_start: Option<OffsetDateTime>,
}

/// A feature of any layer, as stored and indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Stable identity.
    pub id: Uuid,
    /// WGS84 geometry (longitude, latitude), a point held in place.
    pub geom: CompactGeometry,
    /// Typed properties; these also say which layer the feature belongs to.
    pub properties: Properties,
    /// Bookkeeping.
    pub meta: Meta,
}

impl Feature {
    /// The feature's geometry (WGS84 longitude, latitude).
    #[must_use]
    pub fn geometry(&self) -> std::borrow::Cow<'_, Geometry<f64>> {
        self.geom.geometry()
    }

    /// Reads a little of every part of the feature a page writes (its geometry, its bookkeeping,
    /// the first and last byte of its free texts: an incident's description and reference, a
    /// risk environment's description) and returns it summed. A page's writer calls it for a
    /// few dozen features before writing them: features lie wherever they were allocated, and
    /// loads that do not wait on each other are fetched from memory side by side, where writing
    /// feature after feature meets one cache miss at a time.
    #[must_use]
    pub fn touch(&self) -> u32 {
        fn ends(t: &str) -> u32 {
            let b = t.as_bytes();
            u32::from(b.first().copied().unwrap_or(0)) + u32::from(b.last().copied().unwrap_or(0))
        }
        let geometry = u32::from(self.geom.point().is_some());
        // Only the low bits matter: it is a read, not a value.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let meta = self.meta.version as u32;
        let texts = match &self.properties {
            Properties::Incident(i) => {
                ends(&i.description) + i.reference.as_deref().map_or(0, ends)
            }
            Properties::RiskEnvironment(r) => ends(&r.description),
            _ => 0,
        };
        geometry.wrapping_add(meta).wrapping_add(texts)
    }

    /// The feature's layer.
    #[must_use]
    pub const fn layer(&self) -> Layer {
        self.properties.layer()
    }

    /// The strong ETag of this version.
    #[must_use]
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.meta.version)
    }

    /// A GeoJSON (RFC 7946) view of the feature; `today` decides whether a risk environment or a
    /// camera is stale.
    #[must_use]
    pub const fn geojson(&self, today: Date) -> GeoJsonFeature<'_> {
        GeoJsonFeature {
            feature: self,
            today,
        }
    }
}

/// Serialises a [`Feature`] as an RFC 7946 Feature whose properties hold the layer's fields and
/// the bookkeeping (`organisation`, `classification`, `version`, `created_at`, …).
pub struct GeoJsonFeature<'a> {
    feature: &'a Feature,
    today: Date,
}

/// Decimals of a longitude or latitude in what clients receive: 7 is about 1 cm on the ground,
/// finer than any position here is known (RFC 7946 §11.2 advises trimming), and halves the
/// coordinates' share of a feature. The index and the store keep full precision.
pub const COORDINATE_DECIMALS: i32 = 7;

/// A geometry as GeoJSON with its positions rounded to [`COORDINATE_DECIMALS`].
#[must_use]
pub fn rounded_geojson(g: &Geometry<f64>) -> geojson::Geometry {
    fn round_all(v: &mut geojson::Value) {
        let r = |p: &mut Vec<f64>| {
            for c in p.iter_mut() {
                *c = round_coordinate(*c);
            }
        };
        match v {
            geojson::Value::Point(p) => r(p),
            geojson::Value::MultiPoint(ps) | geojson::Value::LineString(ps) => {
                ps.iter_mut().for_each(r);
            }
            geojson::Value::MultiLineString(ls) | geojson::Value::Polygon(ls) => {
                ls.iter_mut().flatten().for_each(r);
            }
            geojson::Value::MultiPolygon(ps) => {
                ps.iter_mut().flatten().flatten().for_each(r);
            }
            geojson::Value::GeometryCollection(gs) => {
                gs.iter_mut().for_each(|g| round_all(&mut g.value));
            }
        }
    }
    let mut out = geojson::Geometry::from(g);
    round_all(&mut out.value);
    out
}

/// A coordinate rounded to [`COORDINATE_DECIMALS`].
pub(crate) fn round_coordinate(c: f64) -> f64 {
    let scale = 10f64.powi(COORDINATE_DECIMALS);
    (c * scale).round() / scale
}

/// Serialises a geometry exactly as [`rounded_geojson`] does; a point (nearly every feature a
/// page holds) is written straight, without building a GeoJSON value first.
pub struct RoundedGeometry<'a>(pub &'a Geometry<f64>);

impl Serialize for RoundedGeometry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.0 {
            Geometry::Point(p) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "Point")?;
                map.serialize_entry(
                    "coordinates",
                    &[round_coordinate(p.x()), round_coordinate(p.y())],
                )?;
                map.end()
            }
            other => rounded_geojson(other).serialize(s),
        }
    }
}

#[derive(Serialize)]
struct PropertiesOut<'a> {
    #[serde(flatten)]
    own: &'a Properties,
    organisation: &'a str,
    classification: Classification,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    created_by: &'a str,
    version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    stale: Option<bool>,
}

impl Serialize for GeoJsonFeature<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = self.feature;
        let stale = match &f.properties {
            Properties::RiskEnvironment(r) => Some(r.is_stale(self.today)),
            Properties::Camera(c) => Some(c.is_stale(self.today)),
            _ => None,
        };
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("type", "Feature")?;
        map.serialize_entry("id", &f.id)?;
        map.serialize_entry("geometry", &RoundedGeometry(&f.geometry()))?;
        map.serialize_entry(
            "properties",
            &PropertiesOut {
                own: &f.properties,
                organisation: &f.meta.organisation,
                classification: f.meta.classification,
                created_at: f.meta.created_at,
                updated_at: f.meta.updated_at,
                created_by: &f.meta.created_by,
                version: f.meta.version,
                stale,
            },
        )?;
        map.end()
    }
}

/// A validated feature as submitted by a client or an importer, before the server stamps it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDraft {
    /// An id chosen by the client, if any.
    pub id: Option<Uuid>,
    /// WGS84 geometry.
    pub geometry: Geometry<f64>,
    /// Typed properties.
    pub properties: Properties,
    /// The reporting organisation.
    pub organisation: String,
    /// How sensitive it is (default `internal`).
    pub classification: Classification,
}

impl FeatureDraft {
    /// Reads a GeoJSON Feature object submitted for `layer`.
    ///
    /// Server-written properties (`version`, `created_at`, …) are ignored, so a client may send
    /// back what it read.
    ///
    /// # Errors
    /// Every problem found, each with a JSON pointer into the document.
    pub fn from_geojson(layer: Layer, value: Value) -> Result<Self, ValidationErrors> {
        Self::from_geojson_with(
            layer,
            value,
            &super::geometry::GeometryLimits::default(),
            super::geometry::DEFAULT_VALIDATION_BUDGET,
        )
    }

    /// [`FeatureDraft::from_geojson`] with the server's geometry limits and a time budget for
    /// the geometry's validity check.
    ///
    /// # Errors
    /// As [`FeatureDraft::from_geojson`].
    pub fn from_geojson_with(
        layer: Layer,
        value: Value,
        limits: &super::geometry::GeometryLimits,
        budget: std::time::Duration,
    ) -> Result<Self, ValidationErrors> {
        let Value::Object(mut obj) = value else {
            return Err(ValidationErrors::one(
                "",
                "must be a GeoJSON Feature object",
            ));
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("Feature") => {}
            Some(other) => {
                return Err(ValidationErrors::one(
                    "/type",
                    format!("is '{other}'; send one GeoJSON object of type 'Feature'"),
                ));
            }
            None => {
                return Err(ValidationErrors::one(
                    "/type",
                    "is missing; send a GeoJSON object with \"type\": \"Feature\"",
                ));
            }
        }
        let mut errors = Vec::new();
        let id = match obj.remove("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match Uuid::parse_str(&s) {
                // The change log names the nil id when rows changed wholesale (a first load).
                Ok(u) if u.is_nil() => {
                    errors.push(ValidationError::new(
                        "/id",
                        "is the nil UUID, which is reserved; leave the id out to have one made",
                    ));
                    None
                }
                Ok(u) => Some(u),
                Err(_) => {
                    errors.push(ValidationError::new("/id", format!("'{s}' is not a UUID")));
                    None
                }
            },
            Some(_) => {
                errors.push(ValidationError::new("/id", "must be a UUID string"));
                None
            }
        };
        let geometry = match super::geometry::parse_geometry_with(
            layer.accepts(),
            obj.get("geometry").unwrap_or(&Value::Null),
            "/geometry",
            limits,
            budget,
        ) {
            Ok(g) => Some(g),
            Err(e) => {
                errors.extend(e.0);
                None
            }
        };
        let mut props = match obj.remove("properties") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                errors.push(ValidationError::new("/properties", "must be an object"));
                Map::new()
            }
        };
        let (organisation, classification) = match read_meta(&mut props) {
            Ok(m) => m,
            Err(e) => {
                errors.extend(e.0);
                (String::new(), Classification::Internal)
            }
        };
        let properties = match Properties::from_value(layer, Value::Object(props)) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.extend(e.under("/properties").0);
                None
            }
        };
        match (geometry, properties) {
            (Some(geometry), Some(properties)) if errors.is_empty() => Ok(Self {
                id,
                geometry,
                properties,
                organisation,
                classification,
            }),
            _ => Err(ValidationErrors(errors)),
        }
    }
}

impl FeatureDraft {
    /// A draft of a point from parts already read into their types, checked by the rules
    /// [`FeatureDraft::from_geojson`] applies once it has read them: the position within WGS84,
    /// the layer takes points, the properties' own rules and the organisation's label. For an
    /// importer's fast path: it says only whether the parts pass, so a row that does not is
    /// read again the general way, which names every problem.
    #[must_use]
    pub fn point_from_parts(
        lon: f64,
        lat: f64,
        properties: Properties,
        organisation: String,
        classification: Classification,
    ) -> Option<Self> {
        let in_wgs84 = lon.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && lat.is_finite()
            && (-90.0..=90.0).contains(&lat);
        let layer = properties.layer();
        if !in_wgs84
            || !layer
                .accepts()
                .kinds
                .contains(&super::geometry::GeometryKind::Point)
            || properties.check().is_err()
        {
            return None;
        }
        let mut checks = Checks::default();
        check_label(&mut checks, "/properties/organisation", &organisation);
        checks.finish().ok()?;
        Some(Self {
            id: None,
            geometry: Geometry::Point(geo::Point::new(lon, lat)),
            properties,
            organisation,
            classification,
        })
    }
}

/// Takes the bookkeeping a client may set (`organisation`, `classification`) out of the
/// properties, and drops the server-written ones.
fn read_meta(props: &mut Map<String, Value>) -> Result<(String, Classification), ValidationErrors> {
    for k in READ_ONLY_PROPERTIES {
        props.remove(*k);
    }
    let mut checks = Checks::default();
    let organisation = match props.remove("organisation") {
        Some(Value::String(s)) => {
            check_label(&mut checks, "/properties/organisation", &s);
            s
        }
        Some(_) => {
            checks.push(ValidationError::new(
                "/properties/organisation",
                "must be a string",
            ));
            String::new()
        }
        None => {
            checks.push(ValidationError::new(
                "/properties/organisation",
                "is missing; name the reporting organisation (e.g. \"Polisen\", \"Botkyrka kommun\")",
            ));
            String::new()
        }
    };
    let classification = match props.remove("classification") {
        None | Some(Value::Null) => Classification::Internal,
        Some(Value::String(s)) => s.parse().unwrap_or_else(|e: super::UnknownValue| {
            checks.push(ValidationError::new(
                "/properties/classification",
                e.to_string(),
            ));
            Classification::Internal
        }),
        Some(_) => {
            checks.push(ValidationError::new(
                "/properties/classification",
                "must be a string",
            ));
            Classification::Internal
        }
    };
    checks.finish()?;
    Ok((organisation, classification))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        /// A point written straight is byte for byte what the GeoJSON value path writes, for
        /// any coordinates (negative, tiny, large, halfway cases of the rounding).
        #[test]
        fn a_point_written_straight_is_the_geojson_value_written(
            x in -1.0e4f64..1.0e4,
            y in -1.0e3f64..1.0e3,
            scale in 0i32..12,
        ) {
            let g = Geometry::Point(geo::Point::new(x / 10f64.powi(scale), y));
            proptest::prop_assert_eq!(
                serde_json::to_string(&RoundedGeometry(&g)).unwrap(),
                serde_json::to_string(&rounded_geojson(&g)).unwrap()
            );
        }
    }

    #[test]
    fn other_geometries_are_written_as_their_rounded_geojson() {
        let line = Geometry::LineString(geo::LineString::from(vec![
            (17.123_456_789, 59.1),
            (17.2, 59.987_654_321_9),
        ]));
        let written = serde_json::to_string(&RoundedGeometry(&line)).unwrap();
        assert_eq!(
            written,
            r#"{"type":"LineString","coordinates":[[17.1234568,59.1],[17.2,59.9876543]]}"#
        );
    }

    #[test]
    fn the_nil_id_is_refused_as_reserved() {
        let mut doc = incident(json!({
            "category": "vandalism", "occurred_at": "2026-11-01T22:00:00Z",
            "severity": 2, "organisation": "Polisen"
        }));
        assert!(FeatureDraft::from_geojson(Layer::Incidents, doc.clone()).is_ok());
        doc["id"] = json!("00000000-0000-0000-0000-000000000000");
        let e = FeatureDraft::from_geojson(Layer::Incidents, doc).unwrap_err();
        assert_eq!(e.0[0].field, "/id");
        assert!(e.0[0].message.contains("reserved"), "{e}");
    }

    fn incident(props: Value) -> Value {
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.84, 59.24]}, "properties": props})
    }

    #[test]
    fn reads_a_valid_incident_and_ignores_read_only_fields() {
        let d = FeatureDraft::from_geojson(
            Layer::Incidents,
            incident(
                json!({"category": "car_fire", "occurred_at": "2026-03-01T21:00:00Z", "severity": 3,
                "organisation": "Polisen", "version": 7, "created_by": "x"}),
            ),
        )
        .unwrap();
        assert_eq!(d.organisation, "Polisen");
        assert_eq!(d.classification, Classification::Internal);
        assert_eq!(d.properties.layer(), Layer::Incidents);
    }

    #[test]
    fn names_every_bad_field() {
        let e = FeatureDraft::from_geojson(
            Layer::Incidents,
            incident(
                json!({"category": "car_fire", "occurred_at": "2026-03-01T21:00:00Z", "severity": 9,
                "classification": "secret"}),
            ),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"/properties/organisation"), "{fields:?}");
        assert!(fields.contains(&"/properties/classification"), "{fields:?}");
        assert!(fields.contains(&"/properties/severity"), "{fields:?}");
    }

    #[test]
    fn unknown_category_and_field_are_named() {
        let e = FeatureDraft::from_geojson(
            Layer::Incidents,
            incident(json!({"category": "arson", "occurred_at": "2026-03-01T21:00:00Z", "severity": 1, "organisation": "P"})),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "/properties/category");
        assert!(e.0[0].message.contains("car_fire"), "{e}");
        let e = FeatureDraft::from_geojson(
            Layer::Incidents,
            incident(
                json!({"category": "car_fire", "occurred_at": "2026-03-01T21:00:00Z", "severity": 1,
                "organisation": "P", "colour": "red"}),
            ),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "/properties/colour", "{e}");
        assert!(e.0[0].message.contains("the fields are"), "{e}");
        assert!(e.0[0].message.contains("organisation"), "{e}");
    }

    #[test]
    fn risk_environment_round_trips_dates_and_stale_flag() {
        let d = FeatureDraft::from_geojson(
            Layer::RiskEnvironments,
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.84, 59.24]},
                "properties": {"kind": "gathering_place", "level": "high", "since": "2025-01-10",
                "last_assessed": "2025-06-01", "assessed_by": "Socialtjänsten", "next_review": "2025-09-01",
                "organisation": "Botkyrka kommun"}}),
        )
        .unwrap();
        let Properties::RiskEnvironment(r) = &d.properties else {
            panic!()
        };
        assert!(r.is_stale(time::macros::date!(2025 - 09 - 02)));
        assert!(!r.is_stale(time::macros::date!(2025 - 09 - 01)));
        let stored = d.properties.to_json();
        assert!(stored.contains("\"since\":\"2025-01-10\""), "{stored}");
        let back = Properties::from_value(
            Layer::RiskEnvironments,
            serde_json::from_str(&stored).unwrap(),
        )
        .unwrap();
        assert_eq!(back, d.properties);
    }
}
