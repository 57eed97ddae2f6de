//! The hot path of a page of features: an incident with a point geometry (nearly every feature a
//! large page holds) written as GeoJSON straight into the page, byte for byte what
//! [`GeoJsonFeature`](super::feature::GeoJsonFeature) writes through serde, without serde's
//! escaping of every key and its general date formatting. Every other feature, and any value
//! outside the plain cases (a text needing escapes, a time with an offset or fractions of a
//! second), goes through serde. A property test holds the two writers together: a field added to
//! an incident and not here fails it.
//!
//! A page can also be shaped ([`Shape`]): in SWEREF 99 TM (`crs=EPSG:3006`, what Swedish GIS
//! clients ask for), with only some properties (`properties=`, and whatever the role may not
//! see), or without geometry (`skipGeometry`). An incident is then written straight as well,
//! as the general path (the feature's JSON value, transformed and cut) would write it; a
//! property test in `api::items` holds those two together.

use time::{Date, OffsetDateTime};

use super::crs::Sweref99Tm;
use super::feature::{Feature, Properties, RoundedGeometry, round_coordinate};
use super::incident::Incident;

/// What a page keeps of each feature, and in which coordinates.
#[derive(Clone, Copy, Default)]
pub struct Shape<'a> {
    /// Coordinates in SWEREF 99 TM ([`Sweref99Tm::answer_position`]) instead of WGS84.
    pub sweref: Option<&'a Sweref99Tm>,
    /// `"geometry": null`.
    pub skip_geometry: bool,
    /// Only these properties, when given.
    pub keep: Option<&'a [String]>,
    /// Never these properties (what the role may not see).
    pub hide: &'a [String],
}

impl Shape<'_> {
    /// Whether the feature is written whole, in WGS84.
    #[must_use]
    pub fn is_whole(&self) -> bool {
        self.sweref.is_none() && !self.skip_geometry && self.keep.is_none() && self.hide.is_empty()
    }

    /// Whether the property `name` is written.
    fn keeps(&self, name: &str) -> bool {
        self.keep.is_none_or(|k| k.iter().any(|n| n == name))
            && !self.hide.iter().any(|n| n == name)
    }
}

/// The members of a properties object, each written only when its shape keeps it.
struct Members<'s> {
    shape: &'s Shape<'s>,
    first: bool,
}

impl Members<'_> {
    /// Writes `"name":` (after a comma unless first) and says so, when `name` is kept.
    fn key(&mut self, out: &mut Vec<u8>, name: &str) -> bool {
        if !self.shape.keeps(name) {
            return false;
        }
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        true
    }
}

/// `feature` as an RFC 7946 Feature appended to `out`, as
/// `serde_json::to_writer(out, &feature.geojson(today))` would write it.
///
/// # Errors
/// Only if serialisation fails.
pub fn write_feature(
    out: &mut Vec<u8>,
    feature: &Feature,
    today: Date,
) -> Result<(), serde_json::Error> {
    match (feature.geom.point(), &feature.properties) {
        (Some(p), Properties::Incident(i)) => write_incident(out, feature, p, i, &Shape::default()),
        _ => serde_json::to_writer(out, &feature.geojson(today)),
    }
}

/// `feature` shaped by `shape`, appended to `out`: the same members and values as the general
/// path writes, though each object's members come in the feature's own order (the general
/// path's JSON value sorts them). `Ok(false)`, with nothing written, for a shaped feature only
/// the general path writes (any but an incident with a point).
///
/// # Errors
/// A position SWEREF 99 TM cannot hold; serialisation.
pub fn write_shaped(
    out: &mut Vec<u8>,
    feature: &Feature,
    today: Date,
    shape: &Shape,
) -> Result<bool, serde_json::Error> {
    if shape.is_whole() {
        write_feature(out, feature, today)?;
        return Ok(true);
    }
    match (feature.geom.point(), &feature.properties) {
        (Some(p), Properties::Incident(i)) => {
            let at = out.len();
            let written = write_incident(out, feature, p, i, shape);
            if written.is_err() {
                out.truncate(at);
            }
            written.map(|()| true)
        }
        _ => Ok(false),
    }
}

