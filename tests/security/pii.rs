//! Attacker: a writer who spells a phone or personal identity number so that the personal-data
//! guard does not recognise it — the trunk zero in brackets, brackets around the area code, a
//! slash, a space where the hyphen goes, an en dash, full-width digits, a no-break space.
//! Guarantee: every such spelling is refused with 422 `application/problem+json` naming
//! `/properties/description`, and nothing is stored; dates and public switchboard numbers that
//! merely look like numbers are still accepted (201).

use serde_json::json;

use super::common::{TestApp, assert_problem, incident, pointers};
use lagesbild::domain::Layer;

/// How many incidents the administrator sees.
async fn matched(app: &TestApp) -> u64 {
    let (status, body) = app.get_json("/collections/incidents/items?limit=1").await;
    assert_eq!(status, 200, "{body}");
    body["numberMatched"]
        .as_u64()
        .unwrap_or_else(|| panic!("numberMatched is a count: {body}"))
}

/// An incident whose description is `text`.
fn incident_saying(text: &str) -> serde_json::Value {
    let mut body = incident(17.84, 59.24, "shooting", "2026-11-20T21:00:00Z");
    body["properties"]["description"] = json!(text);
    body
}

/// A `YYYYMMDD-HHMM` stamp 40 days back whose last four digits are a time of day and whose
/// last digit is the Luhn check digit: a date and time, and a valid personal number too.
fn recent_stamp_that_is_also_a_personal_number() -> String {
    let day = time::OffsetDateTime::now_utc().date() - time::Duration::days(40);
    let ymd = format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    for hhmm in 0..2400u32 {
        if hhmm % 100 >= 60 {
            continue;
        }
        let ten = format!("{}{hhmm:04}", &ymd[2..]);
        let d: Vec<u32> = ten.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = d[..9]
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let p = if i % 2 == 0 { x * 2 } else { *x };
                p / 10 + p % 10
            })
            .sum();
        if (10 - sum % 10) % 10 == d[9] {
            return format!("{ymd}-{hhmm:04}");
        }
    }
    unreachable!("one time in ten has the check digit")
}

#[tokio::test]
async fn evasive_spellings_of_phone_and_identity_numbers_are_refused_and_dates_are_not() {
    let (urls, _db) = super::backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let before = matched(&app).await;
        for (text, why) in [
            ("ring +46(0)70-123 45 67", "phone number"),
            ("ring (070) 123 45 67", "phone number"),
            ("ring 070/123 45 67", "phone number"),
            ("ring 070–123 45 67", "phone number"), // en dash
            ("ring 070−123 45 67", "phone number"), // minus sign
            ("ring ０７０１２３４５６７", "phone number"), // full-width digits
            ("ring 070\u{a0}123\u{a0}45\u{a0}67", "phone number"), // no-break spaces
            ("ring 070\u{2009}123\u{2009}45\u{2009}67", "phone number"), // thin spaces
            ("Pojke 19121212 1212 sågs", "personal identity number"),
            ("Pojke 121212–1212 sågs", "personal identity number"), // en dash
            ("Pojke 19121212–1212 sågs", "personal identity number"), // en dash
            // Full-width digits and hyphen.
            ("Pojke １２１２１２－１２１２", "personal identity number"),
            ("samordningsnummer 701063–2391", "personal identity number"),
            // A YYYYMMDD-HHMM stamp more than three years back whose last digit is the check
            // digit reads as the personal number it also is.
            ("händelse 20200101-2349", "personal identity number"),
        ] {
            let r = app
                .post("/collections/incidents/items", &incident_saying(text))
                .await;
            let p = assert_problem(r, 422).await;
            assert_eq!(
                pointers(&p),
                vec!["/properties/description"],
                "{url}: {text}: {p}"
            );
            assert!(
                p["detail"].as_str().is_some_and(|d| d.contains(why)),
                "{url}: {text}: {p}"
            );
            assert_eq!(matched(&app).await, before, "{url}: {text} was stored");
        }
        assert_eq!(app.service.unrestricted().len(Layer::Incidents), 0, "{url}");

        // What only looks like a number: dates, times, public switchboard numbers.
        // A recent YYYYMMDD-HHMM stamp reads as a date and time even when its last digit is
        // the check digit (the case the issue names, `20240512-2215`, as of a recent day).
        let stamp = recent_stamp_that_is_also_a_personal_number();
        let allowed = [
            "Bilbrand 01 07 2024 vid Alby centrum".to_owned(),
            "Ring polisen på 114 14".to_owned(),
            "Händelse 2024-05-12 22:15, kl 08.15–09.30 igen".to_owned(),
            "Socialjouren nås på 020-123 45 67".to_owned(),
            format!("händelse {stamp}"),
        ];
        for text in &allowed {
            let r = app
                .post("/collections/incidents/items", &incident_saying(text))
                .await;
            assert_eq!(r.status().as_u16(), 201, "{url}: {text}");
        }
        assert_eq!(matched(&app).await, before + allowed.len() as u64, "{url}");
        app.stop().await;
    }
}
