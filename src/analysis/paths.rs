//! A walkable path network and a suggested route over it: from the same start, within a length
//! budget, the walk whose 100 m corridor holds the most (weighted) incidents, each counted
//! once. Pure functions on a plane in metres.
//!
//! **The network.** Lines meet where they share a vertex (within half a metre), as noded
//! path data (Lantmäteriet's, or OpenStreetMap's ways) do; every segment is an edge.
//!
//! **The search.** Choosing a walk of at most `L` metres that covers the most weight is the
//! orienteering problem (NP-hard), so the search is a beam search, as in the generated-route
//! studies: walks are grown edge by edge from the start, and after each step only the best
//! `BEAM` walks (by weight covered, then by shortness) are kept, at most one per node and
//! score. Weight is claimed by an edge when an incident lies within the corridor of it, and
//! counts once however many edges claim it. Every kept walk is a real walk along the network,
//! never longer than the budget.

use std::collections::{BTreeMap, HashMap};

use geo::{Coord, Distance, Euclidean, Line, Point};
use rstar::primitives::{GeomWithData, Line as RLine};
use rstar::{AABB, RTree};

use super::kde::WeightedPoint;

/// Walks kept after each step.
const BEAM: usize = 48;
/// The most steps a walk may take (edges), whatever the budget.
const MAX_STEPS: usize = 4_000;

/// A node id.
type Node = usize;

/// The network: nodes in metres and their edges.
#[derive(Debug, Clone, Default)]
pub struct Network {
    nodes: Vec<Coord<f64>>,
    /// Per node: (neighbour, edge id).
    adjacent: Vec<Vec<(Node, usize)>>,
    /// Per edge: its two ends and length.
    edges: Vec<(Node, Node, f64)>,
    /// Segments, for the nearest node and the corridor.
    tree: RTree<GeomWithData<RLine<[f64; 2]>, usize>>,
}

impl Network {
    /// The network of `lines` (each a run of vertices in metres).
    #[must_use]
    pub fn new(lines: &[Vec<(f64, f64)>]) -> Self {
        let mut n = Self::default();
        let mut ids: HashMap<(i64, i64), Node> = HashMap::new();
        let mut node_of = |n: &mut Self, c: (f64, f64)| -> Node {
            #[allow(clippy::cast_possible_truncation)]
            let key = ((c.0 * 2.0).round() as i64, (c.1 * 2.0).round() as i64);
            *ids.entry(key).or_insert_with(|| {
                n.nodes.push(Coord { x: c.0, y: c.1 });
                n.adjacent.push(Vec::new());
                n.nodes.len() - 1
            })
        };
        let mut segments = Vec::new();
        for line in lines {
            for w in line.windows(2) {
                let (a, b) = (node_of(&mut n, w[0]), node_of(&mut n, w[1]));
                if a == b {
                    continue;
                }
                let len = Euclidean.distance(n.nodes[a], n.nodes[b]);
                let e = n.edges.len();
                n.edges.push((a, b, len));
                n.adjacent[a].push((b, e));
                n.adjacent[b].push((a, e));
                segments.push(GeomWithData::new(
                    RLine::new([n.nodes[a].x, n.nodes[a].y], [n.nodes[b].x, n.nodes[b].y]),
                    e,
                ));
            }
        }
        n.tree = RTree::bulk_load(segments);
        n
    }

    /// Edges in the network.
    #[must_use]
    pub fn edges(&self) -> usize {
        self.edges.len()
    }

    /// The node nearest to `p`, and how far it is.
    #[must_use]
    pub fn nearest_node(&self, p: (f64, f64)) -> Option<(Node, f64)> {
        let seg = self.tree.nearest_neighbor(&[p.0, p.1])?;
        let (a, b, _) = self.edges[seg.data];
        let pt = Coord { x: p.0, y: p.1 };
        let (da, db) = (
            Euclidean.distance(self.nodes[a], pt),
            Euclidean.distance(self.nodes[b], pt),
        );
        Some(if da <= db { (a, da) } else { (b, db) })
    }

    /// The position of `node`.
    #[must_use]
    pub fn position(&self, node: Node) -> (f64, f64) {
        (self.nodes[node].x, self.nodes[node].y)
    }

    /// Per edge, the weighted points within `r` of it (indices into `points`).
    fn claims(&self, points: &[WeightedPoint], r: f64) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.edges.len()];
        for (i, p) in points.iter().enumerate() {
            if p.2 == 0.0 {
                continue;
            }
            let envelope = AABB::from_corners([p.0 - r, p.1 - r], [p.0 + r, p.1 + r]);
            for seg in self.tree.locate_in_envelope_intersecting(&envelope) {
                let (a, b, _) = self.edges[seg.data];
                let line = Line::new(self.nodes[a], self.nodes[b]);
                if Euclidean.distance(&Point::new(p.0, p.1), &line) <= r {
                    #[allow(clippy::cast_possible_truncation)]
                    out[seg.data].push(i as u32);
                }
            }
        }
        out
    }
}

/// A suggested walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Its vertices in metres, from the start.
    pub line: Vec<(f64, f64)>,
    /// Its length in metres.
    pub length_m: f64,
    /// Weight within the corridor (each point once).
    pub weight: f64,
}

#[derive(Clone)]
struct Walk {
    at: Node,
    nodes: Vec<Node>,
    length: f64,
    weight: f64,
    covered: Vec<u64>,
}

