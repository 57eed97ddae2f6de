//! Retention on either back-end: incidents past their time, removed for good in one
//! transaction with their weekly counts kept and an audit record.
//!
//! These tables hold plain columns, so one SQL text serves both databases: placeholders are
//! `$1, $2, …` in order of appearance (SQLite numbers `$N` parameters by first appearance), times
//! are bound as `OffsetDateTime` in whole seconds (timestamptz in PostGIS, RFC 3339 text in
//! SQLite, which then sorts as text).

use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::AuditRow;
use super::{Store, StoreError, whole_seconds};

/// The rows of incidents that happened before `$1`: what [`Store::expired_incidents`] reads,
/// named once so that the tests of which index answers it ask about this very clause.
macro_rules! expired_rows {
    () => {
        "FROM features WHERE layer = 'incidents' AND time_start < $1"
    };
}

/// The `FROM … WHERE` clause of the incidents past their time (one text for both back-ends).
pub const EXPIRED_ROWS: &str = expired_rows!();

/// An incident past its retention period, as the purge needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiredIncident {
    /// Its id.
    pub id: Uuid,
    /// Its category.
    pub category: String,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The centre of its geometry (lon, lat), to attribute it to an area.
    pub centre: (f64, f64),
}

/// Weekly counts kept after a purge: (ISO week, area, category, count).
pub type WeeklyCount = (String, String, String, i64);

impl Store {
    /// Every incident, live or deleted, that happened before `cutoff`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn expired_incidents(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Vec<ExpiredIncident>, StoreError> {
        type Row = (Uuid, Option<String>, OffsetDateTime, f64, f64);
        let rows: Vec<Row> = match self {
            Store::Sqlite(p) => sqlx::query_as(concat!(
                "SELECT id, category, time_start, (min_lon + max_lon) / 2, (min_lat + max_lat) / 2 ",
                expired_rows!()
            ))
            .bind(cutoff)
            .fetch_all(p)
            .await?,
            Store::Postgres(p) => sqlx::query_as(concat!(
                "SELECT id, category, time_start, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) ",
                expired_rows!()
            ))
            .bind(cutoff)
            .fetch_all(p)
            .await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id, category, occurred_at, lon, lat)| ExpiredIncident {
                id,
                category: category.unwrap_or_default(),
                occurred_at,
                centre: (lon, lat),
            })
            .collect())
    }

    /// In one transaction: adds `counts` to the kept weekly counts, deletes the incidents `ids`
    /// for good, and appends `audit`. All or nothing.
    ///
    /// # Errors
    /// Database errors (then nothing changed).
    pub async fn purge_incidents(
        &self,
        ids: &[Uuid],
        counts: &[WeeklyCount],
        audit: &AuditRow,
    ) -> Result<u64, StoreError> {
        let upsert = "INSERT INTO incident_weekly_counts (week, area, category, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (week, area, category) DO UPDATE SET count = incident_weekly_counts.count + excluded.count";
        let delete = "DELETE FROM features WHERE id = $1 AND layer = 'incidents'";
        let append = "INSERT INTO audit_log (at, actor, role, action, layer, features, bbox, address, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let deleted = on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            for (week, area, category, n) in counts {
                sqlx::query(upsert).bind(week).bind(area).bind(category).bind(n)
                    .execute(&mut *tx).await?;
            }
            let mut deleted = 0;
            for id in ids {
                deleted += sqlx::query(delete).bind(id).execute(&mut *tx).await?.rows_affected();
            }
            sqlx::query(append)
                .bind(whole_seconds(audit.at)).bind(&audit.actor).bind(&audit.role).bind(&audit.action)
                .bind(&audit.layer).bind(&audit.features).bind(&audit.bbox).bind(&audit.address)
                .bind(&audit.outcome).bind(&audit.detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(deleted)
        }.await)?;
        Ok(deleted)
    }

    /// The weekly counts kept from purged incidents, by week, area and category.
    ///
    /// # Errors
    /// Database errors.
    pub async fn weekly_counts(&self) -> Result<Vec<WeeklyCount>, StoreError> {
        let sql = "SELECT week, area, category, count FROM incident_weekly_counts ORDER BY week, area, category";
        Ok(on_pool!(self, p => sqlx::query_as::<_, WeeklyCount>(sql).fetch_all(p).await)?)
    }
}
