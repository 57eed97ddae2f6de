//! How much of what happens the cameras see: the incidents inside camera views, with an
//! interval for position error, and greedy sites for the next camera. Pure functions on a
//! plane in metres (SWEREF 99 TM in the service), checked against brute force in the tests.
//!
//! **The interval.** A recorded position is off by some distance (a median 83 m in Swedish
//! police data), so an incident recorded just inside a view may have happened outside it and
//! the other way round. With an error radius `r`, an incident is *certainly* seen when the
//! disc of radius `r` around it lies inside one view (the lower bound: inside, and at least
//! `r` from that view's edge), and *possibly* seen when the disc meets a view (the upper bound:
//! within `r` of one). The point estimate counts the recorded positions inside a view.
//!
//! **Sites for the next camera.** The classic greedy for maximal coverage: among candidate
//! sites, take the one whose circle of `reach` metres holds the most weight not yet seen, count
//! that weight as seen, repeat. Greedy is within 1 − 1/e of the best choice of `k` sites.

use geo::{Contains, Coord, Distance, Euclidean, Point, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::kde::WeightedPoint;

/// How much weight a set of views covers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Covered {
    /// Weight at recorded positions inside a view.
    pub point: f64,
    /// Weight whose error disc lies inside one view (certainly seen).
    pub lower: f64,
    /// Weight whose error disc meets a view (possibly seen).
    pub upper: f64,
}

/// An R-tree of `polygons`' bounding boxes, each with its index in the slice.
#[must_use]
pub fn boxes(polygons: &[Polygon<f64>]) -> RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> {
    RTree::bulk_load(
        polygons
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = geo::BoundingRect::bounding_rect(p)?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    )
}

/// Views indexed by their boxes.
pub struct Views {
    polygons: Vec<Polygon<f64>>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl Views {
    /// The views (in metres), indexed.
    #[must_use]
    pub fn new(polygons: Vec<Polygon<f64>>) -> Self {
        Self {
            tree: boxes(&polygons),
            polygons,
        }
    }

    /// How many views.
    #[must_use]
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// The views whose box comes within `r` of `(x, y)`.
    fn near(&self, x: f64, y: f64, r: f64) -> impl Iterator<Item = &Polygon<f64>> {
        let env = AABB::from_corners([x - r, y - r], [x + r, y + r]);
        self.tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| &self.polygons[g.data])
    }

    /// Whether `(x, y)` is inside a view; whether its disc of radius `r` is inside one; and
    /// whether the disc meets one.
    #[must_use]
    pub fn sees(&self, x: f64, y: f64, r: f64) -> (bool, bool, bool) {
        let p = Point::new(x, y);
        let (mut inside, mut certain, mut possible) = (false, false, false);
        for v in self.near(x, y, r) {
            if v.contains(&p) {
                inside = true;
                possible = true;
                if Euclidean.distance(&p, v.exterior()) >= r {
                    certain = true;
                    break;
                }
            } else if !possible && Euclidean.distance(&p, v) <= r {
                possible = true;
            }
        }
        (inside, certain, possible)
    }
}

/// The weight of `points` the views cover, with error radius `r`; and per point whether its
/// recorded position is inside a view.
#[must_use]
pub fn coverage(points: &[WeightedPoint], views: &Views, r: f64) -> (Covered, Vec<bool>) {
    let mut c = Covered::default();
    let mut seen = Vec::with_capacity(points.len());
    for &(x, y, w) in points {
        let (inside, certain, possible) = views.sees(x, y, r);
        if inside {
            c.point += w;
        }
        if certain {
            c.lower += w;
        }
        if possible {
            c.upper += w;
        }
        seen.push(inside);
    }
    (c, seen)
}

/// A site for the next camera and the weight it would add.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Site {
    /// Easting (or x) of the site.
    pub x: f64,
    /// Northing (or y).
    pub y: f64,
    /// Weight not yet seen within `reach` of it when it was chosen.
    pub adds: f64,
}

