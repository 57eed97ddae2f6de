//! Fictitious but realistic demo data, the same for the same seed and "as of" day.
//!
//! Incidents cluster around the vulnerable districts of `geodata/areas.geojson`, with more on
//! Fridays and Saturdays and in the evening; risk environments (some overdue for review),
//! cameras with viewing sectors, night-walk routes and the walks done on them. Everything is
//! invented: no real incident, place marking or person is in it.

use std::f64::consts::TAU;
use std::sync::Arc;

use geo::{Coord, Geometry, LineString, Point};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use time::{Duration, OffsetDateTime, Time};
use uuid::Uuid;

use crate::domain::camera::{Camera, CameraOwner, CameraStatus};
use crate::domain::crs::METRES_PER_DEGREE;
use crate::domain::incident::{Incident, IncidentCategory, IncidentStatus};
use crate::domain::patrol_route::{PatrolRoute, RouteKind, RouteStatus, Weekday};
use crate::domain::risk_environment::{RiskEnvironment, RiskKind, RiskLevel, RiskStatus};
use crate::domain::walk::{Stop, Walk};
use crate::domain::{Classification, Feature, FeatureDraft, Layer, Meta, Properties};

/// The approximate district outlines shipped in `geodata/`.
pub const AREAS_GEOJSON: &str = include_str!("../geodata/areas.geojson");

/// The seed `serve --demo` and `seed --demo` use.
pub const DEMO_SEED: u64 = 20_261_123;

/// Who the demo data says created it.
pub const DEMO_ACTOR: &str = "demo";

/// The shipped district outlines as features stamped at `as_of`.
///
/// # Panics
/// Never at run time: the embedded file is checked by a unit test.
#[must_use]
pub fn areas(as_of: OffsetDateTime) -> Vec<Feature> {
    let report = crate::service::import::read_geojson(
        Layer::Areas,
        AREAS_GEOJSON.as_bytes(),
        Default::default(),
    )
    .unwrap_or_default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    report
        .drafts
        .into_iter()
        .map(|d| stamp(&mut rng, d, as_of))
        .collect()
}

fn stamp(rng: &mut ChaCha8Rng, d: FeatureDraft, at: OffsetDateTime) -> Feature {
    Feature {
        id: d.id.unwrap_or_else(|| uuid(rng)),
        geom: d.geometry.into(),
        properties: d.properties,
        meta: meta(d.organisation.as_str(), d.classification, at),
    }
}

fn meta(organisation: &str, classification: Classification, at: OffsetDateTime) -> Meta {
    Meta {
        organisation: Arc::from(organisation),
        classification,
        created_at: at,
        updated_at: at,
        created_by: Arc::from(DEMO_ACTOR),
        version: 1,
    }
}

fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// A place incidents cluster around.
struct Hotspot {
    centre: Point<f64>,
    weight: f64,
    spread_m: f64,
    municipality: &'static str,
}

