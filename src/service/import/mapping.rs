//! Mapping files (`lagesbild import --map mapping.toml`): a foreign schema mapped once onto a
//! layer's properties — source fields to properties, value maps (the police feed's
//! `Skottlossning` → `shooting`), constants (`organisation = "Polisen"`), and where the position
//! is for sources without a geometry. Shipped mappings are in `geodata/mappings/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::ValidationError;

/// A mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// What the mapping is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Property → source field (`location.name` reaches into nested JSON objects), or a list of
    /// names of which the first present is taken (a Shapefile's 10-character names beside a
    /// GeoPackage's whole ones).
    #[serde(default)]
    pub fields: BTreeMap<String, Source>,
    /// Property → source value → property value; the key `"*"` is the value for any other.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, Value>>,
    /// Property → the same value on every row.
    #[serde(default)]
    pub constants: BTreeMap<String, Value>,
    /// Where the position is, for sources without a geometry column.
    #[serde(default)]
    pub position: Option<Position>,
    /// A row whose value has no entry in `values` (and no `"*"`): `reject` (the default: nothing
    /// is imported) or `skip` (left out, and counted in the report).
    #[serde(default)]
    pub unmapped: Unmapped,
}

/// The source field(s) of a property.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// One field.
    One(String),
    /// The first of these that a row has.
    FirstOf(Vec<String>),
}

impl Source {
    /// The names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        match self {
            Source::One(s) => vec![s.as_str()],
            Source::FirstOf(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// The names for a message (`'allvarligh' or 'allvarlighetsgrad'`).
    #[must_use]
    pub fn describe(&self) -> String {
        self.names()
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The first field of `row` it names, with its name.
    fn find<'a>(&'a self, row: &'a Map<String, Value>) -> Option<(&'a str, &'a Value)> {
        self.names()
            .into_iter()
            .find_map(|n| field(row, n).map(|v| (n, v)))
    }
}

/// Where a row's position is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// A field holding `"lat,lon"` in WGS84 (the police's events feed: `location.gps`).
    #[serde(default)]
    pub lat_lon: Option<String>,
    /// A field holding the longitude (or, with `--crs EPSG:3006`, the easting).
    #[serde(default)]
    pub lon: Option<String>,
    /// A field holding the latitude (or the northing).
    #[serde(default)]
    pub lat: Option<String>,
}

/// What to do with a value the mapping has no entry for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmapped {
    /// Reject the row (nothing is imported).
    #[default]
    Reject,
    /// Leave the row out and count it.
    Skip,
}

/// What a mapping made of one row.
#[derive(Debug)]
pub enum Mapped {
    /// The layer's properties.
    Row(Map<String, Value>),
    /// Left out: the source value that has no entry (e.g. `type = Trafikolycka`).
    Skipped(String),
}

/// A field of a source row by dotted path; `null` and empty text count as absent.
#[must_use]
pub fn field<'a>(row: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = row.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        other => Some(other),
    }
}

fn as_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    }
}

impl Mapping {
    /// Reads a mapping file (TOML).
    ///
    /// # Errors
    /// The file cannot be read, or a key is unknown or of the wrong kind (named).
    pub fn load(path: &Path) -> Result<Self, String> {
        use figment::providers::{Format, Toml};
        if !path.is_file() {
            return Err(format!(
                "the mapping file {} does not exist",
                path.display()
            ));
        }
        figment::Figment::from(Toml::file(path))
            .extract()
            .map_err(|e| format!("the mapping file {}: {e}", path.display()))
    }

