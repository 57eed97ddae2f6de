//! `sortby` (OGC API – Features Part 8 draft, as ldproxy and pygeoapi take it): a comma-separated
//! list of queryable names, each optionally prefixed `+` (ascending, the default) or `-`.
//! Missing values sort last either way; ties keep the default order (newest first, then id).

use std::cmp::Ordering;

use serde_json::Value;

use super::Queryables;

/// One key of a `sortby`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The property.
    pub name: String,
    /// `-name`.
    pub descending: bool,
    /// The property holds times: compared as instants, not as text (offsets differ).
    pub time: bool,
}

/// Reads `sortby` against what the caller may sort on.
///
/// # Errors
/// An empty key, or a name that is not sortable (with the names that are).
pub fn parse_sortby(s: &str, q: &Queryables) -> Result<Vec<SortKey>, String> {
    s.split(',')
        .map(|part| {
            // A `+` in a query string arrives as a space; `a, -b` has a space before the `-`.
            let part = part.trim();
            let (descending, name) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part.strip_prefix('+').unwrap_or(part)),
            };
            let name = name.trim();
            if name.is_empty() {
                return Err("has an empty key; write e.g. -occurred_at,category".to_owned());
            }
            if !q.sortable(name) {
                let names: Vec<&str> = q.names().into_iter().filter(|n| q.sortable(n)).collect();
                return Err(format!(
                    "'{name}' is not a property you can sort this collection by; choose from {}",
                    names.join(", ")
                ));
            }
            Ok(SortKey {
                name: name.to_owned(),
                descending,
                time: q.is_time(name),
            })
        })
        .collect()
}

/// A total order on the values one property holds: numbers by value, times (for a time
/// property) by instant with any unreadable text after them, other text by its characters.
fn value_order(a: &Value, b: &Value, time: bool) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(f64::NAN)
            .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        (Value::String(x), Value::String(y)) if time => {
            let key = |s: &str| super::instant(s).map_or((1, 0), |t| (0, t));
            key(x).cmp(&key(y)).then_with(|| x.cmp(y))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// The order of two features (GeoJSON, as shown) by `keys`.
#[must_use]
pub fn order(a: &Value, b: &Value, keys: &[SortKey]) -> Ordering {
    for k in keys {
        let (x, y) = (
            &a["properties"][k.name.as_str()],
            &b["properties"][k.name.as_str()],
        );
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let o = value_order(x, y, k.time);
                if k.descending { o.reverse() } else { o }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
