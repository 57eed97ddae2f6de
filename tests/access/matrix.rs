//! Every role × every data endpoint × every layer: the response holds nothing beyond the grant.
//! Expectations are computed from the shipped role file and the fixture, not written down.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use geo::{Centroid, Geometry, InteriorPoint, Point};
use lagesbild::domain::access::Precision;
use lagesbild::domain::{Feature, Layer};
use lagesbild::service::visibility::{CELL_M, Grid, MIN_CELL_COUNT};
use serde_json::Value;
use time::macros::datetime;
use uuid::Uuid;

use super::common::{TestApp, client_with_token, fresh_sqlite, get_value, read_events, token_for};
use super::{fixture, organisation_of, roles, viewer_of};

const COARSE_KEYS: &[&str] = &["category", "week", "area", "precision", "cell_m"];

fn representative(g: &Geometry<f64>) -> Point<f64> {
    match g {
        Geometry::Point(p) => *p,
        other => other.centroid().unwrap(),
    }
}

/// Equal JSON, numbers within 1e-9 (serde_json's default float parsing may be 1 ulp off).
fn same_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_numbers(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_numbers(v, w)))
        }
        _ => a == b,
    }
}

fn point_of(v: &Value) -> Point<f64> {
    let c = &v["geometry"]["coordinates"];
    Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

/// A server over the fixture (every classification in every layer, as of 2026-11-23 12:00 UTC):
/// the database (kept alive), the features and the app.
async fn fixture_app() -> (super::common::SqliteDb, Vec<Feature>, TestApp) {
    let db = fresh_sqlite();
    let features = fixture(datetime!(2026-11-23 12:00 UTC));
    let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store.insert(&features, &|_| {}).await.unwrap();
    store.close().await;
    let app = TestApp::spawn(&db.url, false).await;
    (db, features, app)
}

struct Fixture {
    by_id: HashMap<Uuid, Feature>,
    grid: Grid,
}

impl Fixture {
    fn visible(&self, role: &str, layer: Layer) -> BTreeSet<Uuid> {
        let v = viewer_of(role);
        self.by_id
            .values()
            .filter(|f| f.layer() == layer && v.may_see_classification(f.meta.classification))
            .map(|f| f.id)
            .collect()
    }

    /// Checks one returned feature against the grant; returns its id.
    fn check_feature(&self, role: &str, layer: Layer, precision: Precision, got: &Value) -> Uuid {
        let id: Uuid = got["id"].as_str().unwrap().parse().unwrap();
        let original = &self.by_id[&id];
        let v = viewer_of(role);
        assert!(
            v.may_see_classification(original.meta.classification),
            "{role} got {id} classified {} in {layer}",
            original.meta.classification
        );
        let props = got["properties"].as_object().unwrap();
        match precision {
            Precision::Exact => {
                // Served at 7 decimals (about 1 cm), the stored geometry rounded.
                let exact = serde_json::to_value(lagesbild::domain::feature::rounded_geojson(
                    &original.geometry(),
                ))
                .unwrap();
                assert!(
                    same_numbers(&got["geometry"], &exact),
                    "{role}/{layer}: exact geometry {} vs {exact}",
                    got["geometry"]
                );
                for h in &v.role.grant(layer).hide {
                    assert!(!props.contains_key(h), "{role}/{layer}: hidden '{h}' shown");
                }
            }
            Precision::Coarse => {
                for k in props.keys() {
                    assert!(
                        COARSE_KEYS.contains(&k.as_str()),
                        "{role}/{layer}: coarse view shows '{k}'"
                    );
                }
                assert_eq!(got["geometry"]["type"], "Point");
                let shown = point_of(got);
                let exact = representative(&original.geometry());
                let cell = self.grid.cell_of(exact).unwrap();
                let centre = self.grid.centre(cell).unwrap();
                // The centre as served: at 7 decimals.
                assert!(
                    (shown.x() - centre.x()).abs() <= 0.5e-7 + 1e-12
                        && (shown.y() - centre.y()).abs() <= 0.5e-7 + 1e-12,
                    "{role}/{layer}: {shown:?} is not the cell centre {centre:?}"
                );
                if original.geom.point().is_some() {
                    assert!(
                        (shown.x() - exact.x()).abs() > 1e-7
                            || (shown.y() - exact.y()).abs() > 1e-7,
                        "{role}/{layer}: exact position leaked"
                    );
                }
                let d = lagesbild::index::query::distance_m(
                    &Geometry::Point(shown),
                    &Geometry::Point(exact),
                );
                assert!(d < CELL_M, "{d} m");
            }
            other => panic!("{role}/{layer}: a feature was returned at precision {other}"),
        }
        id
    }
}

async fn problem_status(r: reqwest::Response) -> u16 {
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "status {status}"
        );
    }
    status
}

