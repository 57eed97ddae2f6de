//! Property tests: for random features and random queries the R-tree answers exactly what a
//! brute-force scan over every feature answers.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;

use geo::{Coord, Geometry, LineString, Point, Polygon};
use lagesbild::domain::incident::{Incident, IncidentCategory, IncidentStatus};
use lagesbild::domain::{Classification, Feature, Layer, Meta, Properties};
use lagesbild::index::query::{Filters, Spatial, distance_m, matches_spatial};
use lagesbild::index::{FeatureIndex, Page};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use time::OffsetDateTime;
use uuid::Uuid;

/// Around Botkyrka/Södertälje, where the data lives; wide enough to test pruning.
const LON: (f64, f64) = (17.55, 17.95);
const LAT: (f64, f64) = (59.15, 59.28);

fn coord() -> impl Strategy<Value = Coord<f64>> {
    (LON.0..LON.1, LAT.0..LAT.1).prop_map(|(x, y)| Coord { x, y })
}

/// Points mostly, some small polygons (incidents may be areas).
fn geometry() -> impl Strategy<Value = Geometry<f64>> {
    prop_oneof![
        4 => coord().prop_map(|c| Geometry::Point(Point(c))),
        1 => (coord(), 0.0005f64..0.01, 0.0005f64..0.01).prop_map(|(c, w, h)| {
            Geometry::Polygon(Polygon::new(
                LineString::from(vec![(c.x, c.y), (c.x + w, c.y), (c.x + w, c.y + h), (c.x, c.y + h), (c.x, c.y)]),
                vec![],
            ))
        }),
    ]
}

fn feature() -> impl Strategy<Value = Feature> {
    (
        any::<u128>(),
        geometry(),
        0usize..IncidentCategory::ALL.len(),
        any::<bool>(),
        0i64..400 * 86_400,
        0usize..3,
    )
        .prop_map(|(id, geometry, cat, open, secs, class)| {
            let at = OffsetDateTime::from_unix_timestamp(1_750_000_000 + secs).unwrap();
            Feature {
                id: Uuid::from_u128(id),
                geom: geometry.into(),
                properties: Properties::Incident(Incident {
                    category: IncidentCategory::ALL[cat],
                    occurred_at: at,
                    severity: 2,
                    status: if open {
                        IncidentStatus::Open
                    } else {
                        IncidentStatus::Closed
                    },
                    reference: None,
                    description: "".into(),
                }),
                meta: Meta {
                    organisation: Arc::from("Polisen"),
                    classification: Classification::ALL[class],
                    created_at: at,
                    updated_at: at,
                    created_by: Arc::from("test"),
                    version: 1,
                },
            }
        })
}

fn spatial() -> impl Strategy<Value = Spatial> {
    prop_oneof![
        Just(Spatial::All),
        (coord(), 0.0f64..0.2, 0.0f64..0.1).prop_map(|(c, w, h)| Spatial::Bbox(
            lagesbild::domain::Bbox::clamped([c.x, c.y, c.x + w, c.y + h])
        )),
        (coord(), 1.0f64..5_000.0).prop_map(|(c, m)| Spatial::Near {
            point: Point(c),
            metres: m
        }),
        (coord(), coord(), coord()).prop_map(|(a, b, c)| {
            Spatial::Intersects(Geometry::Polygon(Polygon::new(
                LineString::from(vec![a, b, c, a]),
                vec![],
            )))
        }),
        (proptest::collection::vec(coord(), 2..6), 1.0f64..2_000.0).prop_map(|(cs, m)| {
            Spatial::WithinDistance {
                geometry: Geometry::LineString(LineString::from(cs)),
                metres: m,
            }
        }),
    ]
}

fn filters() -> impl Strategy<Value = Filters> {
    (
        proptest::option::of((0i64..400 * 86_400, 0i64..60 * 86_400)),
        proptest::option::of(proptest::collection::vec(0u8..9, 1..4)),
        proptest::option::of(proptest::collection::vec(0u8..2, 1..2)),
        proptest::option::of(0usize..3),
    )
        .prop_map(|(time, categories, statuses, ceiling)| Filters {
            time: time.map(|(start, len)| lagesbild::domain::time::TimeSpan {
                start: 1_750_000_000 + start,
                end: 1_750_000_000 + start + len,
            }),
            categories,
            statuses,
            max_classification: ceiling.map(|c| Classification::ALL[c].code()),
        })
}

