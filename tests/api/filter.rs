//! OGC API – Features Part 3 over HTTP: CQL2 text and JSON filters and `sortby` pick and order
//! exactly what a plain scan of the unfiltered answer picks, on the caller's own view; the
//! queryables document; and the refusals (unknown, hidden and coarse-hidden names; syntax; types).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, enc, fresh_sqlite, get_value, token_for,
};

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

fn lon_lat(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn instant(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

type Pick = Box<dyn Fn(&Value) -> bool>;

#[tokio::test]
async fn filters_pick_what_a_plain_scan_picks() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, all) = app
        .get_json("/collections/incidents/items?limit=10000")
        .await;
    let all = all["features"].as_array().unwrap().clone();
    assert!(all.len() > 100, "the demo has incidents: {}", all.len());
    let p = |f: &Value, k: &str| f["properties"][k].clone();
    // A time in the middle of the demo's span, and a box around its densest part.
    let mut times: Vec<i64> = all
        .iter()
        .map(|f| instant(p(f, "occurred_at").as_str().unwrap()))
        .collect();
    times.sort_unstable();
    let mid = times[times.len() / 2];
    let mid_text = time::OffsetDateTime::from_unix_timestamp(mid)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (lon0, lat0) = lon_lat(&all[0]);
    let (w, s, e, n) = (lon0 - 0.03, lat0 - 0.02, lon0 + 0.03, lat0 + 0.02);
    let cases: Vec<(String, Value, Pick)> = vec![
        (
            "category = 'shooting'".into(),
            json!({"op": "=", "args": [{"property": "category"}, "shooting"]}),
            Box::new(move |f| p(f, "category") == "shooting"),
        ),
        (
            "severity >= 4 AND status = 'open'".into(),
            json!({"op": "and", "args": [{"op": ">=", "args": [{"property": "severity"}, 4]}, {"op": "=", "args": [{"property": "status"}, "open"]}]}),
            Box::new(move |f| p(f, "severity").as_u64().unwrap() >= 4 && p(f, "status") == "open"),
        ),
        (
            "category IN ('arson', 'vandalism') OR severity BETWEEN 2 AND 3".into(),
            json!({"op": "or", "args": [
                {"op": "in", "args": [{"property": "category"}, ["arson", "vandalism"]]},
                {"op": "between", "args": [{"property": "severity"}, 2, 3]}]}),
            Box::new(move |f| {
                ["arson", "vandalism"].contains(&p(f, "category").as_str().unwrap())
                    || (2..=3).contains(&p(f, "severity").as_u64().unwrap())
            }),
        ),
        (
            "NOT (description LIKE '%bil%')".into(),
            json!({"op": "not", "args": [{"op": "like", "args": [{"property": "description"}, "%bil%"]}]}),
            Box::new(move |f| !p(f, "description").as_str().unwrap_or("").contains("bil")),
        ),
        (
            "reference IS NULL".into(),
            json!({"op": "isNull", "args": [{"property": "reference"}]}),
            Box::new(move |f| p(f, "reference").is_null()),
        ),
        (
            format!(
                "S_INTERSECTS(geometry, POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s})))"
            ),
            json!({"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}]}),
            Box::new(move |f| {
                let (x, y) = lon_lat(f);
                (w..=e).contains(&x) && (s..=n).contains(&y)
            }),
        ),
        (
            format!(
                "T_AFTER(occurred_at, TIMESTAMP('{mid_text}')) AND S_INTERSECTS(geometry, BBOX({w}, {s}, {e}, {n}))"
            ),
            json!({"op": "and", "args": [
                {"op": "t_after", "args": [{"property": "occurred_at"}, {"timestamp": mid_text}]},
                {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [w, s, e, n]}]}]}),
            Box::new(move |f| {
                let (x, y) = lon_lat(f);
                instant(p(f, "occurred_at").as_str().unwrap()) > mid
                    && (w..=e).contains(&x)
                    && (s..=n).contains(&y)
            }),
        ),
        (
            format!("T_INTERSECTS(occurred_at, INTERVAL('..', '{mid_text}'))"),
            json!({"op": "t_intersects", "args": [{"property": "occurred_at"}, {"interval": ["..", mid_text]}]}),
            Box::new(move |f| instant(p(f, "occurred_at").as_str().unwrap()) <= mid),
        ),
    ];
    for (text, cql_json, pick) in &cases {
        let want: Vec<String> = all
            .iter()
            .filter(|f| pick(f))
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            !want.is_empty() && want.len() < all.len(),
            "{text}: a filter that picks some: {}",
            want.len()
        );
        for url in [
            format!(
                "/collections/incidents/items?limit=10000&filter={}",
                enc(text)
            ),
            format!(
                "/collections/incidents/items?limit=10000&filter-lang=cql2-json&filter={}",
                enc(&cql_json.to_string())
            ),
        ] {
            let (status, fc) = app.get_json(&url).await;
            assert_eq!(status, 200, "{url}: {fc}");
            // Same features, in the default order (newest first).
            assert_eq!(ids(&fc), want, "{text}");
            assert_eq!(fc["numberMatched"], want.len(), "{text}");
        }
    }

    // Paging a filtered answer: the pages add up to the whole, and `next` keeps the filter.
    let text = "category IN ('arson', 'vandalism', 'shooting')";
    let (_, whole) = app
        .get_json(&format!(
            "/collections/incidents/items?limit=10000&filter={}",
            enc(text)
        ))
        .await;
    let mut paged = Vec::new();
    let mut url = app.url(&format!(
        "/collections/incidents/items?limit=7&filter={}",
        enc(text)
    ));
    loop {
        let fc = get_value(&app.client, &url).await;
        paged.extend(ids(&fc));
        match fc["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
        {
            Some(next) => url = next["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, ids(&whole));
}

#[tokio::test]
async fn sortby_orders_like_a_plain_sort() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, all) = app
        .get_json("/collections/incidents/items?limit=10000")
        .await;
    let mut want = all["features"].as_array().unwrap().clone();
    // Stable sort of the default order: severity descending, then category ascending.
    want.sort_by(|a, b| {
        let (sa, sb) = (
            a["properties"]["severity"].as_u64().unwrap(),
            b["properties"]["severity"].as_u64().unwrap(),
        );
        sb.cmp(&sa).then_with(|| {
            a["properties"]["category"]
                .as_str()
                .unwrap()
                .cmp(b["properties"]["category"].as_str().unwrap())
        })
    });
    let want: Vec<String> = want
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    let (status, fc) = app
        .get_json("/collections/incidents/items?limit=10000&sortby=-severity,%2Bcategory")
        .await;
    assert_eq!(status, 200, "{fc}");
    assert_eq!(ids(&fc), want);
    // A `+` left unencoded arrives as a space, and means the same.
    let (_, fc2) = app
        .get_json("/collections/incidents/items?limit=10000&sortby=-severity,+category")
        .await;
    assert_eq!(ids(&fc2), want);
    // Ascending time equals the default order reversed (the demo's times are distinct enough
    // that ties are rare; ties keep the default order, so compare the times).
    let (_, asc) = app
        .get_json("/collections/incidents/items?limit=10000&sortby=occurred_at")
        .await;
    let times: Vec<i64> = asc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| instant(f["properties"]["occurred_at"].as_str().unwrap()))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn refusals_name_the_parameter_and_the_place() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let items = "/collections/incidents/items";
    for (query, param, words) in [
        ("filter=severity%20%3E%3D", "filter", "at character 12"),
        ("filter=colour%20%3D%20'red'", "filter", "queryables are"),
        ("filter=severity%20%3D%20'high'", "filter", "a number"),
        (
            "filter=S_CROSSES(geometry%2C%20POINT(18%2059))",
            "filter",
            "not supported",
        ),
        (
            "filter=S_INTERSECTS(geometry%2C%20POINT(200%2059))",
            "filter",
            "at character 24",
        ),
        (
            "filter=%7B%22op%22%3A%22%3D%22%7D&filter-lang=cql2-json",
            "filter",
            "args",
        ),
        ("filter=TRUE&filter-lang=ecql", "filter-lang", "cql2-text"),
        ("filter=TRUE&filter-crs=EPSG%3A3006", "filter-crs", "CRS84"),
        ("filter-lang=cql2-text", "filter-lang", "goes with filter"),
        ("sortby=colour", "sortby", "choose from"),
        ("sortby=geometry", "sortby", "choose from"),
        ("sortby=severity%2C", "sortby", "empty key"),
    ] {
        let r = app.get(&format!("{items}?{query}")).await;
        let problem = assert_problem(r, 400).await;
        let detail =
            problem["detail"].as_str().unwrap_or_default().to_owned() + &problem.to_string();
        assert!(detail.contains(param), "{query}: {problem}");
        assert!(detail.contains(words), "{query}: {problem}");
    }
    // The server keeps serving.
    assert_eq!(app.get(items).await.status(), 200);
}