#[tokio::test]
async fn no_role_sees_more_than_its_grant_on_any_endpoint_or_layer() {
    let (_db, features, app) = fixture_app().await;
    let fx = Fixture {
        by_id: features.iter().map(|f| (f.id, f.clone())).collect(),
        grid: Grid::new().unwrap(),
    };
    let book = roles();
    let unknown = Uuid::new_v4();
    let mut checked = 0usize;
    for (role, role_def) in book.iter() {
        let name = format!("t-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        // /collections lists exactly the layers the role has any access to.
        let list: Value = client
            .get(app.url("/collections"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed: BTreeSet<String> = list["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let expected_listed: BTreeSet<String> = Layer::ALL
            .iter()
            .filter(|l| {
                matches!(
                    role_def.grant(**l).read,
                    Precision::Coarse | Precision::Exact
                )
            })
            .map(|l| l.as_str().to_owned())
            .collect();
        assert_eq!(listed, expected_listed, "{role}: /collections");
        // Count-only layers are named apart, so GIS clients do not open them as collections.
        let counts_only: BTreeSet<String> = list["countsOnly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let expected_counts: BTreeSet<String> = Layer::ALL
            .iter()
            .filter(|l| role_def.grant(**l).read == Precision::Aggregate)
            .map(|l| l.as_str().to_owned())
            .collect();
        assert_eq!(counts_only, expected_counts, "{role}: countsOnly");

        for layer in Layer::ALL {
            let precision = role_def.grant(*layer).read;
            let visible = fx.visible(role, *layer);
            let ctx = format!("{role}/{layer} ({precision})");

            // Collection metadata.
            let r = client
                .get(app.url(&format!("/collections/{layer}")))
                .send()
                .await
                .unwrap();
            if precision == Precision::None {
                assert_eq!(problem_status(r).await, 403, "{ctx}: collection");
            } else {
                let c: Value = r.json().await.unwrap();
                match precision {
                    Precision::Aggregate => assert!(c["numberOfFeatures"].is_null(), "{ctx}"),
                    _ => assert_eq!(c["numberOfFeatures"], visible.len(), "{ctx}: count"),
                }
                // The extent is taken over what the role sees: exact roles get exactly the
                // brute-force box of the visible features; others a box rounded out from it
                // (never wider than 0.05° beyond, so nothing above the ceiling widens it).
                let got: Vec<f64> = c["extent"]["spatial"]["bbox"][0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                if !visible.is_empty() {
                    let mut want = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
                    for id in &visible {
                        let b = lagesbild::domain::geometry::bounds(&fx.by_id[id].geometry());
                        want = [
                            want[0].min(b[0]),
                            want[1].min(b[1]),
                            want[2].max(b[2]),
                            want[3].max(b[3]),
                        ];
                    }
                    match precision {
                        Precision::Exact => {
                            for k in 0..4 {
                                assert!(
                                    (got[k] - want[k]).abs() < 1e-9,
                                    "{ctx}: extent {got:?} vs {want:?}"
                                );
                            }
                        }
                        Precision::Coarse => {
                            let slack = 0.05 + 0.01; // rounding, and a cell's reach
                            assert!(
                                got[0] >= want[0] - slack
                                    && got[1] >= want[1] - slack
                                    && got[2] <= want[2] + slack
                                    && got[3] <= want[3] + slack,
                                "{ctx}: extent {got:?} vs {want:?}"
                            );
                        }
                        _ => {
                            // Counts only: within the rounded box of the visible features.
                            let slack = 0.05 + 0.01;
                            if got != [-180.0, -90.0, 180.0, 90.0] {
                                assert!(
                                    got[0] >= want[0] - slack
                                        && got[1] >= want[1] - slack
                                        && got[2] <= want[2] + slack
                                        && got[3] <= want[3] + slack,
                                    "{ctx}: extent {got:?} vs {want:?}"
                                );
                            }
                        }
                    }
                }
            }

            // The items as a page (f=html) answer as the JSON does, and show no hidden field.
            let r = client
                .get(app.url(&format!("/collections/{layer}/items?limit=10000&f=html")))
                .send()
                .await
                .unwrap();
            let html_status = r.status().as_u16();
            let html = r.text().await.unwrap();
            for hidden in &role_def.grant(*layer).hide {
                let label = lagesbild::labels::field_label(hidden);
                assert!(
                    !html.contains(&format!("<th>{label}</th>")),
                    "{ctx}: {hidden} on the page"
                );
                assert!(
                    !html.contains(&format!("\"{hidden}\":")),
                    "{ctx}: {hidden} in the page's map data"
                );
                // Nor can it be asked for by name (Part 3 `properties`).
                let r = client
                    .get(app.url(&format!("/collections/{layer}/items?properties={hidden}")))
                    .send()
                    .await
                    .unwrap();
                if precision != Precision::None {
                    assert_ne!(r.status(), 200, "{ctx}: properties={hidden}");
                }
                // Nor filtered or sorted on (Part 3 `filter`, `sortby`).
                for query in [
                    format!("filter={hidden}%20IS%20NULL"),
                    format!(
                        "filter-lang=cql2-json&filter=%7B%22op%22%3A%22isNull%22%2C%22args%22%3A%5B%7B%22property%22%3A%22{hidden}%22%7D%5D%7D"
                    ),
                    format!("sortby={hidden}"),
                ] {
                    let r = client
                        .get(app.url(&format!("/collections/{layer}/items?{query}")))
                        .send()
                        .await
                        .unwrap();
                    if precision != Precision::None {
                        assert_ne!(r.status(), 200, "{ctx}: {query}");
                    }
                }
            }
            // The queryables are the role's own view: none for counts-only or no access; the
            // schema's properties and the geometry otherwise, never a hidden name.
            let r = client
                .get(app.url(&format!("/collections/{layer}/queryables")))
                .send()
                .await
                .unwrap();
            match precision {
                Precision::None | Precision::Aggregate => {
                    assert_eq!(problem_status(r).await, 403, "{ctx}: queryables");
                }
                _ => {
                    assert_eq!(r.status(), 200, "{ctx}: queryables");
                    let q: Value = r.json().await.unwrap();
                    let names: BTreeSet<&str> = q["properties"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(String::as_str)
                        .collect();
                    for hidden in &role_def.grant(*layer).hide {
                        assert!(
                            !names.contains(hidden.as_str()),
                            "{ctx}: {hidden} queryable"
                        );
                    }
                    if precision == Precision::Coarse {
                        let coarse: BTreeSet<&str> = [
                            "category",
                            "week",
                            "area",
                            "precision",
                            "cell_m",
                            "geometry",
                        ]
                        .into_iter()
                        .collect();
                        assert_eq!(names, coarse, "{ctx}: coarse queryables");
                    }
                    // A filter that passes everything answers exactly what the role sees.
                    let key = if precision == Precision::Coarse {
                        "-area"
                    } else {
                        "-updated_at"
                    };
                    let r = client
                        .get(app.url(&format!(
                            "/collections/{layer}/items?limit=10000&filter=TRUE&sortby={key}"
                        )))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200, "{ctx}: filter=TRUE");
                    let fc: Value = r.json().await.unwrap();
                    assert_eq!(fc["numberMatched"], visible.len(), "{ctx}: filter=TRUE");
                    for f in fc["features"].as_array().unwrap() {
                        fx.check_feature(role, *layer, precision, f);
                    }
                }
            }
            if html_status == 200 && !visible.is_empty() {
                assert!(
                    html.contains("<tbody><tr>"),
                    "{ctx}: the page lists the features"
                );
            }
            // Items: the whole layer in one page.
            let r = client
                .get(app.url(&format!("/collections/{layer}/items?limit=10000")))
                .send()
                .await
                .unwrap();
            match precision {
                Precision::None | Precision::Aggregate => {
                    assert_eq!(problem_status(r).await, 403, "{ctx}: items");
                    assert_eq!(html_status, 403, "{ctx}: items page");
                }
                _ => {
                    assert_eq!(r.status(), 200, "{ctx}: items");
                    assert_eq!(html_status, 200, "{ctx}: items page");
                    let fc: Value = r.json().await.unwrap();
                    assert_eq!(fc["numberMatched"], visible.len(), "{ctx}: numberMatched");
                    let got: BTreeSet<Uuid> = fc["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| fx.check_feature(role, *layer, precision, f))
                        .collect();
                    assert_eq!(
                        got, visible,
                        "{ctx}: the items are exactly the visible ones"
                    );
                    // In SWEREF 99 TM (Part 2) the same features, no more.
                    let sw = get_value(
                        &client,
                        &app.url(&format!(
                            "/collections/{layer}/items?limit=10000&crs={}",
                            lagesbild::domain::crs::EPSG_3006_URI
                        )),
                    )
                    .await;
                    let sw_ids: BTreeSet<String> = sw["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["id"].as_str().unwrap().to_owned())
                        .collect();
                    let ids: BTreeSet<String> = visible.iter().map(Uuid::to_string).collect();
                    assert_eq!(sw_ids, ids, "{ctx}: crs=EPSG:3006");
                    // The schema names exactly the properties the role receives.
                    let schema =
                        get_value(&client, &app.url(&format!("/collections/{layer}/schema"))).await;
                    let named: BTreeSet<&str> = schema["properties"]["properties"]["required"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    for f in fc["features"].as_array().unwrap() {
                        let keys: BTreeSet<&str> = f["properties"]
                            .as_object()
                            .unwrap()
                            .keys()
                            .map(String::as_str)
                            .collect();
                        assert_eq!(keys, named, "{ctx}: schema");
                    }
                    for hidden in &role_def.grant(*layer).hide {
                        assert!(
                            !named.contains(hidden.as_str()),
                            "{ctx}: {hidden} in schema"
                        );
                    }
                }
            }
            if matches!(precision, Precision::None | Precision::Aggregate) {
                let r = client
                    .get(app.url(&format!("/collections/{layer}/schema")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(problem_status(r).await, 403, "{ctx}: schema");
            }

            // Single features: visible ones, ones above the ceiling, and an unknown id.
            let unknown_r = client
                .get(app.url(&format!("/collections/{layer}/items/{unknown}")))
                .send()
                .await
                .unwrap();
            let unknown_status = problem_status(unknown_r).await;
            let sample: Vec<&Feature> = features
                .iter()
                .filter(|f| f.layer() == *layer)
                .rev()
                .take(12)
                .collect();
            for f in sample {
                let r = client
                    .get(app.url(&format!("/collections/{layer}/items/{}", f.id)))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                match precision {
                    Precision::None | Precision::Aggregate => {
                        assert_eq!(status, 403, "{ctx}: item");
                        assert_eq!(unknown_status, 403, "{ctx}: unknown item");
                    }
                    _ if !visible.contains(&f.id) => {
                        // Above the ceiling: indistinguishable from an id that never existed.
                        assert_eq!(status, 404, "{ctx}: hidden item");
                        assert_eq!(unknown_status, 404);
                        let body: Value = r.json().await.unwrap();
                        assert!(
                            body["detail"]
                                .as_str()
                                .unwrap()
                                .starts_with(&format!("no feature {} in collection", f.id)),
                            "{body}"
                        );
                    }
                    _ => {
                        assert_eq!(status, 200, "{ctx}: item");
                        let v: Value = r.json().await.unwrap();
                        assert_eq!(fx.check_feature(role, *layer, precision, &v), f.id);
                    }
                }
                checked += 1;
            }

            // Aggregates per grid cell: exactly the brute-force counts of visible features,
            // with small cells left out below exact.
            let r = client
                .get(app.url(&format!("/collections/{layer}/aggregate")))
                .send()
                .await
                .unwrap();
            if precision == Precision::None {
                assert_eq!(problem_status(r).await, 403, "{ctx}: aggregate");
            } else {
                let agg: Value = r.json().await.unwrap();
                let min = if precision == Precision::Exact {
                    1
                } else {
                    MIN_CELL_COUNT
                };
                // Brute force: exact roles get every visible feature per cell; below exact a
                // cell is the sum of its (week, category) buckets of at least the minimum, less
                // any bucket held back by secondary suppression (never more, never a new cell).
                let mut buckets: BTreeMap<(String, i64, Option<u8>), usize> = BTreeMap::new();
                for id in &visible {
                    let f = &fx.by_id[id];
                    let cell = fx.grid.cell_of(representative(&f.geometry())).unwrap();
                    let span = f.properties.time_span();
                    let week = if span.start == i64::MIN {
                        i64::MIN
                    } else {
                        lagesbild::domain::time::week_start(span.start)
                    };
                    let key = format!("E{}_N{}", cell.0, cell.1);
                    let (week, cat) = if precision == Precision::Exact {
                        (0, None)
                    } else {
                        (week, f.properties.category_code())
                    };
                    *buckets.entry((key, week, cat)).or_default() += 1;
                }
                let mut expected: BTreeMap<String, usize> = BTreeMap::new();
                for ((key, _, _), n) in buckets {
                    if n >= min {
                        *expected.entry(key).or_default() += n;
                    }
                }
                let got: BTreeMap<String, usize> = agg["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        let props = &c["properties"];
                        for (_, n) in props["categories"].as_object().unwrap() {
                            assert!(n.as_u64().unwrap() as usize >= min, "{ctx}: small category");
                        }
                        (
                            props["key"].as_str().unwrap().to_owned(),
                            props["count"].as_u64().unwrap() as usize,
                        )
                    })
                    .collect();
                if precision == Precision::Exact {
                    assert_eq!(got, expected, "{ctx}: aggregate cells");
                    assert_eq!(agg["suppression"], Value::Null, "{ctx}");
                } else {
                    assert!(
                        agg.get("suppressed").is_none(),
                        "{ctx}: no per-question counter"
                    );
                    assert!(agg["suppression"].is_string(), "{ctx}: the rule is stated");
                    for (key, n) in &got {
                        assert!(*n >= min, "{ctx}: small cell {key}");
                        assert!(
                            expected.get(key).is_some_and(|e| n <= e),
                            "{ctx}: cell {key} shows {n}, more than its published buckets {:?}",
                            expected.get(key)
                        );
                    }
                }
                // By area: every area the role may see counted on its own; exact roles get
                // the brute-force count of visible features touching the outline, others only
                // areas with at least the minimum.
                let by_area: Value = client
                    .get(app.url(&format!("/collections/{layer}/aggregate?by=area")))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let v = viewer_of(role);
                for c in by_area["features"].as_array().unwrap() {
                    let key: Uuid = c["properties"]["key"].as_str().unwrap().parse().unwrap();
                    let area = &fx.by_id[&key];
                    assert!(
                        v.may_see_classification(area.meta.classification),
                        "{ctx}: area above the ceiling"
                    );
                    let n = c["properties"]["count"].as_u64().unwrap() as usize;
                    assert!(n >= min, "{ctx}: small area count");
                    if precision == Precision::Exact {
                        use geo::Intersects;
                        let expected = visible
                            .iter()
                            .filter(|id| fx.by_id[*id].geometry().intersects(&*area.geometry()))
                            .count();
                        assert_eq!(n, expected, "{ctx}: area {key}");
                    }
                }
            }

            // Export (the command line's path, as this role).
            let mut out = Vec::new();
            let exported = app
                .service
                .export_geojson(&viewer_of(role), *layer, &mut out)
                .await;
            match precision {
                Precision::None | Precision::Aggregate => {
                    assert!(exported.is_err(), "{ctx}: export");
                    assert!(out.is_empty(), "{ctx}: nothing written");
                }
                _ => {
                    let fc: Value = serde_json::from_slice(&out).unwrap();
                    let got: BTreeSet<Uuid> = fc["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| fx.check_feature(role, *layer, precision, f))
                        .collect();
                    assert_eq!(got, visible, "{ctx}: export");
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
    app.stop().await;
}

#[tokio::test]
async fn live_events_follow_the_same_grants() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let book = roles();
    let mut streams = Vec::new();
    for (role, _) in book.iter() {
        let name = format!("t-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let r = client_with_token(&token)
            .get(app.url("/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        streams.push((role.to_owned(), r));
    }
    // One feature of every classification in every layer, made by an administrator.
    let features = fixture(datetime!(2026-11-23 12:00 UTC));
    let admin = lagesbild::startup::local_viewer(&app.service).unwrap();
    let mut made = HashMap::new();
    for layer in Layer::ALL {
        for class in lagesbild::domain::Classification::ALL {
            let f = features
                .iter()
                .find(|f| f.layer() == *layer && f.meta.classification == *class)
                .unwrap();
            let draft = lagesbild::domain::FeatureDraft {
                id: None,
                geometry: f.geometry().into_owned(),
                properties: f.properties.clone(),
                organisation: f.meta.organisation.to_string(),
                classification: f.meta.classification,
            };
            let created = app.service.create(draft, &admin).await.unwrap();
            made.insert(created.id, (*layer, *class));
        }
    }
    for (role, mut r) in streams {
        let v = viewer_of(&role);
        let events = read_events(&mut r, Duration::from_millis(700)).await;
        let got: BTreeSet<Uuid> = events
            .iter()
            .map(|(kind, data)| {
                assert_eq!(kind, "upserted");
                let id: Uuid = data["feature"]["id"].as_str().unwrap().parse().unwrap();
                let (layer, _) = made[&id];
                let precision = v.precision(layer);
                let props = data["feature"]["properties"].as_object().unwrap();
                if precision == Precision::Coarse {
                    assert!(
                        props.keys().all(|k| COARSE_KEYS.contains(&k.as_str())),
                        "{role}: {props:?}"
                    );
                }
                id
            })
            .collect();
        let expected: BTreeSet<Uuid> = made
            .iter()
            .filter(|(_, (layer, class))| {
                matches!(v.precision(*layer), Precision::Coarse | Precision::Exact)
                    && v.may_see_classification(*class)
            })
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(got, expected, "{role}: live events");
    }
    app.stop().await;
}

#[tokio::test]
async fn many_small_boxes_cannot_refine_a_coarse_position() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let token = token_for(
        &app.service,
        "t-social",
        "social_services",
        "Botkyrka kommun",
    )
    .await;
    let client = client_with_token(&token);
    let grid = Grid::new().unwrap();
    // A visible incident, its exact position and its cell centre.
    let viewer = viewer_of("social_services");
    let feature = app
        .service
        .unrestricted()
        .all(Layer::Incidents)
        .into_iter()
        .find(|f| viewer.may_see_classification(f.meta.classification))
        .unwrap();
    let exact = representative(&feature.geometry());
    let centre = grid.centre(grid.cell_of(exact).unwrap()).unwrap();
    let ids_in = |b: [f64; 4]| {
        let client = client.clone();
        let url = app.url(&format!(
            "/collections/incidents/items?limit=10000&bbox={},{},{},{}",
            b[0], b[1], b[2], b[3]
        ));
        async move {
            let fc: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            fc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().parse::<Uuid>().unwrap())
                .collect::<BTreeSet<Uuid>>()
        }
    };
    let e = 0.00002; // about 2 m
    // A tiny box around the exact position (but not the cell centre) finds nothing of it…
    if (exact.x() - centre.x()).abs() > 3.0 * e || (exact.y() - centre.y()).abs() > 3.0 * e {
        let found = ids_in([exact.x() - e, exact.y() - e, exact.x() + e, exact.y() + e]).await;
        assert!(
            !found.contains(&feature.id),
            "a box around the exact position found it"
        );
    }
    // …while a tiny box around the cell centre does, whatever the exact position in the cell.
    let found = ids_in([
        centre.x() - e,
        centre.y() - e,
        centre.x() + e,
        centre.y() + e,
    ])
    .await;
    assert!(found.contains(&feature.id));
    // Time is coarsened too: a one-second window at the exact time finds it only because the
    // window is widened to its whole ISO week, so the answer is the same for any second of it.
    let t = feature.properties.time_span().start;
    let at = |secs: i64| {
        let client = client.clone();
        let ts = time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let url = app.url(&format!(
            "/collections/incidents/items?limit=10000&datetime={ts}"
        ));
        async move {
            let fc: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            fc["numberMatched"].as_u64().unwrap()
        }
    };
    let week = lagesbild::domain::time::week_start(t);
    assert_eq!(at(week).await, at(week + 6 * 86_400 + 3600).await);
    // A status filter would reveal what the coarse view hides: refused.
    let r = client
        .get(app.url("/collections/incidents/items?status=open"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_status(r).await, 403);
    app.stop().await;
}

#[tokio::test]
async fn the_measures_follow_up_answers_every_role_within_its_grant() {
    // Every role × every measure of the fixture (every classification): a follow-up only where
    // the role reads the measure and the incidents exactly; the measure above the ceiling is the
    // same 404 as an unknown id; a role that counts incidents below exact gets 403.
    let (_db, features, app) = fixture_app().await;
    let measures: Vec<&Feature> = features
        .iter()
        .filter(|f| f.layer() == Layer::Measures)
        .collect();
    assert!(
        measures.len() > 6,
        "the fixture holds measures of every class"
    );
    let mut answered = 0;
    for (role, role_def) in roles().iter() {
        let name = format!("fu-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let v = viewer_of(role);
        for m in &measures {
            let r = client
                .get(app.url(&format!("/collections/measures/items/{}/follow-up", m.id)))
                .send()
                .await
                .unwrap();
            let status = problem_status(r).await;
            let ctx = format!("{role} / measure {} ({})", m.id, m.meta.classification);
            let read = role_def.grant(Layer::Measures).read;
            let expected: &[u16] = if read == Precision::None {
                &[403]
            } else if !v.may_see_classification(m.meta.classification) {
                &[404]
            } else if read != Precision::Exact
                || role_def.grant(Layer::Incidents).read != Precision::Exact
            {
                &[403]
            } else {
                // 422 where a demo measure lies in no area.
                &[200, 422]
            };
            assert!(
                expected.contains(&status),
                "{ctx}: {status}, expected {expected:?}"
            );
            if status == 200 {
                answered += 1;
            }
        }
    }
    assert!(answered > 0, "some follow-ups were made");
    app.stop().await;
}

#[tokio::test]
async fn the_meetings_records_answer_every_role_by_its_measures_grant() {
    // Reading the records needs exact measures; writing them needs creating measures for all.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    for (role, role_def) in roles().iter() {
        let name = format!("mr-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let grant = role_def.grant(Layer::Measures);
        let r = client.get(app.url("/meetings")).send().await.unwrap();
        let status = problem_status(r).await;
        let may_read = grant.read == Precision::Exact;
        assert_eq!(
            status,
            if may_read { 200 } else { 403 },
            "{role}: GET /meetings"
        );
        let r = client
            .post(app.url("/meetings"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"week": "2026-W49", "held_on": "2026-12-01", "classification": "open"})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        let status = problem_status(r).await;
        let may_write = grant.create == lagesbild::domain::access::Scope::All;
        assert_eq!(
            status,
            if may_write { 201 } else { 403 },
            "{role}: POST /meetings"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn exports_and_the_last_meeting_answer_every_role_within_its_grant() {
    // /exports/{file}: every role gets a briefing of what it may see (a role that sees nothing
    // of a layer simply gets none of it), never more; an unknown export is 404 for everyone.
    // /meetings/last: only roles that read measures exactly.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for (role, role_def) in roles().iter() {
        let name = format!("ex-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let r = client
            .get(app.url(
                "/exports/briefing.png?area=Alby&from=2026-11-01&to=2026-11-23&as_of=2026-11-23T08:00:00Z",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{role}: /exports/briefing.png");
        assert_eq!(r.headers()["content-type"], "image/png", "{role}");
        let r = client
            .get(app.url("/exports/secrets.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(problem_status(r).await, 404, "{role}: unknown export");
        let r = client.get(app.url("/meetings/last")).send().await.unwrap();
        let status = problem_status(r).await;
        let may_read = role_def.grant(Layer::Measures).read == Precision::Exact;
        assert_eq!(
            status,
            if may_read { 200 } else { 403 },
            "{role}: /meetings/last"
        );
        // The lägesbild document: every role gets one of what it may see.
        let r = client
            .get(app.url("/exports/lagesbild.pdf?to=2026-11-22&as_of=2026-11-23T08:00:00Z"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{role}: /exports/lagesbild.pdf");
        assert_eq!(r.headers()["content-type"], "application/pdf", "{role}");
        // Its stored text: read with the meetings' records, written by those who hold them.
        let text = app.url(&format!("/reports/lagesbild/{}", role.replace('_', "-")));
        let r = client
            .put(&text)
            .header("content-type", "application/json")
            .body(serde_json::json!({"analysis": "Analys.", "classification": "open"}).to_string())
            .send()
            .await
            .unwrap();
        let may_write =
            role_def.grant(Layer::Measures).create == lagesbild::domain::access::Scope::All;
        assert_eq!(
            problem_status(r).await,
            if may_write { 200 } else { 403 },
            "{role}: PUT /reports/lagesbild"
        );
        let r = client.get(&text).send().await.unwrap();
        let expected = match (may_read, may_write) {
            (false, _) => 403,
            (true, true) => 200,
            (true, false) => 404,
        };
        assert_eq!(
            problem_status(r).await,
            expected,
            "{role}: GET /reports/lagesbild"
        );
    }
    // Every export is audited with the role that made it.
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("export".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        rows.len() >= roles().iter().count(),
        "{} export records",
        rows.len()
    );
    app.stop().await;
}

#[tokio::test]
async fn the_agenda_answers_every_role_within_its_grant() {
    // Every role × the fixture (every classification, every layer): the agenda only for roles
    // that read the meetings' records; every feature it lists is one the role reads exactly
    // within its ceiling; exact counts equal a brute-force count within the ceiling; below exact
    // no count is under the minimum; layers left out are named.
    use geo::Intersects;
    let (_db, features, app) = fixture_app().await;
    let fx = Fixture {
        by_id: features.iter().map(|f| (f.id, f.clone())).collect(),
        grid: Grid::new().unwrap(),
    };
    let mut counted = 0usize;
    for (role, role_def) in roles().iter() {
        let name = format!("ag-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let r = client
            .get(app.url("/meetings/agenda?week=2026-W48&weeks=4"))
            .send()
            .await
            .unwrap();
        if role_def.grant(Layer::Measures).read != Precision::Exact {
            assert_eq!(problem_status(r).await, 403, "{role}: agenda");
            continue;
        }
        assert_eq!(r.status(), 200, "{role}: agenda");
        let agenda: Value = r.json().await.unwrap();
        let not_shown: BTreeSet<String> = agenda["not_shown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        let incidents = role_def.grant(Layer::Incidents).read;
        let areas = fx.visible(role, Layer::Areas);
        let listed_areas: BTreeSet<Uuid> = agenda["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(listed_areas, areas, "{role}: the areas within the ceiling");
        let window = (
            datetime!(2026-11-02 00:00 UTC),
            datetime!(2026-11-29 23:59:59 UTC),
        );
        for a in agenda["areas"].as_array().unwrap() {
            let area_id: Uuid = a["id"].as_str().unwrap().parse().unwrap();
            let outline = &fx.by_id[&area_id].geometry().into_owned();
            // Camera coverage only for roles that see cameras exactly and count incidents.
            let may_cover = role_def.grant(Layer::Cameras).read == Precision::Exact
                && role_def.grant(Layer::Incidents).read != Precision::None;
            assert_eq!(
                !a["camera_coverage"].is_null(),
                may_cover,
                "{role}: camera coverage {}",
                a["camera_coverage"]
            );
            // Lists: only features of layers read exactly, within the ceiling.
            for (list, layer) in [
                ("measures_due", Layer::Measures),
                ("walks", Layer::PatrolRoutes),
                ("risk_environments_past_review", Layer::RiskEnvironments),
                ("cameras_out_of_order", Layer::Cameras),
                ("cameras_past_review", Layer::Cameras),
            ] {
                for item in a[list].as_array().unwrap() {
                    let id: Uuid = item["id"].as_str().unwrap().parse().unwrap();
                    assert_eq!(
                        role_def.grant(layer).read,
                        Precision::Exact,
                        "{role}: {list} listed below exact"
                    );
                    assert!(fx.visible(role, layer).contains(&id), "{role}: {list} {id}");
                }
                if role_def.grant(layer).read != Precision::Exact {
                    assert!(not_shown.contains(layer.as_str()), "{role}: {layer} named");
                }
            }
            for note in a["since_last_meeting"].as_array().unwrap() {
                let id: Uuid = note["id"].as_str().unwrap().parse().unwrap();
                let layer: Layer = note["layer"].as_str().unwrap().parse().unwrap();
                assert_eq!(role_def.grant(layer).read, Precision::Exact, "{role}");
                assert!(fx.visible(role, layer).contains(&id), "{role}: change {id}");
            }
            // Counts.
            for c in a["counts"].as_array().unwrap() {
                let Some(n) = c["window"].as_u64() else {
                    assert_ne!(
                        incidents,
                        Precision::Exact,
                        "{role}: exact counts are numbers"
                    );
                    continue;
                };
                if incidents == Precision::Exact {
                    let expected = fx
                        .visible(role, Layer::Incidents)
                        .iter()
                        .map(|id| &fx.by_id[id])
                        .filter(|f| match &f.properties {
                            lagesbild::domain::Properties::Incident(i) => {
                                i.category.as_str() == c["category"]
                                    && i.occurred_at >= window.0
                                    && i.occurred_at <= window.1
                                    && f.geometry().intersects(outline)
                            }
                            _ => false,
                        })
                        .count();
                    assert_eq!(n as usize, expected, "{role}: {} {c}", a["name"]);
                    counted += expected;
                } else {
                    assert!(n as usize >= MIN_CELL_COUNT, "{role}: {} {c}", a["name"]);
                }
            }
            for c in a["hot_cells"].as_array().unwrap() {
                if incidents != Precision::Exact {
                    assert!(
                        c["count"].as_u64().unwrap() as usize >= MIN_CELL_COUNT,
                        "{role}"
                    );
                }
            }
        }
        if incidents == Precision::None {
            assert!(not_shown.contains("incidents"), "{role}");
        }
    }
    assert!(counted > 0, "the fixture has incidents in the window");
    app.stop().await;
}

#[tokio::test]
async fn the_analyses_answer_every_role_from_what_it_may_see() {
    // Every role × density, hot spots, emerging: refused without incidents; computed from the
    // positions only for roles that read incidents exactly, else from published cell counts
    // (whose surface tests/api/analysis.rs checks equals the aggregate endpoint's cells).
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for (role, role_def) in roles().iter() {
        let name = format!("an-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let precision = role_def.grant(Layer::Incidents).read;
        for path in [
            "/analysis/density?datetime=2026-09-01/2026-11-30",
            "/analysis/hotspots?datetime=2026-09-01/2026-11-30",
            "/analysis/emerging?weeks=6",
            "/analysis/backtest?weeks=8",
            "/analysis/density.png?bbox=17.80,59.22,17.90,59.26&datetime=2026-09-01/2026-11-30&width=200",
        ] {
            let r = client.get(app.url(path)).send().await.unwrap();
            let status = problem_status_keep(r).await;
            match precision {
                Precision::None => assert_eq!(status.0, 403, "{role}: {path}"),
                p => {
                    // Counts-only data can be too thin for Gi*: a 422 that says so.
                    assert!(
                        status.0 == 200 || (status.0 == 422 && !path.contains("density")),
                        "{role}: {path}: {}",
                        status.1
                    );
                    if status.0 == 200 && !path.contains(".png") {
                        let expected = if p == Precision::Exact {
                            "positions"
                        } else {
                            "cell_counts"
                        };
                        assert_eq!(status.1["input"], expected, "{role}: {path}");
                    }
                }
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn near_repeats_answer_every_role_by_what_it_sees_of_single_incidents() {
    // The Knox test needs positions and days: exact roles only. Zones show single incidents:
    // exact and coarse roles (each from its own view), never counts-only roles.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for (role, role_def) in roles().iter() {
        let name = format!("nr-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let precision = role_def.grant(Layer::Incidents).read;
        let r = client
            .get(app.url("/analysis/near-repeat?datetime=2025-12-01/2026-12-01&iterations=19"))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        assert_eq!(
            status,
            if precision == Precision::Exact {
                200
            } else {
                403
            },
            "{role}: Knox {body}"
        );
        let r = client
            .get(app.url("/analysis/near-repeat-zones?days=60"))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        match precision {
            Precision::Exact | Precision::Coarse => {
                assert_eq!(status, 200, "{role}: zones {body}");
                for z in body["features"].as_array().unwrap() {
                    assert_eq!(
                        z["properties"]["exact"],
                        precision == Precision::Exact,
                        "{role}: {z}"
                    );
                }
            }
            _ => assert_eq!(status, 403, "{role}: zones"),
        }
    }
    app.stop().await;
}

/// The status and the JSON body of a response (a problem body where it failed).
async fn problem_status_keep(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let bytes = r.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The tile of zoom `z` holding `p`.
fn tile_at(z: u32, p: Point<f64>) -> lagesbild::tiles::TileId {
    let n = f64::from(1u32 << z);
    let x = ((p.x() + 180.0) / 360.0 * n).floor() as u32;
    let lat = p.y().to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    lagesbild::tiles::TileId::new(z, y, x).unwrap()
}

fn tile_path(layer: Layer, t: lagesbild::tiles::TileId) -> String {
    format!(
        "/collections/{layer}/tiles/WebMercatorQuad/{}/{}/{}",
        t.z, t.y, t.x
    )
}

/// Tile units of tile `t` to longitude and latitude.
fn from_tile(t: lagesbild::tiles::TileId, u: f64, v: f64) -> Point<f64> {
    let n = f64::from(1u32 << t.z);
    let e = f64::from(lagesbild::tiles::EXTENT);
    let fx = (f64::from(t.x) + u / e) / n;
    let fy = (f64::from(t.y) + v / e) / n;
    Point::new(
        fx * 360.0 - 180.0,
        (std::f64::consts::PI * (1.0 - 2.0 * fy))
            .sinh()
            .atan()
            .to_degrees(),
    )
}

/// What a coarse tile's cell carries.
const CELL_KEYS: &[&str] = &["count", "category", "categories", "cell_m", "label"];

fn in_box(p: Point<f64>, b: [f64; 4]) -> bool {
    (b[0]..=b[2]).contains(&p.x()) && (b[1]..=b[3]).contains(&p.y())
}

/// Every role × layer × tile endpoint: exact roles get exactly the features they may see in
/// the tile, without hidden properties; coarse roles only cell centres with category, week and
/// area; counts-only roles only published cells (k ≥ 3) that the counts endpoint also gives.
#[tokio::test]
async fn tiles_answer_every_role_within_its_grant() {
    use lagesbild::tiles::{BUFFER, Value as TV, decode};
    let (_db, _, app) = fixture_app().await;
    // One cell with enough incidents of one category in one week to be published to
    // counts-only roles (the fixture alone is too sparse for k ≥ 3).
    for i in 0..4 {
        let mut body = super::common::incident(
            17.8452 + f64::from(i) * 0.0001,
            59.2381,
            "vandalism",
            "2026-11-18T21:00:00Z",
        );
        body["properties"]["classification"] = serde_json::json!("open");
        let r = app.post("/collections/incidents/items", &body).await;
        assert_eq!(r.status(), 201);
    }
    let everything = app.service.unrestricted();
    let fx = Fixture {
        by_id: Layer::ALL
            .iter()
            .flat_map(|l| everything.all(*l))
            .map(|f| (f.id, (*f).clone()))
            .collect(),
        grid: Grid::new().unwrap(),
    };
    let book = roles();
    let mut checked = 0usize;
    // A district-sized tile over the fixture, and a street-sized one inside it.
    let centre = Point::new(17.845, 59.238);
    for (role, role_def) in book.iter() {
        let name = format!("t-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        for layer in Layer::ALL {
            let precision = role_def.grant(*layer).read;
            let visible = fx.visible(role, *layer);
            for z in [11u32, 15] {
                let t = tile_at(z, centre);
                let ctx = format!("{role}/{layer} ({precision}) z{z}");
                let r = client
                    .get(app.url(&tile_path(*layer, t)))
                    .send()
                    .await
                    .unwrap();
                if precision == Precision::None {
                    assert_eq!(problem_status(r).await, 403, "{ctx}");
                    let r = client
                        .get(app.url(&format!("/collections/{layer}/tiles")))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(problem_status(r).await, 403, "{ctx}: tilesets");
                    continue;
                }
                assert_eq!(r.status(), 200, "{ctx}");
                let bytes = r.bytes().await.unwrap();
                // Asked again: the kept tile of this role's view, the same bytes (every role
                // asks the same tiles in turn, so a tile kept for another view would show here).
                let again = client
                    .get(app.url(&tile_path(*layer, t)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(again.headers()["x-lagesbild-tile-cache"], "hit", "{ctx}");
                assert_eq!(again.bytes().await.unwrap(), bytes, "{ctx}: kept tile");
                let layers = decode(&bytes).unwrap();
                let got = layers.get(layer.as_str()).cloned().unwrap_or_default();
                if *layer == Layer::Incidents {
                    assert!(
                        !got.is_empty(),
                        "{ctx}: the test needs incidents in the tile"
                    );
                }
                let gridded = got.iter().any(|(_, p)| p.contains_key("cluster"));
                let buffered = t.bounds_with(BUFFER);
                let count_of = |p: &HashMap<String, TV>| match p.get("count") {
                    Some(TV::Uint(n)) => *n,
                    Some(other) => panic!("{ctx}: count {other:?}"),
                    None => 1,
                };
                match precision {
                    Precision::Exact => {
                        let hide = &role_def.grant(*layer).hide;
                        for (_, p) in &got {
                            for h in hide {
                                assert!(!p.contains_key(h), "{ctx}: hidden '{h}' in a tile");
                            }
                        }
                        let want: BTreeSet<Uuid> = visible
                            .iter()
                            .filter(|id| {
                                let b =
                                    lagesbild::domain::geometry::bounds(&fx.by_id[id].geometry());
                                b[0] <= buffered[2]
                                    && b[2] >= buffered[0]
                                    && b[1] <= buffered[3]
                                    && b[3] >= buffered[1]
                            })
                            .copied()
                            .collect();
                        if gridded {
                            let n: u64 = got.iter().map(|(_, p)| count_of(p)).sum();
                            assert_eq!(n as usize, want.len(), "{ctx}: gridded count");
                        } else {
                            let ids: BTreeSet<Uuid> = got
                                .iter()
                                .map(|(_, p)| match &p["id"] {
                                    TV::Str(s) => s.parse().unwrap(),
                                    other => panic!("{other:?}"),
                                })
                                .collect();
                            // Lines and polygons that only touch the buffer may be cut away.
                            assert!(ids.is_subset(&want), "{ctx}: beyond the grant");
                            let points = *layer != Layer::Areas
                                && *layer != Layer::PatrolRoutes
                                && *layer != Layer::Walks
                                && *layer != Layer::Measures;
                            if points {
                                assert_eq!(ids, want, "{ctx}");
                            }
                        }
                    }
                    Precision::Coarse => {
                        // Cells: how many visible features each cell holds.
                        let mut want: BTreeMap<(i64, i64), u64> = BTreeMap::new();
                        for id in &visible {
                            let p = representative(&fx.by_id[id].geometry());
                            *want.entry(fx.grid.cell_of(p).unwrap()).or_default() += 1;
                        }
                        if gridded {
                            // Grid points carry how many, nothing else.
                            for (_, p) in &got {
                                assert!(
                                    p.keys().all(|k| k == "count" || k == "cluster"),
                                    "{ctx}: a gridded coarse tile shows {:?}",
                                    p.keys().collect::<Vec<_>>()
                                );
                            }
                            continue;
                        }
                        let mut seen = BTreeSet::new();
                        for (g, p) in &got {
                            for k in p.keys() {
                                assert!(
                                    CELL_KEYS.contains(&k.as_str()),
                                    "{ctx}: a coarse tile shows '{k}'"
                                );
                            }
                            if p.contains_key("label") {
                                // The count written at the cell's centre, and nowhere else.
                                let Geometry::Point(q) = g else {
                                    panic!("{ctx}: {g:?}")
                                };
                                let cell = fx.grid.cell_of(from_tile(t, q.x(), q.y())).unwrap();
                                let c = fx.grid.centre(cell).unwrap();
                                let (cx, cy) = t.to_tile(c.x(), c.y());
                                assert!(
                                    (q.x() - cx).abs() <= 0.5 && (q.y() - cy).abs() <= 0.5,
                                    "{ctx}: a label off its cell's centre"
                                );
                                assert_eq!(
                                    Some(&count_of(p)),
                                    want.get(&cell),
                                    "{ctx}: label {cell:?}"
                                );
                                continue;
                            }
                            // A cell: a square (clipped at the tile's edge), never a point at
                            // these zooms, every corner within its cell.
                            let Geometry::Polygon(square) = g else {
                                panic!("{ctx}: not a cell: {g:?}")
                            };
                            let inside = square.interior_point().unwrap();
                            let cell = fx
                                .grid
                                .cell_of(from_tile(t, inside.x(), inside.y()))
                                .unwrap();
                            let bounds = fx.grid.square(cell).unwrap();
                            let corners: Vec<(f64, f64)> = bounds
                                .exterior()
                                .coords()
                                .map(|c| t.to_tile(c.x, c.y))
                                .collect();
                            let (x0, x1) = corners
                                .iter()
                                .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.0), a.1.max(c.0)));
                            let (y0, y1) = corners
                                .iter()
                                .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.1), a.1.max(c.1)));
                            for c in square.exterior().coords() {
                                assert!(
                                    c.x >= x0 - 1.0
                                        && c.x <= x1 + 1.0
                                        && c.y >= y0 - 1.0
                                        && c.y <= y1 + 1.0,
                                    "{ctx}: a cell's corner outside its cell"
                                );
                            }
                            assert_eq!(Some(&count_of(p)), want.get(&cell), "{ctx}: cell {cell:?}");
                            if let Some(TV::Str(listed)) = p.get("categories") {
                                let sum: u64 = listed
                                    .split(", ")
                                    .map(|part| {
                                        part.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
                                    })
                                    .sum();
                                assert_eq!(sum, count_of(p), "{ctx}: categories add up");
                                let TV::Str(top) = &p["category"] else {
                                    panic!()
                                };
                                assert!(listed.starts_with(&format!("{top} ")), "{ctx}: {listed}");
                            }
                            seen.insert(cell);
                        }
                        // Every cell whose centre is in the tile is there.
                        for cell in want.keys() {
                            if in_box(fx.grid.centre(*cell).unwrap(), t.bounds()) {
                                assert!(seen.contains(cell), "{ctx}: cell {cell:?} missing");
                            }
                        }
                    }
                    Precision::Aggregate => {
                        // The same published cells as the counts endpoint for the same box.
                        let agg: Value = client
                            .get(app.url(&format!(
                                "/collections/{layer}/aggregate?by=grid&bbox={},{},{},{}",
                                buffered[0], buffered[1], buffered[2], buffered[3]
                            )))
                            .send()
                            .await
                            .unwrap()
                            .json()
                            .await
                            .unwrap();
                        let published: HashMap<String, u64> = agg["features"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|f| {
                                (
                                    f["properties"]["key"].as_str().unwrap().to_owned(),
                                    f["properties"]["count"].as_u64().unwrap(),
                                )
                            })
                            .collect();
                        let mut total = 0;
                        for (g, p) in &got {
                            for k in p.keys() {
                                assert!(
                                    ["key", "count", "cluster"].contains(&k.as_str()),
                                    "{ctx}: a counts tile shows '{k}'"
                                );
                            }
                            let n = count_of(p);
                            assert!(n >= MIN_CELL_COUNT as u64, "{ctx}: a cell of {n}");
                            if let Some(TV::Str(key)) = p.get("key") {
                                assert_eq!(published.get(key), Some(&n), "{ctx}: cell {key}");
                                assert!(
                                    matches!(g, Geometry::Polygon(_) | Geometry::Point(_)),
                                    "{ctx}"
                                );
                            }
                            total += n;
                        }
                        assert_eq!(total, published.values().sum::<u64>(), "{ctx}: total");
                        // A status filter would refine what counts hide.
                        let r = client
                            .get(app.url(&format!("{}?status=open", tile_path(*layer, t))))
                            .send()
                            .await
                            .unwrap();
                        if !layer.status_names().is_empty() {
                            assert_eq!(problem_status(r).await, 403, "{ctx}: status");
                        }
                    }
                    Precision::None => unreachable!(),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "{checked} role × layer × tile checks");
    app.stop().await;
}

/// Deep tiles cannot place a coarse feature better than its cell: at zoom 20 (tiles of about
/// 20 m) the tile at an incident's exact position and the tile at its cell's centre say the
/// same of the cell (the same count and categories), and neither names the incident.
#[tokio::test]
async fn deep_tiles_cannot_refine_a_coarse_position() {
    use lagesbild::tiles::{Value as TV, decode};
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let token = token_for(
        &app.service,
        "t-social",
        "social_services",
        "Botkyrka kommun",
    )
    .await;
    let client = client_with_token(&token);
    let grid = Grid::new().unwrap();
    let viewer = viewer_of("social_services");
    assert_eq!(viewer.precision(Layer::Incidents), Precision::Coarse);
    let mut tried = 0;
    for feature in app
        .service
        .unrestricted()
        .all(Layer::Incidents)
        .into_iter()
        .filter(|f| viewer.may_see_classification(f.meta.classification))
        .take(40)
    {
        let exact = representative(&feature.geometry());
        let cell = grid.cell_of(exact).unwrap();
        let centre = grid.centre(cell).unwrap();
        // What a zoom-20 tile says of the incident's cell.
        let of_cell = |t: lagesbild::tiles::TileId| {
            let client = client.clone();
            let url = app.url(&tile_path(Layer::Incidents, t));
            let grid = &grid;
            async move {
                let bytes = client.get(url).send().await.unwrap().bytes().await.unwrap();
                let features = decode(&bytes)
                    .unwrap()
                    .get("incidents")
                    .cloned()
                    .unwrap_or_default();
                for (_, p) in &features {
                    assert!(!p.contains_key("id"), "a coarse tile names an incident");
                }
                features
                    .into_iter()
                    .filter(|(_, p)| !p.contains_key("label"))
                    .filter(|(g, _)| {
                        let inside = g.interior_point().unwrap();
                        grid.cell_of(from_tile(t, inside.x(), inside.y())) == Some(cell)
                    })
                    .map(|(_, p)| {
                        let mut v: Vec<(String, String)> = p
                            .iter()
                            .map(|(k, v)| (k.clone(), format!("{v:?}")))
                            .collect();
                        v.sort();
                        v
                    })
                    .collect::<Vec<_>>()
            }
        };
        let at_exact = of_cell(tile_at(20, exact)).await;
        let at_centre = of_cell(tile_at(20, centre)).await;
        assert_eq!(
            at_exact.len(),
            1,
            "the cell, once, in the tile at the incident"
        );
        assert_eq!(
            at_exact, at_centre,
            "the same cell says the same wherever it is read"
        );
        assert!(
            at_exact[0]
                .iter()
                .any(|(k, v)| k == "count" && *v != format!("{:?}", TV::Uint(0)))
        );
        tried += 1;
    }
    assert!(tried > 10, "only {tried} incidents tried");
    app.stop().await;
}

/// The administrators' endpoints (the audit log, the picture's digest) answer administrators
/// and refuse every other role with 403, and anyone unsigned with 401; the digest an
/// administrator gets is the fixture's own, computed here feature by feature.
#[tokio::test]
async fn administrators_endpoints_answer_administrators_only() {
    let (_db, features, app) = fixture_app().await;
    let mut expected: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for f in &features {
        let e = expected.entry(f.layer().as_str()).or_default();
        e.0 += 1;
        e.1 = e.1.wrapping_add(lagesbild::service::picture::feature_term(
            f.layer(),
            f.id,
            f.meta.version,
        ));
    }
    let anonymous = reqwest::Client::new();
    for path in ["/audit", "/admin/picture"] {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(problem_status(r).await, 401, "{path} unsigned");
    }
    let mut admins = 0;
    for (role, role_def) in roles().iter() {
        let name = format!("adm-{}", role.replace('_', "-"));
        let client =
            client_with_token(&token_for(&app.service, &name, role, organisation_of(role)).await);
        for path in ["/audit", "/admin/picture"] {
            let r = client.get(app.url(path)).send().await.unwrap();
            if !role_def.admin {
                assert_eq!(problem_status(r).await, 403, "{role} {path}");
                continue;
            }
            assert_eq!(r.status(), 200, "{role} {path}");
            if path == "/admin/picture" {
                let body: Value = r.json().await.unwrap();
                let names: BTreeSet<&str> = body["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["layer"].as_str().unwrap())
                    .collect();
                let all: BTreeSet<&str> = Layer::ALL.iter().map(|l| l.as_str()).collect();
                assert_eq!(names, all, "{role}: every layer");
                for layer in body["layers"].as_array().unwrap() {
                    let name = layer["layer"].as_str().unwrap();
                    let (count, sum) = expected.get(name).copied().unwrap_or_default();
                    assert_eq!(layer["count"], count, "{role}: {name}");
                    assert_eq!(layer["digest"], format!("{sum:016x}"), "{role}: {name}");
                }
                assert!(body["applied"]["seq"].is_i64(), "{body}");
            }
        }
        admins += usize::from(role_def.admin);
    }
    assert!(admins >= 1, "the role file has an administrator");
    // Every refusal is in the audit log, under the account refused.
    for (role, role_def) in roles().iter().filter(|(_, d)| !d.admin) {
        let name = format!("adm-{}", role.replace('_', "-"));
        let audit: Value = app
            .client
            .get(app.url(&format!("/audit?user={name}&limit=100")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let denied = audit["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "denied")
            .count();
        assert!(denied >= 2, "{role} ({}): {audit}", role_def.label);
    }
    app.stop().await;
}

/// The tile matrix sets are public definitions (like `/conformance`): every role and an
/// unsigned caller get the same bytes, so they can carry nothing of anyone's grant; an unknown
/// set is a 404 problem for all alike.
#[tokio::test]
async fn the_tile_matrix_sets_answer_every_role_and_nobody_alike() {
    let (_db, _features, app) = fixture_app().await;
    let mut clients = vec![("unsigned".to_owned(), reqwest::Client::new())];
    for (role, _) in roles().iter() {
        let name = format!("tms-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        clients.push((role.to_string(), client_with_token(&token)));
    }
    for path in ["/tileMatrixSets", "/tileMatrixSets/WebMercatorQuad"] {
        let mut bodies = BTreeSet::new();
        for (who, client) in &clients {
            let r = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{who} {path}");
            bodies.insert(r.bytes().await.unwrap().to_vec());
        }
        assert_eq!(bodies.len(), 1, "{path}: the same for everyone");
    }
    for (who, client) in &clients {
        let r = client
            .get(app.url("/tileMatrixSets/WorldCRS84Quad"))
            .send()
            .await
            .unwrap();
        assert_eq!(problem_status(r).await, 404, "{who}");
    }
    app.stop().await;
}

#[tokio::test]
async fn camera_views_answer_every_role_within_its_camera_grant() {
    // A view's apex is the camera: only roles that read cameras exactly get views, and then of
    // exactly the cameras their ceiling lets them see (a brute-force scan of the fixture), each
    // view starting at its camera. Everyone else 403; nobody signed in 401.
    let (_db, features, app) = fixture_app().await;
    let fx = Fixture {
        by_id: features.iter().map(|f| (f.id, f.clone())).collect(),
        grid: Grid::new().unwrap(),
    };
    let mut viewed_by_some = 0;
    for (role, role_def) in roles().iter() {
        let name = format!("cv-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let r = client
            .get(app.url("/analysis/camera-views"))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        if role_def.grant(Layer::Cameras).read != Precision::Exact {
            assert_eq!(status, 403, "{role}: {body}");
            continue;
        }
        assert_eq!(status, 200, "{role}: {body}");
        let expected = fx.visible(role, Layer::Cameras);
        let mut got = BTreeSet::new();
        for z in body["features"].as_array().unwrap() {
            let id: Uuid = z["properties"]["camera"].as_str().unwrap().parse().unwrap();
            got.insert(id);
            // A sector's first vertex is the camera (a full circle has none).
            let camera = representative(&fx.by_id[&id].geometry());
            let ring = &z["geometry"]["coordinates"][0];
            let near = ring.as_array().unwrap().iter().any(|c| {
                (c[0].as_f64().unwrap() - camera.x()).abs() < 1e-9
                    && (c[1].as_f64().unwrap() - camera.y()).abs() < 1e-9
            });
            let lagesbild::domain::Properties::Camera(c) = &fx.by_id[&id].properties else {
                panic!("{id} is not a camera")
            };
            assert!(near || c.field_of_view >= 360.0, "{role}: {z}");
        }
        assert_eq!(got, expected, "{role}: the cameras it may see, no more");
        assert_eq!(body["numberMatched"], expected.len(), "{role}");
        viewed_by_some += got.len();
    }
    assert!(viewed_by_some > 0, "the fixture has cameras");
    let r = app
        .anonymous
        .get(app.url("/analysis/camera-views"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_status(r).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn camera_coverage_answers_every_role_from_what_it_may_count() {
    // Coverage needs the views (exact cameras) and the incidents: from positions for roles
    // that read incidents exactly, from published cell counts for the others (never more than
    // they may count: the total equals their own aggregate's); 403 without exact cameras.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let window = "datetime=2026-09-01T00:00:00Z/2026-12-01T00:00:00Z";
    let mut inputs = BTreeSet::new();
    for (role, role_def) in roles().iter() {
        let name = format!("cc-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let r = client
            .get(app.url(&format!("/analysis/camera-coverage?{window}")))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        let cameras = role_def.grant(Layer::Cameras).read;
        let incidents = role_def.grant(Layer::Incidents).read;
        if cameras != Precision::Exact || incidents == Precision::None {
            assert_eq!(status, 403, "{role}: {body}");
            continue;
        }
        assert_eq!(status, 200, "{role}: {body}");
        inputs.insert(body["input"].as_str().unwrap().to_owned());
        let total = body["incidents"].as_f64().unwrap();
        if incidents == Precision::Exact {
            assert_eq!(body["input"], "positions", "{role}");
            let n = get_value(
                &client,
                &app.url(&format!("/collections/incidents/items?limit=0&{window}")),
            )
            .await["numberMatched"]
                .as_f64()
                .unwrap();
            assert_eq!(total, n, "{role}: every incident it may see, no more");
        } else {
            assert_eq!(body["input"], "cell_counts", "{role}");
            let agg = get_value(
                &client,
                &app.url(&format!(
                    "/collections/incidents/aggregate?by=grid&{window}"
                )),
            )
            .await;
            let published: f64 = agg["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["count"].as_f64().unwrap())
                .sum();
            assert_eq!(total, published, "{role}: the published counts only");
            assert!(
                body["position_error_m"].as_f64().unwrap() > 83.0,
                "{role}: cell centres widen the interval"
            );
            // Hot cells from published counts (when there are enough for Gi*: the demo's
            // published cells seldom are): never a count under the publication threshold, and
            // none a published cell does not have.
            let published_cells: BTreeMap<String, f64> = agg["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["properties"]["key"].as_str().unwrap().to_owned(),
                        f["properties"]["count"].as_f64().unwrap(),
                    )
                })
                .collect();
            for c in body["least_covered_hot_cells"]["features"]
                .as_array()
                .unwrap()
            {
                let n = c["properties"]["count"].as_f64().unwrap();
                let key = c["id"].as_str().unwrap();
                assert!(n >= MIN_CELL_COUNT as f64, "{role}: hot cell {c}");
                assert_eq!(
                    published_cells.get(key),
                    Some(&n),
                    "{role}: {key} as published"
                );
            }
            // Sites at cell centres only: no incident position is given away.
            for s in body["sites"]["features"].as_array().unwrap() {
                let c = &s["geometry"]["coordinates"];
                let p = Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                let grid = Grid::new().unwrap();
                let centre = grid.centre(grid.cell_of(p).unwrap()).unwrap();
                assert!(
                    (centre.x() - p.x()).abs() < 1e-6 && (centre.y() - p.y()).abs() < 1e-6,
                    "{role}: a site off a cell centre {p:?}"
                );
            }
        }
    }
    assert_eq!(
        inputs.into_iter().collect::<Vec<_>>(),
        ["cell_counts", "positions"],
        "roles with exact and with counted incidents answered"
    );
    let r = app
        .anonymous
        .get(app.url("/analysis/camera-coverage"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_status(r).await, 401);
    app.stop().await;
}

#[tokio::test]
async fn route_scores_answer_every_role_from_what_it_may_count() {
    // A saved route and a drawn one, scored for every role: 403 without incidents (and, for the
    // saved one, without routes' lines); from positions for exact roles, equal to what the
    // role's own items answer counts within 100 m; from published counts for the others, never
    // weighted by hour and never more than they may count.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let window = "datetime=2026-06-01T00:00:00Z/2026-12-01T00:00:00Z";
    let police =
        client_with_token(&token_for(&app.service, "rsm-polis", "police", "Polisen").await);
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=1"),
    )
    .await;
    let route = &routes["features"][0];
    let id = route["id"].as_str().unwrap();
    let line = super::common::enc(&route["geometry"].to_string());
    let mut inputs = BTreeSet::new();
    for (role, role_def) in roles().iter() {
        let name = format!("rsm-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let incidents = role_def.grant(Layer::Incidents).read;
        let lines = role_def.grant(Layer::PatrolRoutes).read;
        // The saved route by id.
        let r = client
            .get(app.url(&format!("/analysis/route-score?routes={id}&{window}")))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        if incidents == Precision::None || lines != Precision::Exact {
            assert_eq!(status, 403, "{role}: {body}");
        } else {
            assert_eq!(status, 200, "{role}: {body}");
        }
        // A suggestion from the saved route's start: the same grants, the same kind of input.
        let r = client
            .get(app.url(&format!("/analysis/route-suggestion?route={id}")))
            .send()
            .await
            .unwrap();
        let (status, suggestion) = problem_status_keep(r).await;
        if incidents == Precision::None || lines != Precision::Exact {
            assert_eq!(status, 403, "{role}: {suggestion}");
        } else {
            assert_eq!(status, 200, "{role}: {suggestion}");
            let want = if incidents == Precision::Exact {
                "positions"
            } else {
                "cell_counts"
            };
            assert_eq!(suggestion["input"], want, "{role}");
            if incidents != Precision::Exact {
                assert_eq!(
                    suggestion["time_weighted"], false,
                    "{role}: weeks, not hours"
                );
            }
        }
        // The same line drawn.
        let r = client
            .get(app.url(&format!(
                "/analysis/route-score?line={line}&weekdays=fri,sat&start_time=20:00&end_time=01:00&{window}"
            )))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        if incidents == Precision::None {
            assert_eq!(status, 403, "{role}: {body}");
            continue;
        }
        assert_eq!(status, 200, "{role}: {body}");
        inputs.insert(body["input"].as_str().unwrap().to_owned());
        let scored = &body["routes"][0];
        let got = scored["all"]["incidents"].as_f64().unwrap();
        if incidents == Precision::Exact {
            assert_eq!(body["input"], "positions", "{role}");
            let n = get_value(
                &client,
                &app.url(&format!(
                    "/collections/incidents/items?limit=0&intersects={line}&distance=100&{window}"
                )),
            )
            .await["numberMatched"]
                .as_f64()
                .unwrap();
            assert_eq!(got, n, "{role}: what its own items answer counts, no more");
            assert!(
                scored["in_hours"]["incidents"].as_f64().unwrap() <= got,
                "{role}"
            );
        } else {
            assert_eq!(body["input"], "cell_counts", "{role}");
            assert_eq!(body["time_weighted"], false, "{role}");
            assert_eq!(scored["in_hours"], Value::Null, "{role}: weeks, not hours");
            let agg = get_value(
                &client,
                &app.url(&format!(
                    "/collections/incidents/aggregate?by=grid&{window}"
                )),
            )
            .await;
            let published: f64 = agg["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["count"].as_f64().unwrap())
                .sum();
            assert!(
                got <= published + 1e-9,
                "{role}: {got} of {published} published"
            );
            if let Some(n) = scored["all"]["region"]["incidents"].as_f64() {
                assert!(
                    n <= published + 1e-9,
                    "{role}: the region's {n} of {published}"
                );
            }
        }
    }
    assert_eq!(
        inputs.into_iter().collect::<Vec<_>>(),
        ["cell_counts", "positions"],
        "roles with exact and with counted incidents answered"
    );
    for path in ["route-score?routes", "route-suggestion?route"] {
        let r = app
            .anonymous
            .get(app.url(&format!("/analysis/{path}={id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(problem_status(r).await, 401, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn patrol_plans_and_dosage_answer_every_role_within_its_grants() {
    // A plan needs incidents (any precision) and routes' lines; its hot cells are the role's own
    // (its hot spot answer for the same four weeks calls each of them hot). The weekly report
    // needs walks and routes exactly. Everyone else 403; nobody signed in 401.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police = client_with_token(&token_for(&app.service, "pp-polis", "police", "Polisen").await);
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=100"),
    )
    .await;
    let route = routes["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["properties"]["status"] == "active")
        .unwrap();
    let id = route["id"].as_str().unwrap();
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = app.service.clock().now().date();
    let date = (1..=7)
        .map(|k| today - time::Duration::days(k))
        .find(|d| {
            let n = names[usize::from(d.weekday().number_days_from_monday())];
            route["properties"]["weekdays"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == n)
        })
        .unwrap();
    // The four weeks before the evening, midnight to midnight in Sweden, as the plan reads them.
    let sweden = |d: time::Date| {
        lagesbild::domain::time::from_swedish_local(d.midnight()).to_offset(time::UtcOffset::UTC)
    };
    let rfc3339 = time::format_description::well_known::Rfc3339;
    let window = format!(
        "datetime={}/{}",
        sweden(date - time::Duration::days(28))
            .format(&rfc3339)
            .unwrap(),
        (sweden(date) - time::Duration::seconds(1))
            .format(&rfc3339)
            .unwrap()
    );
    let mut answered = 0;
    for (role, role_def) in roles().iter() {
        let name = format!("pp-{}", role.replace('_', "-"));
        let token = token_for(&app.service, &name, role, organisation_of(role)).await;
        let client = client_with_token(&token);
        let incidents = role_def.grant(Layer::Incidents).read;
        let lines = role_def.grant(Layer::PatrolRoutes).read;
        let walks = role_def.grant(Layer::Walks).read;
        let r = client
            .get(app.url(&format!("/analysis/patrol-plan?route={id}&date={date}")))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        if incidents == Precision::None || lines != Precision::Exact {
            assert_eq!(status, 403, "{role}: {body}");
        } else {
            assert_eq!(status, 200, "{role}: {body}");
            let hot = get_value(&client, &app.url(&format!("/analysis/hotspots?{window}"))).await;
            let hot: BTreeSet<String> = hot["features"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|f| f["properties"]["class"].as_i64().unwrap_or(0) > 0)
                        .map(|f| f["id"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            for c in body["hot_cells_along"].as_array().unwrap() {
                assert!(
                    hot.contains(c["cell"].as_str().unwrap()),
                    "{role}: {c} not hot for it"
                );
            }
            answered += 1;
        }
        let r = client
            .get(app.url("/analysis/dosage"))
            .send()
            .await
            .unwrap();
        let (status, body) = problem_status_keep(r).await;
        if walks != Precision::Exact || lines != Precision::Exact || incidents == Precision::None {
            assert_eq!(status, 403, "{role}: {body}");
        } else {
            assert_eq!(status, 200, "{role}: {body}");
        }
    }
    assert!(answered > 0);
    for path in [
        format!("/analysis/patrol-plan?route={id}&date={date}"),
        "/analysis/dosage".to_owned(),
    ] {
        let r = app.anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(problem_status(r).await, 401, "{path}");
    }
    app.stop().await;
}
