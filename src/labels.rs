//! The Swedish words shared by the map client, the briefing documents and the HTML pages of the
//! API: labels of the layers' values and field names, from `web/labels.json` (compiled in).

use std::sync::OnceLock;

use serde_json::Value;

/// `web/labels.json`, as compiled in.
pub const LABELS_JSON: &str = include_str!("../web/labels.json");

fn labels() -> &'static Value {
    static LABELS: OnceLock<Value> = OnceLock::new();
    LABELS.get_or_init(|| serde_json::from_str(LABELS_JSON).unwrap_or(Value::Null))
}

/// A value's Swedish label alone (`Pågående`), without the layer; the key itself if none.
#[must_use]
pub fn value_label(key: &str) -> String {
    labels()["values"][key].as_str().unwrap_or(key).to_owned()
}

/// A field's Swedish name (`Tidpunkt` for `occurred_at`); the key itself if none.
#[must_use]
pub fn field_label(key: &str) -> String {
    labels()["fields"][key].as_str().unwrap_or(key).to_owned()
}

/// A value's label in a legend: `Skadegörelse`, or for layers whose values say little alone,
/// the layer first (`Riskmiljö, låg`).
#[must_use]
pub fn label(layer: &str, key: &str) -> String {
    let value = labels()["values"][key].as_str().unwrap_or(key);
    match labels()["legendPrefix"][layer].as_str() {
        Some(prefix) => {
            let mut chars = value.chars();
            let lower: String = chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default();
            format!("{prefix}, {lower}")
        }
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_property_of_every_layer_has_a_swedish_name() {
        for layer in crate::domain::Layer::ALL {
            for key in crate::domain::schema::exact_properties(*layer).keys() {
                assert_ne!(field_label(key), *key, "{layer}.{key} has no label");
            }
            for key in crate::domain::schema::coarse_properties(*layer).keys() {
                assert_ne!(
                    field_label(key),
                    *key,
                    "{layer}.{key} (coarse) has no label"
                );
            }
        }
        assert_eq!(value_label("car_fire"), "Bilbrand");
        assert_eq!(label("risk_environments", "low"), "Riskmiljö, låg");
    }

    /// Every enumerated value of every property (categories, statuses, kinds, owners, …)
    /// has a Swedish label, so no popup, legend or document shows a code.
    #[test]
    fn every_vocabulary_value_has_a_swedish_label() {
        fn enums(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Array(values)) = m.get("enum") {
                        out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    m.values().for_each(|v| enums(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| enums(v, out)),
                _ => {}
            }
        }
        let mut missing = Vec::new();
        for layer in crate::domain::Layer::ALL {
            for (key, schema) in crate::domain::schema::exact_properties(*layer) {
                let mut values = Vec::new();
                enums(&schema, &mut values);
                for v in values {
                    if value_label(&v) == v {
                        missing.push(format!("{layer}.{key} = {v}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "values without a Swedish label: {missing:?}"
        );
    }
}