fn hotspots() -> Vec<Hotspot> {
    let h = |lon, lat, weight, spread_m, municipality| Hotspot {
        centre: Point::new(lon, lat),
        weight,
        spread_m,
        municipality,
    };
    vec![
        h(17.8448, 59.2385, 9.0, 260.0, "Botkyrka"), // Alby centrum
        h(17.8520, 59.2335, 5.0, 300.0, "Botkyrka"), // Albyberget
        h(17.8590, 59.2460, 8.0, 250.0, "Botkyrka"), // Fittja centrum
        h(17.8255, 59.2425, 6.0, 240.0, "Botkyrka"), // Hallunda centrum
        h(17.8100, 59.2405, 5.0, 260.0, "Botkyrka"), // Norsborg
        h(17.8390, 59.1995, 3.0, 350.0, "Botkyrka"), // Tumba station
        h(17.8560, 59.1920, 3.0, 250.0, "Botkyrka"), // Storvreten
        h(17.6050, 59.2060, 8.0, 260.0, "Södertälje"), // Ronna
        h(17.5915, 59.2125, 5.0, 240.0, "Södertälje"), // Geneta
        h(17.6010, 59.1690, 6.0, 260.0, "Södertälje"), // Hovsjö
        h(17.6330, 59.1710, 3.0, 230.0, "Södertälje"), // Fornhöjden
        h(17.6280, 59.1950, 4.0, 300.0, "Södertälje"), // Södertälje C
        h(17.6680, 59.1770, 2.0, 250.0, "Södertälje"), // Saltskog
    ]
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0.0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

fn offset(p: Point<f64>, east_m: f64, north_m: f64) -> Point<f64> {
    Point::new(
        p.x() + east_m / (METRES_PER_DEGREE * p.y().to_radians().cos()),
        p.y() + north_m / METRES_PER_DEGREE,
    )
}

fn scatter(rng: &mut ChaCha8Rng, h: &Hotspot) -> Point<f64> {
    offset(
        h.centre,
        gaussian(rng) * h.spread_m,
        gaussian(rng) * h.spread_m,
    )
}

const DESCRIPTIONS: &[(IncidentCategory, &[&str])] = &[
    (
        IncidentCategory::CarFire,
        &[
            "Bilbrand på parkering",
            "Brand i personbil vid garage",
            "Två bilar brann, misstänkt anlagd",
        ],
    ),
    (
        IncidentCategory::Shooting,
        &["Skottlossning, inga skadade", "Skott avlossade mot port"],
    ),
    (
        IncidentCategory::Explosion,
        &["Detonation vid entré", "Sprängning mot trapphus"],
    ),
    (
        IncidentCategory::DrugCache,
        &["Narkotikagömma i buskage", "Gömma i elskåp"],
    ),
    (
        IncidentCategory::WeaponCache,
        &["Vapengömma i källarförråd", "Vapen hittat i rabatt"],
    ),
    (
        IncidentCategory::Vandalism,
        &[
            "Klotter på skolfasad",
            "Krossade rutor i tvättstuga",
            "Skadegörelse på lekplats",
            "Sönderslagen belysning i gångtunnel",
        ],
    ),
    (
        IncidentCategory::ThreatViolence,
        &[
            "Hot mot personal i centrum",
            "Misshandel utomhus, anmäld",
            "Rån vid busshållplats",
        ],
    ),
    (
        IncidentCategory::DisorderGathering,
        &[
            "Större samling ungdomar, oro",
            "Fyrverkerier mot förbipasserande",
            "Stökigt vid torget",
        ],
    ),
    (
        IncidentCategory::Other,
        &["Oro rapporterad av fältgruppen", "Misstänkt langning"],
    ),
];

fn category_weights() -> Vec<(IncidentCategory, f64)> {
    use IncidentCategory::*;
    vec![
        (Vandalism, 30.0),
        (DisorderGathering, 20.0),
        (ThreatViolence, 14.0),
        (CarFire, 12.0),
        (Other, 10.0),
        (DrugCache, 6.0),
        (Shooting, 3.0),
        (WeaponCache, 2.5),
        (Explosion, 2.5),
    ]
}

/// `n` clustered incidents spread over the year before `as_of`: more at weekends and in the
/// evening, more in the last months. Deterministic for a given `seed`.
#[must_use]
pub fn incidents(seed: u64, as_of: OffsetDateTime, n: usize) -> Vec<Feature> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let spots = hotspots();
    incidents_around(&mut rng, &spots, as_of, n)
}

/// The region synthetic data covers: Botkyrka and Södertälje with some margin (WGS84).
pub const REGION: [f64; 4] = [17.45, 59.05, 17.98, 59.30];

/// `n` incidents for load tests and benchmarks: the demo hotspots, widened, plus 150 smaller
/// generated hotspots over [`REGION`], so a 1 km × 1 km window in the densest hotspot holds
/// thousands of a million rather than a large share of them. Deterministic for a given `seed`.
#[must_use]
pub fn synthetic_incidents(seed: u64, as_of: OffsetDateTime, n: usize) -> Vec<Feature> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut spots: Vec<Hotspot> = hotspots()
        .into_iter()
        .map(|h| Hotspot {
            spread_m: h.spread_m * 2.5,
            ..h
        })
        .collect();
    for _ in 0..150 {
        let centre = Point::new(
            rng.random_range(REGION[0]..REGION[2]),
            rng.random_range(REGION[1]..REGION[3]),
        );
        let u: f64 = rng.random_range(0.2..1.0);
        let municipality = if centre.x() > 17.75 {
            "Botkyrka"
        } else {
            "Södertälje"
        };
        spots.push(Hotspot {
            centre,
            weight: 10.0 * u * u * u,
            spread_m: rng.random_range(200.0..800.0),
            municipality,
        });
    }
    // A quarter spread evenly over the region: one wide, flat "hotspot" per municipality.
    for (lon, municipality) in [(17.60, "Södertälje"), (17.85, "Botkyrka")] {
        spots.push(Hotspot {
            centre: Point::new(lon, 59.175),
            weight: 90.0,
            spread_m: 6_000.0,
            municipality,
        });
    }
    incidents_around(&mut rng, &spots, as_of, n)
}