/// An incident with a point geometry shaped by `shape`, in the order serde writes it: the
/// Feature's members, then the incident's own properties in their declared order, then the
/// bookkeeping.
fn write_incident(
    out: &mut Vec<u8>,
    f: &Feature,
    p: geo::Point<f64>,
    i: &Incident,
    shape: &Shape,
) -> Result<(), serde_json::Error> {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":\"");
    let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.extend_from_slice(f.id.hyphenated().encode_lower(&mut id).as_bytes());
    out.extend_from_slice(b"\",\"geometry\":");
    match shape.sweref {
        _ if shape.skip_geometry => out.extend_from_slice(b"null"),
        // As the general path: the position rounded as in WGS84 output, then projected.
        Some(t) => {
            let (n, e) = t
                .answer_position(round_coordinate(p.x()), round_coordinate(p.y()))
                .map_err(<serde_json::Error as serde::ser::Error>::custom)?;
            out.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
            serde_json::to_writer(&mut *out, &n)?;
            out.push(b',');
            serde_json::to_writer(&mut *out, &e)?;
            out.extend_from_slice(b"]}");
        }
        None => serde_json::to_writer(&mut *out, &RoundedGeometry(&f.geometry()))?,
    }
    out.extend_from_slice(b",\"properties\":{");
    let mut m = Members { shape, first: true };
    if m.key(out, "category") {
        write_str(out, i.category.as_str())?;
    }
    if m.key(out, "occurred_at") {
        write_time(out, i.occurred_at)?;
    }
    if m.key(out, "severity") {
        serde_json::to_writer(&mut *out, &i.severity)?;
    }
    if m.key(out, "status") {
        write_str(out, i.status.as_str())?;
    }
    if m.key(out, "reference") {
        match &i.reference {
            Some(r) => write_str(out, r)?,
            None => out.extend_from_slice(b"null"),
        }
    }
    if m.key(out, "description") {
        write_str(out, &i.description)?;
    }
    if m.key(out, "organisation") {
        write_str(out, &f.meta.organisation)?;
    }
    if m.key(out, "classification") {
        write_str(out, f.meta.classification.as_str())?;
    }
    if m.key(out, "created_at") {
        write_time(out, f.meta.created_at)?;
    }
    if m.key(out, "updated_at") {
        write_time(out, f.meta.updated_at)?;
    }
    if m.key(out, "created_by") {
        write_str(out, &f.meta.created_by)?;
    }
    if m.key(out, "version") {
        serde_json::to_writer(&mut *out, &f.meta.version)?;
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

/// A JSON string: copied as it is when nothing in it needs an escape (JSON escapes only
/// control characters, `"` and `\`), else written by serde.
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    // A fold without early exit: the compiler checks many bytes at a time.
    let plain = s
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, s)
    }
}

/// An RFC 3339 time as `time`'s serde support writes it: whole seconds in UTC (what the
/// server stamps and what imports mostly hold) written here, anything else by `time`.
fn write_time(out: &mut Vec<u8>, t: OffsetDateTime) -> Result<(), serde_json::Error> {
    let year = t.year();
    if !(t.offset().is_utc() && t.nanosecond() == 0 && (0..10_000).contains(&year)) {
        return time::serde::rfc3339::serialize(&t, &mut serde_json::Serializer::new(out));
    }
    let (hour, minute, second) = t.to_hms();
    let mut b = *b"\"0000-00-00T00:00:00Z\"";
    let year = year.unsigned_abs();
    for (k, place) in [1000, 100, 10, 1].into_iter().enumerate() {
        b[1 + k] = digit(year / place);
    }
    for (at, v) in [
        (6, u8::from(t.month())),
        (9, t.day()),
        (12, hour),
        (15, minute),
        (18, second),
    ] {
        b[at] = digit(u32::from(v / 10));
        b[at + 1] = digit(u32::from(v % 10));
    }
    out.extend_from_slice(&b);
    Ok(())
}