/// The best walk found from `start` of at most `budget_m` metres, claiming `points` within `r`
/// metres of its edges. `None` when no edge leaves the start within the budget.
#[must_use]
pub fn suggest(
    network: &Network,
    start: Node,
    budget_m: f64,
    points: &[WeightedPoint],
    r: f64,
) -> Option<Suggestion> {
    let claims = network.claims(points, r);
    let words = points.len().div_ceil(64);
    let mut beam = vec![Walk {
        at: start,
        nodes: vec![start],
        length: 0.0,
        weight: 0.0,
        covered: vec![0; words],
    }];
    let mut best: Option<Walk> = None;
    for _ in 0..MAX_STEPS {
        let mut next: Vec<Walk> = Vec::new();
        for w in &beam {
            for &(to, e) in &network.adjacent[w.at] {
                let len = w.length + network.edges[e].2;
                if len > budget_m {
                    continue;
                }
                // Not straight back along the edge just walked (a dead end aside).
                if w.nodes.len() >= 2
                    && w.nodes[w.nodes.len() - 2] == to
                    && network.adjacent[w.at].len() > 1
                {
                    continue;
                }
                let mut covered = w.covered.clone();
                let mut weight = w.weight;
                for &i in &claims[e] {
                    let (word, bit) = (i as usize / 64, 1u64 << (i % 64));
                    if covered[word] & bit == 0 {
                        covered[word] |= bit;
                        weight += points[i as usize].2;
                    }
                }
                let mut nodes = w.nodes.clone();
                nodes.push(to);
                next.push(Walk {
                    at: to,
                    nodes,
                    length: len,
                    weight,
                    covered,
                });
            }
        }
        if next.is_empty() {
            break;
        }
        // The best per (node, weight), then the beam's best.
        next.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.length.total_cmp(&b.length))
                .then(a.nodes.cmp(&b.nodes))
        });
        let mut seen: BTreeMap<(Node, u64), ()> = BTreeMap::new();
        next.retain(|w| seen.insert((w.at, w.weight.to_bits()), ()).is_none());
        next.truncate(BEAM);
        for w in &next {
            if best.as_ref().is_none_or(|b| {
                w.weight > b.weight || (w.weight == b.weight && w.length < b.length)
            }) {
                best = Some(w.clone());
            }
        }
        beam = next;
    }
    let best = best?;
    Some(Suggestion {
        line: best.nodes.iter().map(|n| network.position(*n)).collect(),
        length_m: best.length,
        weight: best.weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid of streets `n` × `n` blocks of `block` metres.
    fn grid(n: usize, block: f64) -> Network {
        let mut lines = Vec::new();
        #[allow(clippy::cast_precision_loss)]
        for i in 0..=n {
            let v = i as f64 * block;
            lines.push((0..=n).map(|j| (v, j as f64 * block)).collect());
            lines.push((0..=n).map(|j| (j as f64 * block, v)).collect());
        }
        Network::new(&lines)
    }

    #[test]
    fn lines_meet_at_shared_vertices() {
        let n = grid(2, 100.0);
        assert_eq!(n.nodes.len(), 9);
        assert_eq!(n.edges(), 12);
        let (node, d) = n.nearest_node((95.0, 104.0)).unwrap();
        assert_eq!(n.position(node), (100.0, 100.0));
        assert!((d - 41f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn the_walk_goes_where_the_incidents_are_and_keeps_to_the_budget() {
        // Incidents along the east street (x = 400), none elsewhere; start at the south-west
        // corner with 1 km: the best walk runs east along the bottom and up the east side.
        let n = grid(4, 100.0);
        let points: Vec<WeightedPoint> = (0..5)
            .map(|k| (400.0, f64::from(k) * 100.0 + 50.0, 1.0))
            .collect();
        let start = n.nearest_node((0.0, 0.0)).unwrap().0;
        let s = suggest(&n, start, 1_000.0, &points, 30.0).unwrap();
        assert!(s.length_m <= 1_000.0 + 1e-9);
        assert_eq!(s.weight, 4.0, "the four within reach of a 1 km walk: {s:?}");
        assert_eq!(s.line[0], (0.0, 0.0));
        // With 800 m: along the bottom (400) and up 400 reaches the points at 50…350.
        let s = suggest(&n, start, 800.0, &points, 30.0).unwrap();
        assert_eq!(s.weight, 4.0, "{s:?}");
        // A point counts once, however many edges pass it.
        let once = [(200.0, 0.0, 1.0)];
        let s = suggest(&n, start, 1_000.0, &once, 150.0).unwrap();
        assert_eq!(s.weight, 1.0);
    }

    #[test]
    fn the_beam_finds_the_best_walk_of_a_small_network_by_brute_force() {
        // Every walk of up to 6 edges on a 3×3 grid, enumerated, against the search.
        let n = grid(3, 100.0);
        let points: Vec<WeightedPoint> = vec![
            (50.0, 100.0, 2.0),
            (300.0, 150.0, 1.0),
            (200.0, 250.0, 3.0),
            (100.0, 300.0, 1.0),
            (250.0, 0.0, 1.0),
        ];
        let claims = n.claims(&points, 20.0);
        let start = 0;
        let budget = 600.0;
        let mut best = 0.0f64;
        let mut stack = vec![(start, 0.0f64, Vec::<usize>::new())];
        while let Some((at, len, edges)) = stack.pop() {
            let mut seen = std::collections::BTreeSet::new();
            for e in &edges {
                seen.extend(claims[*e].iter().copied());
            }
            best = best.max(seen.iter().map(|i| points[*i as usize].2).sum());
            for &(to, e) in &n.adjacent[at] {
                if len + n.edges[e].2 <= budget + 1e-9 {
                    let mut more = edges.clone();
                    more.push(e);
                    stack.push((to, len + n.edges[e].2, more));
                }
            }
        }
        let s = suggest(&n, start, budget, &points, 20.0).unwrap();
        assert_eq!(s.weight, best, "{s:?}");
    }
}