fn incidents_around(
    rng: &mut ChaCha8Rng,
    spots: &[Hotspot],
    as_of: OffsetDateTime,
    n: usize,
) -> Vec<Feature> {
    let spot_weights: Vec<(usize, f64)> = spots
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h.weight))
        .collect();
    let categories = category_weights();
    // Weekday weights (Monday first) and hour weights: evenings and Friday/Saturday nights.
    const DAY_W: [f64; 7] = [0.8, 0.8, 0.9, 1.0, 1.5, 1.6, 1.0];
    const HOUR_W: [f64; 24] = [
        1.6, 1.2, 0.8, 0.4, 0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0, 1.2, 1.4, 1.7,
        2.2, 2.6, 2.8, 2.8, 2.5, 2.0,
    ];
    let hours: Vec<(u8, f64)> = (0u8..24).map(|h| (h, HOUR_W[usize::from(h)])).collect();
    let start = as_of - Duration::days(365);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // A day, accepted by weekday weight and a mild upward trend over the year.
        let day = rng.random_range(0..365i64);
        let date = start + Duration::days(day);
        let w = DAY_W[usize::from(date.weekday().number_days_from_monday())]
            * (0.8 + 0.4 * day as f64 / 365.0);
        if rng.random_range(0.0..2.0) > w {
            continue;
        }
        let hour = *pick(rng, &hours);
        let minute: u8 = rng.random_range(0..60);
        let occurred_at =
            date.replace_time(Time::from_hms(hour, minute, 0).unwrap_or(Time::MIDNIGHT));
        if occurred_at > as_of {
            continue;
        }
        let spot = &spots[*pick(rng, &spot_weights)];
        let category = *pick(rng, &categories);
        let police = matches!(
            category,
            IncidentCategory::Shooting
                | IncidentCategory::Explosion
                | IncidentCategory::DrugCache
                | IncidentCategory::WeaponCache
        );
        let (organisation, classification) = if police {
            ("Polisen", Classification::Restricted)
        } else {
            let orgs: &[(&str, f64)] = if spot.municipality == "Botkyrka" {
                &[
                    ("Polisen", 3.0),
                    ("Botkyrka kommun", 2.0),
                    ("Botkyrkabyggen", 2.0),
                    ("Fältgruppen Botkyrka", 1.0),
                ]
            } else {
                &[
                    ("Polisen", 3.0),
                    ("Södertälje kommun", 2.0),
                    ("Telge Bostäder", 2.0),
                    ("Fältgruppen Södertälje", 1.0),
                ]
            };
            let org = *pick(rng, &orgs.iter().map(|(o, w)| (*o, *w)).collect::<Vec<_>>());
            (
                org,
                if rng.random_bool(0.3) {
                    Classification::Open
                } else {
                    Classification::Internal
                },
            )
        };
        let severity = match category {
            IncidentCategory::Shooting | IncidentCategory::Explosion => rng.random_range(4..=5),
            IncidentCategory::WeaponCache
            | IncidentCategory::CarFire
            | IncidentCategory::ThreatViolence => rng.random_range(2..=4),
            _ => rng.random_range(1..=3),
        };
        let texts = DESCRIPTIONS
            .iter()
            .find(|(c, _)| *c == category)
            .map_or(&[""][..], |(_, t)| *t);
        let description = texts[rng.random_range(0..texts.len())];
        let reference = (organisation == "Polisen").then(|| {
            format!(
                "5000-K{:06}-{:02}",
                rng.random_range(0..1_000_000u32),
                occurred_at.year() % 100
            )
            .into_boxed_str()
        });
        let status = if as_of - occurred_at > Duration::days(14) || rng.random_bool(0.5) {
            IncidentStatus::Closed
        } else {
            IncidentStatus::Open
        };
        let position = scatter(rng, spot);
        out.push(Feature {
            id: uuid(rng),
            geom: position.into(),
            properties: Properties::Incident(Incident {
                category,
                occurred_at,
                severity,
                status,
                reference,
                description: description.into(),
            }),
            meta: meta(
                organisation,
                classification,
                occurred_at + Duration::minutes(rng.random_range(5..240)),
            ),
        });
    }
    out
}