/// The ASCII digit of `v`'s last decimal place.
fn digit(v: u32) -> u8 {
    // The remainder is below 10: the cast loses nothing.
    #[allow(clippy::cast_possible_truncation)]
    let d = (v % 10) as u8;
    b'0' + d
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

    use std::sync::Arc;

    use proptest::prelude::*;
    use time::{Duration, UtcOffset};
    use uuid::Uuid;

    use super::*;
    use crate::domain::feature::{Classification, Meta};
    use crate::domain::incident::{IncidentCategory, IncidentStatus};

    /// Texts as imports bring them: plain, with quotes, backslashes, control characters and
    /// letters from outside ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 ,.åäöÅÄÖ-]{0,80}",
            "[a-z \"\\\\\n\t\u{1}\u{1f}\u{7f}é€😀]{0,40}",
        ]
    }

    /// Times in UTC whole seconds (the fast path), with fractions, and with offsets; years
    /// from the first to the last RFC 3339 can write.
    fn time_strategy() -> impl Strategy<Value = OffsetDateTime> {
        (
            -62_167_219_200i64..253_402_214_400,
            prop_oneof![Just(0u32), 0u32..1_000_000_000],
            prop_oneof![Just(0i32), -86_340i32..86_340],
        )
            .prop_map(|(secs, nanos, offset)| {
                let t = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                    + Duration::nanoseconds(i64::from(nanos));
                let offset = UtcOffset::from_whole_seconds(offset / 60 * 60).unwrap();
                t.to_offset(offset)
            })
            .prop_filter("RFC 3339 years", |t| (0..10_000).contains(&t.year()))
    }

    prop_compose! {
        /// Incidents at any position, with any texts and times the writers must handle.
        pub(crate) fn incident_feature()(
            id in any::<u128>(),
            x in -180.0f64..180.0,
            y in -90.0f64..90.0,
            category in 0..IncidentCategory::ALL.len(),
            status in 0..IncidentStatus::ALL.len(),
            classification in 0..Classification::ALL.len(),
            severity in 1u8..=5,
            occurred_at in time_strategy(),
            created_at in time_strategy(),
            updated_at in time_strategy(),
            reference in proptest::option::of(text()),
            description in text(),
            organisation in text(),
            created_by in text(),
            version in any::<i64>(),
        ) -> Feature {
            Feature {
                id: Uuid::from_u128(id),
                geom: geo::Point::new(x, y).into(),
                properties: Properties::Incident(Incident {
                    category: IncidentCategory::ALL[category],
                    occurred_at,
                    severity,
                    status: IncidentStatus::ALL[status],
                    reference: reference.map(Into::into),
                    description: description.into(),
                }),
                meta: Meta {
                    organisation: Arc::from(organisation),
                    classification: Classification::ALL[classification],
                    created_at,
                    updated_at,
                    created_by: Arc::from(created_by),
                    version,
                },
            }
        }
    }

    proptest! {
        /// The straight writer writes what serde writes, byte for byte.
        #[test]
        fn an_incident_written_straight_is_what_serde_writes(f in incident_feature()) {
            let today = time::macros::date!(2026 - 11 - 23);
            let mut straight = Vec::new();
            write_feature(&mut straight, &f, today).unwrap();
            let serde = serde_json::to_vec(&f.geojson(today)).unwrap();
            prop_assert_eq!(String::from_utf8(straight).unwrap(), String::from_utf8(serde).unwrap());
        }
    }

    /// The demo's incidents (what a page mostly holds) take the straight path and match.
    #[test]
    fn the_synthetic_incidents_are_written_as_serde_writes_them() {
        let as_of = time::macros::datetime!(2026-11-23 12:00 UTC);
        for f in crate::demo::synthetic_incidents(7, as_of, 500) {
            let mut straight = Vec::new();
            write_feature(&mut straight, &f, as_of.date()).unwrap();
            assert_eq!(
                String::from_utf8(straight).unwrap(),
                serde_json::to_string(&f.geojson(as_of.date())).unwrap()
            );
        }
    }
}
