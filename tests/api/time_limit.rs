//! The time limit of analyses whose permutations run on the request's own thread (Knox, Gi*
//! with permutations): over HTTP with the smallest request timeout, and in the service with a
//! limit of nothing, where each permutation test must stop before its first draw.

use std::time::Duration;

use lagesbild::analysis::deadline::Stopped;
use lagesbild::index::{Filters, Spatial};
use lagesbild::service::{Options, Service, ServiceError};
use lagesbild::store::Store;

use crate::common::{TestApp, assert_problem, fresh_sqlite, get_value};

/// The permutations run on the request's own thread, where the server's request timeout cannot
/// cut them: they stop themselves at nine tenths of it and say how far they got (408, the
/// problem type `time-limit`, not the timeout layer's bare `http-error`), and the server goes on
/// answering. Without the deadline, 9 999 permutations over 1.8 km bands would run to their end
/// and answer 200 long after the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permutations_stop_at_the_time_limit_and_say_how_far_they_got() {
    let db = fresh_sqlite();
    let mut settings = crate::common::settings(&db.url);
    settings.request_timeout_secs = 1;
    let app = TestApp::spawn_with(settings, true).await;
    // (Hot spots with 9 999 permutations take a third of the one second the demo allows, so
    // they are stopped below, with a limit of nothing.)
    for (q, asked) in [(
        "/analysis/near-repeat?space=600&space_bands=3&time=60&time_bands=10&iterations=9999",
        "of 9999 permutations",
    )] {
        let r = app.client.get(app.url(q)).send().await.unwrap();
        let p = assert_problem(r, 408).await;
        assert!(
            p["type"].as_str().unwrap().ends_with("time-limit"),
            "{q}: {p}"
        );
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(asked) && detail.contains("nothing was changed"),
            "{q}: {p}"
        );
    }
    // The server keeps serving, and a question that fits is answered.
    let k = get_value(
        &app.client,
        &app.url("/analysis/near-repeat?iterations=9&seed=2"),
    )
    .await;
    assert_eq!(k["iterations"], 9, "{k}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_limit_of_nothing_every_permutation_test_stops_and_analytical_answers_do_not() {
    let db = fresh_sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    lagesbild::startup::seed_demo_if_empty(&store, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let options = Options {
        work_limit: Some(Duration::ZERO),
        ..Options::defaults().unwrap()
    };
    let service = Service::open_with(store, options).await.unwrap();
    let admin = lagesbild::startup::local_viewer(&service).unwrap();
    let all = Filters::default();
    let bands = lagesbild::analysis::knox::Bands {
        space_m: 100.0,
        space_bands: 3,
        time_days: 14.0,
        time_bands: 3,
    };
    match service
        .knox_test(&admin, &Spatial::All, &all, bands, 99, 1)
        .await
    {
        Err(ServiceError::Stopped(s)) => assert_eq!(s, Stopped { done: 0, asked: 99 }),
        other => panic!("Knox with permutations: {other:?}"),
    }
    match service
        .hot_spots(&admin, &Spatial::All, &all, Some(500.0), 99, 1)
        .await
    {
        Err(ServiceError::Stopped(s)) => assert_eq!(s, Stopped { done: 0, asked: 99 }),
        other => panic!(
            "hot spots with permutations: {:?}",
            other.map(|h| h.cells.len())
        ),
    }
    // Permutations are bounded by area as by cell, before any work. (The demo's areas are too
    // few for the test by area to run; `gi_star_points` stops at its deadline in a unit test.)
    match service.area_hot_spots(&admin, &all, None, 10_000, 1).await {
        Err(ServiceError::Invalid(e)) => assert!(e.to_string().contains("permutations"), "{e}"),
        other => panic!(
            "area hot spots with 10 000 permutations: {:?}",
            other.map(|h| h.areas.len())
        ),
    }
    // Nothing to stop: the analytical p-values are answered whatever the limit.
    let h = service
        .hot_spots(&admin, &Spatial::All, &all, Some(500.0), 0, 1)
        .await
        .unwrap();
    assert!(h.cells.iter().any(|c| c.count > 0.0));
    let k = service
        .knox_test(&admin, &Spatial::All, &all, bands, 0, 1)
        .await
        .unwrap();
    assert!(k.events >= 20);
}