/// The whole demo picture as of `as_of`: areas, ~3 600 incidents over a year, 40 risk
/// environments, 60 cameras, 15 night-walk routes and the walks done on them.
#[must_use]
pub fn demo(as_of: OffsetDateTime) -> Vec<Feature> {
    // A different stream from the incidents' (which use DEMO_SEED), so ids never collide. The
    // steps below draw from it in this order, so the picture stays the same for a date.
    let mut rng = ChaCha8Rng::seed_from_u64(DEMO_SEED.wrapping_add(1));
    let spots = hotspots();
    let mut out = areas(as_of);
    out.extend(incidents(DEMO_SEED, as_of, 3_600));
    out.extend(risk_environments(&mut rng, &spots, as_of));
    out.extend(cameras(&mut rng, &spots, as_of));
    out.extend(routes_and_walks(&mut rng, &spots, as_of));
    out.extend(measures(&mut rng, &spots, as_of));
    out
}

/// Eight measures around the hotspots, in every status, aiming at the hotspots' categories.
fn measures(rng: &mut ChaCha8Rng, spots: &[Hotspot], as_of: OffsetDateTime) -> Vec<Feature> {
    use crate::domain::measure::{Cause, CauseBone, Horizon, Measure, MeasureKind, MeasureStatus};
    let today = as_of.date();
    let plans: [(
        &str,
        MeasureKind,
        CauseBone,
        MeasureStatus,
        &[IncidentCategory],
    ); 8] = [
        (
            "Bättre belysning vid gångtunneln",
            MeasureKind::Situational,
            CauseBone::Place,
            MeasureStatus::Done,
            &[
                IncidentCategory::Vandalism,
                IncidentCategory::ThreatViolence,
            ],
        ),
        (
            "Fältgrupp fredag och lördag kväll",
            MeasureKind::Social,
            CauseBone::Offender,
            MeasureStatus::Ongoing,
            &[IncidentCategory::DisorderGathering],
        ),
        (
            "Ökad polisnärvaro vid torget",
            MeasureKind::Enforcement,
            CauseBone::Offender,
            MeasureStatus::Ongoing,
            &[IncidentCategory::Shooting, IncidentCategory::Explosion],
        ),
        (
            "Inhägnad av parkeringsdäck",
            MeasureKind::Situational,
            CauseBone::Place,
            MeasureStatus::Decided,
            &[IncidentCategory::CarFire],
        ),
        (
            "Kamerabevakning av centrumgången",
            MeasureKind::Situational,
            CauseBone::Victim,
            MeasureStatus::Proposed,
            &[IncidentCategory::Vandalism],
        ),
        (
            "Föräldravandringar med skolan",
            MeasureKind::Social,
            CauseBone::Offender,
            MeasureStatus::Ongoing,
            &[
                IncidentCategory::DisorderGathering,
                IncidentCategory::ThreatViolence,
            ],
        ),
        (
            "Städning och klotterrensning inom 24 timmar",
            MeasureKind::Situational,
            CauseBone::Place,
            MeasureStatus::Done,
            &[IncidentCategory::Vandalism],
        ),
        (
            "Tillsyn av lokaler",
            MeasureKind::Enforcement,
            CauseBone::Place,
            MeasureStatus::Cancelled,
            &[IncidentCategory::DrugCache],
        ),
    ];
    let mut out = Vec::new();
    for (i, (title, kind, bone, status, targets)) in plans.into_iter().enumerate() {
        let spot = &spots[i % spots.len()];
        let start = today - Duration::days(rng.random_range(40..200));
        let finished = matches!(status, MeasureStatus::Done | MeasureStatus::Cancelled);
        let (organisation, owner) = match kind {
            MeasureKind::Enforcement => ("Polisen", "Lokalpolisområde Botkyrka"),
            MeasureKind::Social => ("Botkyrka kommun", "Fältgruppen Botkyrka"),
            _ => ("Botkyrka kommun", "Tekniska förvaltningen"),
        };
        out.push(Feature {
            id: uuid(rng),
            geom: scatter(rng, spot).into(),
            properties: Properties::Measure(Box::new(Measure {
                title: title.into(),
                description: "Demoåtgärd".into(),
                kind,
                cause: Cause {
                    bone,
                    text: "Demoorsak".into(),
                },
                owner: owner.into(),
                status,
                decided_at: (status != MeasureStatus::Proposed).then(|| {
                    let (y, w, _) = start.to_iso_week_date();
                    format!("{y}-W{w:02}").into_boxed_str()
                }),
                start,
                due: Some(start + Duration::days(90)),
                end: finished.then(|| start + Duration::days(rng.random_range(20..40))),
                horizon: if kind == MeasureKind::Social {
                    Horizon::Long
                } else {
                    Horizon::Short
                },
                target_categories: targets.to_vec(),
                comparison_area: None,
            })),
            meta: meta(
                organisation,
                if i % 2 == 0 {
                    Classification::Open
                } else {
                    Classification::Internal
                },
                as_of,
            ),
        });
    }
    out
}

