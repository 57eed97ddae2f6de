//! GeoJSON (a FeatureCollection or one Feature, in WGS84 or — by a `crs` member or `--crs` —
//! SWEREF 99 TM) and plain JSON arrays of records with a mapping that says where the position is
//! (the police's public events feed).

use std::io::Read;

use serde_json::{Map, Value};

use super::{ImportError, ImportOptions, ImportReport, InputCrs, RowError, RowReader, read_text};
use crate::domain::{Layer, ValidationErrors};

/// Reads a GeoJSON FeatureCollection (or one Feature) for `layer`.
///
/// # Errors
/// When the text is not JSON or not GeoJSON; row problems go into the report instead.
pub fn read_geojson(
    layer: Layer,
    input: impl Read,
    crs: InputCrs,
) -> Result<ImportReport, ImportError> {
    read_json_with(
        layer,
        input,
        &ImportOptions {
            crs,
            ..ImportOptions::default()
        },
    )
}

/// Reads GeoJSON, or a JSON array of records (with a mapping's `position`), for `layer`.
///
/// # Errors
/// When the text is not JSON, or neither GeoJSON nor an array of records; row problems go
/// into the report instead.
pub fn read_json_with(
    layer: Layer,
    input: impl Read,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (text, _) = read_text(input)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        ImportError::Format(format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let crs = crs_member(&doc).unwrap_or(options.crs);
    let records = match doc {
        Value::Object(mut o) => match o.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => match o.remove("features") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(ImportError::Format(
                        "the FeatureCollection has no 'features' array".into(),
                    ));
                }
            },
            Some("Feature") => vec![Value::Object(o)],
            other => {
                return Err(ImportError::Format(format!(
                    "expected a GeoJSON FeatureCollection or Feature, found type {}",
                    other.map_or_else(|| "(none)".into(), |t| format!("'{t}'"))
                )));
            }
        },
        Value::Array(a) => {
            let has_position = options
                .mapping
                .as_ref()
                .is_some_and(|m| m.position.is_some());
            if !has_position
                && a.iter()
                    .any(|r| r.get("type") != Some(&Value::from("Feature")))
            {
                return Err(ImportError::Format(
                    "a JSON array of records has no geometry: give a mapping (--map) whose [position] names the position fields (geodata/mappings/polisen-events.toml reads the police's events feed)".into(),
                ));
            }
            a
        }
        _ => return Err(ImportError::Format("expected a GeoJSON object".into())),
    };
    let reader = RowReader::new(layer, options, crs)?;
    let mut report = ImportReport::default();
    for (i, record) in records.into_iter().enumerate() {
        let row = format!("feature {}", i + 1);
        match read_record(&reader, record, &mut report) {
            Ok(Some(d)) => report.drafts.push(d),
            Ok(None) => {}
            Err(errors) => report.rejected.push(RowError { row, errors }),
        }
    }
    Ok(report)
}

/// One Feature, or one plain record placed by the mapping's position.
fn read_record(
    reader: &RowReader<'_>,
    record: Value,
    report: &mut ImportReport,
) -> Result<Option<crate::domain::FeatureDraft>, ValidationErrors> {
    let Value::Object(mut obj) = record else {
        return Err(ValidationErrors::one("", "must be a JSON object"));
    };
    let is_feature = obj.get("type") == Some(&Value::from("Feature"));
    let (source, geometry, id) = if is_feature {
        let props = match obj.remove("properties") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(ValidationErrors::one("/properties", "must be an object")),
        };
        (
            props,
            obj.remove("geometry").unwrap_or(Value::Null),
            obj.remove("id"),
        )
    } else {
        let position = reader
            .options
            .mapping
            .as_ref()
            .and_then(|m| m.position(&obj))
            .unwrap_or_else(|| {
                Err(crate::domain::ValidationError::new(
                    "",
                    "has no position (the mapping's [position] names none)",
                ))
            })
            .map_err(ValidationErrors::from)?;
        (
            obj,
            serde_json::json!({"type": "Point", "coordinates": [position.0, position.1]}),
            None,
        )
    };
    let Some(props) = reader
        .properties(source, report)
        .map_err(ValidationErrors)?
    else {
        return Ok(None);
    };
    // A mapped source's own id is not ours (`reference` may take it); GeoJSON ids are kept.
    let id = if reader.options.mapping.is_some() && !is_feature {
        None
    } else {
        id
    };
    reader.draft(geometry, props, id, report).map(Some)
}

/// The CRS named by an old-style GeoJSON `crs` member, if any.
fn crs_member(doc: &Value) -> Option<InputCrs> {
    let name = doc.get("crs")?.get("properties")?.get("name")?.as_str()?;
    if name.contains("3006") {
        Some(InputCrs::Sweref99Tm)
    } else if name.contains("4326") || name.contains("CRS84") {
        Some(InputCrs::Wgs84)
    } else {
        None
    }
}

