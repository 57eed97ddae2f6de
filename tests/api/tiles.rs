//! Vector tiles (OGC API – Tiles, MVT): the same features as items for the tile's box and
//! filters, where items put them; the tileset documents; ETags that change exactly when a
//! write touches the tile; clear errors.

use std::collections::{BTreeSet, HashMap};

use lagesbild::tiles::{BUFFER, TileId, Value as TileValue, decode};
use serde_json::Value;

use crate::common::{TestApp, assert_problem, fresh_sqlite, incident};

/// The tile of zoom `z` holding `lon, lat`.
fn tile_at(z: u32, lon: f64, lat: f64) -> TileId {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    TileId::new(z, y, x).unwrap()
}

fn path(layer: &str, t: TileId) -> String {
    format!(
        "/collections/{layer}/tiles/WebMercatorQuad/{}/{}/{}",
        t.z, t.y, t.x
    )
}

async fn tile_bytes(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    let h = r.headers().clone();
    (h, r.bytes().await.unwrap().to_vec())
}

/// The items `/items` returns for the tile's buffered box and `extra` filters.
async fn items_in(app: &TestApp, layer: &str, t: TileId, extra: &str) -> Vec<Value> {
    let b = t.bounds_with(BUFFER);
    let (status, body) = app
        .get_json(&format!(
            "/collections/{layer}/items?limit=10000&bbox={},{},{},{}{extra}",
            b[0], b[1], b[2], b[3]
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["numberMatched"], body["numberReturned"]);
    body["features"].as_array().unwrap().clone()
}

fn str_of(v: &TileValue) -> String {
    match v {
        TileValue::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_tile_holds_what_items_hold_for_its_box_where_items_put_it() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    // The Alby hotspot at zoom 14, a quarter of it at 16, and with filters.
    for (z, extra) in [
        (14, ""),
        (16, ""),
        (14, "&category=car_fire,shooting"),
        (14, "&datetime=2026-06-01T00:00:00Z/..&status=open"),
    ] {
        let t = tile_at(z, 17.845, 59.238);
        let query = extra.replacen('&', "?", 1);
        let (headers, bytes) = tile_bytes(&app, &format!("{}{query}", path("incidents", t))).await;
        assert_eq!(headers["x-lagesbild-gridded"], "false");
        let layers = decode(&bytes).unwrap();
        let got = &layers["incidents"];
        let want = items_in(&app, "incidents", t, extra).await;
        assert!(!want.is_empty(), "z{z}{extra}: the test needs features");
        let by_id: HashMap<String, &Value> = want
            .iter()
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f))
            .collect();
        let ids: BTreeSet<String> = got.iter().map(|(_, p)| str_of(&p["id"])).collect();
        assert_eq!(ids.len(), got.len(), "z{z}{extra}: each feature once");
        assert_eq!(
            ids,
            by_id.keys().cloned().collect::<BTreeSet<_>>(),
            "z{z}{extra}"
        );
        for (g, props) in got {
            let f = by_id[&str_of(&props["id"])];
            let c = &f["geometry"]["coordinates"];
            let (x, y) = t.to_tile(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            let geo::Geometry::Point(p) = g else {
                panic!("{g:?}")
            };
            assert!(
                // Items round to 7 decimals (about a centimetre), tiles round the stored position.
                (p.x() - x).abs() <= 0.55 && (p.y() - y).abs() <= 0.55,
                "z{z}: {p:?} vs ({x}, {y})"
            );
            for key in [
                "category",
                "status",
                "occurred_at",
                "organisation",
                "classification",
            ] {
                assert_eq!(
                    str_of(&props[key]),
                    f["properties"][key].as_str().unwrap(),
                    "{key}"
                );
            }
            // Slim: what draws, filters and finds it; the rest is one items request away.
            assert!(!props.contains_key("description") && !props.contains_key("severity"));
        }
    }
    // Zoomed out, the whole layer is in one tile, each incident counted once.
    let world = TileId::new(0, 0, 0).unwrap();
    let (_, bytes) = tile_bytes(&app, &path("incidents", world)).await;
    let layers = decode(&bytes).unwrap();
    let total: u64 = layers["incidents"]
        .iter()
        .map(|(_, p)| match p.get("count") {
            Some(TileValue::Uint(n)) => *n,
            _ => 1,
        })
        .sum();
    assert_eq!(total, 3_600);
    assert!(bytes.len() <= lagesbild::tiles::MAX_TILE_BYTES);
    app.stop().await;
}

#[tokio::test]
async fn lines_and_polygons_are_cut_to_the_tile() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    for layer in ["areas", "patrol_routes"] {
        let t = tile_at(15, 17.845, 59.238);
        let (_, bytes) = tile_bytes(&app, &path(layer, t)).await;
        let layers = decode(&bytes).unwrap();
        let want = items_in(&app, layer, t, "").await;
        let got = layers.get(layer).cloned().unwrap_or_default();
        // Every feature in the tile is one items returns for the box.
        let ids: BTreeSet<String> = want
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        for (g, props) in &got {
            assert!(ids.contains(&str_of(&props["id"])), "{layer}");
            let b = geo::BoundingRect::bounding_rect(g).unwrap();
            let lo = -BUFFER - 1.0;
            let hi = 4096.0 + BUFFER + 1.0;
            assert!(
                b.min().x >= lo && b.min().y >= lo && b.max().x <= hi && b.max().y <= hi,
                "{layer}: {b:?}"
            );
        }
        if layer == "areas" {
            assert!(!got.is_empty(), "Alby lies in a district");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_etag_changes_exactly_when_a_write_touches_the_tile() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let here = tile_at(15, 17.845, 59.238);
    let elsewhere = tile_at(15, 18.2, 59.5);
    let etag_of = |h: &reqwest::header::HeaderMap| h["etag"].to_str().unwrap().to_owned();
    let (h, _) = tile_bytes(&app, &path("incidents", here)).await;
    let first = etag_of(&h);
    assert_eq!(h["cache-control"], "private, no-cache");
    let (h, _) = tile_bytes(&app, &path("incidents", elsewhere)).await;
    let other = etag_of(&h);
    let revalidate = |p: String, tag: String| {
        let client = app.client.clone();
        let url = app.url(&p);
        async move {
            client
                .get(url)
                .header("if-none-match", tag)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        revalidate(path("incidents", here), first.clone()).await,
        304
    );
    // A write in the tile: its tag changes, the other tile's does not.
    let r = app
        .post(
            "/collections/incidents/items",
            &incident(17.845, 59.238, "vandalism", "2026-11-20T21:00:00Z"),
        )
        .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let version = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        revalidate(path("incidents", here), first.clone()).await,
        200
    );
    assert_eq!(
        revalidate(path("incidents", elsewhere), other.clone()).await,
        304
    );
    let (h, bytes) = tile_bytes(&app, &path("incidents", here)).await;
    let second = etag_of(&h);
    let id = location.rsplit('/').next().unwrap();
    assert!(
        decode(&bytes).unwrap()["incidents"]
            .iter()
            .any(|(_, p)| str_of(&p["id"]) == id),
        "the new incident is in the tile at once"
    );
    // Deleted: the tile changes again and no longer holds it.
    let r = app
        .client
        .delete(format!(
            "{}{}",
            app.base,
            &location[location.find("/collections").unwrap()..]
        ))
        .header("if-match", version)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (h, bytes) = tile_bytes(&app, &path("incidents", here)).await;
    assert_ne!(etag_of(&h), second);
    assert_eq!(etag_of(&h), first, "back to what it was");
    assert!(
        !decode(&bytes).unwrap()["incidents"]
            .iter()
            .any(|(_, p)| str_of(&p["id"]) == id)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_tileset_documents_lead_a_client_to_the_tiles() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (status, c) = app.get_json("/collections/incidents").await;
    assert_eq!(status, 200);
    let link = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
        .expect("a tilesets link");
    let list: Value = app
        .client
        .get(link["href"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set = &list["tilesets"][0];
    assert_eq!(set["dataType"], "vector");
    let self_href = set["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, meta) = app
        .get_json(&format!(
            "{}?category=shooting",
            &self_href[self_href.find("/collections").unwrap()..]
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(meta["tilejson"], "3.0.0");
    assert_eq!(meta["maxzoom"], 22);
    let template = meta["tiles"][0].as_str().unwrap();
    assert!(
        template.ends_with("/{z}/{y}/{x}?category=shooting"),
        "{template}"
    );
    // The template, filled in, gives the filtered tile.
    let t = tile_at(13, 17.845, 59.238);
    let url = template
        .replace("{z}", &t.z.to_string())
        .replace("{y}", &t.y.to_string())
        .replace("{x}", &t.x.to_string());
    let bytes = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let layers = decode(&bytes).unwrap();
    assert!(
        layers["incidents"]
            .iter()
            .all(|(_, p)| str_of(&p["category"]) == "shooting")
    );
    // The tile matrix set's definition, public like the conformance classes.
    let r = app
        .anonymous
        .get(app.url("/tileMatrixSets/WebMercatorQuad"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tms: Value = r.json().await.unwrap();
    assert_eq!(tms["tileMatrices"].as_array().unwrap().len(), 23);
    assert_eq!(tms["tileMatrices"][14]["matrixWidth"], 16_384);
    let (_, conf) = app.get_json("/conformance").await;
    assert!(
        conf["conformsTo"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt")
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_tile_requests_get_problems_that_say_what_is_wrong() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let cases = [
        (
            "/collections/incidents/tiles/WebMercatorQuad/23/0/0",
            404,
            "0 to 22",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/4/0",
            404,
            "outside",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/x/0",
            400,
            "tileRow",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/-1/0",
            400,
            "tileRow",
        ),
        (
            "/collections/incidents/tiles/WorldCRS84Quad/2/1/0",
            404,
            "WebMercatorQuad",
        ),
        (
            "/collections/nothing/tiles/WebMercatorQuad/2/1/0",
            404,
            "collection",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/1/0?bbox=1,2,3,4",
            400,
            "bbox",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/1/0?category=nope",
            400,
            "category",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad/2/1/0?datetime=yesterday",
            400,
            "datetime",
        ),
        (
            "/collections/incidents/tiles/WebMercatorQuad?category=nope",
            400,
            "category",
        ),
    ];
    for (p, status, word) in cases {
        let body = assert_problem(app.get(p).await, status).await;
        assert!(body.to_string().contains(word), "{p}: {body}");
    }
    // Not signed in: 401.
    let r = app
        .anonymous
        .get(app.url("/collections/incidents/tiles/WebMercatorQuad/2/1/0"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 401).await;
    // The server keeps serving.
    tile_bytes(&app, "/collections/incidents/tiles/WebMercatorQuad/0/0/0").await;
    app.stop().await;
}

#[tokio::test]
async fn a_kept_tile_is_shared_by_one_view_dropped_by_a_change_and_audited_once_per_caller() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police = crate::common::client_with_token(
        &crate::common::token_for(&app.service, "polis-tile", "police", "Polisen").await,
    );
    let here = tile_at(16, 17.8452, 59.2381);
    let url = app.url(&path("incidents", here));
    let get = |client: reqwest::Client| {
        let url = url.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let cache = r.headers()["x-lagesbild-tile-cache"]
                .to_str()
                .unwrap()
                .to_owned();
            (cache, r.bytes().await.unwrap().to_vec())
        }
    };
    // A restricted incident in the tile: every exact read of the tile names it in the audit
    // log, whether the tile was cut or kept.
    let mut body = incident(17.8452, 59.2381, "shooting", "2026-11-20T21:00:00Z");
    body["properties"]["classification"] = serde_json::json!("restricted");
    let r = police
        .post(app.url("/collections/incidents/items"))
        .header("content-type", "application/geo+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (first, a) = get(police.clone()).await;
    let (second, b) = get(police.clone()).await;
    assert_eq!((first.as_str(), second.as_str()), ("miss", "hit"));
    assert_eq!(a, b);
    // The administrator sees the layer as police do: the same kept tile. A security
    // coordinator (ceiling internal, the reference hidden) has a view of its own, without the
    // restricted incident.
    let (admin, admin_bytes) = get(app.client.clone()).await;
    assert_eq!((admin.as_str(), &admin_bytes), ("hit", &a));
    let coordinator = crate::common::client_with_token(
        &crate::common::token_for(
            &app.service,
            "samordnare-tile",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let (theirs, their_bytes) = get(coordinator).await;
    assert_eq!(theirs, "miss");
    let ids: Vec<String> = decode(&their_bytes).unwrap()["incidents"]
        .iter()
        .map(|(_, p)| str_of(&p["id"]))
        .collect();
    assert!(
        !ids.is_empty() && !ids.contains(&id),
        "above the coordinator's ceiling"
    );
    // Police read the tile twice: the first read's record names the incident and says it
    // covers their re-reads of the unchanged tile; the administrator's read of the same kept
    // tile is recorded on its own.
    let naming = |user: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let audit = crate::common::get_value(
                &app.client,
                &app.url(&format!("/audit?user={user}&limit=1000")),
            )
            .await;
            audit["records"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["action"] == "read" && r.to_string().contains(&id))
                .map(|r| r["detail"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let police_records = naming("polis-tile").await;
    assert_eq!(police_records.len(), 1, "{police_records:?}");
    assert!(police_records[0].contains("re-reads"), "{police_records:?}");
    assert_eq!(
        naming("test-admin").await.len(),
        1,
        "another caller: own record"
    );
    assert_eq!(get(police.clone()).await.0, "hit");
    assert_eq!(naming("polis-tile").await.len(), 1, "a re-read, covered");
    // A change elsewhere keeps the tile; one in it drops it.
    let far = app
        .post(
            "/collections/incidents/items",
            &incident(18.3, 59.6, "vandalism", "2026-11-20T21:00:00Z"),
        )
        .await;
    assert_eq!(far.status(), 201);
    assert_eq!(get(police.clone()).await.0, "hit");
    let near = app
        .post(
            "/collections/incidents/items",
            &incident(17.8453, 59.2382, "vandalism", "2026-11-20T21:00:00Z"),
        )
        .await;
    assert_eq!(near.status(), 201);
    let (after, c) = get(police.clone()).await;
    assert_eq!(after, "miss");
    assert_ne!(c, a);
    // A changed tile is a new read: recorded again, and its re-read covered by that record.
    assert_eq!(naming("polis-tile").await.len(), 2);
    assert_eq!(get(police.clone()).await.0, "hit");
    assert_eq!(naming("polis-tile").await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn with_the_cache_off_every_tile_is_cut_afresh_and_alike() {
    let db = fresh_sqlite();
    let settings = lagesbild::config::Settings {
        tile_cache: false,
        ..crate::common::settings(&db.url)
    };
    let app = TestApp::spawn_with(settings, true).await;
    let url = app.url(&path("incidents", tile_at(14, 17.8452, 59.2381)));
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let r = app.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-lagesbild-tile-cache"], "miss");
        bodies.push(r.bytes().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1], "the same tile, cut twice");
    assert!(!decode(&bodies[0]).unwrap()["incidents"].is_empty());
}

/// The incidents tile as the local administrator sees it, read through the service.
async fn admin_tile(
    service: &lagesbild::service::Service,
    tile: TileId,
) -> std::sync::Arc<lagesbild::tiles::Built> {
    let viewer = lagesbild::startup::local_viewer(service).unwrap();
    service
        .read_tile(
            &viewer,
            lagesbild::domain::Layer::Incidents,
            tile,
            &Default::default(),
        )
        .await
        .unwrap()
        .built
}

/// Past 4 000 features a tile is gridded, with its polygons in id order: instances whose R-trees
/// were built from the same features in different orders (one by one forwards, in batches
/// backwards, bulk-loaded at start) serve the same bytes, so the same ETag.
#[tokio::test]
async fn a_gridded_tile_is_the_same_bytes_however_the_index_was_built() {
    use lagesbild::domain::{FeatureDraft, Layer};
    use lagesbild::service::Service;
    use lagesbild::store::Store;

    let here = tile_at(14, 17.8448, 59.2385);
    let [w, south, e, north] = here.bounds();
    let feature = |i: u32| {
        // Spread over the tile, well inside it.
        let lon = w + (e - w) * (0.05 + 0.9 * f64::from(i % 97) / 97.0);
        let lat = south + (north - south) * (0.05 + 0.9 * f64::from(i / 97) / 50.0);
        let mut f = incident(lon, lat, "vandalism", "2026-11-20T21:00:00Z");
        f["id"] = Value::from(format!("00000000-0000-4000-8000-{i:012x}"));
        if i.is_multiple_of(150) {
            let d = (e - w) / 200.0;
            f["geometry"] = serde_json::json!({"type": "Polygon", "coordinates": [[
                [lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]});
        }
        FeatureDraft::from_geojson(Layer::Incidents, f).unwrap()
    };
    let n = 4_300;
    let mut tiles = Vec::new();
    for order in ["forwards", "backwards in batches"] {
        let db = fresh_sqlite();
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let service = Service::open(store.clone()).await.unwrap();
        let viewer = lagesbild::startup::local_viewer(&service).unwrap();
        if order == "forwards" {
            for i in 0..n {
                service
                    .create_many(vec![feature(i)], &viewer, &|_| {})
                    .await
                    .unwrap();
            }
        } else {
            let backwards: Vec<u32> = (0..n).rev().collect();
            for batch in backwards.chunks(97) {
                let drafts = batch.iter().map(|i| feature(*i)).collect();
                service.create_many(drafts, &viewer, &|_| {}).await.unwrap();
            }
        }
        tiles.push((order, admin_tile(&service, here).await));
        drop(service);
        // The same store read again at start: the R-tree bulk-loaded.
        let reopened = Service::open(store.clone()).await.unwrap();
        tiles.push((order, admin_tile(&reopened, here).await));
        store.close().await;
    }
    let (_, first) = &tiles[0];
    assert!(first.gridded, "{} features", first.features);
    let layers = decode(&first.bytes).unwrap();
    let polygons = layers["incidents"]
        .iter()
        .filter(|(g, _)| {
            matches!(
                g,
                geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
            )
        })
        .count();
    assert_eq!(polygons, 29, "the polygons are kept whole beside the grid");
    for (order, built) in &tiles[1..] {
        // Not assert_eq!: a tile's bytes are too many to print.
        assert!(built.bytes == first.bytes, "built {order}: other bytes");
        assert_eq!(built.etag, first.etag);
    }
}

/// A coarse tile holds the cells reaching into it, so a change in such a cell drops the kept
/// tile even when the incident itself lies well beyond the tile (here over 180 m past its
/// buffer, in a cell that crosses the tile's east edge): the next read has the new count.
#[tokio::test]
async fn a_change_in_a_cell_reaching_into_a_coarse_tile_drops_the_kept_tile() {
    use lagesbild::service::visibility::Grid;
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let social = crate::common::client_with_token(
        &crate::common::token_for(
            &app.service,
            "soc-tile",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let grid = Grid::new().unwrap();
    // Among the zoom-16 tiles along a row near Alby, one whose east edge a cell crosses with
    // most of it outside; the incident goes near that cell's far corner (inside the cell).
    let row = tile_at(16, 17.8452, 59.2381);
    let (t, cell, far, beyond_m) = (0..24)
        .filter_map(|dx| {
            let t = TileId::new(16, row.y, row.x + dx).unwrap();
            let [w, s, e, n] = t.bounds();
            let [_, _, eb, _] = t.bounds_with(BUFFER);
            let lat = (s + n) / 2.0;
            let cell = grid.cell_of(geo::Point::new(e + 0.00002, lat))?;
            let square = grid.square(cell)?;
            let xs = || square.exterior().coords().map(|c| c.x);
            // The cell must reach into the tile.
            if xs().fold(f64::MAX, f64::min) >= e || xs().fold(f64::MAX, f64::min) < w {
                return None;
            }
            let corner = *square
                .exterior()
                .coords()
                .max_by(|a, b| a.x.total_cmp(&b.x))?;
            let centre = grid.centre(cell)?;
            let far = geo::Point::new(
                centre.x() + 0.9 * (corner.x - centre.x()),
                centre.y() + 0.9 * (corner.y - centre.y()),
            );
            let beyond_m = (far.x() - eb) * 111_320.0 * lat.to_radians().cos();
            Some((t, cell, far, beyond_m))
        })
        .max_by(|a, b| a.3.total_cmp(&b.3))
        .unwrap();
    assert_eq!(grid.cell_of(far), Some(cell));
    assert!(
        beyond_m > 180.0,
        "the test's incident is only {beyond_m:.0} m past the buffer"
    );
    let post = |lon: f64, lat: f64| {
        let body = incident(lon, lat, "vandalism", "2026-11-20T21:00:00Z");
        let app = &app;
        async move {
            let r = app.post("/collections/incidents/items", &body).await;
            assert_eq!(r.status(), 201);
        }
    };
    let [w, s, e, n] = t.bounds();
    post((w + e) / 2.0, (s + n) / 2.0).await;
    let url = app.url(&path("incidents", t));
    let read = || async {
        let r = social.get(&url).send().await.unwrap();
        let cache = r.headers()["x-lagesbild-tile-cache"]
            .to_str()
            .unwrap()
            .to_owned();
        let layers = decode(&r.bytes().await.unwrap()).unwrap();
        let total: u64 = layers
            .get("incidents")
            .map(|f| {
                f.iter()
                    .filter(|(_, p)| !p.contains_key("label"))
                    .map(|(_, p)| match p.get("count") {
                        Some(TileValue::Uint(c)) => *c,
                        _ => 0,
                    })
                    .sum()
            })
            .unwrap_or(0);
        (cache, total)
    };
    assert_eq!(read().await, ("miss".to_owned(), 1));
    assert_eq!(read().await, ("hit".to_owned(), 1));
    post(far.x(), far.y()).await;
    assert_eq!(
        read().await,
        ("miss".to_owned(), 2),
        "the kept tile outlived a change in its cells"
    );
    app.stop().await;
}
