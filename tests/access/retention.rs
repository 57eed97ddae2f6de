//! Retention (gallring) with a clock set by the test, on SQLite and on PostGIS.

use lagesbild::domain::{Feature, Layer, Properties};
use lagesbild::service::clock::Clock;
use lagesbild::service::{Options, Service};
use lagesbild::store::Store;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::common::{fresh_pg_url, fresh_sqlite, pg_admin_url};

fn incident_at(template: &Feature, at: OffsetDateTime) -> Feature {
    let mut f = template.clone();
    f.id = uuid::Uuid::new_v4();
    if let Properties::Incident(p) = &mut f.properties {
        p.occurred_at = at;
    }
    f
}

async fn purge_removes_old_incidents_for_good_and_keeps_weekly_counts(store: Store) {
    store.migrate().await.unwrap();
    let now = datetime!(2026-11-23 12:00 UTC);
    let areas = lagesbild::demo::areas(now);
    let template = lagesbild::demo::incidents(7, now, 1).remove(0);
    // 30 incidents a week apart, the oldest 30 weeks over two years ago, the newest 1 week ago.
    let ages: Vec<OffsetDateTime> = (0..30).map(|w| now - Duration::weeks(80 + 3 * w)).collect();
    let incidents: Vec<Feature> = ages.iter().map(|t| incident_at(&template, *t)).collect();
    store.insert(&areas, &|_| {}).await.unwrap();
    store.insert(&incidents, &|_| {}).await.unwrap();
    let clock = Clock::manual(now);
    let options = Options {
        clock: clock.clone(),
        ..Options::defaults().unwrap()
    };
    let service = Service::open_with(store.clone(), options).await.unwrap();
    let admin = lagesbild::startup::local_viewer(&service).unwrap();
    // One old incident is already (soft-)deleted: retention removes it too.
    let cutoff = lagesbild::service::retention::week_floor(
        lagesbild::service::retention::months_before(now, 24),
    );
    let old: Vec<&Feature> = incidents
        .iter()
        .filter(|f| matches!(&f.properties, Properties::Incident(p) if p.occurred_at < cutoff))
        .collect();
    assert!(old.len() > 5 && old.len() < 30, "{}", old.len());
    service
        .delete(&admin, Layer::Incidents, old[0].id, 1)
        .await
        .unwrap();

    let report = service.purge(&admin).await.unwrap();
    assert_eq!(report.removed, old.len() as u64);
    assert_eq!(report.cutoff, Some(cutoff));
    for f in &old {
        assert!(service.unrestricted().get(Layer::Incidents, f.id).is_none());
        assert!(store.get(f.id).await.unwrap().is_none());
    }
    assert_eq!(
        store.count(Layer::Incidents).await.unwrap() as usize,
        incidents.len() - old.len()
    );
    // Weekly counts add up to what was removed, per week, area and category.
    let counts = store.weekly_counts().await.unwrap();
    assert_eq!(counts.iter().map(|c| c.3).sum::<i64>(), old.len() as i64);
    let category = match &template.properties {
        Properties::Incident(p) => p.category.as_str(),
        _ => unreachable!(),
    };
    assert!(counts.iter().all(|c| c.2 == category && c.0.contains("-W")));
    // The purge is audited with what it removed.
    let rows = store
        .audit(&lagesbild::store::audit::AuditFilter {
            action: Some("purge".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let ids: Vec<String> = serde_json::from_str(rows[0].features.as_deref().unwrap()).unwrap();
    assert_eq!(ids.len(), old.len());
    assert!(ids.contains(&old[0].id.to_string()));
    // Running it again removes nothing; a month later, the next ones go.
    assert_eq!(service.purge(&admin).await.unwrap().removed, 0);
    clock.advance(Duration::days(31));
    let next = service.purge(&admin).await.unwrap();
    assert!(next.removed >= 1, "{next:?}");
    assert_eq!(
        store
            .weekly_counts()
            .await
            .unwrap()
            .iter()
            .map(|c| c.3)
            .sum::<i64>(),
        (old.len() as u64 + next.removed) as i64
    );
    drop(service);
    store.close().await;
}

#[tokio::test]
async fn retention_on_sqlite() {
    let db = fresh_sqlite();
    purge_removes_old_incidents_for_good_and_keeps_weekly_counts(
        Store::connect(&db.url).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn retention_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    purge_removes_old_incidents_for_good_and_keeps_weekly_counts(
        Store::connect(&url).await.unwrap(),
    )
    .await;
}