/// What the first pass over a JSON file found at its top level.
#[derive(Default)]
struct Head {
    /// The top level is an object (else an array or a scalar).
    object: bool,
    /// Its `type`.
    kind: Option<String>,
    /// Its `crs` member, if any.
    crs: Option<Value>,
    /// Whether it has a `features` member that is an array.
    features: bool,
}

impl<'de> serde::Deserialize<'de> for Head {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Head;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON document")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head {
                    object: true,
                    ..Head::default()
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => {
                            head.kind = map.next_value::<Value>()?.as_str().map(str::to_owned)
                        }
                        "crs" => head.crs = Some(map.next_value()?),
                        // Walked through, nothing kept.
                        "features" => head.features = map.next_value::<Shape>()?.0,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(head)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Head, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Head::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Head, E> {
                Ok(Head::default())
            }
            fn visit_unit<E>(self) -> Result<Head, E> {
                Ok(Head::default())
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Whether a value is an array, walked through without keeping it.
struct Shape(bool);

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Shape, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Shape(true))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Shape, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Shape(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape(false))
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape(false))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Counts the bytes read through it (for the progress of a streamed read).
struct Counted<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// A JSON syntax error, placed.
fn not_json(e: &serde_json::Error) -> ImportError {
    if e.is_io() {
        return ImportError::Format(format!("cannot read the input: {e}"));
    }
    ImportError::Format(format!(
        "not valid JSON (line {}, column {}): {e}",
        e.line(),
        e.column()
    ))
}

/// The message with which the feature stream stops early when the sink asks (not an error).
const STOPPED: &str = "lagesbild: the reading was stopped";

/// Reads a GeoJSON FeatureCollection as a stream, handing each valid draft to `sink` with how
/// many bytes of the file have been read: one feature in memory at a time, so a file of any
/// size imports in bounded memory, as CSV does ([`super::stream_csv`]). The file is read twice:
/// first to learn its type and `crs` (which may come after the features) keeping nothing of
/// them, then to read the features. Anything else — one Feature, a JSON array of records — is
/// read whole, as [`read_json_with`] reads it. Reading stops early when `sink` returns `false`.
///
/// # Errors
/// As [`read_json_with`]; a syntax error found after some features were handed on stops the
/// reading with the same error (the caller stores nothing).
pub fn stream_json<R: Read + std::io::Seek>(
    layer: Layer,
    mut input: R,
    options: &ImportOptions,
    sink: &mut dyn FnMut(crate::domain::FeatureDraft, u64) -> bool,
) -> Result<ImportReport, ImportError> {
    use serde::de::DeserializeSeed;
    use std::io::{BufReader, SeekFrom};
    let encoding = super::text::detect(&mut input)?;
    let head: Head = {
        let text = super::text::Text::new(BufReader::with_capacity(1 << 16, &mut input), encoding)?;
        let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, text));
        let head = serde::Deserialize::deserialize(&mut de).map_err(|e| not_json(&e))?;
        de.end().map_err(|e| not_json(&e))?;
        head
    };
    input.seek(SeekFrom::Start(0))?;
    if !(head.object && head.kind.as_deref() == Some("FeatureCollection") && head.features) {
        // One Feature, an array of records, or not GeoJSON at all: read whole, which also
        // says what is wrong.
        let mut report = read_json_with(layer, input, options)?;
        let drafts = std::mem::take(&mut report.drafts);
        for d in drafts {
            if !sink(d, 0) {
                break;
            }
        }
        return Ok(report);
    }
    let crs = head
        .crs
        .and_then(|c| crs_member(&serde_json::json!({ "crs": c })))
        .unwrap_or(options.crs);
    let reader = RowReader::new(layer, options, crs)?;
    let mut report = ImportReport::default();
    let read = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counted = Counted {
        inner: super::text::Text::new(BufReader::with_capacity(1 << 16, input), encoding)?,
        read: std::rc::Rc::clone(&read),
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, counted));
    let mut features = Features {
        reader: &reader,
        report: &mut report,
        sink,
        read: &read,
        n: 0,
    };
    match (&mut features).deserialize(&mut de) {
        Ok(()) => {}
        Err(e) if !e.is_io() && e.to_string().starts_with(STOPPED) => {}
        Err(e) => return Err(not_json(&e)),
    }
    Ok(report)
}

/// The second pass of [`stream_json`]: the top-level object, its `features` read one at a
/// time, everything else walked through.
struct Features<'a, 'r, 's> {
    reader: &'a RowReader<'r>,
    report: &'a mut ImportReport,
    sink: &'s mut dyn FnMut(crate::domain::FeatureDraft, u64) -> bool,
    read: &'a std::cell::Cell<u64>,
    n: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for &mut Features<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Features<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a GeoJSON FeatureCollection")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                map.next_value_seed(FeatureList(&mut *self))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `features` array of [`Features`].
struct FeatureList<'f, 'a, 'r, 's>(&'f mut Features<'a, 'r, 's>);