/// 40 risk environments near the hotspots, a quarter overdue for review.
fn risk_environments(
    rng: &mut ChaCha8Rng,
    spots: &[Hotspot],
    as_of: OffsetDateTime,
) -> Vec<Feature> {
    let today = as_of.date();
    let mut out = Vec::new();
    for i in 0..40 {
        let spot = &spots[i % spots.len()];
        let kind = RiskKind::ALL[rng.random_range(0..RiskKind::ALL.len())];
        let level = *pick(
            rng,
            &[
                (RiskLevel::Low, 2.0),
                (RiskLevel::Medium, 3.0),
                (RiskLevel::High, 2.0),
            ],
        );
        let since = today - Duration::days(rng.random_range(60..900));
        let last_assessed = (today - Duration::days(rng.random_range(5..200))).max(since);
        // About a quarter are overdue for review.
        let next_review = if i % 4 == 0 {
            today - Duration::days(rng.random_range(3..60))
        } else {
            today + Duration::days(rng.random_range(7..120))
        };
        let next_review = next_review.max(last_assessed);
        let (organisation, assessed_by) = if i % 3 == 0 {
            ("Polisen", "Lokalpolisområde")
        } else if spot.municipality == "Botkyrka" {
            ("Botkyrka kommun", "Socialtjänsten")
        } else {
            ("Södertälje kommun", "Socialtjänsten")
        };
        let description = match kind {
            RiskKind::GatheringPlace => "Ungdomar samlas kvällstid",
            RiskKind::OpenDrugScene => "Tecken på öppen narkotikahandel",
            RiskKind::RecruitmentSite => "Äldre personer uppsöker yngre här",
            RiskKind::UnsafePlace => "Dålig belysning, skymd plats",
            RiskKind::Other => "Oro rapporterad av skolan",
        };
        out.push(Feature {
            id: uuid(rng),
            geom: scatter(rng, spot).into(),
            properties: Properties::RiskEnvironment(Box::new(RiskEnvironment {
                kind,
                level,
                since,
                last_assessed,
                assessed_by: assessed_by.into(),
                next_review,
                status: if i % 13 == 12 {
                    RiskStatus::Closed
                } else {
                    RiskStatus::Active
                },
                description: description.into(),
            })),
            meta: meta(
                organisation,
                if i % 3 == 0 {
                    Classification::Restricted
                } else {
                    Classification::Internal
                },
                as_of,
            ),
        });
    }

    out
}