#[tokio::test]
async fn a_filter_sees_only_the_callers_view() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    // The coordinator does not see `reference`; the social services see incidents coarsely.
    let coordinator = client_with_token(
        &token_for(
            &app.service,
            "f-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let social = client_with_token(
        &token_for(&app.service, "f-soc", "social_services", "Botkyrka kommun").await,
    );
    let items = app.url("/collections/incidents/items");
    let unknown = coordinator
        .get(format!("{items}?filter={}", enc("colour IS NULL")))
        .send()
        .await
        .unwrap();
    let unknown = assert_problem(unknown, 400).await;
    for (client, name) in [
        (&coordinator, "reference"),
        (&social, "severity"),
        (&social, "occurred_at"),
        (&social, "status"),
    ] {
        // A name the role does not see is refused exactly like one that does not exist.
        let r = client
            .get(format!(
                "{items}?filter={}",
                enc(&format!("{name} IS NULL"))
            ))
            .send()
            .await
            .unwrap();
        let p = assert_problem(r, 400).await;
        let said = p["detail"].as_str().unwrap();
        assert!(said.contains(&format!("'{name}' is not a property")), "{p}");
        assert!(
            !said.contains(&format!(", {name},")),
            "{p}: lists the hidden name"
        );
        let r = client
            .get(format!("{items}?sortby={name}"))
            .send()
            .await
            .unwrap();
        assert_problem(r, 400).await;
        let _ = &unknown;
    }

    // A coarse caller filters cell centres, never positions: a box around one incident's exact
    // position that misses its cell's centre does not find it.
    let (_, exact) = app
        .get_json("/collections/incidents/items?limit=10000")
        .await;
    let coarse = get_value(&social, &format!("{items}?limit=10000")).await;
    let centre_of: std::collections::HashMap<String, (f64, f64)> = coarse["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), lon_lat(f)))
        .collect();
    let mut probed = 0;
    for f in exact["features"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        let Some(&(cx, cy)) = centre_of.get(id) else {
            continue;
        };
        let (x, y) = lon_lat(f);
        let d = 0.0002; // about 20 m
        let (w, s, e, n) = (x - d, y - d, x + d, y + d);
        if (w..=e).contains(&cx) && (s..=n).contains(&cy) {
            continue;
        }
        let filter = format!("S_INTERSECTS(geometry, BBOX({w}, {s}, {e}, {n}))");
        let fc = get_value(
            &social,
            &format!("{items}?limit=10000&filter={}", enc(&filter)),
        )
        .await;
        assert!(
            !ids(&fc).contains(&id.to_owned()),
            "{filter} found {id} by its exact position"
        );
        // Everything it does find has its cell centre in the box.
        for g in fc["features"].as_array().unwrap() {
            let (gx, gy) = lon_lat(g);
            assert!((w..=e).contains(&gx) && (s..=n).contains(&gy), "{g}");
        }
        probed += 1;
        if probed == 10 {
            break;
        }
    }
    assert_eq!(probed, 10);

    // What the coarse view shows it can filter: the same as a plain scan of that view.
    let week = coarse["features"][0]["properties"]["week"]
        .as_str()
        .unwrap()
        .to_owned();
    let want: BTreeSet<String> = coarse["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["properties"]["week"] == week.as_str() && f["properties"]["category"] != "arson"
        })
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    let fc = get_value(
        &social,
        &format!(
            "{items}?limit=10000&filter={}",
            enc(&format!("week = '{week}' AND category <> 'arson'"))
        ),
    )
    .await;
    assert_eq!(ids(&fc).into_iter().collect::<BTreeSet<_>>(), want);
    assert!(!want.is_empty());
}

