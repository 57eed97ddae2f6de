use serde_json::{Value, json};

use super::eval::like_for_tests as like;
use super::*;

fn features() -> Vec<Value> {
    let f = |id: u32,
             lon: f64,
             lat: f64,
             category: &str,
             severity: Option<u8>,
             at: &str,
             title: Value| {
        json!({
            "type": "Feature",
            "id": id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": category, "severity": severity, "occurred_at": at, "title": title},
        })
    };
    vec![
        f(
            1,
            18.07,
            59.33,
            "shooting",
            Some(5),
            "2026-11-02T21:00:00Z",
            json!("Skott vid torget"),
        ),
        f(
            2,
            18.10,
            59.35,
            "arson",
            Some(2),
            "2026-11-15T02:30:00Z",
            json!("Bilbrand"),
        ),
        f(
            3,
            17.90,
            59.40,
            "arson",
            None,
            "2026-10-31T23:59:59Z",
            Value::Null,
        ),
        f(
            4,
            18.20,
            59.20,
            "vandalism",
            Some(1),
            "2026-11-01T00:00:00+01:00",
            json!("100% klotter_"),
        ),
    ]
}

fn queryables() -> Queryables {
    Queryables::from_schema(&json!({"properties": {"properties": {"properties": {
        "category": {"type": ["string", "null"]},
        "severity": {"type": ["integer", "null"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "title": {"type": ["string", "null"]},
    }}}}))
}

fn ids(e: &Expr) -> Vec<u64> {
    features()
        .iter()
        .filter(|f| e.matches(f))
        .map(|f| f["id"].as_u64().unwrap())
        .collect()
}

/// Each filter in text and JSON, and the ids a plain Rust predicate picks.
type Pick = Box<dyn Fn(&Value) -> bool>;

fn cases() -> Vec<(&'static str, Value, Pick)> {
    let p = |f: &Value, k: &str| f["properties"][k].clone();
    vec![
        (
            "category = 'arson'",
            json!({"op": "=", "args": [{"property": "category"}, "arson"]}),
            Box::new(move |f| p(f, "category") == "arson"),
        ),
        (
            "severity >= 2 AND category <> 'arson'",
            json!({"op": "and", "args": [
            {"op": ">=", "args": [{"property": "severity"}, 2]},
            {"op": "<>", "args": [{"property": "category"}, "arson"]}]}),
            Box::new(move |f| {
                p(f, "severity").as_u64().is_some_and(|s| s >= 2) && p(f, "category") != "arson"
            }),
        ),
        // Unknown (severity null) is neither in nor out: NOT keeps it out.
        (
            "NOT severity < 3",
            json!({"op": "not", "args": [{"op": "<", "args": [{"property": "severity"}, 3]}]}),
            Box::new(move |f| p(f, "severity").as_u64().is_some_and(|s| s >= 3)),
        ),
        (
            "severity IS NULL OR severity = 1",
            json!({"op": "or", "args": [
            {"op": "isNull", "args": [{"property": "severity"}]},
            {"op": "=", "args": [{"property": "severity"}, 1]}]}),
            Box::new(move |f| p(f, "severity").is_null() || p(f, "severity") == 1),
        ),
        (
            "category IN ('arson', 'vandalism')",
            json!({"op": "in", "args": [{"property": "category"}, ["arson", "vandalism"]]}),
            Box::new(move |f| p(f, "category") == "arson" || p(f, "category") == "vandalism"),
        ),
        (
            "category NOT IN ('arson')",
            json!({"op": "not", "args": [{"op": "in", "args": [{"property": "category"}, ["arson"]]}]}),
            Box::new(move |f| p(f, "category") != "arson"),
        ),
        (
            "severity BETWEEN 2 AND 5",
            json!({"op": "between", "args": [{"property": "severity"}, 2, 5]}),
            Box::new(move |f| {
                p(f, "severity")
                    .as_u64()
                    .is_some_and(|s| (2..=5).contains(&s))
            }),
        ),
        (
            "title LIKE 'B%'",
            json!({"op": "like", "args": [{"property": "title"}, "B%"]}),
            Box::new(move |f| p(f, "title").as_str().is_some_and(|t| t.starts_with('B'))),
        ),
        (
            "title LIKE '100\\% klotter\\_'",
            json!({"op": "like", "args": [{"property": "title"}, "100\\% klotter\\_"]}),
            Box::new(move |f| p(f, "title") == "100% klotter_"),
        ),
        (
            "S_INTERSECTS(geometry, BBOX(18.0, 59.3, 18.15, 59.36))",
            json!({"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [18.0, 59.3, 18.15, 59.36]}]}),
            Box::new(|f| {
                let c = &f["geometry"]["coordinates"];
                let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                (18.0..=18.15).contains(&x) && (59.3..=59.36).contains(&y)
            }),
        ),
        (
            "S_WITHIN(geometry, POLYGON((17.8 59.3, 18.0 59.3, 18.0 59.5, 17.8 59.5, 17.8 59.3)))",
            json!({"op": "s_within", "args": [{"property": "geometry"},
            {"type": "Polygon", "coordinates": [[[17.8, 59.3], [18.0, 59.3], [18.0, 59.5], [17.8, 59.5], [17.8, 59.3]]]}]}),
            Box::new(|f| f["id"] == 3),
        ),
        (
            "S_DISJOINT(geometry, POINT(18.07 59.33))",
            json!({"op": "s_disjoint", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [18.07, 59.33]}]}),
            Box::new(|f| f["id"] != 1),
        ),
        // 2026-11-01T00:00:00+01:00 is 2026-10-31T23:00Z: before November in UTC.
        (
            "T_INTERSECTS(occurred_at, INTERVAL('2026-11-01T00:00:00Z', '..'))",
            json!({"op": "t_intersects", "args": [{"property": "occurred_at"}, {"interval": ["2026-11-01T00:00:00Z", ".."]}]}),
            Box::new(|f| f["id"] == 1 || f["id"] == 2),
        ),
        (
            "T_BEFORE(occurred_at, TIMESTAMP('2026-11-01T00:00:00Z'))",
            json!({"op": "t_before", "args": [{"property": "occurred_at"}, {"timestamp": "2026-11-01T00:00:00Z"}]}),
            Box::new(|f| f["id"] == 3 || f["id"] == 4),
        ),
        (
            "occurred_at >= DATE('2026-11-02') AND occurred_at <= DATE('2026-11-15')",
            json!({"op": "and", "args": [
            {"op": ">=", "args": [{"property": "occurred_at"}, {"date": "2026-11-02"}]},
            {"op": "<=", "args": [{"property": "occurred_at"}, {"date": "2026-11-15"}]}]}),
            Box::new(|f| f["id"] == 1 || f["id"] == 2),
        ),
        (
            "T_DURING(occurred_at, INTERVAL('2026-10-31', '2026-11-02'))",
            json!({"op": "t_during", "args": [{"property": "occurred_at"}, {"interval": ["2026-10-31", "2026-11-02"]}]}),
            Box::new(|f| f["id"] == 3 || f["id"] == 4 || f["id"] == 1),
        ),
        ("TRUE", json!(true), Box::new(|_| true)),
        (
            "(category = 'arson' OR category = 'shooting') AND NOT (severity IS NULL)",
            json!({"op": "and", "args": [
            {"op": "or", "args": [{"op": "=", "args": [{"property": "category"}, "arson"]}, {"op": "=", "args": [{"property": "category"}, "shooting"]}]},
            {"op": "not", "args": [{"op": "isNull", "args": [{"property": "severity"}]}]}]}),
            Box::new(move |f| {
                (p(f, "category") == "arson" || p(f, "category") == "shooting")
                    && !p(f, "severity").is_null()
            }),
        ),
    ]
}

#[test]
fn text_and_json_agree_with_a_plain_predicate() {
    let q = queryables();
    for (text, json, want) in cases() {
        let t = Expr::parse(text, Lang::Text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let j =
            Expr::parse(&json.to_string(), Lang::Json).unwrap_or_else(|e| panic!("{json}: {e}"));
        q.check(&t).unwrap_or_else(|e| panic!("{text}: {e}"));
        q.check(&j).unwrap_or_else(|e| panic!("{json}: {e}"));
        let expected: Vec<u64> = features()
            .iter()
            .filter(|f| want(f))
            .map(|f| f["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids(&t), expected, "{text}");
        assert_eq!(ids(&j), expected, "{json}");
    }
}

#[test]
fn keywords_are_case_blind_and_precedence_is_the_standards() {
    let a = Expr::parse(
        "category = 'arson' or category = 'shooting' and severity > 4",
        Lang::Text,
    )
    .unwrap();
    // AND binds tighter: arson (any severity), or a shooting above 4.
    assert_eq!(ids(&a), vec![1, 2, 3]);
    let b = Expr::parse("\"category\"='it''s'", Lang::Text).unwrap();
    assert_eq!(
        b,
        Expr::Compare(
            CmpOp::Eq,
            Operand::Property("category".into()),
            Operand::Text("it's".into())
        )
    );
}

#[test]
fn like_matches_as_sql_does() {
    assert!(like("Bilbrand", "B%"));
    assert!(like("Bilbrand", "%brand"));
    assert!(like("Bilbrand", "B_lb%d"));
    assert!(!like("Bilbrand", "b%"), "case matters");
    assert!(like("", "%"));
    assert!(!like("", "_"));
    assert!(like("a%b", "a\\%b"));
    assert!(!like("axb", "a\\%b"));
    assert!(like("åäö", "å_ö"));
}

#[test]
fn what_gdal_writes_is_read() {
    // GDAL up to 3.6 sends `filter-lang=cql-text` with these forms (ogroapifdriver.cpp).
    assert_eq!(Lang::parse("cql-text"), Ok(Lang::Text));
    let q = queryables();
    for (text, want) in [
        ("(severity >= 1) AND (category <> 'arson')", vec![1, 4]),
        ("NOT ((severity IS NULL))", vec![1, 2, 4]),
        ("title ILIKE 'bil%'", vec![2]),
        (
            "(category = 'arson') OR (title LIKE '%torget')",
            vec![1, 2, 3],
        ),
        ("occurred_at >= '2026-11-02T00:00:00'", vec![1, 2]),
        ("occurred_at < '2026-11-01'", vec![3, 4]),
    ] {
        let e = Expr::parse(text, Lang::Text).unwrap_or_else(|e| panic!("{text}: {e}"));
        q.check(&e).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(ids(&e), want, "{text}");
    }
}

#[test]
fn errors_say_what_and_where() {
    let err = |s: &str| Expr::parse(s, Lang::Text).unwrap_err();
    assert!(
        err("category = ").contains("at character 12"),
        "{}",
        err("category = ")
    );
    assert!(err("category == 'x'").contains("at character 11"));
    assert!(err("category = 'x").contains("not closed"));
    assert!(err("S_CROSSES(geometry, POINT(1 2))").contains("not supported"));
    assert!(err("S_INTERSECTS(geometry, POINT(200 2))").contains("at character 24"));
    assert!(err("occurred_at > TIMESTAMP('yesterday')").contains("RFC 3339"));
    assert!(err("a = 1 b").contains("AND, OR"));
    assert!(err("").contains("empty"));
    let jerr = |v: Value| Expr::parse(&v.to_string(), Lang::Json).unwrap_err();
    assert!(jerr(json!({"op": "=", "args": [1]})).contains("/args"));
    assert!(
        jerr(json!({"op": "and", "args": [true, {"op": "x", "args": []}]})).contains("/args/1/op")
    );
    let q = queryables();
    let check = |s: &str| q.check(&Expr::parse(s, Lang::Text).unwrap()).unwrap_err();
    assert!(
        check("reference = 'x'")
            .contains("queryables are category, geometry, occurred_at, severity, title")
    );
    assert!(check("severity = 'high'").contains("the property 'severity' (a number)"));
    assert!(check("severity LIKE '1%'").contains("LIKE"));
    assert!(check("S_INTERSECTS(category, POINT(1 2))").contains("geometries"));
    assert!(check("T_INTERSECTS(title, DATE('2026-01-01'))").contains("times"));
    assert!(check("occurred_at > 'last week'").contains("compares"));
    // A quoted instant is accepted where a time is compared.
    q.check(&Expr::parse("occurred_at > '2026-11-01T00:00:00Z'", Lang::Text).unwrap())
        .unwrap();
}

#[test]
fn sortby_orders_with_missing_values_last() {
    let q = queryables();
    let keys = parse_sortby("-severity, occurred_at", &q).unwrap();
    let mut fs = features();
    fs.sort_by(|a, b| order(a, b, &keys));
    let got: Vec<u64> = fs.iter().map(|f| f["id"].as_u64().unwrap()).collect();
    assert_eq!(got, vec![1, 2, 4, 3]);
    // Times compare as times, not as text (+01:00 is earlier than the Z instant after it).
    let keys = parse_sortby("+occurred_at", &q).unwrap();
    fs.sort_by(|a, b| order(a, b, &keys));
    let got: Vec<u64> = fs.iter().map(|f| f["id"].as_u64().unwrap()).collect();
    assert_eq!(got, vec![4, 3, 1, 2]);
    assert!(
        parse_sortby("geometry", &q)
            .unwrap_err()
            .contains("choose from category, occurred_at, severity, title")
    );
    assert!(parse_sortby("reference", &q).is_err());
    assert!(parse_sortby("severity,", &q).is_err());
}

/// Every filter of `tests/fixtures/cql2_reference.json` picks exactly the features pygeofilter
/// picked (scripts/reference/cql2.py).
#[test]
fn the_same_features_as_pygeofilter() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cql2_reference.json"
    ))
    .unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let features = reference["features"].as_array().unwrap();
    let q = Queryables::from_schema(&json!({"properties": {"properties": {"properties": {
        "category": {"type": "string"},
        "severity": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string"},
        "title": {"type": ["string", "null"]},
    }}}}));
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let filter = case["filter"].as_str().unwrap();
        let want: Vec<&str> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let e = Expr::parse(filter, Lang::Text).unwrap_or_else(|e| panic!("{filter}: {e}"));
        q.check(&e).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let got: Vec<&str> = features
            .iter()
            .filter(|f| e.matches(f))
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{filter}");
    }
}
