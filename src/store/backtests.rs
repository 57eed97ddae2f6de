//! The weekly back-test's kept scores (see `service::analysis`), on either back-end.

use time::OffsetDateTime;

use super::{Store, StoreError, whole_seconds};

/// One method's score in one week, as kept.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BackTestRow {
    /// What the caller could see (precision, ceiling, categories).
    pub scope: String,
    /// The ISO week.
    pub week: String,
    /// The method.
    pub method: String,
    /// Incidents that week.
    pub incidents: f64,
    /// Hit rate.
    pub hit_rate: f64,
    /// PAI.
    pub pai: f64,
    /// PEI*.
    pub pei_star: f64,
    /// Stability (none in a first week).
    pub stability: Option<f64>,
    /// When it was computed.
    pub computed_at: OffsetDateTime,
}

impl Store {
    /// Keeps `rows`, replacing the scores of the same scope, week and method.
    ///
    /// # Errors
    /// Database errors.
    pub async fn keep_back_test(&self, rows: &[BackTestRow]) -> Result<(), StoreError> {
        let sql = "INSERT INTO backtest_history (scope, week, method, incidents, hit_rate, pai, pei_star, stability, computed_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                   ON CONFLICT (scope, week, method) DO UPDATE SET incidents = excluded.incidents, \
                   hit_rate = excluded.hit_rate, pai = excluded.pai, pei_star = excluded.pei_star, \
                   stability = excluded.stability, computed_at = excluded.computed_at";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                for r in rows {
                    sqlx::query(sql)
                        .bind(&r.scope)
                        .bind(&r.week)
                        .bind(&r.method)
                        .bind(r.incidents)
                        .bind(r.hit_rate)
                        .bind(r.pai)
                        .bind(r.pei_star)
                        .bind(r.stability)
                        .bind(whole_seconds(r.computed_at))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Store::Sqlite(p) => run!(p),
            Store::Postgres(p) => run!(p),
        }
        Ok(())
    }

    /// The kept scores of `scope` before ISO week `before` (oldest first).
    ///
    /// # Errors
    /// Database errors.
    pub async fn back_test_history(
        &self,
        scope: &str,
        before: &str,
    ) -> Result<Vec<BackTestRow>, StoreError> {
        let sql = "SELECT scope, week, method, incidents, hit_rate, pai, pei_star, stability, computed_at \
                   FROM backtest_history WHERE scope = $1 AND week < $2 ORDER BY week, method";
        Ok(on_pool!(self, p => sqlx::query_as::<_, BackTestRow>(sql)
            .bind(scope).bind(before).fetch_all(p).await)?)
    }
}
