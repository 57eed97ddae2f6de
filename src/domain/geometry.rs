//! Geometry rules: WGS84 positions in range, the right kind for the layer, closed and simple
//! rings, and a bounded cost for checking all of that.
//!
//! Geometries arrive as RFC 7946 GeoJSON (longitude, latitude in WGS84 degrees) and are kept as
//! `geo` types in the same CRS.
//!
//! # What checking a geometry may cost
//! Nothing here grows faster than the input, whatever the input:
//! - [`check_limits`] counts positions and rings in the raw JSON before anything is parsed and
//!   stops at the first one over [`GeometryLimits`], so refusing a huge geometry costs no more
//!   than the limit.
//! - Polygon validity is one sweep over the segments in O(n log n) (see [`parse_geometry_with`]),
//!   never a comparison of every pair, and it checks the clock against a time budget as it goes.
//! - At most [`MAX_REPORTED_ERRORS`] problems are listed, then one saying that more were left
//!   out, so a broken geometry never produces a large answer.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::time::{Duration, Instant};

use geo::kernels::{Kernel, RobustKernel};
use geo::{BoundingRect, Coord, Geometry, Orientation, Polygon};
use geojson::Value as GjValue;
use serde_json::Value;

use super::error::{ValidationError, ValidationErrors};

str_enum! {
    /// The kinds of geometry a layer may hold (GeoJSON type names).
    pub enum GeometryKind {
        /// A single position.
        Point = "Point",
        /// A line of two or more positions.
        LineString = "LineString",
        /// Several lines.
        MultiLineString = "MultiLineString",
        /// An area with closed rings.
        Polygon = "Polygon",
        /// Several areas.
        MultiPolygon = "MultiPolygon",
    }
}

impl GeometryKind {
    /// The kind of a `geo` geometry, if it is one we store.
    #[must_use]
    pub fn of(g: &Geometry<f64>) -> Option<Self> {
        match g {
            Geometry::Point(_) => Some(Self::Point),
            Geometry::LineString(_) => Some(Self::LineString),
            Geometry::MultiLineString(_) => Some(Self::MultiLineString),
            Geometry::Polygon(_) => Some(Self::Polygon),
            Geometry::MultiPolygon(_) => Some(Self::MultiPolygon),
            _ => None,
        }
    }
}

/// What a geometry is checked for: the kinds a target (a layer, a query parameter) accepts and
/// its name for messages. The layer says what it accepts (`Layer::accepts`); this module needs
/// to know nothing about layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepts {
    /// The target's name, e.g. the layer id `areas`.
    pub name: &'static str,
    /// The kinds it takes.
    pub kinds: &'static [GeometryKind],
}

/// The most problems listed for one geometry; when there are more, one further entry says so.
pub const MAX_REPORTED_ERRORS: usize = 20;

/// How long [`parse_geometry`] lets the validity check of one geometry run before it gives up
/// and refuses the geometry.
pub const DEFAULT_VALIDATION_BUDGET: Duration = Duration::from_secs(2);

/// How much one geometry (of a feature, or of an `intersects` filter) may hold; checked by
/// [`check_limits`] on the raw JSON before any geometric work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeometryLimits {
    /// The most positions in one geometry, counting every position as written (the repeated
    /// closing position of a ring too). Setting `max_geometry_positions`. [default: 50 000]
    pub max_positions: usize,
    /// The most rings and lines in one geometry. Every array of positions counts one: each ring
    /// of a Polygon or MultiPolygon, the line of a LineString, each line of a MultiLineString
    /// (and the positions of a MultiPoint). So do a polygon of a MultiPolygon that has no rings
    /// at all and each member of a GeometryCollection. Setting `max_geometry_rings`.
    /// [default: 1 000]
    pub max_rings: usize,
}

impl Default for GeometryLimits {
    fn default() -> Self {
        Self {
            max_positions: 50_000,
            max_rings: 1_000,
        }
    }
}

/// A geometry holds more positions or rings than [`GeometryLimits`] allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {}", self.message())]
pub struct GeometryTooLarge {
    /// The name of the setting that was exceeded: `max_geometry_positions` or
    /// `max_geometry_rings`.
    pub limit: &'static str,
    /// The setting's value.
    pub allowed: usize,
    /// How many were found, in words: counting stops just past the limit ("more than 50000").
    pub found: String,
    /// The JSON pointer of what is too large, e.g. `/geometry/coordinates`.
    pub at: String,
}

impl GeometryTooLarge {
    /// What is wrong and what to do, without the pointer (which is [`Self::at`]).
    #[must_use]
    pub fn message(&self) -> String {
        let what = if self.limit == LIMIT_RINGS {
            "rings and lines"
        } else {
            "positions"
        };
        format!(
            "has {} {what}; at most {} are accepted per geometry (setting {}); simplify it or split it",
            self.found, self.allowed, self.limit
        )
    }
}

impl From<GeometryTooLarge> for ValidationErrors {
    fn from(e: GeometryTooLarge) -> Self {
        let message = e.message();
        ValidationErrors::one(e.at, message)
    }
}

const LIMIT_POSITIONS: &str = "max_geometry_positions";
const LIMIT_RINGS: &str = "max_geometry_rings";

/// Checks that the GeoJSON geometry `value` (not yet parsed) holds no more positions and rings
/// than `limits` allow; `at` is its JSON pointer (e.g. `/geometry`).
///
/// Walks the `coordinates` arrays only as deep as the geometry's `type` says they go (four
/// levels for a MultiPolygon), without allocating, and stops as soon as a limit is passed: the
/// cost is bounded by the limits, not by the input. Members of a GeometryCollection are walked
/// too; a collection inside a collection is not (no layer takes collections, and parsing refuses
/// them). Anything that is not a geometry of the expected shape is left for parsing to refuse,
/// so this returns `Ok` for it.
///
/// # Errors
/// The first limit passed, naming its setting.
pub fn check_limits(
    value: &Value,
    limits: &GeometryLimits,
    at: &str,
) -> Result<(), GeometryTooLarge> {
    let mut counter = Counter {
        limits,
        positions: 0,
        rings: 0,
    };
    let member = if value.get("type").and_then(Value::as_str) == Some("GeometryCollection") {
        "geometries"
    } else {
        "coordinates"
    };
    let exceeded = |limit: &'static str, allowed: usize| GeometryTooLarge {
        limit,
        allowed,
        found: format!("more than {allowed}"),
        at: format!("{at}/{member}"),
    };
    match counter.geometry(value, false) {
        Ok(()) | Err(Stop::Malformed) => Ok(()),
        Err(Stop::Positions) => Err(exceeded(LIMIT_POSITIONS, limits.max_positions)),
        Err(Stop::Rings) => Err(exceeded(LIMIT_RINGS, limits.max_rings)),
    }
}

/// Why [`Counter`] stopped walking.
enum Stop {
    Positions,
    Rings,
    /// Not the shape the type promises: parsing will say what is wrong.
    Malformed,
}

struct Counter<'a> {
    limits: &'a GeometryLimits,
    positions: usize,
    rings: usize,
}

impl Counter<'_> {
    fn geometry(&mut self, g: &Value, in_collection: bool) -> Result<(), Stop> {
        let depth = match g.get("type").and_then(Value::as_str) {
            Some("Point") => 0,
            Some("LineString" | "MultiPoint") => 1,
            Some("Polygon" | "MultiLineString") => 2,
            Some("MultiPolygon") => 3,
            Some("GeometryCollection") if !in_collection => {
                let members = g
                    .get("geometries")
                    .and_then(Value::as_array)
                    .ok_or(Stop::Malformed)?;
                for m in members {
                    self.ring()?;
                    self.geometry(m, true)?;
                }
                return Ok(());
            }
            _ => return Err(Stop::Malformed),
        };
        self.coordinates(g.get("coordinates").ok_or(Stop::Malformed)?, depth)
    }

    /// `depth`: 0 for a position, 1 for an array of positions, 2 for an array of those, 3 for
    /// the polygons of a MultiPolygon. Every element visited counts toward a limit, so the walk
    /// ends after at most `max_positions + max_rings` elements.
    fn coordinates(&mut self, v: &Value, depth: u8) -> Result<(), Stop> {
        if depth == 0 {
            if !v.is_array() {
                return Err(Stop::Malformed);
            }
            self.positions += 1;
            return if self.positions > self.limits.max_positions {
                Err(Stop::Positions)
            } else {
                Ok(())
            };
        }
        let items = v.as_array().ok_or(Stop::Malformed)?;
        if depth == 1 {
            self.ring()?;
        }
        for item in items {
            if depth == 3 && item.as_array().is_some_and(Vec::is_empty) {
                self.ring()?;
            }
            self.coordinates(item, depth - 1)?;
        }
        Ok(())
    }

    fn ring(&mut self) -> Result<(), Stop> {
        self.rings += 1;
        if self.rings > self.limits.max_rings {
            Err(Stop::Rings)
        } else {
            Ok(())
        }
    }
}