/// 60 cameras of the municipality, the police and the housing companies.
fn cameras(rng: &mut ChaCha8Rng, spots: &[Hotspot], as_of: OffsetDateTime) -> Vec<Feature> {
    let mut out = Vec::new();
    for i in 0..60 {
        let spot = &spots[i % spots.len()];
        let owner = *pick(
            rng,
            &[
                (CameraOwner::Municipality, 4.0),
                (CameraOwner::Police, 3.0),
                (CameraOwner::HousingCompany, 4.0),
                (CameraOwner::Other, 1.0),
            ],
        );
        let status = *pick(
            rng,
            &[
                (CameraStatus::Active, 8.0),
                (CameraStatus::Planned, 1.5),
                (CameraStatus::OutOfOrder, 1.0),
            ],
        );
        let organisation = match (owner, spot.municipality) {
            (CameraOwner::Police, _) => "Polisen",
            (CameraOwner::HousingCompany, "Botkyrka") => "Botkyrkabyggen",
            (CameraOwner::HousingCompany, _) => "Telge Bostäder",
            (_, "Botkyrka") => "Botkyrka kommun",
            _ => "Södertälje kommun",
        };
        let spread = Hotspot {
            centre: spot.centre,
            weight: 1.0,
            spread_m: spot.spread_m * 0.8,
            municipality: spot.municipality,
        };
        // The register after 1 April 2025: an assessment documented (a permit's reference
        // from before kept as its reference), reviewed every two years; one in six is past its
        // review date.
        let today = as_of.date();
        let two_years = time::Duration::days(730);
        let (assessed, next_review) = if i % 6 == 5 {
            let review = today - time::Duration::days(i64::from(rng.random_range(5..90u32)));
            (review - two_years, review)
        } else {
            let assessed = today - time::Duration::days(i64::from(rng.random_range(30..700u32)));
            (assessed, assessed + two_years)
        };
        let purposes = [
            "Förebygga skadegörelse och bränder vid centrum",
            "Trygghet vid busshållplats och gångtunnel",
            "Utreda brott mot allmän ordning",
            "Skydda fastighet mot skadegörelse",
        ];
        out.push(Feature {
            id: uuid(rng),
            geom: scatter(rng, &spread).into(),
            properties: Properties::Camera(Box::new(Camera {
                direction: f64::from(rng.random_range(0..72u32) * 5),
                field_of_view: f64::from(rng.random_range(8..23u32) * 5),
                range_m: f64::from(rng.random_range(3..13u32) * 10),
                owner,
                status,
                purpose: Some(purposes[i % purposes.len()].into()),
                assessment_date: Some(assessed),
                assessment_reference: Some(if i % 4 == 0 && owner != CameraOwner::Police {
                    format!("KBT-{}-{:04}", 2022 + i % 3, rng.random_range(1..2000u32))
                        .into_boxed_str()
                } else {
                    format!("{}/{:04}", assessed.year(), rng.random_range(1..2000u32))
                        .into_boxed_str()
                }),
                next_review: Some(next_review),
                operator: Some(organisation.into()),
                last_checked: Some(
                    today - time::Duration::days(i64::from(rng.random_range(1..120u32))),
                ),
                resolution_px: Some(*pick(rng, &[(1920, 4.0), (2688, 3.0), (3840, 2.0)])),
                mounting_height_m: Some(f64::from(rng.random_range(25..60u32)) / 10.0),
            })),
            meta: meta(
                organisation,
                if owner == CameraOwner::Police {
                    Classification::Restricted
                } else {
                    Classification::Internal
                },
                as_of,
            ),
        });
    }

    out
}

/// 15 routes for night walkers, field workers and police, and the walks done on them over the
/// last eight weeks.
fn routes_and_walks(
    rng: &mut ChaCha8Rng,
    spots: &[Hotspot],
    as_of: OffsetDateTime,
) -> Vec<Feature> {
    let mut out = Vec::new();
    let route_names = [
        "Alby centrum – Albyberget",
        "Fittja centrum – Fittja gård",
        "Hallunda torg runt",
        "Norsborg – Hallunda",
        "Tumba centrum",
        "Storvreten runt",
        "Ronna centrum",
        "Geneta – Lina hage",
        "Hovsjö runt",
        "Fornhöjden – Södertälje C",
        "Saltskog runt",
        "Alby – Fittja längs E4",
        "Södertälje C kvällsrunda",
        "Hallunda – Alby",
        "Ronna – Geneta",
    ];
    for (i, name) in route_names.iter().enumerate() {
        let spot = &spots[i % spots.len()];
        let kind = match i % 5 {
            0..=2 => RouteKind::NightWalkers,
            3 => RouteKind::FieldWorkers,
            _ => RouteKind::Police,
        };
        let mut p = offset(spot.centre, gaussian(rng) * 100.0, gaussian(rng) * 100.0);
        let mut heading = rng.random_range(0.0..TAU);
        let mut coords: Vec<Coord<f64>> = vec![p.into()];
        for _ in 0..rng.random_range(6..10) {
            heading += rng.random_range(-1.2..1.2);
            let step = rng.random_range(120.0..260.0);
            p = offset(p, step * heading.sin(), step * heading.cos());
            coords.push(p.into());
        }
        let route_geometry = LineString::new(coords);
        let weekdays = match kind {
            RouteKind::NightWalkers => vec![Weekday::Fri, Weekday::Sat],
            RouteKind::FieldWorkers => vec![Weekday::Tue, Weekday::Thu, Weekday::Fri],
            RouteKind::Police => vec![Weekday::Wed, Weekday::Fri, Weekday::Sat, Weekday::Sun],
        };
        let organisation = match (kind, spot.municipality) {
            (RouteKind::NightWalkers, "Botkyrka") => "Nattvandrarna Botkyrka",
            (RouteKind::NightWalkers, _) => "Nattvandrarna Södertälje",
            (RouteKind::FieldWorkers, "Botkyrka") => "Fältgruppen Botkyrka",
            (RouteKind::FieldWorkers, _) => "Fältgruppen Södertälje",
            (RouteKind::Police, _) => "Polisen",
        };
        let route_id = uuid(rng);
        let status = if i == 14 {
            RouteStatus::Paused
        } else {
            RouteStatus::Active
        };
        out.push(Feature {
            id: route_id,
            geom: Geometry::LineString(route_geometry.clone()).into(),
            properties: Properties::PatrolRoute(Box::new(PatrolRoute {
                name: (*name).into(),
                kind,
                weekdays: weekdays.clone(),
                start_time: "21:00".into(),
                end_time: "01:00".into(),
                status,
                description: "Demorutt".into(),
            })),
            meta: meta(
                organisation,
                if kind == RouteKind::Police {
                    Classification::Internal
                } else {
                    Classification::Open
                },
                as_of,
            ),
        });
        if status != RouteStatus::Active {
            continue;
        }
        // Walks over the last eight weeks on the route's days, most of them done.
        for week in 0..8i64 {
            for wd in &weekdays {
                let back = i64::from(as_of.weekday().number_days_from_monday())
                    - i64::from(wd.code())
                    + 7 * week;
                if back <= 0 || !rng.random_bool(0.8) {
                    continue;
                }
                let started_at = (as_of - Duration::days(back))
                    .replace_time(Time::from_hms(21, 0, 0).unwrap_or(Time::MIDNIGHT));
                let report = [
                    "Lugnt",
                    "Lugnt, några ungdomar vid torget",
                    "Krossat glas vid lekplatsen",
                    "Många ute, god stämning",
                    "Oro vid centrum, polis informerad",
                ];
                let ended_at = started_at + Duration::minutes(rng.random_range(150..240));
                // The last three weeks' walks log stops at cells along the route (their own
                // generator, so the rest of the demo stays as it was).
                let stops = if week < 3 {
                    demo_stops(&route_geometry, started_at, i, week, wd.code())
                } else {
                    Vec::new()
                };
                out.push(Feature {
                    id: uuid(rng),
                    geom: Geometry::LineString(route_geometry.clone()).into(),
                    properties: Properties::Walk(Box::new(Walk {
                        route_id,
                        started_at,
                        ended_at,
                        walkers: rng.random_range(2..7),
                        report: report[rng.random_range(0..report.len())].into(),
                        stops,
                    })),
                    meta: meta(
                        organisation,
                        Classification::Open,
                        started_at + Duration::hours(5),
                    ),
                });
            }
        }
    }
    out
}

