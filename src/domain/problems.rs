//! Every problem with a feature's properties at once, in words a GIS user reads — not the first
//! one serde met, and never a Rust type name (`expected u8`). The properties are checked against
//! the layer's write schema (generated from the same Rust types, [`super::schema`]); the
//! messages name the field, what it holds and what it must hold.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use super::error::ValidationError;
use super::layer::Layer;

/// The schema of `layer`'s properties as a client writes them, unknown names refused.
fn properties_schema(layer: Layer) -> Value {
    let mut s =
        super::schema::feature_write_schema(layer, usize::MAX)["properties"]["properties"].clone();
    s["additionalProperties"] = Value::Bool(false);
    s
}

/// A layer's properties schema and its validator, built once per process.
fn checker(layer: Layer) -> Option<&'static (Value, jsonschema::Validator)> {
    static CHECKERS: OnceLock<Vec<Option<(Value, jsonschema::Validator)>>> = OnceLock::new();
    let all = CHECKERS.get_or_init(|| {
        Layer::ALL
            .iter()
            .map(|l| {
                let schema = properties_schema(*l);
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .ok()
                    .map(|v| (schema, v))
            })
            .collect()
    });
    let i = Layer::ALL.iter().position(|l| *l == layer)?;
    all.get(i)?.as_ref()
}

/// What a value is, for a message: `"3" (text)`, `9`, `a list`.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}' (text)"),
        Value::Null => "empty (null)".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// What a property's schema asks for, in words.
fn wanted(schema: &Value) -> String {
    let ty = match &schema["type"] {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    if let Some(options) = schema["enum"].as_array() {
        let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
        return format!("one of {}", names.join(", "));
    }
    let range = |whole: &str| match (schema["minimum"].as_f64(), schema["maximum"].as_f64()) {
        (Some(a), Some(b)) => format!("{whole} from {a} to {b}"),
        (Some(a), None) => format!("{whole} of at least {a}"),
        (None, Some(b)) => format!("{whole} of at most {b}"),
        (None, None) => whole.to_owned(),
    };
    match (ty, schema["format"].as_str()) {
        (Some("integer"), _) => range("a whole number"),
        (Some("number"), _) => range("a number"),
        (Some("boolean"), _) => "true or false".into(),
        (Some("array"), _) => "a list".into(),
        (Some("object"), _) => "an object".into(),
        (Some("string"), Some("date-time")) => DATE_TIME_FORMS.into(),
        (Some("string"), Some("date")) => "a date YYYY-MM-DD".into(),
        (Some("string"), _) => "text".into(),
        _ => "another value".into(),
    }
}

/// The forms a time may be written in (for messages).
pub const DATE_TIME_FORMS: &str = "a time such as 2026-11-30T22:15:00+01:00 (RFC 3339; on import also 2026-11-30 22:15, 2026-11-30 9:05:00 +0100, 2026/11/30 22:15:00+01 as GDAL writes CSV; without an offset, Swedish time)";

/// Every problem with `props` (a layer's properties without `organisation` and
/// `classification`, which are read apart), with pointers relative to `properties`.
#[must_use]
pub fn property_problems(layer: Layer, props: &Value) -> Vec<ValidationError> {
    let Some((schema, v)) = checker(layer) else {
        return Vec::new();
    };
    let fields: &Map<String, Value> = match schema["properties"].as_object() {
        Some(m) => m,
        None => return Vec::new(),
    };
    let mut out: Vec<ValidationError> = Vec::new();
    for e in v.iter_errors(props) {
        let pointer = e.instance_path().to_string();
        let top = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned();
        let field_schema = fields.get(&top).cloned().unwrap_or(Value::Null);
        let value = e.instance();
        let message = match e.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(ValidationError::new(
                    format!("/{name}"),
                    format!(
                        "is missing; it must be {}",
                        wanted(fields.get(name).unwrap_or(&Value::Null))
                    ),
                ));
                continue;
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
                names.push("organisation");
                names.push("classification");
                names.sort_unstable();
                names.dedup();
                for u in unexpected {
                    out.push(ValidationError::new(
                        format!("/{u}"),
                        format!(
                            "is not a field of {}; the fields are {}",
                            layer.title(),
                            names.join(", ")
                        ),
                    ));
                }
                continue;
            }
            ValidationErrorKind::Type { .. } | ValidationErrorKind::Enum { .. } => {
                // Inside a list the item's own schema says what it must be.
                let item = if pointer.matches('/').count() > 1 {
                    &field_schema["items"]
                } else {
                    &field_schema
                };
                format!("is {}; it must be {}", shown(value), wanted(item))
            }
            ValidationErrorKind::Minimum { .. }
            | ValidationErrorKind::Maximum { .. }
            | ValidationErrorKind::ExclusiveMinimum { .. }
            | ValidationErrorKind::ExclusiveMaximum { .. } => {
                format!("is {}; it must be {}", shown(value), wanted(&field_schema))
            }
            ValidationErrorKind::Format { format } if format == "date-time" => {
                let date_only = value.as_str().is_some_and(|s| {
                    s.len() == 10
                        && time::Date::parse(
                            s,
                            time::macros::format_description!("[year]-[month]-[day]"),
                        )
                        .is_ok()
                });
                if date_only {
                    format!(
                        "is {}, a date without a time of day, which is needed here (a Shapefile's date fields cannot hold a time: export to GeoPackage or CSV instead, or keep the time in a text field)",
                        shown(value)
                    )
                } else {
                    format!("is {}; it must be {DATE_TIME_FORMS}", shown(value))
                }
            }
            ValidationErrorKind::MaxLength { limit } => {
                format!("is too long; at most {limit} characters")
            }
            ValidationErrorKind::MinLength { limit } => {
                format!("is too short; at least {limit} characters")
            }
            ValidationErrorKind::MaxItems { limit } => format!("has more than {limit} items"),
            ValidationErrorKind::MinItems { limit } => format!("needs at least {limit} items"),
            ValidationErrorKind::Pattern { .. } => match field_schema["description"].as_str() {
                Some(d) => format!(
                    "is {}, which is not in the expected form: {d}",
                    shown(value)
                ),
                None => format!("is {}, which is not in the expected form", shown(value)),
            },
            _ => e.to_string(),
        };
        out.push(ValidationError::new(pointer, message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_of_a_row_is_named_in_words() {
        let got = property_problems(
            Layer::Incidents,
            &json!({"category": "skottlossning", "severity": "3", "colour": "red"}),
        );
        let text: Vec<String> = got.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(all.contains("/category"), "{all}");
        assert!(all.contains("one of "), "{all}");
        assert!(
            all.contains("/severity: is '3' (text); it must be a whole number from 1 to 5"),
            "{all}"
        );
        assert!(all.contains("/occurred_at: is missing"), "{all}");
        assert!(all.contains("/colour: is not a field"), "{all}");
        assert!(
            all.contains("organisation"),
            "the accepted fields include bookkeeping: {all}"
        );
        assert!(!all.contains("u8") && !all.contains("i64"), "{all}");
        assert!(got.len() >= 4, "{all}");
    }

    #[test]
    fn a_valid_row_has_none() {
        assert!(
            property_problems(
                Layer::Incidents,
                &json!({"category": "shooting", "severity": 3, "occurred_at": "2026-11-30T22:15:00Z"}),
            )
            .is_empty()
        );
    }
}
