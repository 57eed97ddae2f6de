//! The CQL2 JSON encoding (`filter-lang=cql2-json`): `{"op": "and", "args": [...]}` trees with
//! `{"property": …}`, `{"timestamp": …}`, `{"date": …}`, `{"interval": [...]}`, GeoJSON
//! geometries and `{"bbox": [...]}`. Errors name the JSON pointer of what is wrong.

use geo::{Geometry, Rect, coord};
use serde_json::Value;

use super::text::{spatial_by_json, temporal_by_json};
use super::{Case, CmpOp, Expr, Operand};

/// Reads a CQL2 JSON filter.
pub(super) fn parse(s: &str) -> Result<Expr, String> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("is not JSON: {e}"))?;
    expr(&v, "")
}

fn args<'a>(v: &'a Value, at: &str, op: &str, n: Option<usize>) -> Result<&'a [Value], String> {
    let a = v
        .get("args")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("at {at}/args: '{op}' needs an args array"))?;
    if let Some(n) = n
        && a.len() != n
    {
        return Err(format!(
            "at {at}/args: '{op}' takes {n} arguments, found {}",
            a.len()
        ));
    }
    Ok(a)
}

fn expr(v: &Value, at: &str) -> Result<Expr, String> {
    // One JSON pointer segment per level: the depth is the pointer's.
    if at.matches("/args/").count() > super::text::MAX_DEPTH {
        return Err(format!(
            "at {at}: the filter nests deeper than {} levels",
            super::text::MAX_DEPTH
        ));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Expr::Literal(b));
    }
    let Some(op) = v.get("op").and_then(Value::as_str) else {
        return Err(format!(
            "at {}: expected a condition {{\"op\": …, \"args\": […]}} or true/false",
            if at.is_empty() { "/" } else { at }
        ));
    };
    let cmp = |c: CmpOp| -> Result<Expr, String> {
        let a = args(v, at, op, Some(2))?;
        Ok(Expr::Compare(
            c,
            operand(&a[0], &format!("{at}/args/0"))?,
            operand(&a[1], &format!("{at}/args/1"))?,
        ))
    };
    match op {
        "and" | "or" => {
            let a = args(v, at, op, None)?;
            if a.len() < 2 {
                return Err(format!("at {at}/args: '{op}' takes two or more conditions"));
            }
            let parts = a
                .iter()
                .enumerate()
                .map(|(i, e)| expr(e, &format!("{at}/args/{i}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if op == "and" {
                Expr::And(parts)
            } else {
                Expr::Or(parts)
            })
        }
        "not" => {
            let a = args(v, at, op, Some(1))?;
            Ok(Expr::Not(Box::new(expr(&a[0], &format!("{at}/args/0"))?)))
        }
        "=" => cmp(CmpOp::Eq),
        "<>" => cmp(CmpOp::Ne),
        "<" => cmp(CmpOp::Lt),
        "<=" => cmp(CmpOp::Le),
        ">" => cmp(CmpOp::Gt),
        ">=" => cmp(CmpOp::Ge),
        "like" => {
            let a = args(v, at, op, Some(2))?;
            Ok(Expr::Like(
                operand(&a[0], &format!("{at}/args/0"))?,
                operand(&a[1], &format!("{at}/args/1"))?,
                Case::Sensitive,
            ))
        }
        "between" => {
            let a = args(v, at, op, Some(3))?;
            Ok(Expr::Between(
                operand(&a[0], &format!("{at}/args/0"))?,
                operand(&a[1], &format!("{at}/args/1"))?,
                operand(&a[2], &format!("{at}/args/2"))?,
            ))
        }
        "in" => {
            let a = args(v, at, op, Some(2))?;
            let list = a[1]
                .as_array()
                .ok_or_else(|| format!("at {at}/args/1: 'in' takes a list of values"))?;
            Ok(Expr::In(
                operand(&a[0], &format!("{at}/args/0"))?,
                list.iter()
                    .enumerate()
                    .map(|(i, x)| operand(x, &format!("{at}/args/1/{i}")))
                    .collect::<Result<_, _>>()?,
            ))
        }
        "isNull" => {
            let a = args(v, at, op, Some(1))?;
            Ok(Expr::IsNull(operand(&a[0], &format!("{at}/args/0"))?))
        }
        other => {
            if let Some(s) = spatial_by_json(other) {
                let a = args(v, at, op, Some(2))?;
                return Ok(Expr::Spatial(
                    s,
                    operand(&a[0], &format!("{at}/args/0"))?,
                    operand(&a[1], &format!("{at}/args/1"))?,
                ));
            }
            if let Some(t) = temporal_by_json(other) {
                let a = args(v, at, op, Some(2))?;
                return Ok(Expr::Temporal(
                    t,
                    operand(&a[0], &format!("{at}/args/0"))?,
                    operand(&a[1], &format!("{at}/args/1"))?,
                ));
            }
            Err(format!(
                "at {at}/op: '{other}' is not an operator this server knows (and, or, not, =, <>, <, <=, >, >=, like, between, in, isNull, s_intersects, s_disjoint, s_within, s_contains, s_equals, t_intersects, t_disjoint, t_before, t_after, t_equals, t_during, t_contains)"
            ))
        }
    }
}

