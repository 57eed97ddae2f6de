//! Reading features, one SQL text for both back-ends: only the geometry and properties
//! expressions differ (WKB and JSON text on SQLite as stored; `ST_AsBinary` and `::text` on
//! PostGIS), and SQLite is told to scan the table in order for a whole-table read.

use futures_util::TryStreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{FeatureRow, Interner, RowTuple};
use super::{Sink, Store, StoreError};
use crate::domain::{Feature, Layer};

/// The columns of a feature row, as each back-end spells them.
fn select(store: &Store, whole_table: bool) -> String {
    let (geom, props, hint) = match store {
        Store::Sqlite(_) => (
            "geom",
            "properties",
            if whole_table { " NOT INDEXED" } else { "" },
        ),
        Store::Postgres(_) => ("ST_AsBinary(geom)", "properties::text", ""),
    };
    format!(
        "SELECT id, layer, {geom}, {props}, organisation, classification, created_at, updated_at, created_by, version FROM features{hint}"
    )
}

/// Every live feature of `layer`, or of every layer in one sequential pass over the table.
pub(super) async fn for_each(
    store: &Store,
    layer: Option<Layer>,
    sink: Sink<'_>,
) -> Result<u64, StoreError> {
    let sql = match layer {
        Some(_) => format!(
            "{} WHERE layer = $1 AND deleted_at IS NULL",
            select(store, false)
        ),
        None => format!("{} WHERE deleted_at IS NULL", select(store, true)),
    };
    let layer = layer.map(Layer::as_str);
    let mut strings = Interner::default();
    let mut n = 0;
    on_pool!(store, p => {
        let mut q = sqlx::query_as::<_, RowTuple>(sqlx::AssertSqlSafe(sql));
        if let Some(l) = layer {
            q = q.bind(l);
        }
        let mut rows = q.fetch(p);
        while let Some(r) = rows.try_next().await? {
            sink(FeatureRow::from(r).into_feature(&mut strings)?);
            n += 1;
        }
    });
    Ok(n)
}

/// One feature by id, live or not, with its deletion time (one query).
pub(super) async fn get(
    store: &Store,
    id: Uuid,
) -> Result<Option<(Feature, Option<OffsetDateTime>)>, StoreError> {
    let sql = select(store, false).replace(" FROM features", ", deleted_at FROM features")
        + " WHERE id = $1";
    type WithDeletion = (
        Uuid,
        String,
        Vec<u8>,
        String,
        String,
        String,
        OffsetDateTime,
        OffsetDateTime,
        String,
        i64,
        Option<OffsetDateTime>,
    );
    let found: Option<WithDeletion> = on_pool!(store, p =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
    let Some((a, b, c, d, e, f, g, h, i, j, deleted)) = found else {
        return Ok(None);
    };
    let row: RowTuple = (a, b, c, d, e, f, g, h, i, j);
    Ok(Some((
        FeatureRow::from(row).into_feature(&mut Interner::default())?,
        deleted,
    )))
}
