#![allow(clippy::unwrap_used)]

use geo::{Area, Geometry, LineString, Point, Polygon, coord};

use super::*;

fn point_at(tile: TileId, fx: f64, fy: f64) -> Geometry<f64> {
    // A point at a fraction of the tile's width and height (from the north-west corner).
    let [w, s, e, n] = tile.bounds();
    let lon = w + (e - w) * fx;
    // Latitude by Mercator: interpolate in tile units, then invert.
    let (_, y0) = tile.to_tile(w, n);
    let (_, y1) = tile.to_tile(w, s);
    let target = y0 + (y1 - y0) * fy;
    let (mut lo, mut hi) = (s, n);
    for _ in 0..80 {
        let mid = (lo + hi) / 2.0;
        if tile.to_tile(lon, mid).1 > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Geometry::Point(Point::new(lon, (lo + hi) / 2.0))
}

#[test]
fn tiles_outside_the_matrix_are_refused() {
    assert!(TileId::new(0, 0, 0).is_ok());
    assert!(TileId::new(14, 4823, 9004).is_ok());
    assert!(TileId::new(1, 2, 0).unwrap_err().contains("0 to 1"));
    assert!(TileId::new(3, 0, 8).is_err());
    assert!(TileId::new(23, 0, 0).unwrap_err().contains("0 to 22"));
    assert!(TileId::new(u32::MAX, 0, 0).is_err());
}

#[test]
fn the_corners_of_a_tile_map_to_its_extent() {
    let t = TileId::new(14, 4823, 9004).unwrap();
    let [w, s, e, n] = t.bounds();
    let (x0, y0) = t.to_tile(w, n);
    let (x1, y1) = t.to_tile(e, s);
    assert!(x0.abs() < 1e-6 && y0.abs() < 1e-6, "{x0} {y0}");
    assert!(
        (x1 - 4096.0).abs() < 1e-6 && (y1 - 4096.0).abs() < 1e-6,
        "{x1} {y1}"
    );
    // A point inside maps inside, in proportion along x.
    let (x, y) = t.to_tile((w + e) / 2.0, (s + n) / 2.0);
    assert!(
        (x - 2048.0).abs() < 1e-6 && y > 0.0 && y < 4096.0,
        "{x} {y}"
    );
    let world = TileId::new(0, 0, 0).unwrap().bounds();
    assert!((world[0] + 180.0).abs() < 1e-9 && (world[3] - MAX_LATITUDE).abs() < 1e-9);
}

#[test]
fn the_buffer_grows_the_query_box() {
    let t = TileId::new(10, 300, 560).unwrap();
    let plain = t.bounds();
    let grown = t.bounds_with(BUFFER);
    assert!(
        grown[0] < plain[0] && grown[1] < plain[1] && grown[2] > plain[2] && grown[3] > plain[3]
    );
}

#[test]
fn points_keep_their_position_and_properties() {
    let t = TileId::new(12, 1205, 2250).unwrap();
    let mut b = LayerBuilder::new(t, "incidents");
    b.add(
        &point_at(t, 0.25, 0.75),
        1,
        vec![
            ("category".to_owned(), Value::Str("fire".into())),
            ("id".to_owned(), Value::Str("a".into())),
        ],
    );
    // Beyond the buffer: left out.
    b.add(&point_at(t, 1.5, 0.5), 1, vec![]);
    let built = b.finish();
    assert!(!built.gridded);
    let layers = decode(&built.bytes).unwrap();
    let f = &layers["incidents"];
    assert_eq!(f.len(), 1);
    let Geometry::Point(p) = f[0].0 else {
        panic!("{:?}", f[0].0)
    };
    assert!(
        (p.x() - 1024.0).abs() <= 1.0 && (p.y() - 3072.0).abs() <= 1.0,
        "{p:?}"
    );
    assert_eq!(f[0].1["category"], Value::Str("fire".into()));
}

#[test]
fn dense_points_are_gridded_and_every_one_is_counted() {
    let t = TileId::new(14, 4823, 9004).unwrap();
    let mut b = LayerBuilder::new(t, "incidents");
    let mut n = 0u64;
    for i in 0..120 {
        for j in 0..100 {
            let long = "x".repeat(40);
            b.add(
                &point_at(t, f64::from(i) / 120.0, f64::from(j) / 100.0),
                1,
                vec![("title".to_owned(), Value::Str(format!("{long}{i}-{j}")))],
            );
            n += 1;
        }
    }
    let built = b.finish();
    assert!(built.gridded);
    assert!(built.bytes.len() <= MAX_TILE_BYTES, "{}", built.bytes.len());
    assert_eq!(counted(&built.bytes), n);
    let layers = decode(&built.bytes).unwrap();
    // No cell holds more than the points that can fall in a 64-unit square.
    assert!(layers["incidents"].len() <= 64 * 64 + 2 * 64 + 1);
}

#[test]
fn a_heavy_layer_under_the_point_limit_is_gridded_too() {
    let t = TileId::new(15, 9646, 18008).unwrap();
    let mut b = LayerBuilder::new(t, "incidents");
    for i in 0..3000 {
        let text = format!("{i:05}").repeat(40);
        b.add(
            &point_at(t, f64::from(i % 60) / 60.0, f64::from(i / 60) / 50.0),
            1,
            vec![("title".to_owned(), Value::Str(text))],
        );
    }
    let built = b.finish();
    assert!(built.gridded, "{} bytes", built.bytes.len());
    assert!(built.bytes.len() <= MAX_TILE_BYTES);
}

#[test]
fn a_polygon_larger_than_the_tile_is_clipped_to_the_buffer_with_outer_rings_positive() {
    let t = TileId::new(13, 2411, 4502).unwrap();
    let [w, s, e, n] = t.bounds();
    let (dw, dh) = (e - w, n - s);
    let big = Polygon::new(
        LineString::from(vec![
            coord! { x: w - dw, y: s - dh },
            coord! { x: e + dw, y: s - dh },
            coord! { x: e + dw, y: n + dh },
            coord! { x: w - dw, y: n + dh },
            coord! { x: w - dw, y: s - dh },
        ]),
        vec![],
    );
    let mut b = LayerBuilder::new(t, "areas");
    b.add(&Geometry::Polygon(big), 1, vec![]);
    let layers = decode(&b.finish().bytes).unwrap();
    let (g, _) = &layers["areas"][0];
    let Geometry::Polygon(p) = g else {
        panic!("{g:?}")
    };
    let r = p.exterior();
    for c in &r.0 {
        assert!((-BUFFER..=4096.0 + BUFFER).contains(&c.x), "{c:?}");
        assert!((-BUFFER..=4096.0 + BUFFER).contains(&c.y), "{c:?}");
    }
    // In tile units (y down) MVT wants the outer ring's signed area positive.
    assert!(p.signed_area() > 0.0, "{}", p.signed_area());
    let side = 4096.0 + 2.0 * BUFFER;
    assert!((p.unsigned_area() - side * side).abs() < side * 4.0);
}

#[test]
fn a_line_crossing_the_tile_is_cut_at_the_buffer() {
    let t = TileId::new(12, 1205, 2250).unwrap();
    let [w, s, e, n] = t.bounds();
    let mid = (s + n) / 2.0;
    let line = LineString::from(vec![
        coord! { x: w - (e - w), y: mid },
        coord! { x: e + (e - w), y: mid },
    ]);
    let mut b = LayerBuilder::new(t, "patrol_routes");
    b.add(&Geometry::LineString(line), 1, vec![]);
    // A line far away is left out.
    b.add(
        &Geometry::LineString(LineString::from(vec![
            coord! { x: e + 1.0, y: n + 1.0 },
            coord! { x: e + 2.0, y: n + 1.0 },
        ])),
        1,
        vec![],
    );
    let layers = decode(&b.finish().bytes).unwrap();
    assert_eq!(layers["patrol_routes"].len(), 1);
    let Geometry::LineString(l) = &layers["patrol_routes"][0].0 else {
        panic!()
    };
    let xs: Vec<f64> = l.0.iter().map(|c| c.x).collect();
    assert_eq!(xs.iter().copied().fold(f64::INFINITY, f64::min), -BUFFER);
    assert_eq!(
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        4096.0 + BUFFER
    );
}

#[test]
fn the_same_bytes_give_the_same_tag() {
    assert_eq!(etag(b"abc"), etag(b"abc"));
    assert_ne!(etag(b"abc"), etag(b"abd"));
    assert!(etag(b"").starts_with('"'));
}

/// The same features encoded through geozero's generated `prost` messages and its
/// `TagsBuilder`, as lagesbild did before it wrote tiles itself.
fn reference_tile(name: &str, features: &[(Geometry<f64>, Props)]) -> Vec<u8> {
    use geozero::ToMvt;
    use geozero::mvt::{TagsBuilder, tile};
    let mut tags = TagsBuilder::new();
    let mut out = Vec::new();
    for (g, props) in features {
        let mut f = g.to_mvt_unscaled().unwrap();
        for (k, v) in props {
            let (ki, vi) = tags.insert_ref(k, v.clone());
            f.tags.push(ki);
            f.tags.push(vi);
        }
        out.push(f);
    }
    let (keys, values) = tags.into_tags();
    Tile {
        layers: vec![tile::Layer {
            version: 2,
            name: name.to_owned(),
            features: out,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        }],
    }
    .encode_to_vec()
}

#[test]
fn tiles_are_byte_for_byte_what_the_prost_encoding_makes() {
    let t = TileId::new(14, 4823, 9004).unwrap();
    let mut b = LayerBuilder::new(t, "incidents");
    let mut expected = Vec::new();
    let values = [
        Value::Str("fire".into()),
        Value::Str(String::new()),
        Value::Str("åäö ✓".into()),
        Value::Uint(0),
        Value::Uint(300),
        Value::Uint(u64::MAX),
        Value::Int(-5),
        Value::Int(i64::MIN),
        Value::Sint(-3),
        Value::Sint(i64::MAX),
        Value::Bool(true),
        Value::Bool(false),
        Value::Double(-1.5),
        Value::Float(2.25),
    ];
    // Points with shared and repeated values, some with no properties, one out of the buffer.
    for i in 0..200u32 {
        let g = point_at(t, f64::from(i % 20) / 19.5, f64::from(i / 20) / 9.7);
        let mut props: Props = Vec::new();
        if i % 7 != 0 {
            props.push(("id".to_owned(), Value::Str(format!("f{i}"))));
            props.push(("v".to_owned(), values[i as usize % values.len()].clone()));
            props.push((
                "w".to_owned(),
                values[(i as usize * 5) % values.len()].clone(),
            ));
        }
        let Geometry::Point(p) = g else {
            unreachable!()
        };
        let (x, y) = t.to_tile(p.x(), p.y());
        expected.push((
            Geometry::Point(Point::new(x.round(), y.round())),
            props.clone(),
        ));
        b.add(&g, 1, props);
    }
    b.add(
        &point_at(t, 1.5, 0.5),
        1,
        vec![("id".to_owned(), Value::Str("far".into()))],
    );
    // A line and a polygon inside the tile (their cutting is tested above; here, the bytes).
    let [w, s, e, n] = t.bounds();
    let (dw, dh) = (e - w, n - s);
    let line = Geometry::LineString(LineString::from(vec![
        coord! { x: w + dw * 0.1, y: s + dh * 0.1 },
        coord! { x: w + dw * 0.5, y: s + dh * 0.7 },
        coord! { x: w + dw * 0.9, y: s + dh * 0.2 },
    ]));
    let square = Geometry::Polygon(Polygon::new(
        LineString::from(vec![
            coord! { x: w + dw * 0.2, y: s + dh * 0.2 },
            coord! { x: w + dw * 0.6, y: s + dh * 0.2 },
            coord! { x: w + dw * 0.6, y: s + dh * 0.6 },
            coord! { x: w + dw * 0.2, y: s + dh * 0.6 },
            coord! { x: w + dw * 0.2, y: s + dh * 0.2 },
        ]),
        vec![],
    ));
    for (g, label) in [(line, "line"), (square, "square")] {
        let props = vec![("kind".to_owned(), Value::Str(label.into()))];
        let tile_units = g.map_coords(|c| {
            let (x, y) = t.to_tile(c.x, c.y);
            geo::Coord { x, y }
        });
        expected.push((cut(tile_units).unwrap(), props.clone()));
        b.add(&g, 1, props);
    }
    let built = b.finish();
    assert!(!built.gridded);
    assert_eq!(built.features, 203);
    assert_eq!(built.bytes, reference_tile("incidents", &expected));
}

#[test]
fn gridded_points_land_the_same_in_any_order() {
    let t = TileId::new(14, 4823, 9004).unwrap();
    let points: Vec<Geometry<f64>> = (0..9000u32)
        .map(|i| point_at(t, f64::from(i % 97) / 97.3, f64::from(i % 89) / 89.9))
        .collect();
    let build = |order: &mut dyn Iterator<Item = &Geometry<f64>>| {
        let mut b = LayerBuilder::new(t, "incidents");
        for g in order {
            b.add(g, 1, Vec::new());
        }
        b.finish()
    };
    let forward = build(&mut points.iter());
    let backward = build(&mut points.iter().rev());
    let mut shuffled: Vec<&Geometry<f64>> = points.iter().collect();
    // A fixed permutation: every 7th from each start.
    shuffled.sort_by_key(|g| {
        let Geometry::Point(p) = g else {
            unreachable!()
        };
        ((p.x() * 1e7) as i64 % 7, (p.y() * 1e7) as i64)
    });
    let mixed = build(&mut shuffled.into_iter());
    assert!(forward.gridded);
    assert_eq!(forward.bytes, backward.bytes);
    assert_eq!(forward.bytes, mixed.bytes);
}

#[test]
fn a_caller_may_grid_points_however_few() {
    let t = TileId::new(14, 4823, 9004).unwrap();
    let mut b = LayerBuilder::new(t, "incidents");
    b.grid_points();
    for i in 0..10u32 {
        b.add(&point_at(t, f64::from(i) / 10.0, 0.5), 1, Vec::new());
    }
    let built = b.finish();
    assert!(built.gridded);
    assert_eq!(counted(&built.bytes), 10);
}

/// The sum of the `count`s of a gridded incidents tile.
fn counted(bytes: &[u8]) -> u64 {
    decode(bytes).unwrap()["incidents"]
        .iter()
        .map(|(_, p)| match p["count"] {
            Value::Uint(c) => c,
            ref other => panic!("{other:?}"),
        })
        .sum()
}
