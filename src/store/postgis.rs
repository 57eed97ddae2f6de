//! The PostGIS back-end: `geometry(Geometry, 4326)` with a GiST index, properties as jsonb.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::AuditRow;
use super::codec::Derived;
use super::{Progress, StoreError};
use crate::domain::{Feature, Layer};

/// Rows per multi-row INSERT (17 parameters each, under PostgreSQL's 65 535).
const CHUNK: usize = 1000;
/// Rows per binary `COPY` when there are more than [`CHUNK`].
const COPY_BATCH: usize = 10_000;

pub(super) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("lagesbild");
    Ok(PgPoolOptions::new()
        .max_connections(8)
        // While the database is unreachable a request waits this long before its 503.
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?)
}

pub(super) async fn insert(
    pool: &PgPool,
    features: &[Feature],
    audit: Option<&AuditRow>,
    progress: Progress<'_>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let mut done = 0u64;
    if features.len() > CHUNK {
        // Many rows: binary COPY, a batch at a time (the database's own speed).
        for chunk in features.chunks(COPY_BATCH) {
            done += super::pgcopy::copy_rows(&mut tx, chunk).await?;
            progress(done);
        }
        if let Some(a) = audit {
            super::audit::append_audit_pg(&mut tx, a).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    for chunk in features.chunks(CHUNK) {
        let derived: Vec<Derived> = chunk.iter().map(Derived::of).collect::<Result<_, _>>()?;
        let mut b: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO features (id, layer, geom, category, status, time_start, time_end, organisation, classification, properties, created_at, updated_at, created_by, version) ",
        );
        b.push_values(chunk.iter().zip(&derived), |mut s, (f, d)| {
            s.push_bind(f.id)
                .push_bind(f.layer().as_str())
                .push("ST_GeomFromWKB(")
                .push_bind_unseparated(d.wkb.clone())
                .push_unseparated(", 4326)")
                .push_bind(d.category)
                .push_bind(d.status)
                .push_bind(d.time_start)
                .push_bind(d.time_end)
                .push_bind(f.meta.organisation.to_string())
                .push_bind(f.meta.classification.as_str())
                .push_bind(d.properties.clone())
                .push_unseparated("::jsonb")
                .push_bind(f.meta.created_at)
                .push_bind(f.meta.updated_at)
                .push_bind(f.meta.created_by.to_string())
                .push_bind(f.meta.version);
        });
        b.build().execute(&mut *tx).await?;
        done += chunk.len() as u64;
        progress(done);
    }
    if let Some(a) = audit {
        super::audit::append_audit_pg(&mut tx, a).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update(
    pool: &PgPool,
    f: &Feature,
    audit: Option<&AuditRow>,
) -> Result<bool, StoreError> {
    let d = Derived::of(f)?;
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE features SET geom = ST_GeomFromWKB($1, 4326), category = $2, status = $3, time_start = $4, \
         time_end = $5, organisation = $6, classification = $7, properties = $8::jsonb, updated_at = $9, version = $10 \
         WHERE id = $11 AND layer = $12 AND version = $13 AND deleted_at IS NULL",
    )
    .bind(d.wkb)
    .bind(d.category)
    .bind(d.status)
    .bind(d.time_start)
    .bind(d.time_end)
    .bind(f.meta.organisation.to_string())
    .bind(f.meta.classification.as_str())
    .bind(d.properties)
    .bind(f.meta.updated_at)
    .bind(f.meta.version)
    .bind(f.id)
    .bind(f.layer().as_str())
    .bind(f.meta.version - 1)
    .execute(&mut *tx)
    .await?;
    let done = r.rows_affected() == 1;
    if done {
        if let Some(a) = audit {
            super::audit::append_audit_pg(&mut tx, a).await?;
        }
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn delete(
    pool: &PgPool,
    layer: Layer,
    id: Uuid,
    version: i64,
    by: &str,
    at: OffsetDateTime,
    audit: Option<&AuditRow>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE features SET deleted_at = $1, deleted_by = $2, version = version + 1 \
         WHERE id = $3 AND layer = $4 AND version = $5 AND deleted_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .bind(layer.as_str())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let done = r.rows_affected() == 1;
    if done {
        if let Some(a) = audit {
            super::audit::append_audit_pg(&mut tx, a).await?;
        }
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn count(pool: &PgPool, layer: Layer) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM features WHERE layer = $1 AND deleted_at IS NULL")
            .bind(layer.as_str())
            .fetch_one(pool)
            .await?,
    )
}