fn operand(v: &Value, at: &str) -> Result<Operand, String> {
    match v {
        Value::String(s) => Ok(Operand::Text(s.clone())),
        Value::Number(n) => n
            .as_f64()
            .map(Operand::Number)
            .ok_or_else(|| format!("at {at}: the number is out of range")),
        Value::Bool(b) => Ok(Operand::Bool(*b)),
        Value::Object(o) => {
            if let Some(p) = o.get("property") {
                return p
                    .as_str()
                    .map(|p| Operand::Property(p.to_owned()))
                    .ok_or_else(|| format!("at {at}/property: a property is named by a string"));
            }
            if let Some(t) = o.get("timestamp") {
                let s = t
                    .as_str()
                    .ok_or_else(|| format!("at {at}/timestamp: expected a string"))?;
                return super::instant(s)
                    .map(Operand::Timestamp)
                    .map_err(|e| format!("at {at}/timestamp: {e}"));
            }
            if let Some(d) = o.get("date") {
                let s = d
                    .as_str()
                    .ok_or_else(|| format!("at {at}/date: expected a string"))?;
                return super::day(s)
                    .map(|(a, b)| Operand::Date(a, b))
                    .map_err(|e| format!("at {at}/date: {e}"));
            }
            if let Some(i) = o.get("interval") {
                let ends = i
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| format!("at {at}/interval: expected [start, end]"))?;
                let end = |k: usize| -> Result<Option<Box<Operand>>, String> {
                    let here = format!("{at}/interval/{k}");
                    match &ends[k] {
                        Value::String(s) if s == ".." => Ok(None),
                        Value::String(s) if s.len() == 10 => super::day(s)
                            .map(|(a, b)| Some(Box::new(Operand::Date(a, b))))
                            .map_err(|e| format!("at {here}: {e}")),
                        Value::String(s) => super::instant(s)
                            .map(|t| Some(Box::new(Operand::Timestamp(t))))
                            .map_err(|e| format!("at {here}: {e}")),
                        other => operand(other, &here).map(|o| Some(Box::new(o))),
                    }
                };
                return Ok(Operand::Interval(end(0)?, end(1)?));
            }
            if let Some(b) = o.get("bbox") {
                let n: Vec<f64> = b
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                return bbox_geometry(&n)
                    .map(Operand::Geometry)
                    .map_err(|e| format!("at {at}/bbox: {e}"));
            }
            if o.contains_key("type") && o.contains_key("coordinates") {
                return crate::index::params::parse_any_geometry(v)
                    .map(Operand::Geometry)
                    .map_err(|e| format!("at {at}: {e}"));
            }
            if o.contains_key("op") {
                return Err(format!(
                    "at {at}: a condition where a value belongs (arithmetic and functions are not supported)"
                ));
            }
            Err(format!(
                "at {at}: expected a value, {{\"property\": …}}, {{\"timestamp\": …}}, {{\"date\": …}}, {{\"interval\": […]}}, {{\"bbox\": […]}} or a GeoJSON geometry"
            ))
        }
        Value::Array(_) => Err(format!("at {at}: a list belongs only in 'in'")),
        Value::Null => Err(format!("at {at}: null is not a value; use isNull")),
    }
}

/// A `BBOX` (4 numbers, WGS84 `west, south, east, north`) as a rectangle.
pub(super) fn bbox_geometry(n: &[f64]) -> Result<Geometry<f64>, String> {
    let [w, s, e, nn] = n else {
        return Err(format!(
            "takes four numbers west, south, east, north; found {}",
            n.len()
        ));
    };
    if !(-180.0..=180.0).contains(w)
        || !(-180.0..=180.0).contains(e)
        || !(-90.0..=90.0).contains(s)
        || !(-90.0..=90.0).contains(nn)
        || w > e
        || s > nn
    {
        return Err(format!(
            "({w}, {s}, {e}, {nn}) is not west, south, east, north in degrees with west ≤ east and south ≤ north"
        ));
    }
    Ok(Geometry::Rect(Rect::new(
        coord! {x: *w, y: *s},
        coord! {x: *e, y: *nn},
    )))
}
