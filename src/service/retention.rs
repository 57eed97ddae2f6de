//! Retention (gallring): incidents older than the configured period are removed for good; only
//! their weekly counts per area and category are kept, and the removal is audited.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Month, OffsetDateTime};

use super::{Change, Service, ServiceError};
use crate::domain::Layer;
use crate::domain::access::Viewer;
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::time::{week_label, week_start};
use crate::store::audit::AuditRow;
use crate::store::retention::WeeklyCount;

/// How long features are kept, in months, per layer. Only incidents are purged today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Months an incident is kept after it happened (default 24); `0` keeps them for ever.
    #[serde(default = "default_incident_months")]
    pub incidents_months: u32,
}

const fn default_incident_months() -> u32 {
    24
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            incidents_months: default_incident_months(),
        }
    }
}

/// `t` moved back by whole calendar months (the day clamped to the month's length).
#[must_use]
pub fn months_before(t: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1 - i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MIN);
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(Month::January);
    let day = t.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .map_or(OffsetDateTime::UNIX_EPOCH, |d| t.replace_date(d))
}

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Incidents before this were removed.
    pub cutoff: Option<OffsetDateTime>,
    /// How many incidents were removed (live and deleted ones).
    pub removed: u64,
    /// How many (week, area, category) counts were added to.
    pub weekly_counts: usize,
}

/// The Monday 00:00 UTC of the ISO week holding `t`.
#[must_use]
pub fn week_floor(t: time::OffsetDateTime) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(week_start(t.unix_timestamp())).unwrap_or(t)
}

impl Service {
    /// The first instant an incident may have and still be kept (a whole ISO week), or `None`
    /// when retention is off.
    #[must_use]
    pub fn retention_cutoff(&self) -> Option<OffsetDateTime> {
        let months = self.retention().incidents_months;
        (months > 0).then(|| week_floor(months_before(self.clock().now(), months)))
    }

    /// Removes incidents past the retention period for good, keeping weekly counts per area
    /// and category; audited as `purge` with the ids removed.
    ///
    /// # Errors
    /// Store failures (then nothing was removed).
    pub async fn purge(&self, viewer: &Viewer) -> Result<PurgeReport, ServiceError> {
        let months = self.retention().incidents_months;
        if months == 0 {
            return Ok(PurgeReport::default());
        }
        let now = self.clock().now();
        // Whole ISO weeks go at once: a cut-off inside a week would remove that week's incidents
        // day by day, and each removal would tell when one happened (docs/SECURITY.md).
        let cutoff = week_floor(months_before(now, months));
        let _guard = self.writes.lock().await;
        let expired = self.store().expired_incidents(cutoff).await?;
        if expired.is_empty() {
            return Ok(PurgeReport {
                cutoff: Some(cutoff),
                ..PurgeReport::default()
            });
        }
        let mut counts: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for e in &expired {
            let area = self
                .area_of(geo::Point::new(e.centre.0, e.centre.1))
                .map_or_else(String::new, |a| a.to_string());
            let week = week_label(week_start(e.occurred_at.unix_timestamp()));
            *counts.entry((week, area, e.category.clone())).or_default() += 1;
        }
        let counts: Vec<WeeklyCount> = counts
            .into_iter()
            .map(|((w, a, c), n)| (w, a, c, n))
            .collect();
        let ids: Vec<uuid::Uuid> = expired.iter().map(|e| e.id).collect();
        let mut row = AuditRow::new(now, AuditAction::Purge, AuditOutcome::Ok)
            .layer(Layer::Incidents)
            .features(ids.iter().copied())
            .detail(format!(
                "{} incidents before {cutoff} removed for good ({months} months retention); {} weekly counts kept",
                ids.len(),
                counts.len()
            ));
        row.actor = viewer.user.to_string();
        row.role = Some(viewer.role_id.to_string());
        row.address = viewer.address.as_deref().map(str::to_owned);
        let removed = self.store().purge_incidents(&ids, &counts, &row).await?;
        self.changes_written();
        for id in &ids {
            if let Some(f) = self.index().get(Layer::Incidents, *id) {
                self.index().remove(Layer::Incidents, *id);
                self.announce(Change::Deleted(Arc::clone(&f)));
            }
        }
        if removed > 0 {
            // An index snapshot on disk still holds them: removed for good means that too.
            self.discard_snapshot()?;
        }
        tracing::info!(removed, %cutoff, "retention: purged incidents");
        Ok(PurgeReport {
            cutoff: Some(cutoff),
            removed,
            weekly_counts: counts.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_cutoff_is_a_whole_week() {
        // 2024-11-23 was a Saturday: the cut-off moves back to Monday 2024-11-18 00:00 UTC,
        // and every day of that week gives the same cut-off.
        for day in 18..=24 {
            let t = datetime!(2024-11-18 10:00 UTC) + time::Duration::days(day - 18);
            assert_eq!(week_floor(t), datetime!(2024-11-18 00:00 UTC), "{t}");
        }
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(
            months_before(datetime!(2026-11-23 10:00 UTC), 24),
            datetime!(2024-11-23 10:00 UTC)
        );
        assert_eq!(
            months_before(datetime!(2026-03-31 00:00 UTC), 1),
            datetime!(2026-02-28 00:00 UTC)
        );
        assert_eq!(
            months_before(datetime!(2026-01-15 00:00 UTC), 1),
            datetime!(2025-12-15 00:00 UTC)
        );
    }
}