#[tokio::test]
async fn queryables_are_the_roles_own_properties() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (status, q) = app.get_json("/collections/incidents/queryables").await;
    assert_eq!(status, 200);
    let r = app.get("/collections/incidents/queryables").await;
    assert_eq!(r.headers()["content-type"], "application/schema+json");
    let (_, schema) = app.get_json("/collections/incidents/schema").await;
    let mut want: BTreeSet<String> = schema["properties"]["properties"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    want.insert("geometry".into());
    let got: BTreeSet<String> = q["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        q["properties"]["geometry"]["x-ogc-role"],
        "primary-geometry"
    );
    assert_eq!(q["additionalProperties"], false);
    // Every queryable can be filtered on (IS NULL takes any), and every sortable sorted by.
    for name in &got {
        let (status, body) = app
            .get_json(&format!(
                "/collections/incidents/items?limit=1&filter={}",
                enc(&format!("{name} IS NULL OR NOT {name} IS NULL"))
            ))
            .await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    let (_, c) = app.get_json("/collections/incidents").await;
    assert!(
        c["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"),
        "{c}"
    );
    let (_, conf) = app.get_json("/conformance").await;
    let classes = conf["conformsTo"].to_string();
    for c in [
        "ogcapi-features-3/1.0/conf/filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
    ] {
        assert!(classes.contains(c), "{c}");
    }
}

#[tokio::test]
async fn a_filter_over_too_many_features_asks_for_a_box() {
    use lagesbild::service::visibility::MAX_REFINED;
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    app.service.unrestricted().load(
        lagesbild::domain::Layer::Incidents,
        lagesbild::demo::synthetic_incidents(
            7,
            time::macros::datetime!(2026-11-23 12:00 UTC),
            MAX_REFINED + 1,
        ),
    );
    let r = app
        .get("/collections/incidents/items?limit=1&filter=severity%20%3E%3D%201")
        .await;
    let p = assert_problem(r, 422).await;
    assert!(p.to_string().contains("bbox or datetime"), "{p}");
    // Without a filter the index pages it as ever; with a box the filter answers.
    let (status, fc) = app.get_json("/collections/incidents/items?limit=1").await;
    assert_eq!(
        (status, fc["numberMatched"].as_u64()),
        (200, Some(MAX_REFINED as u64 + 1))
    );
    let (status, fc) = app
        .get_json("/collections/incidents/items?limit=1&bbox=17.8360,59.2340,17.8380,59.2360&filter=severity%20%3E%3D%201")
        .await;
    assert_eq!(status, 200, "{fc}");
}

#[tokio::test]
async fn filters_are_bounded_and_a_probe_is_recorded() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let items = "/collections/incidents/items";
    // Nesting that would run the parser off its stack is refused, as are costly filters.
    let deep = format!("{}TRUE{}", "(".repeat(7000), ")".repeat(10));
    let pattern = format!("description LIKE '{}'", "%a".repeat(150));
    let list = format!(
        "category IN ({})",
        (0..101)
            .map(|i| format!("'c{i}'"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let many = vec!["severity = 1"; 65].join(" OR ");
    let not_deep = format!("{}TRUE", "NOT ".repeat(40));
    // 7 000 parentheses, sent as they are (encoded they would be over the 8 KiB target limit).
    let r = app.get(&format!("{items}?filter={deep}")).await;
    let p = assert_problem(r, 400).await;
    assert!(p.to_string().contains("deeper than 32"), "{p}");
    for (filter, words) in [
        (not_deep.as_str(), "deeper than 32"),
        (pattern.as_str(), "at most 200 characters"),
        (list.as_str(), "at most 100 values"),
        (many.as_str(), "at most 64 are tested"),
    ] {
        let r = app.get(&format!("{items}?filter={}", enc(filter))).await;
        let p = assert_problem(r, 400).await;
        assert!(p.to_string().contains(words), "{words}: {p}");
    }
    let deep_json = format!(
        "{}true{}",
        "{\"op\":\"not\",\"args\":[".repeat(40),
        "]}".repeat(40)
    );
    let r = app
        .get(&format!(
            "{items}?filter-lang=cql2-json&filter={}",
            enc(&deep_json)
        ))
        .await;
    let p = assert_problem(r, 400).await;
    assert!(p.to_string().contains("deeper than 32"), "{p}");
    assert_eq!(
        app.get(items).await.status(),
        200,
        "the server keeps serving"
    );

    // An empty page still says how many matched: a probe of restricted text is recorded with
    // its filter and the restricted features it matched.
    let police = client_with_token(&token_for(&app.service, "f-pol", "police", "Polisen").await);
    let probe = "classification = 'restricted' AND description LIKE '%a%'";
    let fc = get_value(
        &police,
        &app.url(&format!("{items}?offset=100000&filter={}", enc(probe))),
    )
    .await;
    let matched = fc["numberMatched"].as_u64().unwrap();
    assert!(matched > 0, "the demo has restricted incidents with an 'a'");
    assert_eq!(fc["features"].as_array().unwrap().len(), 0);
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            actor: Some("f-pol".into()),
            action: Some("read".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let row = rows.first().expect("the probe left a record");
    let detail = row.detail.clone().unwrap_or_default();
    assert!(detail.contains(probe), "{detail}");
    assert!(detail.contains(&format!("{matched} matched")), "{detail}");
    let named: Vec<String> = serde_json::from_str(row.features.as_deref().unwrap()).unwrap();
    assert_eq!(
        named.len() as u64,
        matched,
        "every restricted match is named"
    );

    // `a, -b` (a space before the minus) reads as two keys.
    let (status, _) = app
        .get_json(&format!("{items}?sortby={}", enc("category, -severity")))
        .await;
    assert_eq!(status, 200);
}
