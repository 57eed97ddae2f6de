//! Filtering and sorting features (OGC API – Features Part 3): CQL2 filters (OGC 21-065) in the
//! text and JSON encodings, read into
//! one small expression tree, checked against the properties a caller may query, and evaluated on
//! features **as the caller receives them** — so a filter can never test a hidden property, a
//! position finer than a coarse cell, or anything above the role's ceiling.
//!
//! Supported: comparison (`= <> < > <= >=`), `IS [NOT] NULL`, `[NOT] LIKE` (`%`, `_`, `\`
//! escape), `[NOT] BETWEEN`, `[NOT] IN`, `AND`/`OR`/`NOT`, the spatial functions (`S_INTERSECTS`,
//! `S_DISJOINT`, `S_WITHIN`, `S_CONTAINS`, `S_EQUALS`) on WKT/GeoJSON geometries and `BBOX`, and
//! the temporal functions (`T_INTERSECTS`, `T_DISJOINT`, `T_BEFORE`, `T_AFTER`, `T_EQUALS`,
//! `T_DURING`, `T_CONTAINS`) on `TIMESTAMP`, `DATE` and `INTERVAL`.
//!
//! Written here rather than taken from the `cql2` crate (0.6): that crate pulls a second geozero
//! and jsonschema, sqlparser, and turns on serde_json's `preserve_order` for the whole program.

mod eval;
mod json;
mod sort;
mod text;

pub use eval::Queryables;
pub use sort::{SortKey, order, parse_sortby};

use geo::Geometry;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A spatial relation (the `S_` functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    /// `S_INTERSECTS`
    Intersects,
    /// `S_DISJOINT`
    Disjoint,
    /// `S_WITHIN`: the first inside the second.
    Within,
    /// `S_CONTAINS`: the second inside the first.
    Contains,
    /// `S_EQUALS`
    Equals,
}

/// A temporal relation (the `T_` functions), on closed intervals (an instant is `[t, t]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalOp {
    /// `T_INTERSECTS`
    Intersects,
    /// `T_DISJOINT`
    Disjoint,
    /// `T_BEFORE`: the first ends before the second starts.
    Before,
    /// `T_AFTER`: the first starts after the second ends.
    After,
    /// `T_EQUALS`
    Equals,
    /// `T_DURING`: the first inside the second.
    During,
    /// `T_CONTAINS`: the second inside the first.
    Contains,
}

/// Whether `LIKE` tells upper from lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `LIKE`: it does (CQL2).
    Sensitive,
    /// `ILIKE`: it does not.
    Insensitive,
}

/// A value in an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property of the feature, by name (`geometry` is the feature's geometry).
    Property(String),
    /// A character string.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// `TIMESTAMP('…')`, as Unix seconds.
    Timestamp(i64),
    /// `DATE('…')`, as the Unix seconds of its first and last second (UTC).
    Date(i64, i64),
    /// `INTERVAL(a, b)`; an open end (`'..'`) is `None`.
    Interval(Option<Box<Operand>>, Option<Box<Operand>>),
    /// A geometry literal (WGS84 longitude, latitude).
    Geometry(Geometry<f64>),
}

/// A CQL2 boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `TRUE` or `FALSE`.
    Literal(bool),
    /// All of them.
    And(Vec<Expr>),
    /// Any of them.
    Or(Vec<Expr>),
    /// `NOT e`.
    Not(Box<Expr>),
    /// `a op b`.
    Compare(CmpOp, Operand, Operand),
    /// `a LIKE pattern`; `ILIKE` (as GDAL writes it) ignores case.
    Like(Operand, Operand, Case),
    /// `a BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `a IN (list)`.
    In(Operand, Vec<Operand>),
    /// `a IS NULL`.
    IsNull(Operand),
    /// A spatial function.
    Spatial(SpatialOp, Operand, Operand),
    /// A temporal function.
    Temporal(TemporalOp, Operand, Operand),
}

/// The encoding of a filter (`filter-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// `cql2-text` (the default).
    #[default]
    Text,
    /// `cql2-json`.
    Json,
}

impl Lang {
    /// Reads a `filter-lang` value.
    ///
    /// # Errors
    /// Names the accepted values.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            // `cql-text` is the draft's name, which GDAL up to 3.6 (and so QGIS) sends; the
            // comparisons, LIKE, IS NULL and AND/OR/NOT it writes read the same in CQL2.
            "cql2-text" | "cql-text" => Ok(Self::Text),
            "cql2-json" => Ok(Self::Json),
            other => Err(format!(
                "is '{other}'; write cql2-text (the default) or cql2-json"
            )),
        }
    }
}

impl Expr {
    /// Reads a filter in `lang`.
    ///
    /// # Errors
    /// What is wrong, and where (a character position in text).
    pub fn parse(s: &str, lang: Lang) -> Result<Self, String> {
        match lang {
            Lang::Text => text::parse(s),
            Lang::Json => json::parse(s),
        }
    }

    /// Whether `feature` (a GeoJSON Feature as the caller receives it) passes. Values of other
    /// types than a property holds never match (the filter was checked with
    /// [`Queryables::check`] before).
    #[must_use]
    pub fn matches(&self, feature: &serde_json::Value) -> bool {
        eval::matches(self, feature)
    }
}

/// A filter and an order applied to features as the caller receives them (`filter`, `sortby`).
#[derive(Debug, Clone, Default)]
pub struct Refine {
    /// Only features that pass.
    pub filter: Option<Expr>,
    /// The filter as the caller wrote it (for the audit record).
    pub text: Option<String>,
    /// The order (empty: the default, newest first).
    pub sort: Vec<SortKey>,
}

impl Refine {
    /// Whether it changes nothing.
    #[must_use]
    pub const fn is_none(&self) -> bool {
        self.filter.is_none() && self.sort.is_empty()
    }
}

/// Parses an RFC 3339 instant (`Z` or an offset), to Unix seconds.
fn instant(s: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|_| format!("'{s}' is not an RFC 3339 instant (e.g. 2026-11-30T22:15:00Z)"))
}

/// Parses a `YYYY-MM-DD` date to its first and last second (UTC).
fn day(s: &str) -> Result<(i64, i64), String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).map_err(|_| format!("'{s}' is not a date YYYY-MM-DD"))?;
    let start = d.midnight().assume_utc().unix_timestamp();
    Ok((start, start + 86_399))
}

#[cfg(test)]
mod tests;