/// Up to `k` sites among `candidates`, greedily: each adds the most weight of `unseen` within
/// `reach` of it that earlier sites did not; stops when no site adds anything. Ties go to the
/// earlier candidate.
#[must_use]
pub fn greedy_sites(
    unseen: &[WeightedPoint],
    candidates: &[Coord<f64>],
    reach: f64,
    k: usize,
) -> Vec<Site> {
    let mut left: Vec<bool> = vec![true; unseen.len()];
    let tree: RTree<GeomWithData<[f64; 2], usize>> = RTree::bulk_load(
        unseen
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.0, p.1], i))
            .collect(),
    );
    let reach2 = reach * reach;
    let mut sites = Vec::new();
    for _ in 0..k {
        let mut best: Option<(usize, f64)> = None;
        for (ci, c) in candidates.iter().enumerate() {
            let adds: f64 = tree
                .locate_within_distance([c.x, c.y], reach2)
                .filter(|g| left[g.data])
                .map(|g| unseen[g.data].2)
                .sum();
            if adds > 0.0 && best.is_none_or(|(_, b)| adds > b) {
                best = Some((ci, adds));
            }
        }
        let Some((ci, adds)) = best else { break };
        let c = candidates[ci];
        for g in tree.locate_within_distance([c.x, c.y], reach2) {
            left[g.data] = false;
        }
        sites.push(Site {
            x: c.x,
            y: c.y,
            adds,
        });
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::LineString;
    use rand::{RngExt, SeedableRng};

    fn square(x: f64, y: f64, side: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![
                (x, y),
                (x + side, y),
                (x + side, y + side),
                (x, y + side),
                (x, y),
            ]),
            vec![],
        )
    }

    fn circle(x: f64, y: f64, r: f64) -> Polygon<f64> {
        let ring: Vec<(f64, f64)> = (0..=360)
            .map(|i| {
                let a = f64::from(i).to_radians();
                (x + r * a.cos(), y + r * a.sin())
            })
            .collect();
        Polygon::new(LineString::from(ring), vec![])
    }

    #[test]
    fn coverage_counts_what_a_brute_force_scan_counts() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let polygons: Vec<Polygon<f64>> = (0..40)
            .map(|i| {
                let (x, y) = (rng.random_range(0.0..2000.0), rng.random_range(0.0..2000.0));
                if i % 2 == 0 {
                    square(x, y, rng.random_range(20.0..150.0))
                } else {
                    circle(x, y, rng.random_range(10.0..90.0))
                }
            })
            .collect();
        let points: Vec<WeightedPoint> = (0..3000)
            .map(|_| {
                (
                    rng.random_range(0.0..2100.0),
                    rng.random_range(0.0..2100.0),
                    f64::from(rng.random_range(1..4u32)),
                )
            })
            .collect();
        let r = 83.0;
        let views = Views::new(polygons.clone());
        let (got, seen) = coverage(&points, &views, r);
        // Brute force: every point against every polygon, no index.
        let mut want = Covered::default();
        for (i, &(x, y, w)) in points.iter().enumerate() {
            let p = Point::new(x, y);
            let inside = polygons.iter().any(|v| v.contains(&p));
            let certain = polygons
                .iter()
                .any(|v| v.contains(&p) && Euclidean.distance(&p, v.exterior()) >= r);
            let possible = polygons.iter().any(|v| Euclidean.distance(&p, v) <= r);
            assert_eq!(seen[i], inside);
            want.point += if inside { w } else { 0.0 };
            want.lower += if certain { w } else { 0.0 };
            want.upper += if possible { w } else { 0.0 };
        }
        assert_eq!(got, want);
        assert!(
            want.lower < want.point && want.point < want.upper,
            "{want:?}"
        );
    }

    #[test]
    fn the_greedy_takes_the_richest_site_first_and_never_counts_twice() {
        // Two clusters: 5 points at the origin, 3 at (1000, 0); a site between sees neither.
        let mut unseen: Vec<WeightedPoint> = vec![(0.0, 0.0, 1.0); 5];
        unseen.extend(vec![(1000.0, 0.0, 1.0); 3]);
        let candidates = vec![
            Coord { x: 500.0, y: 0.0 },
            Coord { x: 1000.0, y: 10.0 },
            Coord { x: 5.0, y: 0.0 },
            Coord { x: 0.0, y: 5.0 },
        ];
        let sites = greedy_sites(&unseen, &candidates, 50.0, 4);
        assert_eq!(sites.len(), 2, "{sites:?}");
        assert_eq!((sites[0].x, sites[0].adds), (5.0, 5.0));
        assert_eq!((sites[1].x, sites[1].adds), (1000.0, 3.0));
    }
}