/// Parses and checks a GeoJSON geometry object for a target that `accepts` some kinds; `at` is the JSON pointer of the
/// geometry in the submitted document (e.g. `/geometry`).
///
/// Uses the default [`GeometryLimits`] and [`DEFAULT_VALIDATION_BUDGET`], so every caller is
/// protected; callers with configured limits use [`parse_geometry_with`].
///
/// # Errors
/// Every problem found (at most [`MAX_REPORTED_ERRORS`], then a note that more were left out):
/// too many positions or rings, wrong type for the layer, positions out of WGS84 range, too few
/// positions, unclosed or self-intersecting rings, rings crossing each other, holes outside
/// their polygon, overlapping polygons.
pub fn parse_geometry(
    accepts: Accepts,
    value: &Value,
    at: &str,
) -> Result<Geometry<f64>, ValidationErrors> {
    parse_geometry_with(
        accepts,
        value,
        at,
        &GeometryLimits::default(),
        DEFAULT_VALIDATION_BUDGET,
    )
}

/// [`parse_geometry`] with chosen limits and time budget.
///
/// The limits are checked first, with [`check_limits`] (a caller that answers differently when
/// they are passed calls it itself first). Polygons and MultiPolygons must then be valid simple
/// features, as `geo`'s `Validation` defines them: no ring crosses or touches itself (two edges
/// may meet only where one follows the other), rings of a polygon do not cross each other and
/// touch only at single points, holes lie inside the outer ring and not inside each other, and
/// the polygons of a MultiPolygon do not overlap and touch only at single points. Unlike `geo`,
/// a ring that runs back along its own last edge (a spike, or a ring of no area) is refused too.
/// Like `geo`, a polygon whose holes cut its interior in two is accepted.
///
/// This is checked by one sweep over all segments, ordered exactly (robust orientation tests):
/// O(n log n) for n positions. If it runs longer than `budget`, the geometry is refused.
///
/// # Errors
/// As [`parse_geometry`], and a refusal naming the budget when it runs out.
pub fn parse_geometry_with(
    accepts: Accepts,
    value: &Value,
    at: &str,
    limits: &GeometryLimits,
    budget: Duration,
) -> Result<Geometry<f64>, ValidationErrors> {
    let started = Instant::now();
    check_limits(value, limits, at)?;
    if value.is_null() {
        return Err(ValidationErrors::one(
            at,
            "is missing; every feature needs a geometry",
        ));
    }
    let gj = geojson::Geometry::from_json_value(value.clone())
        .map_err(|e| ValidationErrors::one(at, format!("is not a GeoJSON geometry: {e}")))?;
    let kind = match &gj.value {
        GjValue::Point(_) => GeometryKind::Point,
        GjValue::LineString(_) => GeometryKind::LineString,
        GjValue::MultiLineString(_) => GeometryKind::MultiLineString,
        GjValue::Polygon(_) => GeometryKind::Polygon,
        GjValue::MultiPolygon(_) => GeometryKind::MultiPolygon,
        GjValue::MultiPoint(_) => return Err(wrong_kind(accepts, "MultiPoint", at)),
        GjValue::GeometryCollection(_) => {
            return Err(wrong_kind(accepts, "GeometryCollection", at));
        }
    };
    if !accepts.kinds.contains(&kind) {
        return Err(wrong_kind(accepts, kind.as_str(), at));
    }
    let coords = format!("{at}/coordinates");
    let mut report = Report::default();
    match &gj.value {
        GjValue::Point(p) => check_position(p, &mut report, || coords.clone()),
        GjValue::LineString(l) => check_line(l, &coords, &mut report),
        GjValue::MultiLineString(ls) => {
            if ls.is_empty() {
                report.add(|| ValidationError::new(&coords, "holds no lines"));
            }
            for (i, l) in ls.iter().enumerate() {
                check_line(l, &format!("{coords}/{i}"), &mut report);
            }
        }
        GjValue::Polygon(rings) => check_polygon(rings, &coords, &mut report),
        GjValue::MultiPolygon(polys) => {
            if polys.is_empty() {
                report.add(|| ValidationError::new(&coords, "holds no polygons"));
            }
            for (i, rings) in polys.iter().enumerate() {
                check_polygon(rings, &format!("{coords}/{i}"), &mut report);
            }
        }
        _ => {}
    }
    report.finish(&coords)?;
    let geometry = Geometry::<f64>::try_from(gj)
        .map_err(|e| ValidationErrors::one(at, format!("cannot be read as a geometry: {e}")))?;
    check_simple(&geometry, at, started, budget)?;
    Ok(geometry)
}

/// Collects at most [`MAX_REPORTED_ERRORS`] problems and remembers whether there were more.
#[derive(Default)]
struct Report {
    errors: Vec<ValidationError>,
    more: bool,
}