    /// Checks that every property the mapping writes exists in the layer (`names`).
    ///
    /// # Errors
    /// The first unknown property, with the layer's names.
    pub fn check_targets(&self, names: &[String]) -> Result<(), String> {
        for target in self
            .fields
            .keys()
            .chain(self.values.keys())
            .chain(self.constants.keys())
        {
            if !names.contains(target) {
                return Err(format!(
                    "the mapping writes '{target}', which is not a property of the layer; the properties are {}",
                    names.join(", ")
                ));
            }
        }
        for target in self.values.keys() {
            if !self.fields.contains_key(target) {
                return Err(format!(
                    "[values.{target}] maps values, but [fields] names no source for '{target}'"
                ));
            }
        }
        Ok(())
    }

    /// Maps one source row. `passthrough` are the layer's property names: a source field of
    /// the same name that the mapping does not write is taken as it is.
    ///
    /// # Errors
    /// A value with no entry in `values` (when `unmapped = "reject"`), named by source field.
    pub fn apply(
        &self,
        row: &Map<String, Value>,
        passthrough: &[String],
    ) -> Result<Mapped, Vec<ValidationError>> {
        let mut out: Map<String, Value> = self
            .constants
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut errors = Vec::new();
        for (target, sources) in &self.fields {
            let Some((source, value)) = sources.find(row) else {
                continue;
            };
            let value = match self.values.get(target) {
                None => value.clone(),
                Some(table) => match table.get(&as_key(value)).or_else(|| table.get("*")) {
                    Some(v) => v.clone(),
                    None if self.unmapped == Unmapped::Skip => {
                        return Ok(Mapped::Skipped(format!("{source} = {}", as_key(value))));
                    }
                    None => {
                        let known: Vec<&str> = table.keys().map(String::as_str).collect();
                        errors.push(ValidationError::new(
                            format!("field '{source}'"),
                            format!(
                                "'{}' has no entry in [values.{target}] of the mapping ({}); add one, or set unmapped = \"skip\"",
                                as_key(value),
                                known.join(", ")
                            ),
                        ));
                        continue;
                    }
                },
            };
            out.insert(target.clone(), value);
        }
        for name in passthrough {
            if !out.contains_key(name)
                && !self.fields.contains_key(name)
                && let Some(v) = row.get(name)
            {
                out.insert(name.clone(), v.clone());
            }
        }
        if errors.is_empty() {
            Ok(Mapped::Row(out))
        } else {
            Err(errors)
        }
    }

    /// The position of a row with no geometry, by [`Position`], as (x, y): lon/lat or, in
    /// SWEREF 99 TM, easting/northing.
    ///
    /// # Errors
    /// The fields are missing or not numbers.
    pub fn position(
        &self,
        row: &Map<String, Value>,
    ) -> Option<Result<(f64, f64), ValidationError>> {
        let p = self.position.as_ref()?;
        let number = |name: &str| -> Result<f64, ValidationError> {
            match field(row, name) {
                Some(Value::Number(n)) => n.as_f64().ok_or_else(|| bad(name, "is not a number")),
                Some(Value::String(s)) => s
                    .trim()
                    .replace(',', ".")
                    .parse()
                    .map_err(|_| bad(name, &format!("'{s}' is not a number"))),
                _ => Err(bad(
                    name,
                    "is missing; the mapping takes the position from it",
                )),
            }
        };
        if let Some(name) = &p.lat_lon {
            return Some(match field(row, name) {
                Some(Value::String(s)) => {
                    let parts: Vec<f64> =
                        s.split(',').filter_map(|t| t.trim().parse().ok()).collect();
                    match parts.as_slice() {
                        [lat, lon] => Ok((*lon, *lat)),
                        _ => Err(bad(name, &format!("'{s}' is not \"lat,lon\""))),
                    }
                }
                _ => Err(bad(
                    name,
                    "is missing; the mapping takes the position from it",
                )),
            });
        }
        match (&p.lon, &p.lat) {
            (Some(x), Some(y)) => Some(number(x).and_then(|x| number(y).map(|y| (x, y)))),
            _ => None,
        }
    }
}

fn bad(field: &str, message: &str) -> ValidationError {
    ValidationError::new(format!("field '{field}'"), message.to_owned())
}