impl<'de> serde::de::DeserializeSeed<'de> for FeatureList<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FeatureList<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of GeoJSON features")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let f = self.0;
        while let Some(record) = seq.next_element::<Value>()? {
            f.n += 1;
            let row = format!("feature {}", f.n);
            match read_record(f.reader, record, f.report) {
                Ok(Some(d)) => {
                    if !(f.sink)(d, f.read.get()) {
                        return Err(serde::de::Error::custom(STOPPED));
                    }
                }
                Ok(None) => {}
                Err(errors) => f.report.rejected.push(RowError { row, errors }),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` as a stream and whole: the same drafts, rejections, counts and errors.
    fn both_ways(text: &str, options: &ImportOptions) -> Result<usize, String> {
        let mut streamed = Vec::new();
        let stream = stream_json(
            Layer::Incidents,
            std::io::Cursor::new(text.as_bytes().to_vec()),
            options,
            &mut |d, _| {
                streamed.push(d);
                true
            },
        );
        let whole = read_json_with(Layer::Incidents, text.as_bytes(), options);
        match (stream, whole) {
            (Ok(s), Ok(w)) => {
                assert_eq!(streamed, w.drafts);
                assert_eq!(
                    format!("{streamed:?}"),
                    format!("{:?}", w.drafts),
                    "offsets too"
                );
                assert_eq!(s.rejected, w.rejected);
                assert_eq!(s.swedish_times, w.swedish_times);
                assert_eq!(s.skipped, w.skipped);
                assert_eq!(s.ignored_fields, w.ignored_fields);
                Ok(streamed.len())
            }
            (Err(s), Err(w)) => {
                assert_eq!(s.to_string(), w.to_string());
                Err(s.to_string())
            }
            (s, w) => panic!("streamed {s:?}, whole {w:?}"),
        }
    }

    fn feature(lon: &str, time: &str, severity: &str) -> String {
        format!(
            r#"{{"type":"Feature","id":null,"geometry":{{"type":"Point","coordinates":[{lon},59.24]}},"properties":{{"category":"vandalism","occurred_at":"{time}","severity":{severity},"organisation":"Polisen"}}}}"#
        )
    }

    /// A FeatureCollection read as a stream gives what reading it whole gives: good and bad
    /// features, times without an offset, a `crs` member before or after the features (and
    /// other members around them); one Feature, an array of records and broken documents take
    /// the whole path, with the same errors.
    #[test]
    fn a_streamed_feature_collection_reads_as_the_whole_one() {
        let features = [
            feature("17.84", "2026-03-01T21:00:00Z", "3"),
            feature("200", "2026-03-01T21:00:00Z", "3"),
            feature("17.85", "2026-03-01 21:00", "\"2\""),
            feature("17.86", "igår", "9"),
            feature("670817.9", "2026-03-01T21:00:00+01:00", "1"),
        ]
        .join(",");
        let sweref = r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3006"}}"#;
        let plain = ImportOptions::default();
        let n = both_ways(
            &format!(r#"{{"type":"FeatureCollection","name":"x","features":[{features}]}}"#),
            &plain,
        )
        .unwrap();
        assert_eq!(n, 2, "two of five features pass in WGS84");
        for doc in [
            format!(r#"{{"type":"FeatureCollection",{sweref},"features":[{features}]}}"#),
            format!(
                r#"{{"features":[{features}],"bbox":[1,2,3,4],{sweref},"type":"FeatureCollection"}}"#
            ),
        ] {
            both_ways(&doc, &plain).unwrap();
        }
        both_ways(&feature("17.84", "2026-03-01T21:00:00Z", "3"), &plain).unwrap();
        for broken in [
            format!(r#"{{"type":"FeatureCollection","features":[{features}]"#),
            format!(r#"{{"type":"FeatureCollection","features":[{features}]}} trailing"#),
            r#"{"type":"FeatureCollection","features":{}}"#.to_owned(),
            r#"{"type":"Topology","objects":{}}"#.to_owned(),
            r#"[{"a":1}]"#.to_owned(),
            "42".to_owned(),
            String::new(),
        ] {
            assert!(both_ways(&broken, &plain).is_err(), "{broken}");
        }
    }

    /// A sink that says stop ends the reading early, without an error.
    #[test]
    fn a_stream_stops_when_the_sink_says_so() {
        let features = vec![feature("17.84", "2026-03-01T21:00:00Z", "3"); 10].join(",");
        let doc = format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#);
        let mut seen = 0;
        let report = stream_json(
            Layer::Incidents,
            std::io::Cursor::new(doc.into_bytes()),
            &ImportOptions::default(),
            &mut |_, at| {
                seen += 1;
                assert!(at > 0, "the bytes read so far");
                seen < 3
            },
        )
        .unwrap();
        assert_eq!(seen, 3);
        assert!(report.rejected.is_empty());
    }
}
