//! Items 4 and 12: live events tell a subscriber only what changed in its own view, and
//! restricted features sent over `/events` are audited like reads.

use std::time::Duration;

use serde_json::json;

use super::common::{TestApp, incident, read_events, send_patch};
use super::{as_role, audit_rows, backends, create};

#[tokio::test]
async fn a_hidden_change_sends_coarse_subscribers_nothing_and_raising_the_class_sends_deleted() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let police = as_role(&app, "police").await;
        let created = create(
            &app,
            &police,
            "incidents",
            &incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z"),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let item = app.url(&format!("/collections/incidents/items/{id}"));
        let social = as_role(&app, "social_services").await;
        let mut stream = social.get(app.url("/events")).send().await.unwrap();
        let mut police_stream = police.get(app.url("/events")).send().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        // Closing the case and changing its severity and description: hidden from coarse views.
        let r = send_patch(
            police.patch(&item),
            1,
            &json!({"properties": {"status": "closed", "severity": 4, "description": "Stängt"}}),
        )
        .await;
        assert_eq!(r.status(), 200);
        // Raising it above the social services' ceiling.
        let r = send_patch(
            police.patch(&item),
            2,
            &json!({"properties": {"classification": "restricted"}}),
        )
        .await;
        assert_eq!(r.status(), 200);
        // A change police makes while it is restricted: social services hear nothing.
        let r = send_patch(
            police.patch(&item),
            3,
            &json!({"properties": {"severity": 5}}),
        )
        .await;
        assert_eq!(r.status(), 200);

        let events = read_events(&mut stream, Duration::from_millis(1500)).await;
        let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["deleted"], "{url}: {events:?}");
        assert_eq!(events[0].1["feature"]["id"], json!(id));
        assert!(
            events[0].1["feature"]["properties"].get("status").is_none(),
            "{url}: the coarse view, nothing more"
        );

        // Police saw every change, and the restricted ones were audited as they were sent.
        let police_events = read_events(&mut police_stream, Duration::from_millis(500)).await;
        assert_eq!(police_events.len(), 3, "{url}: {police_events:?}");
        let audited = audit_rows(&app, "event").await;
        let naming: Vec<_> = audited
            .iter()
            .filter(|r| r.features.as_deref().is_some_and(|f| f.contains(&id)))
            .collect();
        assert_eq!(
            naming.len(),
            2,
            "{url}: two restricted versions sent: {audited:?}"
        );
        assert!(naming.iter().all(|r| r.actor == "s-police"));
        app.stop().await;
    }
}