/// The filters evaluated on the feature itself, independently of the index entry.
fn passes(filters: &Filters, f: &Feature) -> bool {
    let span = f.properties.time_span();
    let category = f.properties.category_code().unwrap();
    let status = f.properties.status_code().unwrap();
    filters
        .time
        .is_none_or(|t| span.start <= t.end && t.start <= span.end)
        && filters
            .categories
            .as_ref()
            .is_none_or(|c| c.contains(&category))
        && filters
            .statuses
            .as_ref()
            .is_none_or(|s| s.contains(&status))
        && filters
            .max_classification
            .is_none_or(|m| Classification::ALL[usize::from(m)] >= f.meta.classification)
}

fn brute_force(features: &[Feature], spatial: &Spatial, filters: &Filters) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = features
        .iter()
        .filter(|f| passes(filters, f) && matches_spatial(spatial, &f.geometry()))
        .map(|f| f.id)
        .collect();
    ids.sort();
    ids
}

fn unique(features: Vec<Feature>) -> Vec<Feature> {
    let mut seen = std::collections::HashSet::new();
    features.into_iter().filter(|f| seen.insert(f.id)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn query_matches_brute_force(features in proptest::collection::vec(feature(), 0..400), spatial in spatial(), filters in filters()) {
        let features = unique(features);
        let index = FeatureIndex::new();
        index.load(Layer::Incidents, features.clone());
        let result = index.query(Layer::Incidents, &spatial, &filters, Page { offset: 0, limit: usize::MAX });
        let mut got: Vec<Uuid> = result.features.iter().map(|f| f.id).collect();
        got.sort();
        let expected = brute_force(&features, &spatial, &filters);
        prop_assert_eq!(result.matched, expected.len());
        prop_assert_eq!(got, expected);
        // A count (`limit=0`) takes its own path: the same number, no features.
        let counted = index.query(Layer::Incidents, &spatial, &filters, Page { offset: 0, limit: 0 });
        prop_assert_eq!(counted.matched, result.matched);
        prop_assert!(counted.features.is_empty());
    }

    #[test]
    fn pages_cover_every_match_once_newest_first(features in proptest::collection::vec(feature(), 0..300), limit in 1usize..50) {
        let features = unique(features);
        let index = FeatureIndex::new();
        index.load(Layer::Incidents, features.clone());
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = index.query(Layer::Incidents, &Spatial::All, &Filters::default(), Page { offset, limit });
            prop_assert_eq!(page.matched, features.len());
            if page.features.is_empty() { break; }
            seen.extend(page.features.iter().map(|f| (f.properties.time_span().start, f.id)));
            offset += limit;
        }
        prop_assert_eq!(seen.len(), features.len());
        for w in seen.windows(2) {
            prop_assert!(w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1), "order {:?}", w);
        }
    }

    #[test]
    fn nearest_matches_brute_force(features in proptest::collection::vec(feature(), 1..300), at in coord(), k in 1usize..15, filters in filters()) {
        let features = unique(features);
        let index = FeatureIndex::new();
        index.load(Layer::Incidents, features.clone());
        let got = index.nearest(Layer::Incidents, Point(at), k, &filters);
        let origin = Geometry::Point(Point(at));
        let mut all: Vec<f64> = features
            .iter()
            .filter(|f| passes(&filters, f))
            .map(|f| distance_m(&origin, &f.geometry()))
            .collect();
        all.sort_by(f64::total_cmp);
        all.truncate(k);
        let got_d: Vec<f64> = got.iter().map(|(_, d)| *d).collect();
        prop_assert_eq!(got_d.len(), all.len());
        for (g, e) in got_d.iter().zip(&all) {
            prop_assert!((g - e).abs() < 1e-6, "got {:?} expected {:?}", got_d, all);
        }
    }

    #[test]
    fn writes_keep_the_index_equal_to_a_fresh_load(
        initial in proptest::collection::vec(feature(), 0..100),
        moves in proptest::collection::vec((any::<prop::sample::Index>(), geometry()), 0..40),
        removals in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
        query in spatial(),
    ) {
        let mut features = unique(initial);
        let index = FeatureIndex::new();
        index.load(Layer::Incidents, features.clone());
        if !features.is_empty() {
            for (i, g) in moves {
                let n = features.len();
                let f = &mut features[i.index(n)];
                f.geom = g.into();
                f.meta.version += 1;
                index.upsert(f.clone());
            }
            for i in removals {
                if features.is_empty() { break; }
                let f = features.remove(i.index(features.len()));
                prop_assert!(index.remove(Layer::Incidents, f.id));
            }
        }
        let result = index.query(Layer::Incidents, &query, &Filters::default(), Page { offset: 0, limit: usize::MAX });
        let mut got: Vec<Uuid> = result.features.iter().map(|f| f.id).collect();
        got.sort();
        prop_assert_eq!(got, brute_force(&features, &query, &Filters::default()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// What `with_matches` lends (the id and the organisation read from the entry, which tiles
    /// write without touching the feature) is the feature's own, also past the 255 codes an
    /// entry has for organisations and after writes that move features between them.
    #[test]
    fn entries_carry_their_features_id_and_organisation(
        initial in proptest::collection::vec(feature(), 1..200),
        organisations in 1usize..300,
        changes in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..300), 0..60),
        removals in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
        filters in filters(),
    ) {
        let name = |i: usize| Arc::<str>::from(format!("Organisation {i}"));
        let mut features = unique(initial);
        for (i, f) in features.iter_mut().enumerate() {
            f.meta.organisation = name(i * 7 % organisations);
        }
        let index = FeatureIndex::new();
        index.load(Layer::Incidents, features.clone());
        for (i, org) in changes {
            let n = features.len();
            let f = &mut features[i.index(n)];
            f.meta.organisation = name(org);
            f.meta.version += 1;
            index.upsert(f.clone());
        }
        for i in removals {
            if features.len() < 2 { break; }
            let f = features.remove(i.index(features.len()));
            prop_assert!(index.remove(Layer::Incidents, f.id));
        }
        let want: std::collections::BTreeMap<Uuid, Arc<str>> = features
            .iter()
            .filter(|f| passes(&filters, f))
            .map(|f| (f.id, Arc::clone(&f.meta.organisation)))
            .collect();
        let got: std::collections::BTreeMap<Uuid, Arc<str>> =
            index.with_matches(Layer::Incidents, &Spatial::All, &filters, |m| {
                m.entries
                    .iter()
                    .map(|e| {
                        assert_eq!(m.feature(e).map(|f| f.id), Some(e.id()));
                        (e.id(), Arc::clone(m.organisation(e).unwrap()))
                    })
                    .collect()
            });
        prop_assert_eq!(got, want);
    }
}

