//! Item 3: a collection's extent is computed over what the caller sees, then rounded.

use serde_json::json;

use super::common::{TestApp, get_value, incident};
use super::{as_role, backends, create};

#[tokio::test]
async fn one_restricted_feature_does_not_widen_a_lower_roles_extent() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let police = as_role(&app, "police").await;
        // Three in one 250 m cell, week and category: a published bucket even for counts only.
        for (lon, lat) in [(17.84, 59.24), (17.84001, 59.24), (17.84, 59.24001)] {
            let mut open = incident(lon, lat, "vandalism", "2026-11-20T21:00:00Z");
            open["properties"]["classification"] = json!("open");
            create(&app, &police, "incidents", &open).await;
        }
        // One restricted incident far north and years back.
        let mut far = incident(20.22, 67.85, "shooting", "2019-03-01T21:00:00Z");
        far["properties"]["classification"] = json!("restricted");
        create(&app, &police, "incidents", &far).await;

        let extent = |c: &serde_json::Value| {
            (
                c["extent"]["spatial"]["bbox"][0][3].as_f64().unwrap(),
                c["extent"]["temporal"]["interval"][0][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                c["numberOfFeatures"].clone(),
            )
        };
        let (max_lat, start, n) =
            extent(&get_value(&police, &app.url("/collections/incidents")).await);
        assert!(
            max_lat > 67.0 && start.starts_with("2019"),
            "{url}: police sees it"
        );
        assert_eq!(n, json!(4));
        for role in ["security_coordinator", "social_services", "field_worker"] {
            let c = get_value(
                &as_role(&app, role).await,
                &app.url("/collections/incidents"),
            )
            .await;
            let (max_lat, start, n) = extent(&c);
            assert!(max_lat < 60.0, "{url} {role}: {c}");
            assert!(start.starts_with("2026"), "{url} {role}: {c}");
            assert_eq!(n, json!(3), "{url} {role}");
        }
        // Counts only: the extent of what is published (3 in one week and category, so one
        // cell at most), never the hidden incident.
        let c = get_value(
            &as_role(&app, "night_walker").await,
            &app.url("/collections/incidents"),
        )
        .await;
        let (max_lat, _, n) = extent(&c);
        assert!(max_lat < 60.0, "{url}: {c}");
        assert_eq!(
            n,
            serde_json::Value::Null,
            "{url}: no count for counts-only"
        );
        app.stop().await;
    }
}
