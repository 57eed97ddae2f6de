//! What a filter may name (the queryables, from the caller's own schema), its type check, and
//! its evaluation on a feature as the caller receives it, with SQL's three-valued logic (a
//! comparison with a missing value is unknown, and `NOT unknown` is unknown too).

use std::collections::BTreeMap;

use geo::{Geometry, Relate};
use serde_json::{Value, json};

use super::{Case, CmpOp, Expr, Operand, SpatialOp, TemporalOp};

/// The kind of a queryable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Bool,
    /// An RFC 3339 instant or a date (a string in the feature).
    Time,
    Geometry,
    /// Lists and objects: only `IS NULL` applies.
    Other,
}

impl Kind {
    const fn noun(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "a number",
            Kind::Bool => "true or false",
            Kind::Time => "a time",
            Kind::Geometry => "a geometry",
            Kind::Other => "a list or object",
        }
    }
}

/// The properties a caller may filter and sort on: exactly those of the feature schema its role
/// receives (hidden properties are not there; coarse roles have category, week and area), plus
/// `geometry` — the shown geometry, a cell centre for coarse roles.
#[derive(Debug, Clone)]
pub struct Queryables {
    kinds: BTreeMap<String, Kind>,
}

fn kind_of(schema: &Value) -> Kind {
    let ty = match &schema["type"] {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match (ty, schema["format"].as_str()) {
        (Some("string"), Some("date-time" | "date")) => Kind::Time,
        (Some("string"), _) => Kind::Text,
        (Some("number" | "integer"), _) => Kind::Number,
        (Some("boolean"), _) => Kind::Bool,
        _ => Kind::Other,
    }
}

impl Queryables {
    /// The queryables of a feature schema (as [`crate::domain::schema::feature_schema`] makes).
    #[must_use]
    pub fn from_schema(schema: &Value) -> Self {
        let mut kinds: BTreeMap<String, Kind> = schema["properties"]["properties"]["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), kind_of(v)))
            .collect();
        kinds.insert("geometry".into(), Kind::Geometry);
        Self { kinds }
    }

    /// The queryables document (`/collections/{id}/queryables`, a JSON Schema 2020-12): each
    /// property as the feature schema types it, and `geometry` with its kinds.
    #[must_use]
    pub fn document(schema: &Value, id: &str) -> Value {
        let mut props = schema["properties"]["properties"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        props.insert("geometry".into(), schema["properties"]["geometry"].clone());
        // The draft's list form, which GDAL up to 3.6 reads to choose what it sends as a filter.
        let listed: Vec<Value> = props
            .iter()
            .map(|(name, s)| json!({"id": name, "type": s.get("type").cloned().unwrap_or(Value::Null)}))
            .collect();
        json!({
            "$schema": crate::domain::schema::DIALECT,
            "$id": id,
            "type": "object",
            "title": schema["title"],
            "description": "The properties a filter (CQL2) and sortby may name, as your role sees them",
            "properties": props,
            "additionalProperties": false,
            "queryables": listed,
        })
    }

    /// The names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.kinds.keys().map(String::as_str).collect()
    }

    /// Whether `name` holds times.
    #[must_use]
    pub fn is_time(&self, name: &str) -> bool {
        self.kinds.get(name) == Some(&Kind::Time)
    }

    /// Whether `name` can order features (`sortby`): any queryable but the geometry.
    #[must_use]
    pub fn sortable(&self, name: &str) -> bool {
        self.kinds
            .get(name)
            .is_some_and(|k| !matches!(k, Kind::Geometry | Kind::Other))
    }

    fn property(&self, name: &str) -> Result<Kind, String> {
        self.kinds.get(name).copied().ok_or_else(|| {
            format!(
                "'{name}' is not a property you can query in this collection; the queryables are {}",
                self.names().join(", ")
            )
        })
    }

    fn kind(&self, o: &Operand) -> Result<Kind, String> {
        Ok(match o {
            Operand::Property(p) => self.property(p)?,
            Operand::Text(_) => Kind::Text,
            Operand::Number(_) => Kind::Number,
            Operand::Bool(_) => Kind::Bool,
            Operand::Timestamp(_) | Operand::Date(..) => Kind::Time,
            Operand::Interval(a, b) => {
                for end in [a, b].into_iter().flatten() {
                    if !self.temporal(end)? {
                        return Err(format!(
                            "an INTERVAL's ends are times or '..', not {}",
                            self.kind(end)?.noun()
                        ));
                    }
                }
                Kind::Time
            }
            Operand::Geometry(_) => Kind::Geometry,
        })
    }

    /// Whether an operand is a time (a quoted instant or date counts as one).
    fn temporal(&self, o: &Operand) -> Result<bool, String> {
        Ok(match o {
            Operand::Text(s) => time_of_text(s).is_some(),
            other => self.kind(other)? == Kind::Time,
        })
    }

    fn comparable(&self, a: &Operand, b: &Operand, what: &str) -> Result<(), String> {
        let (ka, kb) = (self.kind(a)?, self.kind(b)?);
        let ok = match (ka, kb) {
            (Kind::Time, Kind::Text) => self.temporal(b)?,
            (Kind::Text, Kind::Time) => self.temporal(a)?,
            (Kind::Geometry, _) | (_, Kind::Geometry) => {
                return Err(format!(
                    "{what} does not compare geometries; use S_INTERSECTS, S_WITHIN, …"
                ));
            }
            (Kind::Other, _) | (_, Kind::Other) => false,
            (x, y) => x == y,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{what} compares {} with {}: {}",
                describe(a, ka),
                describe(b, kb),
                "both sides must be text, numbers, true/false or times (TIMESTAMP('…'), DATE('…'))"
            ))
        }
    }

    /// Checks every name and every type in `e` before it is evaluated, and that its cost per
    /// feature is bounded (at most [`MAX_NODES`] conditions, LIKE patterns of at most
    /// [`MAX_PATTERN`] characters, IN lists of at most [`MAX_LIST`] values, geometries of at
    /// most [`MAX_POSITIONS`] positions).
    ///
    /// # Errors
    /// The first unknown property, mismatched type or bound passed, in words.
    pub fn check(&self, e: &Expr) -> Result<(), String> {
        let nodes = count_nodes(e);
        if nodes > MAX_NODES {
            return Err(format!(
                "has {nodes} conditions; at most {MAX_NODES} are tested per feature"
            ));
        }
        self.check_node(e)
    }

    fn check_node(&self, e: &Expr) -> Result<(), String> {
        match e {
            Expr::Literal(_) => Ok(()),
            Expr::And(parts) | Expr::Or(parts) => parts.iter().try_for_each(|p| self.check_node(p)),
            Expr::Not(inner) => self.check_node(inner),
            Expr::Compare(_, a, b) => self.comparable(a, b, "a comparison"),
            Expr::Like(a, p, _) => {
                if let Operand::Text(t) = p
                    && t.chars().count() > MAX_PATTERN
                {
                    return Err(format!(
                        "a LIKE pattern has at most {MAX_PATTERN} characters"
                    ));
                }
                if self.kind(a)? != Kind::Text || self.kind(p)? != Kind::Text {
                    return Err(format!(
                        "LIKE matches text with a text pattern, not {} with {}",
                        describe(a, self.kind(a)?),
                        describe(p, self.kind(p)?)
                    ));
                }
                Ok(())
            }
            Expr::Between(a, lo, hi) => {
                self.comparable(a, lo, "BETWEEN")?;
                self.comparable(a, hi, "BETWEEN")?;
                if !matches!(self.kind(a)?, Kind::Number | Kind::Time) {
                    return Err(format!(
                        "BETWEEN takes numbers or times, not {}",
                        describe(a, self.kind(a)?)
                    ));
                }
                Ok(())
            }
            Expr::In(a, list) => {
                if list.len() > MAX_LIST {
                    return Err(format!("an IN list has at most {MAX_LIST} values"));
                }
                list.iter().try_for_each(|x| self.comparable(a, x, "IN"))
            }
            Expr::IsNull(a) => self.kind(a).map(|_| ()),
            Expr::Spatial(_, a, b) => {
                for o in [a, b] {
                    if let Operand::Geometry(g) = o {
                        use geo::CoordsIter;
                        if g.coords_count() > MAX_POSITIONS {
                            return Err(format!(
                                "a geometry in a filter has at most {MAX_POSITIONS} positions (simplify it, or use bbox)"
                            ));
                        }
                    }
                    let k = self.kind(o)?;
                    if k != Kind::Geometry {
                        return Err(format!(
                            "the S_ functions take geometries (the property geometry, WKT, GeoJSON or BBOX), not {}",
                            describe(o, k)
                        ));
                    }
                }
                Ok(())
            }
            Expr::Temporal(_, a, b) => {
                for o in [a, b] {
                    if !self.temporal(o)? {
                        return Err(format!(
                            "the T_ functions take times (a time property, TIMESTAMP, DATE or INTERVAL), not {}",
                            describe(o, self.kind(o)?)
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// The most conditions (comparisons, functions, AND/OR/NOT) in one filter.
pub const MAX_NODES: usize = 64;
/// The longest LIKE pattern, in characters.
pub const MAX_PATTERN: usize = 200;
/// The most values in an IN list.
pub const MAX_LIST: usize = 100;
/// The most positions of a geometry in a filter.
pub const MAX_POSITIONS: usize = 1000;

fn count_nodes(e: &Expr) -> usize {
    1 + match e {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().map(count_nodes).sum(),
        Expr::Not(inner) => count_nodes(inner),
        _ => 0,
    }
}

fn describe(o: &Operand, k: Kind) -> String {
    match o {
        Operand::Property(p) => format!("the property '{p}' ({})", k.noun()),
        _ => k.noun().to_owned(),
    }
}

/// A value as the evaluation sees it.
#[derive(Debug, Clone)]
enum Val {
    Null,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A closed time interval in Unix seconds (an instant is `[t, t]`).
    Time(i64, i64),
    Geometry(Geometry<f64>),
    Other,
}

/// A quoted time: an RFC 3339 instant, a date (its whole day), or a date and time without an
/// offset, read as UTC as CQL2's `TIMESTAMP` is (GDAL quotes times so).
fn time_of_text(s: &str) -> Option<(i64, i64)> {
    if s.len() == 10 {
        return super::day(s).ok();
    }
    if let Ok(t) = super::instant(s) {
        return Some((t, t));
    }
    let fmt = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][ ]][hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
    );
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
        .map(|t| (t, t))
}

fn resolve(o: &Operand, f: &Value) -> Val {
    match o {
        Operand::Property(p) if p == "geometry" => {
            let g = &f["geometry"];
            if g.is_null() {
                return Val::Null;
            }
            geojson::Geometry::from_json_value(g.clone())
                .ok()
                .and_then(|g| Geometry::<f64>::try_from(g).ok())
                .map_or(Val::Other, Val::Geometry)
        }
        Operand::Property(p) => match &f["properties"][p.as_str()] {
            Value::Null => Val::Null,
            Value::String(s) => Val::Text(s.clone()),
            Value::Number(n) => n.as_f64().map_or(Val::Other, Val::Number),
            Value::Bool(b) => Val::Bool(*b),
            _ => Val::Other,
        },
        Operand::Text(s) => Val::Text(s.clone()),
        Operand::Number(n) => Val::Number(*n),
        Operand::Bool(b) => Val::Bool(*b),
        Operand::Timestamp(t) => Val::Time(*t, *t),
        Operand::Date(a, b) => Val::Time(*a, *b),
        Operand::Interval(a, b) => {
            let end = |e: &Option<Box<Operand>>, first: bool| -> Option<i64> {
                match e {
                    None => Some(if first { i64::MIN } else { i64::MAX }),
                    Some(o) => match as_time(resolve(o, f)) {
                        Val::Time(s, e) => Some(if first { s } else { e }),
                        _ => None,
                    },
                }
            };
            match (end(a, true), end(b, false)) {
                (Some(s), Some(e)) => Val::Time(s, e),
                _ => Val::Null,
            }
        }
        Operand::Geometry(g) => Val::Geometry(g.clone()),
    }
}

/// Text that reads as a time becomes one (a property holding an instant, a quoted date).
fn as_time(v: Val) -> Val {
    match v {
        Val::Text(s) => time_of_text(&s).map_or(Val::Text(s), |(a, b)| Val::Time(a, b)),
        other => other,
    }
}

fn compare(op: CmpOp, a: Val, b: Val) -> Option<bool> {
    use std::cmp::Ordering;
    let (a, b) = match (&a, &b) {
        (Val::Time(..), Val::Text(_)) | (Val::Text(_), Val::Time(..)) => (as_time(a), as_time(b)),
        // A time property against a quoted time (`occurred_at < '2026-11-01'`): both are text
        // here, and compare as the times they are (offsets and dates included).
        (Val::Text(x), Val::Text(y)) if time_of_text(x).is_some() && time_of_text(y).is_some() => {
            (as_time(a), as_time(b))
        }
        _ => (a, b),
    };
    if let (Val::Time(a0, a1), Val::Time(b0, b1)) = (&a, &b) {
        // Times are intervals (a date is its whole day): equal when one lies within the other,
        // before when it ends before the other starts.
        let eq = (a0 >= b0 && a1 <= b1) || (b0 >= a0 && b1 <= a1);
        return Some(match op {
            CmpOp::Eq => eq,
            CmpOp::Ne => !eq,
            CmpOp::Lt => a1 < b0,
            CmpOp::Gt => a0 > b1,
            CmpOp::Le => a0 <= b1,
            CmpOp::Ge => a1 >= b0,
        });
    }
    let ord = match (&a, &b) {
        (Val::Null, _) | (_, Val::Null) => return None,
        (Val::Text(x), Val::Text(y)) => x.cmp(y),
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(y)?,
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        _ => return None,
    };
    Some(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}

/// `LIKE`: `%` any run of characters, `_` one character, `\` takes the next literally.
fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut pat = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Char(chars.next().unwrap_or('\\')),
            c => P::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // reach[j]: the pattern's first j parts can match the text read so far.
    let mut reach = vec![false; pat.len() + 1];
    reach[0] = true;
    for j in 0..pat.len() {
        if pat[j] == P::Any && reach[j] {
            reach[j + 1] = true;
        }
    }
    for c in text {
        let mut next = vec![false; pat.len() + 1];
        for j in 0..pat.len() {
            let hit = match pat[j] {
                P::Any => reach[j + 1] || reach[j],
                P::One => reach[j],
                P::Char(p) => reach[j] && p == c,
            };
            if hit {
                next[j + 1] = true;
            }
        }
        for j in 0..pat.len() {
            if pat[j] == P::Any && next[j] {
                next[j + 1] = true;
            }
        }
        reach = next;
    }
    reach[pat.len()]
}

fn spatial(op: SpatialOp, a: &Val, b: &Val) -> Option<bool> {
    let (Val::Geometry(a), Val::Geometry(b)) = (a, b) else {
        return None;
    };
    let m = a.relate(b);
    Some(match op {
        SpatialOp::Intersects => m.is_intersects(),
        SpatialOp::Disjoint => m.is_disjoint(),
        SpatialOp::Within => m.is_within(),
        SpatialOp::Contains => m.is_contains(),
        SpatialOp::Equals => m.is_equal_topo(),
    })
}

fn temporal(op: TemporalOp, a: Val, b: Val) -> Option<bool> {
    let (Val::Time(a0, a1), Val::Time(b0, b1)) = (as_time(a), as_time(b)) else {
        return None;
    };
    let intersects = a0 <= b1 && b0 <= a1;
    Some(match op {
        TemporalOp::Intersects => intersects,
        TemporalOp::Disjoint => !intersects,
        TemporalOp::Before => a1 < b0,
        TemporalOp::After => a0 > b1,
        TemporalOp::Equals => a0 == b0 && a1 == b1,
        TemporalOp::During => a0 > b0 && a1 < b1,
        TemporalOp::Contains => b0 > a0 && b1 < a1,
    })
}

fn eval(e: &Expr, f: &Value) -> Option<bool> {
    match e {
        Expr::Literal(b) => Some(*b),
        Expr::And(parts) => {
            let mut unknown = false;
            for p in parts {
                match eval(p, f) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            (!unknown).then_some(true)
        }
        Expr::Or(parts) => {
            let mut unknown = false;
            for p in parts {
                match eval(p, f) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            (!unknown).then_some(false)
        }
        Expr::Not(inner) => eval(inner, f).map(|b| !b),
        Expr::Compare(op, a, b) => compare(*op, resolve(a, f), resolve(b, f)),
        Expr::Like(a, p, case) => match (resolve(a, f), resolve(p, f)) {
            (Val::Text(t), Val::Text(p)) if *case == Case::Insensitive => {
                Some(like(&t.to_lowercase(), &p.to_lowercase()))
            }
            (Val::Text(t), Val::Text(p)) => Some(like(&t, &p)),
            _ => None,
        },
        Expr::Between(a, lo, hi) => {
            let v = resolve(a, f);
            let low = compare(CmpOp::Ge, v.clone(), resolve(lo, f));
            let high = compare(CmpOp::Le, v, resolve(hi, f));
            match (low, high) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            }
        }
        Expr::In(a, list) => {
            let v = resolve(a, f);
            let mut unknown = false;
            for x in list {
                match compare(CmpOp::Eq, v.clone(), resolve(x, f)) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            (!unknown).then_some(false)
        }
        Expr::IsNull(a) => Some(matches!(resolve(a, f), Val::Null)),
        Expr::Spatial(op, a, b) => spatial(*op, &resolve(a, f), &resolve(b, f)),
        Expr::Temporal(op, a, b) => temporal(*op, resolve(a, f), resolve(b, f)),
    }
}

/// Whether `f` passes (unknown does not).
pub(super) fn matches(e: &Expr, f: &Value) -> bool {
    eval(e, f) == Some(true)
}

#[cfg(test)]
pub(super) fn like_for_tests(text: &str, pattern: &str) -> bool {
    like(text, pattern)
}