impl Report {
    /// Records a problem; `make` runs only if it will be listed.
    fn add(&mut self, make: impl FnOnce() -> ValidationError) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(make());
        } else {
            self.more = true;
        }
    }

    /// True once a problem could not be listed: looking further is pointless.
    fn full(&self) -> bool {
        self.more
    }

    fn finish(mut self, at: &str) -> Result<(), ValidationErrors> {
        if self.more {
            self.errors.push(ValidationError::new(
                at,
                format!(
                    "further problems were not listed: only the first {MAX_REPORTED_ERRORS} are; correct these and send the geometry again"
                ),
            ));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}

fn wrong_kind(accepts: Accepts, given: &str, at: &str) -> ValidationErrors {
    let allowed: Vec<&str> = accepts.kinds.iter().map(|k| k.as_str()).collect();
    ValidationErrors::one(
        format!("{at}/type"),
        format!(
            "is {given}; '{}' takes {}",
            accepts.name,
            allowed.join(" or ")
        ),
    )
}

fn check_position(p: &[f64], report: &mut Report, at: impl Fn() -> String) {
    if p.len() < 2 || p.len() > 3 {
        report.add(|| {
            ValidationError::new(
                at(),
                format!(
                    "has {} numbers; a position is [longitude, latitude]",
                    p.len()
                ),
            )
        });
        return;
    }
    let (lon, lat) = (p[0], p[1]);
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        report.add(|| ValidationError::new(
            at(),
            format!("longitude {lon} is outside WGS84 (-180 to 180); is the data in SWEREF 99 TM? Then import it with --crs EPSG:3006"),
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        report.add(|| {
            ValidationError::new(
                at(),
                format!(
                    "latitude {lat} is outside WGS84 (-90 to 90); positions are [longitude, latitude]"
                ),
            )
        });
    }
}

fn check_line(l: &[Vec<f64>], at: &str, report: &mut Report) {
    for (i, p) in l.iter().enumerate() {
        if report.full() {
            return;
        }
        check_position(p, report, || format!("{at}/{i}"));
    }
    let distinct = l.windows(2).filter(|w| w[0] != w[1]).count();
    if l.len() < 2 || distinct == 0 {
        report.add(|| ValidationError::new(at, "a line needs at least two different positions"));
    }
}

fn check_polygon(rings: &[Vec<Vec<f64>>], at: &str, report: &mut Report) {
    if rings.is_empty() {
        report.add(|| ValidationError::new(at, "a polygon needs an outer ring"));
    }
    for (r, ring) in rings.iter().enumerate() {
        for (i, p) in ring.iter().enumerate() {
            if report.full() {
                return;
            }
            check_position(p, report, || format!("{at}/{r}/{i}"));
        }
        if ring.len() < 4 {
            report.add(|| ValidationError::new(
                format!("{at}/{r}"),
                format!("a ring needs at least 4 positions (3 corners and the first repeated); it has {}", ring.len()),
            ));
        } else if ring.first() != ring.last() {
            report.add(|| {
                ValidationError::new(
                    format!("{at}/{r}"),
                    "the ring is not closed: its last position must equal its first",
                )
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validity of polygons in O(n log n).
//
// 1. Each ring is reduced to its corners (repeated positions dropped); fewer than 3 corners, or
//    a corner where the ring turns straight back (a spike), is a problem.
// 2. Corners at the same point are found by sorting: twice in one ring is a self-touch; in two
//    rings, the rings must not cross there (tested on the four edges around the point).
// 3. A Shamos–Hoey sweep (left to right; ties by y) keeps the segments cut by the sweep line in
//    a balanced tree, ordered by exact orientation tests. Two segments that meet always become
//    neighbours in that order before the sweep passes the leftmost meeting point, so checking
//    each new pair of neighbours finds a crossing if there is one. A pair found to cross is
//    reported and taken out of the tree, which keeps the order consistent, and the sweep goes on
//    to find more (not necessarily all).
// 4. With no crossing anywhere, the rings are nested, and the sweep has also recorded, for each
//    ring, the segment just below its leftmost corner: the ring is inside that segment's ring if
//    the segment is a lower edge of it, else it is a sibling of that ring. From this follow holes
//    outside their shell, holes inside holes and polygons inside polygons.
// ---------------------------------------------------------------------------------------------

/// Checks time once per this many steps (events, pair tests).
const STEPS_PER_CLOCK_CHECK: usize = 4096;

fn check_simple(
    g: &Geometry<f64>,
    at: &str,
    started: Instant,
    budget: Duration,
) -> Result<(), ValidationErrors> {
    let (polygons, multi): (Vec<&Polygon<f64>>, bool) = match g {
        Geometry::Polygon(p) => (vec![p], false),
        Geometry::MultiPolygon(mp) => (mp.0.iter().collect(), true),
        _ => return Ok(()),
    };
    let mut checker = Checker::new(at, multi, started, budget);
    checker.prepare(&polygons);
    if !checker.stopped() {
        checker.shared_corners();
    }
    if !checker.stopped() {
        checker.sweep();
    }
    if !checker.stopped() && checker.report.errors.is_empty() {
        checker.nesting();
    }
    checker.finish()
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    <RobustKernel as Kernel<f64>>::orient2d(p, q, r)
}

/// The sweep order of points: by longitude, then latitude. (Coordinates are finite here.)
fn lex(a: Coord<f64>, b: Coord<f64>) -> Ordering {
    a.x.partial_cmp(&b.x)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.y.partial_cmp(&b.y).unwrap_or(Ordering::Equal))
}

/// One ring, reduced to its corners.
struct Ring {
    /// The polygon it belongs to (0 for a Polygon).
    part: usize,
    /// Its place in the polygon: 0 the outer ring, then the holes.
    index: usize,
    /// The distinct corners in order, without the closing repetition.
    corners: Vec<Coord<f64>>,
    /// For each corner, its position index in the submitted ring.
    positions: Vec<usize>,
    /// The index of the closing position.
    closing: usize,
    /// The id of the segment from corner 0; segment k runs from corner k to corner k + 1.
    first_segment: usize,
    /// The corner that comes first in sweep order.
    lowest: usize,
    /// Whether the ring runs counter-clockwise.
    ccw: bool,
    /// False when the ring has too few corners to be checked further.
    usable: bool,
}

impl Ring {
    fn len(&self) -> usize {
        self.corners.len()
    }
    fn prev(&self, k: usize) -> usize {
        (k + self.len() - 1) % self.len()
    }
    fn next(&self, k: usize) -> usize {
        (k + 1) % self.len()
    }
    /// The submitted position index where segment k ends.
    fn end_position(&self, k: usize) -> usize {
        if k + 1 < self.len() {
            self.positions[k + 1]
        } else {
            self.closing
        }
    }
}

#[derive(Clone, Copy)]
struct Segment {
    /// From (in ring order).
    a: Coord<f64>,
    /// To.
    b: Coord<f64>,
    ring: usize,
    /// Its index within the ring: it runs from corner k.
    k: usize,
}

impl Segment {
    /// The end met first by the sweep, and the other.
    fn ends(&self) -> (Coord<f64>, Coord<f64>) {
        if lex(self.a, self.b) == Ordering::Greater {
            (self.b, self.a)
        } else {
            (self.a, self.b)
        }
    }
    fn has_end(&self, p: Coord<f64>) -> bool {
        self.a == p || self.b == p
    }
}

/// A segment in the sweep's tree. Ordered bottom to top where the sweep line cuts it; exact as
/// long as no two segments in the tree cross (a crossing pair is taken out when found).
#[derive(Clone, Copy, Debug)]
struct Key {
    left: Coord<f64>,
    right: Coord<f64>,
    id: usize,
}

impl Key {
    /// Where a segment starting at `p` towards `q` lies compared with `self` (which started no
    /// later): `Greater` above, `Less` below, `Equal` along the same line.
    fn side_of(&self, p: Coord<f64>, q: Coord<f64>) -> Ordering {
        match orient(self.left, self.right, p) {
            Orientation::CounterClockwise => Ordering::Greater,
            Orientation::Clockwise => Ordering::Less,
            Orientation::Collinear => match orient(self.left, self.right, q) {
                Orientation::CounterClockwise => Ordering::Greater,
                Orientation::Clockwise => Ordering::Less,
                Orientation::Collinear => Ordering::Equal,
            },
        }
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.id == other.id {
            return Ordering::Equal;
        }
        let geometric = match lex(self.left, other.left) {
            Ordering::Less => self.side_of(other.left, other.right).reverse(),
            Ordering::Greater => other.side_of(self.left, self.right),
            Ordering::Equal => match orient(self.left, self.right, other.right) {
                Orientation::CounterClockwise => Ordering::Less,
                Orientation::Clockwise => Ordering::Greater,
                Orientation::Collinear => Ordering::Equal,
            },
        };
        geometric.then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Key {}

/// How two segments meet.
enum Meeting {
    Apart,
    /// Their insides cross at one point.
    Cross,
    /// They share a stretch of line.
    Overlap,
    /// They meet at one point that is an end of exactly one of them.
    Touch(Coord<f64>),
    /// They meet only at an end of both.
    SharedEnd,
}

fn meeting(s: &Segment, t: &Segment) -> Meeting {
    let o1 = orient(s.a, s.b, t.a);
    let o2 = orient(s.a, s.b, t.b);
    if o1 == Orientation::Collinear && o2 == Orientation::Collinear {
        let (sl, sr) = s.ends();
        let (tl, tr) = t.ends();
        let lo = if lex(sl, tl) == Ordering::Less {
            tl
        } else {
            sl
        };
        let hi = if lex(sr, tr) == Ordering::Less {
            sr
        } else {
            tr
        };
        return match lex(lo, hi) {
            Ordering::Less => Meeting::Overlap,
            Ordering::Equal if s.has_end(lo) && t.has_end(lo) => Meeting::SharedEnd,
            Ordering::Equal => Meeting::Touch(lo),
            Ordering::Greater => Meeting::Apart,
        };
    }
    if o1 != Orientation::Collinear && o1 == o2 {
        return Meeting::Apart;
    }
    let o3 = orient(t.a, t.b, s.a);
    let o4 = orient(t.a, t.b, s.b);
    if o3 != Orientation::Collinear && o3 == o4 {
        return Meeting::Apart;
    }
    // They meet in exactly one point; if an orientation is collinear, that end is the point.
    let p = if o1 == Orientation::Collinear {
        t.a
    } else if o2 == Orientation::Collinear {
        t.b
    } else if o3 == Orientation::Collinear {
        s.a
    } else if o4 == Orientation::Collinear {
        s.b
    } else {
        return Meeting::Cross;
    };
    if s.has_end(p) && t.has_end(p) {
        Meeting::SharedEnd
    } else {
        Meeting::Touch(p)
    }
}

/// Whether `r` lies on the ray from `p` through `u` (seen from `p`, in the same direction).
fn same_ray(p: Coord<f64>, u: Coord<f64>, r: Coord<f64>) -> bool {
    orient(p, u, r) == Orientation::Collinear && lex(u, p) == lex(r, p)
}

/// Whether the direction from `p` to `r` lies strictly inside the angle swept counter-clockwise
/// from the direction of `u` to that of `v` (`u` and `v` not in the same direction).
fn in_sector(p: Coord<f64>, u: Coord<f64>, v: Coord<f64>, r: Coord<f64>) -> bool {
    match orient(p, u, v) {
        Orientation::CounterClockwise => {
            orient(p, u, r) == Orientation::CounterClockwise
                && orient(p, r, v) == Orientation::CounterClockwise
        }
        // More than half a turn: inside unless within the closed angle from v round to u.
        Orientation::Clockwise => {
            orient(p, v, r) == Orientation::Clockwise || orient(p, r, u) == Orientation::Clockwise
        }
        // Opposite directions: the half-plane to the left of u.
        Orientation::Collinear => orient(p, u, r) == Orientation::CounterClockwise,
    }
}

/// Whether a boundary with edges from `p` towards `b.0` and `b.1` crosses one with edges from
/// `p` towards `a.0` and `a.1` (rather than just touching it at `p`). `None` when an edge of one
/// runs along an edge of the other: that is an overlap, reported as such.
fn crosses_at(
    p: Coord<f64>,
    a: (Coord<f64>, Coord<f64>),
    b: (Coord<f64>, Coord<f64>),
) -> Option<bool> {
    let along = |r| same_ray(p, a.0, r) || same_ray(p, a.1, r);
    if along(b.0) || along(b.1) {
        return None;
    }
    Some(in_sector(p, a.0, a.1, b.0) != in_sector(p, a.0, a.1, b.1))
}

struct Checker<'a> {
    at: &'a str,
    multi: bool,
    rings: Vec<Ring>,
    segments: Vec<Segment>,
    report: Report,
    started: Instant,
    budget: Duration,
    steps: usize,
    timed_out: bool,
    // Sweep state.
    tree: BTreeSet<Key>,
    alive: Vec<bool>,
    pending: Vec<(usize, usize)>,
    /// Per ring: the segment just below its lowest corner when the sweep reached it.
    below: Vec<Option<usize>>,
}

impl<'a> Checker<'a> {
    fn new(at: &'a str, multi: bool, started: Instant, budget: Duration) -> Self {
        Self {
            at,
            multi,
            rings: Vec::new(),
            segments: Vec::new(),
            report: Report::default(),
            started,
            budget,
            steps: 0,
            timed_out: false,
            tree: BTreeSet::new(),
            alive: Vec::new(),
            pending: Vec::new(),
            below: Vec::new(),
        }
    }

    fn stopped(&self) -> bool {
        self.timed_out || self.report.full()
    }

    /// Counts `n` steps of work; true when the checker should stop.
    fn tick(&mut self, n: usize) -> bool {
        self.steps += n;
        if self.steps >= STEPS_PER_CLOCK_CHECK {
            self.steps = 0;
            if self.started.elapsed() > self.budget {
                self.timed_out = true;
            }
        }
        self.stopped()
    }

    fn finish(mut self) -> Result<(), ValidationErrors> {
        let coords = format!("{}/coordinates", self.at);
        if self.timed_out {
            let ms = self.budget.as_millis();
            self.report.errors.push(ValidationError::new(
                &coords,
                format!("validation stopped after {ms} ms (the budget); simplify the geometry"),
            ));
        }
        self.report.finish(&coords)
    }

    // -- Names for messages ---------------------------------------------------------------

    fn ring_pointer(&self, r: usize) -> String {
        let ring = &self.rings[r];
        if self.multi {
            format!("{}/coordinates/{}/{}", self.at, ring.part, ring.index)
        } else {
            format!("{}/coordinates/{}", self.at, ring.index)
        }
    }

    fn ring_name(&self, r: usize) -> String {
        let ring = &self.rings[r];
        if self.multi {
            format!("ring {} of polygon {}", ring.index, ring.part)
        } else {
            format!("ring {}", ring.index)
        }
    }

    fn edge_name(&self, id: usize) -> String {
        let s = &self.segments[id];
        let ring = &self.rings[s.ring];
        format!(
            "edge from position {} to {}",
            ring.positions[s.k],
            ring.end_position(s.k)
        )
    }

    /// Reports two different rings meeting where they must not: `verb` ("crosses", "runs
    /// along") and, for each ring, where (`"edge from position 3 to 4"`, `"position 5"`). The
    /// later ring is the subject (the hole rather than the shell), and its pointer is given.
    fn rings_problem(&mut self, verb: &str, a: (usize, String), b: (usize, String)) {
        let ((r, here), (o, there)) = if a.0 < b.0 { (b, a) } else { (a, b) };
        let (name, other) = (self.ring_name(r), self.ring_name(o));
        let article = if there.starts_with("edge") {
            "the "
        } else {
            ""
        };
        let (part, other_part) = (self.rings[r].part, self.rings[o].part);
        let message = if part == other_part {
            format!(
                "{name} {verb} {other} where its {here} meets {article}{there} of {other}; rings may touch only at single points"
            )
        } else {
            format!(
                "polygon {part} meets polygon {other_part}: {name} {verb} {other} where its {here} meets {article}{there} of {other}; the polygons of a MultiPolygon must not overlap and may touch only at single points"
            )
        };
        let field = self.ring_pointer(r);
        self.report.add(|| ValidationError::new(field, message));
    }

    fn self_problem(&mut self, r: usize, detail: String) {
        let field = self.ring_pointer(r);
        let name = self.ring_name(r);
        self.report
            .add(|| ValidationError::new(field, format!("self-intersection: {name} {detail}")));
    }

    // -- 1. Corners -----------------------------------------------------------------------

    fn prepare(&mut self, polygons: &[&Polygon<f64>]) {
        for (part, polygon) in polygons.iter().enumerate() {
            let all = std::iter::once(polygon.exterior()).chain(polygon.interiors());
            for (index, line) in all.enumerate() {
                let coords = &line.0;
                let closing = coords.len().saturating_sub(1);
                let mut corners: Vec<Coord<f64>> = Vec::new();
                let mut positions = Vec::new();
                for (i, c) in coords.iter().take(closing).enumerate() {
                    if corners.last() != Some(c) {
                        corners.push(*c);
                        positions.push(i);
                    }
                }
                while corners.len() > 1 && corners.last() == corners.first() {
                    corners.pop();
                    positions.pop();
                }
                let r = self.rings.len();
                self.rings.push(Ring {
                    part,
                    index,
                    corners,
                    positions,
                    closing,
                    first_segment: self.segments.len(),
                    lowest: 0,
                    ccw: true,
                    usable: false,
                });
                self.prepare_ring(r);
                if self.tick(coords.len()) {
                    return;
                }
            }
        }
    }

    fn prepare_ring(&mut self, r: usize) {
        let ring = &self.rings[r];
        let m = ring.len();
        if m < 3 {
            let field = self.ring_pointer(r);
            let name = self.ring_name(r);
            self.report.add(|| {
                ValidationError::new(
                    field,
                    format!(
                        "{name} has fewer than 3 different corners; a ring must enclose an area"
                    ),
                )
            });
            return;
        }
        let mut spikes = Vec::new();
        let mut lowest = 0;
        for k in 0..m {
            let (prev, here, next) = (
                ring.corners[ring.prev(k)],
                ring.corners[k],
                ring.corners[ring.next(k)],
            );
            if orient(prev, here, next) == Orientation::Collinear
                && lex(prev, here) == lex(next, here)
            {
                spikes.push(ring.positions[k]);
            }
            if lex(here, ring.corners[lowest]) == Ordering::Less {
                lowest = k;
            }
        }
        let ccw = orient(
            ring.corners[ring.prev(lowest)],
            ring.corners[lowest],
            ring.corners[ring.next(lowest)],
        ) == Orientation::CounterClockwise;
        for position in spikes {
            self.self_problem(
                r,
                format!("turns back along its own edge at position {position} (a spike)"),
            );
        }
        let ring = &mut self.rings[r];
        ring.lowest = lowest;
        ring.ccw = ccw;
        ring.usable = true;
        for k in 0..m {
            self.segments.push(Segment {
                a: ring.corners[k],
                b: ring.corners[ring.next(k)],
                ring: r,
                k,
            });
        }
    }

    // -- 2. Corners at the same point -----------------------------------------------------

    fn shared_corners(&mut self) {
        let mut corners: Vec<(Coord<f64>, usize, usize)> = Vec::with_capacity(self.segments.len());
        for (r, ring) in self.rings.iter().enumerate() {
            if ring.usable {
                corners.extend(ring.corners.iter().enumerate().map(|(k, c)| (*c, r, k)));
            }
        }
        corners.sort_unstable_by(|a, b| lex(a.0, b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for group in corners.chunk_by(|a, b| lex(a.0, b.0) == Ordering::Equal) {
            if group.len() < 2 {
                continue;
            }
            for (i, &(p, r, k)) in group.iter().enumerate() {
                for &(_, o, j) in &group[i + 1..] {
                    if self.tick(1) {
                        return;
                    }
                    if o == r {
                        // Sorted by ring, so this is the next time the ring comes back here.
                        let (first, again) =
                            (self.rings[r].positions[k], self.rings[r].positions[j]);
                        self.self_problem(
                            r,
                            format!(
                                "touches itself: positions {first} and {again} are the same point"
                            ),
                        );
                        break;
                    }
                    let (ra, rb) = (&self.rings[r], &self.rings[o]);
                    let a = (ra.corners[ra.prev(k)], ra.corners[ra.next(k)]);
                    let b = (rb.corners[rb.prev(j)], rb.corners[rb.next(j)]);
                    if crosses_at(p, a, b) == Some(true) {
                        let here = format!("position {}", ra.positions[k]);
                        let there = format!("position {}", rb.positions[j]);
                        self.rings_problem("crosses", (r, here), (o, there));
                    }
                }
            }
        }
    }

    // -- 3. The sweep ---------------------------------------------------------------------

    fn key(&self, id: usize) -> Key {
        let (left, right) = self.segments[id].ends();
        Key { left, right, id }
    }

    fn neighbours(&self, key: &Key) -> (Option<usize>, Option<usize>) {
        let below = self.tree.range(..key).next_back().map(|k| k.id);
        let above = self
            .tree
            .range((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .map(|k| k.id);
        (below, above)
    }

    fn sweep(&mut self) {
        let n = self.segments.len();
        self.alive = vec![true; n];
        self.below = vec![None; self.rings.len()];
        let mut starts: Vec<(Coord<f64>, usize)> = Vec::with_capacity(n);
        let mut ends: Vec<(Coord<f64>, usize)> = Vec::with_capacity(n);
        for (id, s) in self.segments.iter().enumerate() {
            let (left, right) = s.ends();
            starts.push((left, id));
            ends.push((right, id));
        }
        starts.sort_unstable_by(|a, b| lex(a.0, b.0));
        ends.sort_unstable_by(|a, b| lex(a.0, b.0));
        let mut lowest: Vec<(Coord<f64>, usize)> = self
            .rings
            .iter()
            .enumerate()
            .filter(|(_, ring)| ring.usable)
            .map(|(r, ring)| (ring.corners[ring.lowest], r))
            .collect();
        lowest.sort_unstable_by(|a, b| lex(a.0, b.0));
        let (mut si, mut ei, mut li) = (0, 0, 0);
        while si < starts.len() || ei < ends.len() {
            let p = match (starts.get(si), ends.get(ei)) {
                (Some(s), Some(e)) if lex(e.0, s.0) == Ordering::Less => e.0,
                (Some(s), _) => s.0,
                (None, Some(e)) => e.0,
                (None, None) => break,
            };
            // Segments ending here leave first, then those starting here enter.
            while let Some(&(q, id)) = ends.get(ei) {
                if lex(q, p) != Ordering::Equal {
                    break;
                }
                ei += 1;
                self.remove(id);
                self.drain();
                if self.tick(1) {
                    return;
                }
            }
            while let Some(&(q, id)) = starts.get(si) {
                if lex(q, p) != Ordering::Equal {
                    break;
                }
                si += 1;
                self.insert(id);
                self.drain();
                if self.tick(1) {
                    return;
                }
            }
            while let Some(&(q, r)) = lowest.get(li) {
                if lex(q, p) == Ordering::Greater {
                    break;
                }
                li += 1;
                self.find_below(r);
            }
        }
    }

    fn insert(&mut self, id: usize) {
        if !self.alive[id] {
            return;
        }
        let key = self.key(id);
        self.tree.insert(key);
        let (below, above) = self.neighbours(&key);
        if let Some(b) = below {
            self.pending.push((b, id));
        }
        if let Some(a) = above {
            self.pending.push((id, a));
        }
    }

    fn remove(&mut self, id: usize) {
        if !self.alive[id] {
            return;
        }
        self.alive[id] = false;
        let key = self.key(id);
        let (below, above) = self.neighbours(&key);
        if !self.tree.remove(&key) {
            // Cannot happen while the order is consistent; never leave a stale segment behind.
            self.tree.retain(|k| k.id != id);
            self.steps += self.tree.len();
        }
        if let (Some(b), Some(a)) = (below, above) {
            self.pending.push((b, a));
        }
    }

    /// Tests the pairs that became neighbours; removes pairs found crossing (which may make
    /// new neighbours, tested in turn).
    fn drain(&mut self) {
        while let Some((s, t)) = self.pending.pop() {
            if self.stopped() {
                self.pending.clear();
                return;
            }
            self.steps += 1;
            if self.alive[s] && self.alive[t] && self.pair_is_bad(s, t) {
                self.remove(s);
                self.remove(t);
            }
        }
    }

    /// Tests two segments; reports and returns true when they meet where they must not.
    fn pair_is_bad(&mut self, s: usize, t: usize) -> bool {
        let (ss, ts) = (self.segments[s], self.segments[t]);
        let same_ring = ss.ring == ts.ring;
        if same_ring {
            let ring = &self.rings[ss.ring];
            if ring.next(ss.k) == ts.k || ring.next(ts.k) == ss.k {
                // Consecutive edges: they share a corner; a spike was reported already.
                return false;
            }
        }
        match meeting(&ss, &ts) {
            Meeting::Apart | Meeting::SharedEnd => false,
            Meeting::Cross if same_ring => {
                let detail = format!(
                    "crosses itself: its {} crosses its {}",
                    self.edge_name(s),
                    self.edge_name(t)
                );
                self.self_problem(ss.ring, detail);
                true
            }
            Meeting::Cross => {
                let (here, there) = (self.edge_name(s), self.edge_name(t));
                self.rings_problem("crosses", (ss.ring, here), (ts.ring, there));
                true
            }
            Meeting::Overlap if same_ring => {
                let detail = format!(
                    "runs along itself: its {} and its {} overlap",
                    self.edge_name(s),
                    self.edge_name(t)
                );
                self.self_problem(ss.ring, detail);
                true
            }
            Meeting::Overlap => {
                let (here, there) = (self.edge_name(s), self.edge_name(t));
                self.rings_problem("runs along", (ss.ring, here), (ts.ring, there));
                true
            }
            Meeting::Touch(p) => {
                // `p` is a corner of one (`v`) and inside the other (`e`).
                let (v, e) = if ss.has_end(p) { (s, t) } else { (t, s) };
                let (vs, es) = (self.segments[v], self.segments[e]);
                let ring = &self.rings[vs.ring];
                let k = if vs.a == p { vs.k } else { ring.next(vs.k) };
                let position = ring.positions[k];
                if same_ring {
                    let detail = format!(
                        "touches itself: position {position} lies on its {}",
                        self.edge_name(e)
                    );
                    self.self_problem(vs.ring, detail);
                    return true;
                }
                let corner = (ring.corners[ring.prev(k)], ring.corners[ring.next(k)]);
                if crosses_at(p, (es.a, es.b), corner) == Some(true) {
                    let there = self.edge_name(e);
                    self.rings_problem(
                        "crosses",
                        (vs.ring, format!("position {position}")),
                        (es.ring, there),
                    );
                    return true;
                }
                false
            }
        }
    }

    /// Records the segment just below ring `r`'s lowest corner, which the sweep has just
    /// reached (both of the ring's edges from there are in the tree).
    fn find_below(&mut self, r: usize) {
        let ring = &self.rings[r];
        let first = ring.first_segment;
        let (a, b) = (
            self.key(first + ring.lowest),
            self.key(first + ring.prev(ring.lowest)),
        );
        let lower = if a < b { a } else { b };
        if self.alive[lower.id] {
            self.below[r] = self.tree.range(..lower).next_back().map(|k| k.id);
        }
    }

    // -- 4. Nesting -------------------------------------------------------------------------

    /// The ring that directly contains each ring (`None`: none does).
    fn parents(&self) -> Vec<Option<usize>> {
        let n = self.rings.len();
        let mut parent: Vec<Option<Option<usize>>> = vec![None; n];
        for r in 0..n {
            let mut chain = Vec::new();
            let mut current = r;
            let found = loop {
                if let Some(known) = parent[current] {
                    break known;
                }
                chain.push(current);
                let Some(id) = self.below[current] else {
                    break None;
                };
                let s = &self.segments[id];
                let owner = &self.rings[s.ring];
                // A segment running left to right has the ring's inside on its left (above)
                // exactly when the ring runs counter-clockwise.
                let lower_edge = (lex(s.a, s.b) == Ordering::Less) == owner.ccw;
                if lower_edge {
                    break Some(s.ring);
                }
                if chain.len() > n {
                    break None;
                }
                current = s.ring;
            };
            for c in chain {
                parent[c] = Some(found);
            }
        }
        parent.into_iter().map(Option::flatten).collect()
    }

    fn nesting(&mut self) {
        let parents = self.parents();
        let shell_of: Vec<usize> = {
            let mut v = Vec::new();
            for (r, ring) in self.rings.iter().enumerate() {
                if ring.index == 0 {
                    v.push(r);
                }
            }
            v
        };
        for (r, &parent) in parents.iter().enumerate() {
            let ring = &self.rings[r];
            if ring.index == 0 {
                if let Some(q) = parent {
                    let outer = &self.rings[q];
                    if self.multi && outer.index == 0 {
                        let (part, other) = (ring.part, outer.part);
                        let field = format!("{}/coordinates/{part}", self.at);
                        self.report.add(|| {
                            ValidationError::new(
                                field,
                                format!("polygon {part} lies inside polygon {other}; the polygons of a MultiPolygon must not overlap"),
                            )
                        });
                    }
                }
                continue;
            }
            let shell = shell_of.get(ring.part).copied();
            let message = match parent {
                Some(q) if Some(q) == shell => continue,
                Some(q) if self.rings[q].part == ring.part => format!(
                    "{} is a hole inside {}, another hole; holes must not overlap",
                    self.ring_name(r),
                    self.ring_name(q)
                ),
                // Inside its outer ring, but inside another polygon there too: reported as
                // that polygon overlapping this one.
                Some(_) if shell.is_some_and(|s| ancestor(&parents, r, s)) => continue,
                _ => format!(
                    "{} is a hole but lies outside the outer ring{}; holes must lie inside it",
                    self.ring_name(r),
                    shell
                        .map(|s| format!(" ({})", self.ring_name(s)))
                        .unwrap_or_default()
                ),
            };
            let field = self.ring_pointer(r);
            self.report.add(|| ValidationError::new(field, message));
        }
    }
}

/// Whether ring `a` is among the rings containing ring `r`.
fn ancestor(parents: &[Option<usize>], r: usize, a: usize) -> bool {
    let mut current = parents[r];
    for _ in 0..parents.len() {
        match current {
            Some(p) if p == a => return true,
            Some(p) => current = parents[p],
            None => return false,
        }
    }
    false
}

/// The bounding box of a geometry as `[min_lon, min_lat, max_lon, max_lat]`.
#[must_use]
pub fn bounds(g: &Geometry<f64>) -> [f64; 4] {
    g.bounding_rect()
        .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// Validates a geometry already in `geo` form (from CSV import or the store) the same way.
///
/// # Errors
/// As [`parse_geometry`].
pub fn check_geometry(
    accepts: Accepts,
    g: &Geometry<f64>,
    at: &str,
) -> Result<(), ValidationErrors> {
    let value = serde_json::to_value(geojson::Geometry::from(g))
        .map_err(|e| ValidationErrors::one(at, format!("cannot be written as GeoJSON: {e}")))?;
    parse_geometry(accepts, &value, at).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Layer;
    use serde_json::json;

    fn errs(layer: Layer, v: serde_json::Value) -> Vec<ValidationError> {
        parse_geometry(layer.accepts(), &v, "/geometry")
            .unwrap_err()
            .0
    }

    #[test]
    fn point_out_of_range_names_the_position() {
        let e = errs(
            Layer::Incidents,
            json!({"type": "Point", "coordinates": [674032.0, 6580821.0]}),
        );
        assert_eq!(e[0].field, "/geometry/coordinates");
        assert!(e[0].message.contains("EPSG:3006"), "{e:?}");
    }

    #[test]
    fn wrong_kind_for_layer_is_refused() {
        let e = errs(
            Layer::Cameras,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.9, 59.3]]}),
        );
        assert_eq!(e[0].field, "/geometry/type");
        assert!(e[0].message.contains("takes Point"));
    }

    #[test]
    fn unclosed_ring_is_refused() {
        let e = errs(
            Layer::Areas,
            json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.2], [17.9, 59.3], [17.8, 59.3]]]}),
        );
        assert!(e[0].message.contains("not closed"), "{e:?}");
        assert_eq!(e[0].field, "/geometry/coordinates/0");
    }

    #[test]
    fn self_intersecting_polygon_is_refused() {
        let e = errs(
            Layer::Areas,
            json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.3], [17.9, 59.2], [17.8, 59.3], [17.8, 59.2]]]}),
        );
        assert!(e[0].message.contains("self-intersection"), "{e:?}");
    }

    #[test]
    fn one_point_line_is_refused() {
        let e = errs(
            Layer::PatrolRoutes,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2]]}),
        );
        assert!(e[0].message.contains("two different positions"), "{e:?}");
        let e = errs(
            Layer::PatrolRoutes,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.8, 59.2]]}),
        );
        assert!(e[0].message.contains("two different positions"), "{e:?}");
    }

    #[test]
    fn valid_polygon_is_accepted() {
        let g = parse_geometry(Layer::Areas.accepts(),
            &json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.2], [17.9, 59.3], [17.8, 59.2]]]}),
            "/geometry",
        )
        .unwrap();
        assert_eq!(GeometryKind::of(&g), Some(GeometryKind::Polygon));
    }

    // -- Helpers --------------------------------------------------------------------------

    fn ring(points: &[(f64, f64)]) -> Value {
        let mut v: Vec<Value> = points.iter().map(|(x, y)| json!([x, y])).collect();
        v.push(v[0].clone());
        Value::Array(v)
    }

    fn polygon(rings: &[&[(f64, f64)]]) -> Value {
        let rings: Vec<Value> = rings.iter().map(|r| ring(r)).collect();
        json!({"type": "Polygon", "coordinates": rings})
    }

    fn multi(polygons: &[&[&[(f64, f64)]]]) -> Value {
        let polygons: Vec<Value> = polygons
            .iter()
            .map(|p| Value::Array(p.iter().map(|r| ring(r)).collect()))
            .collect();
        json!({"type": "MultiPolygon", "coordinates": polygons})
    }

    fn square(x: f64, y: f64, side: f64) -> Vec<(f64, f64)> {
        vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side)]
    }

    fn area(v: &Value) -> Result<Geometry<f64>, Vec<ValidationError>> {
        parse_geometry(Layer::Areas.accepts(), v, "/geometry").map_err(|e| e.0)
    }

    fn refused(v: &Value) -> Vec<ValidationError> {
        match area(v) {
            Ok(_) => panic!("accepted: {v}"),
            Err(e) => e,
        }
    }

    fn accepted(v: &Value) {
        if let Err(e) = area(v) {
            panic!("refused: {e:?}\n{v}");
        }
    }

    /// A ring zig-zagging right between two latitudes and back the other way, so that each of
    /// its `n` steps crosses the step coming back: `n` crossings, `2n + 3` positions.
    fn zigzag(n: usize) -> Vec<(f64, f64)> {
        let x = |i: usize| (170_000 + i) as f64 / 10_000.0;
        let y = |up: bool| if up { 59.0002 } else { 59.0 };
        let forward = (0..=n).map(|i| (x(i), y(i % 2 == 1)));
        let back = (0..=n).rev().map(|i| (x(i), y(i % 2 == 0)));
        forward.chain(back).collect()
    }

    fn circle(n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                (18.0 + 0.1 * a.cos(), 59.3 + 0.1 * a.sin())
            })
            .collect()
    }

    // -- Rings ----------------------------------------------------------------------------

    #[test]
    fn bow_tie_names_the_ring_and_the_crossing_edges() {
        let e = refused(&polygon(&[&[
            (10.0, 50.0),
            (11.0, 51.0),
            (11.0, 50.0),
            (10.0, 51.0),
        ]]));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].field, "/geometry/coordinates/0");
        assert!(e[0].message.contains("self-intersection"), "{e:?}");
        assert!(
            e[0].message.contains("from position 0 to 1")
                && e[0].message.contains("from position 2 to 3"),
            "{e:?}"
        );
    }

    #[test]
    fn a_ring_touching_itself_is_refused() {
        // At a corner: the ring comes back to (12, 52).
        let e = refused(&polygon(&[&[
            (10.0, 50.0),
            (12.0, 52.0),
            (14.0, 50.0),
            (14.0, 54.0),
            (12.0, 52.0),
            (10.0, 54.0),
        ]]));
        assert!(e[0].message.contains("touches itself"), "{e:?}");
        assert!(e[0].message.contains("positions 1 and 4"), "{e:?}");
        // On an edge: corner 3 lies on the edge from 0 to 1.
        let e = refused(&polygon(&[&[
            (10.0, 50.0),
            (14.0, 50.0),
            (14.0, 53.0),
            (12.0, 50.0),
            (10.0, 53.0),
        ]]));
        assert!(e[0].message.contains("touches itself: position 3"), "{e:?}");
    }

    #[test]
    fn spikes_and_flat_rings_are_refused() {
        let e = refused(&polygon(&[&[
            (10.0, 50.0),
            (12.0, 50.0),
            (14.0, 50.0),
            (12.0, 50.0),
            (12.0, 52.0),
        ]]));
        assert!(e.iter().any(|e| e.message.contains("spike")), "{e:?}");
        let e = refused(&polygon(&[&[(10.0, 50.0), (11.0, 50.0), (12.0, 50.0)]]));
        assert!(e[0].message.contains("spike"), "{e:?}");
        let e = refused(
            &json!({"type": "Polygon", "coordinates": [[[10.0, 50.0], [10.0, 50.0], [11.0, 50.0], [10.0, 50.0]]]}),
        );
        assert!(
            e[0].message.contains("fewer than 3 different corners"),
            "{e:?}"
        );
    }

    #[test]
    fn repeated_and_straight_corners_are_fine() {
        accepted(&json!({"type": "Polygon", "coordinates": [[
            [10.0, 50.0], [10.0, 50.0], [11.0, 50.0], [12.0, 50.0], [12.0, 51.0], [12.0, 51.0], [10.0, 50.0], [10.0, 50.0]
        ]]}));
    }

    // -- Holes ----------------------------------------------------------------------------

    #[test]
    fn valid_polygons_with_holes_are_accepted() {
        let shell = square(10.0, 50.0, 10.0);
        accepted(&polygon(&[
            &shell,
            &square(12.0, 52.0, 2.0),
            &square(15.0, 52.0, 2.0),
        ]));
        // A hole touching the shell at one point, two holes touching at one point.
        accepted(&polygon(&[
            &shell,
            &[(10.0, 55.0), (12.0, 54.0), (12.0, 56.0)],
            &[(12.0, 56.0), (14.0, 55.0), (14.0, 57.0)],
        ]));
        // A hole corner on a shell edge, pointing out of the hole.
        accepted(&polygon(&[
            &shell,
            &[(20.0, 55.0), (18.0, 54.0), (18.0, 56.0)],
        ]));
        // Orientation does not matter.
        let mut reversed = shell.clone();
        reversed.reverse();
        accepted(&polygon(&[&reversed, &square(12.0, 52.0, 2.0)]));
    }

    #[test]
    fn a_hole_crossing_the_shell_is_refused() {
        let e = refused(&polygon(&[
            &square(10.0, 50.0, 10.0),
            &square(18.0, 52.0, 4.0),
        ]));
        assert_eq!(e[0].field, "/geometry/coordinates/1", "{e:?}");
        assert!(e[0].message.contains("ring 1 crosses ring 0"), "{e:?}");
    }

    #[test]
    fn a_hole_crossing_the_shell_only_at_corners_is_refused() {
        let shell = square(10.0, 50.0, 10.0);
        // Hole corners 1 and 4 lie on the shell's right edge; between them it is outside.
        let hole = [
            (18.0, 55.0),
            (20.0, 55.0),
            (22.0, 55.0),
            (22.0, 57.0),
            (20.0, 57.0),
            (18.0, 57.0),
        ];
        let e = refused(&polygon(&[&shell, &hole]));
        assert!(e[0].message.contains("crosses"), "{e:?}");
        // The same with the shell having corners there too.
        let shell = [
            (10.0, 50.0),
            (20.0, 50.0),
            (20.0, 55.0),
            (20.0, 57.0),
            (20.0, 60.0),
            (10.0, 60.0),
        ];
        let e = refused(&polygon(&[&shell, &hole]));
        assert!(e[0].message.contains("crosses"), "{e:?}");
    }

    #[test]
    fn a_hole_outside_the_shell_is_refused() {
        let e = refused(&polygon(&[
            &square(10.0, 50.0, 10.0),
            &square(30.0, 52.0, 2.0),
        ]));
        assert_eq!(e[0].field, "/geometry/coordinates/1", "{e:?}");
        assert!(e[0].message.contains("outside the outer ring"), "{e:?}");
        // Touching the shell from outside at one point.
        let e = refused(&polygon(&[
            &square(10.0, 50.0, 10.0),
            &[(20.0, 55.0), (22.0, 54.0), (22.0, 56.0)],
        ]));
        assert!(e[0].message.contains("outside the outer ring"), "{e:?}");
        // A "hole" around the shell.
        let e = refused(&polygon(&[
            &square(10.0, 50.0, 10.0),
            &square(5.0, 45.0, 20.0),
        ]));
        assert!(e[0].message.contains("outside the outer ring"), "{e:?}");
    }

    #[test]
    fn holes_inside_holes_and_sharing_edges_are_refused() {
        let shell = square(10.0, 50.0, 10.0);
        let e = refused(&polygon(&[
            &shell,
            &square(11.0, 51.0, 8.0),
            &square(12.0, 52.0, 2.0),
        ]));
        assert_eq!(e[0].field, "/geometry/coordinates/2", "{e:?}");
        assert!(
            e[0].message.contains("inside ring 1, another hole"),
            "{e:?}"
        );
        let e = refused(&polygon(&[&shell, &square(10.0, 52.0, 2.0)]));
        assert!(e[0].message.contains("runs along"), "{e:?}");
        let e = refused(&polygon(&[
            &shell,
            &square(12.0, 52.0, 2.0),
            &square(14.0, 52.0, 2.0),
        ]));
        assert!(e[0].message.contains("runs along"), "{e:?}");
    }

    // -- MultiPolygons --------------------------------------------------------------------

    #[test]
    fn valid_multipolygons_are_accepted() {
        let a = square(10.0, 50.0, 2.0);
        let b = square(13.0, 49.0, 2.0);
        let touching = square(12.0, 52.0, 2.0);
        accepted(&multi(&[&[&a], &[&b], &[&touching]]));
        // An island in a lake, and a polygon with a hole beside it.
        let lake_shell = square(20.0, 50.0, 10.0);
        let lake = square(22.0, 52.0, 6.0);
        let island = square(24.0, 54.0, 2.0);
        accepted(&multi(&[&[&lake_shell, &lake], &[&island], &[&a]]));
    }

    #[test]
    fn overlapping_multipolygons_are_refused() {
        let big = square(10.0, 50.0, 10.0);
        let e = refused(&multi(&[&[&big], &[&square(12.0, 52.0, 2.0)]]));
        assert_eq!(e[0].field, "/geometry/coordinates/1", "{e:?}");
        assert!(
            e[0].message.contains("polygon 1 lies inside polygon 0"),
            "{e:?}"
        );
        let e = refused(&multi(&[&[&big], &[&square(18.0, 52.0, 4.0)]]));
        assert_eq!(e[0].field, "/geometry/coordinates/1/0", "{e:?}");
        assert!(
            e[0].message.contains(
                "polygon 1 meets polygon 0: ring 0 of polygon 1 crosses ring 0 of polygon 0"
            ),
            "{e:?}"
        );
        // Sharing an edge.
        let e = refused(&multi(&[&[&big], &[&square(20.0, 50.0, 2.0)]]));
        assert!(e[0].message.contains("runs along"), "{e:?}");
        // An island larger than its lake, and one sticking out of it.
        let lake = square(12.0, 52.0, 2.0);
        let e = refused(&multi(&[&[&big, &lake], &[&square(11.0, 51.0, 4.0)]]));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].message.contains("polygon 1 lies inside polygon 0"),
            "{e:?}"
        );
        let e = refused(&multi(&[&[&big, &lake], &[&square(13.0, 53.0, 2.0)]]));
        assert!(e[0].message.contains("crosses"), "{e:?}");
    }

    // -- Cost ----------------------------------------------------------------------------

    #[test]
    fn thousands_of_crossings_are_reported_briefly() {
        let zz = zigzag(5_000);
        assert_eq!(zz.len() + 1, 10_003);
        let e = refused(&polygon(&[&zz]));
        assert_eq!(e.len(), MAX_REPORTED_ERRORS + 1, "{e:?}");
        assert!(
            e[..MAX_REPORTED_ERRORS]
                .iter()
                .all(|e| e.message.contains("crosses itself")),
            "{e:?}"
        );
        assert!(
            e[MAX_REPORTED_ERRORS]
                .message
                .contains("further problems were not listed"),
            "{e:?}"
        );
        let size: usize = e.iter().map(|e| e.field.len() + e.message.len()).sum();
        assert!(size < 5_000, "{size} bytes of errors");
    }

    #[test]
    fn many_bad_positions_are_reported_briefly() {
        let far: Vec<(f64, f64)> = (0..1_000).map(|i| (1000.0 + f64::from(i), 50.0)).collect();
        let e = refused(&polygon(&[&far]));
        assert_eq!(e.len(), MAX_REPORTED_ERRORS + 1, "{e:?}");
        let empties = json!({"type": "MultiPolygon", "coordinates": vec![json!([]); 900]});
        assert_eq!(refused(&empties).len(), MAX_REPORTED_ERRORS + 1);
    }

    #[test]
    fn a_large_valid_polygon_is_accepted() {
        accepted(&polygon(&[&circle(40_000)]));
    }

    #[test]
    fn the_budget_stops_validation() {
        let v = polygon(&[&circle(20_000)]);
        let e = parse_geometry_with(
            Layer::Areas.accepts(),
            &v,
            "/geometry",
            &GeometryLimits::default(),
            Duration::ZERO,
        )
        .unwrap_err()
        .0;
        assert!(
            e.last()
                .unwrap()
                .message
                .contains("validation stopped after 0 ms (the budget)"),
            "{e:?}"
        );
    }

    #[test]
    fn too_many_positions_are_refused_before_parsing() {
        let mut positions: Vec<Value> = circle(60_000).iter().map(|(x, y)| json!([x, y])).collect();
        // Past the limit the data is not even a geometry: the walk stops before it gets there.
        positions.push(json!("not a position"));
        let v = json!({"type": "Polygon", "coordinates": [positions]});
        let e = check_limits(&v, &GeometryLimits::default(), "/geometry").unwrap_err();
        assert_eq!(e.limit, "max_geometry_positions");
        assert_eq!((e.allowed, e.found.as_str()), (50_000, "more than 50000"));
        assert_eq!(e.at, "/geometry/coordinates");
        assert_eq!(
            e.to_string(),
            "/geometry/coordinates: has more than 50000 positions; at most 50000 are accepted per geometry (setting max_geometry_positions); simplify it or split it"
        );
        let errors = refused(&v);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "/geometry/coordinates");
        assert!(
            errors[0].message.contains("max_geometry_positions"),
            "{errors:?}"
        );
        // The configured limits apply.
        let small = GeometryLimits {
            max_positions: 100,
            ..GeometryLimits::default()
        };
        let v = polygon(&[&circle(100)]);
        let e = check_limits(&v, &small, "/geometry").unwrap_err();
        assert!(e.to_string().contains("more than 100 positions"), "{e}");
        assert!(check_limits(&polygon(&[&circle(99)]), &small, "/geometry").is_ok());
    }

    #[test]
    fn too_many_rings_are_refused() {
        let holes: Vec<Vec<(f64, f64)>> = (0..1_000)
            .map(|i| {
                let (x, y) = (
                    10.0 + f64::from(i % 40) * 0.2,
                    50.0 + f64::from(i / 40) * 0.2,
                );
                vec![
                    (x + 0.05, y + 0.05),
                    (x + 0.1, y + 0.05),
                    (x + 0.05, y + 0.1),
                ]
            })
            .collect();
        let shell = square(9.0, 49.0, 10.0);
        let mut rings: Vec<&[(f64, f64)]> = vec![&shell];
        rings.extend(holes.iter().map(Vec::as_slice));
        let v = polygon(&rings);
        let e = check_limits(&v, &GeometryLimits::default(), "/geometry").unwrap_err();
        assert_eq!((e.limit, e.allowed), ("max_geometry_rings", 1_000));
        assert!(e.to_string().contains("setting max_geometry_rings"), "{e}");
        // One hole fewer is fine, and valid.
        accepted(&polygon(&rings[..1_000]));
        // Empty polygons count too.
        let empties = json!({"type": "MultiPolygon", "coordinates": vec![json!([]); 1_001]});
        assert!(check_limits(&empties, &GeometryLimits::default(), "/geometry").is_err());
    }

    #[test]
    fn check_limits_leaves_non_geometries_to_parsing() {
        let limits = GeometryLimits::default();
        for v in [
            json!(null),
            json!(42),
            json!({"type": "Feature"}),
            json!({"type": "Polygon", "coordinates": 3}),
            json!({"type": "Polygon", "coordinates": [[1, 2, 3]]}),
            json!({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]}),
        ] {
            assert_eq!(check_limits(&v, &limits, "/geometry"), Ok(()), "{v}");
        }
        let points: Vec<Value> = (0..50_001)
            .map(|_| json!({"type": "Point", "coordinates": [1, 2]}))
            .collect();
        let e = check_limits(
            &json!({"type": "GeometryCollection", "geometries": points}),
            &limits,
            "/geometry",
        )
        .unwrap_err();
        assert_eq!(e.at, "/geometry/geometries");
    }

    /// A comb: a spine on the left and `n` long teeth to the right, so that half of all edges
    /// span the whole width at once (a sweep that tests every pair overlapping in longitude
    /// does O(n²) work here). `4n + 3` positions, simple.
    fn comb(n: u32) -> Vec<(f64, f64)> {
        let x = |i: u32| f64::from(170_000 + i) / 10_000.0;
        let y = |j: u32| f64::from(590_000 + j) / 10_000.0;
        let mut points = vec![(x(0), y(0))];
        for i in 0..n {
            let (lo, hi) = (2 * i, 2 * i + 1);
            points.extend([
                (x(1_000), y(lo)),
                (x(1_000), y(hi)),
                (x(1), y(hi)),
                (x(1), y(hi + 1)),
            ]);
        }
        points.push((x(0), y(2 * n)));
        points
    }

    #[test]
    fn a_comb_is_accepted() {
        accepted(&polygon(&[&comb(2_000)]));
    }

    /// Prints how long checking large geometries takes (no assertion on time: machines vary).
    /// `cargo test --release --lib domain::geometry::tests::timings -- --ignored --nocapture`
    #[test]
    #[ignore = "prints timings"]
    fn timings() {
        let cases = [
            ("zig-zag, 45 003 positions", polygon(&[&zigzag(22_500)])),
            ("circle, 45 001 positions", polygon(&[&circle(45_000)])),
            ("comb, 44 003 positions", polygon(&[&comb(11_000)])),
        ];
        for (name, v) in &cases {
            let started = Instant::now();
            let result = parse_geometry(Layer::Areas.accepts(), v, "/geometry");
            let took = started.elapsed();
            let errors = result.err().map_or(0, |e| e.0.len());
            println!("{name}: {took:?}, {errors} errors");
        }
    }

    // -- Against geo's own validation -------------------------------------------------------

    mod against_geo {
        use super::*;
        use geo::{LineString, MultiPolygon, Validation};
        use proptest::prelude::*;

        /// A ring of 3 to 11 corners on the integer grid within `lo`..=`hi` (so that corners
        /// coincide, lie on edges and line up often), either in random order or sorted around
        /// the middle of that box (mostly simple).
        fn ring_in(lo: (i32, i32), hi: (i32, i32)) -> impl Strategy<Value = Vec<(f64, f64)>> {
            let corners = prop::collection::vec((lo.0..=hi.0, lo.1..=hi.1), 3..=11);
            (corners, any::<bool>()).prop_map(move |(points, star)| {
                let mut points: Vec<(f64, f64)> = points
                    .into_iter()
                    .map(|(x, y)| (f64::from(x), f64::from(y)))
                    .collect();
                if star {
                    let cx = f64::from(lo.0 + hi.0) / 2.0 + 0.1;
                    let cy = f64::from(lo.1 + hi.1) / 2.0 + 0.05;
                    let angle = |p: &(f64, f64)| (p.1 - cy).atan2(p.0 - cx);
                    points.sort_by(|a, b| angle(a).total_cmp(&angle(b)));
                }
                points
            })
        }

        /// A ring going round `(cx, cy)` once, its corners at `rmin..=rmax` from it, rounded to
        /// the integer grid: mostly simple, and nested in or touching rings made around the same
        /// or a nearby centre.
        fn ring_star(
            (cx, cy): (i32, i32),
            (rmin, rmax): (i32, i32),
            corners: std::ops::RangeInclusive<usize>,
        ) -> impl Strategy<Value = Vec<(f64, f64)>> {
            prop::collection::vec((0..360i32, rmin..=rmax), corners).prop_map(move |mut polar| {
                polar.sort_unstable();
                polar
                    .into_iter()
                    .map(|(deg, r)| {
                        let a = f64::from(deg).to_radians();
                        (
                            (f64::from(cx) + f64::from(r) * a.cos()).round(),
                            (f64::from(cy) + f64::from(r) * a.sin()).round(),
                        )
                    })
                    .collect()
            })
        }

        fn grid_ring(size: i32) -> impl Strategy<Value = Vec<(f64, f64)>> {
            ring_in((0, 0), (size, size))
        }

        /// geo's `Validation` lets a ring run back along its previous edge (it skips pairs of
        /// edges sharing an end); we refuse that. Those inputs are left out of the comparison.
        fn has_spike(points: &[(f64, f64)]) -> bool {
            let mut c: Vec<Coord<f64>> = Vec::new();
            for &(x, y) in points {
                let p = Coord { x, y };
                if c.last() != Some(&p) {
                    c.push(p);
                }
            }
            while c.len() > 1 && c.last() == c.first() {
                c.pop();
            }
            let m = c.len();
            m >= 3
                && (0..m).any(|k| {
                    let (a, b, d) = (c[(k + m - 1) % m], c[k], c[(k + 1) % m]);
                    orient(a, b, d) == Orientation::Collinear && lex(a, b) == lex(d, b)
                })
        }

        fn geo_ring(points: &[(f64, f64)]) -> LineString<f64> {
            let mut c: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
            c.push(c[0]);
            LineString(c)
        }

        fn ours(v: &Value) -> bool {
            parse_geometry(Layer::Areas.accepts(), v, "/geometry").is_ok()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 3000, max_global_rejects: 100_000, ..ProptestConfig::default() })]

            #[test]
            fn single_rings(shell in prop_oneof![grid_ring(3), grid_ring(6)]) {
                prop_assume!(!has_spike(&shell));
                let theirs = Polygon::new(geo_ring(&shell), vec![]).is_valid();
                prop_assert_eq!(ours(&polygon(&[&shell])), theirs, "{:?}", shell);
            }

            #[test]
            fn rings_with_holes(
                shell in prop_oneof![ring_star((4, 4), (3, 4), 5..=10), grid_ring(8)],
                holes in prop::collection::vec(
                    prop_oneof![ring_star((4, 4), (1, 3), 3..=10), ring_star((3, 4), (1, 2), 3..=10), ring_in((2, 2), (6, 6))],
                    1..=2,
                ),
            ) {
                prop_assume!(!has_spike(&shell) && !holes.iter().any(|h| has_spike(h)));
                let theirs = Polygon::new(geo_ring(&shell), holes.iter().map(|h| geo_ring(h)).collect()).is_valid();
                let mut rings: Vec<&[(f64, f64)]> = vec![&shell];
                rings.extend(holes.iter().map(Vec::as_slice));
                prop_assert_eq!(ours(&polygon(&rings)), theirs, "{:?}", rings);
            }

            #[test]
            fn multipolygons(
                parts in prop::collection::vec(
                    prop_oneof![
                        ring_star((2, 2), (1, 2), 3..=10),
                        ring_star((6, 2), (1, 2), 3..=10),
                        ring_star((2, 6), (1, 2), 3..=10),
                        ring_star((4, 4), (1, 3), 3..=10),
                        ring_in((0, 0), (4, 4)),
                        ring_in((2, 2), (6, 6)),
                    ],
                    2..=3,
                ),
            ) {
                prop_assume!(!parts.iter().any(|p| has_spike(p)));
                let theirs = MultiPolygon(parts.iter().map(|p| Polygon::new(geo_ring(p), vec![])).collect()).is_valid();
                let polys: Vec<[&[(f64, f64)]; 1]> = parts.iter().map(|p| [p.as_slice()]).collect();
                let polys: Vec<&[&[(f64, f64)]]> = polys.iter().map(|p| p.as_slice()).collect();
                prop_assert_eq!(ours(&multi(&polys)), theirs, "{:?}", parts);
            }

            #[test]
            fn islands_in_lakes(
                shell in prop_oneof![ring_star((4, 4), (4, 4), 6..=10), ring_star((4, 4), (3, 4), 5..=10), grid_ring(8)],
                lake in prop_oneof![ring_star((4, 4), (2, 2), 5..=10), ring_star((4, 4), (2, 3), 5..=10), ring_in((1, 1), (7, 7))],
                island in prop_oneof![ring_star((4, 4), (0, 1), 3..=8), ring_star((5, 4), (1, 2), 3..=10), ring_in((2, 2), (6, 6))],
            ) {
                prop_assume!(!has_spike(&shell) && !has_spike(&lake) && !has_spike(&island));
                let theirs = MultiPolygon(vec![
                    Polygon::new(geo_ring(&shell), vec![geo_ring(&lake)]),
                    Polygon::new(geo_ring(&island), vec![]),
                ])
                .is_valid();
                prop_assert_eq!(ours(&multi(&[&[&shell, &lake], &[&island]])), theirs, "{:?}", (shell, lake, island));
            }

            #[test]
            fn general_position(shell in prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 3..=12)) {
                let theirs = Polygon::new(geo_ring(&shell), vec![]).is_valid();
                prop_assert_eq!(ours(&polygon(&[&shell])), theirs, "{:?}", shell);
            }
        }

        proptest! {
            // Up to 400 corners a ring, rounded to the grid (coincidences and touches again),
            // with holes and further polygons: the sweep's tree holds many segments at once.
            #![proptest_config(ProptestConfig { cases: 200, max_global_rejects: 100_000, ..ProptestConfig::default() })]

            #[test]
            fn larger_polygons(
                shell in ring_star((0, 0), (50, 85), 50..=400),
                holes in prop::collection::vec(ring_star((0, 0), (5, 50), 20..=200), 0..=2),
                parts in prop::collection::vec(ring_star((120, 0), (10, 55), 20..=200), 0..=2),
                swap in any::<bool>(),
                a in 0usize..1000,
                b in 0usize..1000,
            ) {
                let mut shell = shell;
                if swap {
                    // Two corners trade places: mostly no longer simple.
                    let n = shell.len();
                    shell.swap(a % n, b % n);
                }
                prop_assume!(!has_spike(&shell));
                prop_assume!(!holes.iter().chain(&parts).any(|h| has_spike(h)));
                let mut mp = vec![Polygon::new(geo_ring(&shell), holes.iter().map(|h| geo_ring(h)).collect())];
                mp.extend(parts.iter().map(|p| Polygon::new(geo_ring(p), vec![])));
                let theirs = MultiPolygon(mp).is_valid();
                let mut first: Vec<&[(f64, f64)]> = vec![&shell];
                first.extend(holes.iter().map(Vec::as_slice));
                let others: Vec<[&[(f64, f64)]; 1]> = parts.iter().map(|p| [p.as_slice()]).collect();
                let mut polys: Vec<&[&[(f64, f64)]]> = vec![&first];
                polys.extend(others.iter().map(|p| p.as_slice()));
                let v = multi(&polys);
                let r = parse_geometry(Layer::Areas.accepts(), &v, "/geometry");
                prop_assert_eq!(r.is_ok(), theirs, "{:?}", r.err());
            }
        }
    }
}