/// The demo's reference layers, fictitious like the rest: a street grid of 120 m blocks within
/// a kilometre of every hotspot (each block's sides as path segments, meeting at shared
/// corners), and a building in about half the blocks. (Paths, buildings.)
#[must_use]
pub fn reference() -> (Vec<Geometry<f64>>, Vec<Geometry<f64>>) {
    const BLOCK: f64 = 120.0;
    const REACH: i64 = 8; // blocks from a hotspot's block, about a kilometre
    let Ok(sweref) = crate::domain::crs::Sweref99Tm::new() else {
        return (Vec::new(), Vec::new());
    };
    let mut blocks = std::collections::BTreeSet::new();
    for spot in hotspots() {
        let Ok((e, n)) = sweref.from_wgs84(spot.centre.x(), spot.centre.y()) else {
            continue;
        };
        #[allow(clippy::cast_possible_truncation)]
        let (c, r) = ((e / BLOCK).floor() as i64, (n / BLOCK).floor() as i64);
        for dc in -REACH..=REACH {
            for dr in -REACH..=REACH {
                blocks.insert((c + dc, r + dr));
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let at = |e: f64, n: f64| -> Option<Coord<f64>> {
        sweref.to_wgs84(e, n).ok().map(|(x, y)| Coord { x, y })
    };
    let mut segments = std::collections::BTreeSet::new();
    for (c, r) in &blocks {
        for seg in [
            ((*c, *r), (*c + 1, *r)),
            ((*c, *r), (*c, *r + 1)),
            ((*c + 1, *r), (*c + 1, *r + 1)),
            ((*c, *r + 1), (*c + 1, *r + 1)),
        ] {
            segments.insert(seg);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let paths = segments
        .into_iter()
        .filter_map(|((c0, r0), (c1, r1))| {
            let a = at(c0 as f64 * BLOCK, r0 as f64 * BLOCK)?;
            let b = at(c1 as f64 * BLOCK, r1 as f64 * BLOCK)?;
            Some(Geometry::LineString(LineString::new(vec![a, b])))
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(DEMO_SEED.wrapping_add(7));
    #[allow(clippy::cast_precision_loss)]
    let buildings = blocks
        .iter()
        .filter_map(|(c, r)| {
            if !rng.random_bool(0.5) {
                return None;
            }
            let (w, h) = (rng.random_range(30.0..70.0), rng.random_range(20.0..45.0));
            let (cx, cy) = ((*c as f64 + 0.5) * BLOCK, (*r as f64 + 0.5) * BLOCK);
            let ring = [
                (-1.0, -1.0),
                (1.0, -1.0),
                (1.0, 1.0),
                (-1.0, 1.0),
                (-1.0, -1.0),
            ]
            .iter()
            .map(|(dx, dy)| at(cx + dx * w / 2.0, cy + dy * h / 2.0))
            .collect::<Option<Vec<_>>>()?;
            Some(Geometry::Polygon(geo::Polygon::new(
                LineString::new(ring),
                vec![],
            )))
        })
        .collect();
    (paths, buildings)
}

/// Two or three stops of 10–15 minutes at cells the route passes, 40 minutes apart.
fn demo_stops(
    route: &LineString<f64>,
    started_at: OffsetDateTime,
    route_no: usize,
    week: i64,
    day: u8,
) -> Vec<Stop> {
    let Ok(grid) = crate::service::visibility::Grid::new() else {
        return Vec::new();
    };
    let mut cells: Vec<(i64, i64)> = Vec::new();
    for p in route.points() {
        if let Some(c) = grid.cell_of(p)
            && !cells.contains(&c)
        {
            cells.push(c);
        }
    }
    #[allow(clippy::cast_sign_loss)]
    let seed = (route_no as u64) << 16 | (week as u64) << 8 | u64::from(day);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(2..=3).min(cells.len());
    (0..n)
        .map(|k| {
            let c = cells[rng.random_range(0..cells.len())];
            Stop {
                cell: format!("E{}_N{}", c.0, c.1).into(),
                #[allow(clippy::cast_possible_wrap)]
                arrived_at: started_at + Duration::minutes(20 + 40 * k as i64),
                minutes: rng.random_range(10..=15),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geometry::check_geometry;

    #[test]
    fn shipped_areas_all_read() {
        let report = crate::service::import::read_geojson(
            Layer::Areas,
            AREAS_GEOJSON.as_bytes(),
            Default::default(),
        )
        .unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert!(report.drafts.len() >= 10);
    }

    #[test]
    fn demo_is_deterministic_valid_and_sized_as_documented() {
        let as_of = time::macros::datetime!(2026-11-23 12:00 UTC);
        let a = demo(as_of);
        assert_eq!(a, demo(as_of));
        let ids: std::collections::HashSet<Uuid> = a.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), a.len(), "every demo feature has its own id");
        let count = |l: Layer| a.iter().filter(|f| f.layer() == l).count();
        assert_eq!(count(Layer::Incidents), 3_600);
        assert_eq!(count(Layer::RiskEnvironments), 40);
        assert_eq!(count(Layer::Cameras), 60);
        assert_eq!(count(Layer::PatrolRoutes), 15);
        assert!(count(Layer::Walks) > 50);
        let stale = a
            .iter()
            .filter(|f| matches!(&f.properties, Properties::RiskEnvironment(r) if r.is_stale(as_of.date())))
            .count();
        assert!(stale >= 5, "{stale} stale");
        for f in &a {
            check_geometry(f.layer().accepts(), &f.geometry(), "/geometry").unwrap();
            let back = Properties::from_value(
                f.layer(),
                serde_json::from_str(&f.properties.to_json()).unwrap(),
            );
            assert_eq!(back.as_ref(), Ok(&f.properties), "{}", f.id);
        }
    }

    #[test]
    fn incidents_favour_friday_and_saturday_evenings() {
        let as_of = time::macros::datetime!(2026-11-23 12:00 UTC);
        let v = incidents(7, as_of, 5_000);
        let at = |f: &Feature| match &f.properties {
            Properties::Incident(i) => i.occurred_at,
            _ => unreachable!(),
        };
        let weekend = v
            .iter()
            .filter(|f| {
                matches!(
                    at(f).weekday(),
                    time::Weekday::Friday | time::Weekday::Saturday
                )
            })
            .count();
        assert!(
            weekend as f64 / v.len() as f64 > 2.0 / 7.0 + 0.05,
            "{weekend}"
        );
        let evening = v.iter().filter(|f| at(f).hour() >= 18).count();
        assert!(evening as f64 / v.len() as f64 > 0.35, "{evening}");
    }
}