#[test]
fn an_older_version_never_replaces_a_newer_one() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let f = feature().new_tree(&mut runner).unwrap().current();
    let index = FeatureIndex::new();
    let mut v2 = f.clone();
    v2.meta.version = 2;
    index.upsert(v2.clone());
    index.upsert(f);
    assert_eq!(index.get(Layer::Incidents, v2.id).unwrap().meta.version, 2);
}

#[test]
fn distances_are_metres_on_the_ground() {
    // Alby metro to Fittja metro. PostGIS 3.3 ST_Distance on geography says 1272.06518 m on the
    // sphere (use_spheroid = false) and 1275.53622 m on the WGS84 spheroid.
    let alby = Geometry::Point(Point::new(17.8448067, 59.2393093));
    let fittja = Geometry::Point(Point::new(17.8607008, 59.2473595));
    let d = distance_m(&alby, &fittja);
    assert!((d - 1_272.065_18).abs() < 0.01, "{d}");
    assert!((d - 1_275.536_22).abs() / 1_275.536_22 < 0.005, "{d}");
    // A point 100 m north of a west–east line is 100 m from it.
    let line = Geometry::LineString(LineString::from(vec![(17.80, 59.20), (17.90, 59.20)]));
    let north = Geometry::Point(Point::new(17.85, 59.20 + 100.0 / 111_320.0));
    assert!((distance_m(&line, &north) - 100.0).abs() < 0.5);
}
