//! PostgreSQL's binary `COPY` format for feature rows: how a bulk insert reaches PostGIS at the
//! database's own speed (issue 17), one `COPY … FROM STDIN (FORMAT binary)` per batch.
//!
//! The format (PostgreSQL documentation, "COPY", "Binary Format"): a signature and two 32-bit
//! words, then per row a 16-bit field count and per field a 32-bit length (−1 for NULL) and
//! the field's binary representation as the type's `recv` function reads it, then −1 as a
//! 16-bit trailer. Integers are big-endian. Geometry goes as EWKB with SRID 4326 (what
//! PostGIS's `geometry_recv` reads; the column's typmod requires the SRID), jsonb as a version
//! byte 1 and the text, timestamptz as microseconds since 2000-01-01 UTC.

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::StoreError;
use super::codec::Derived;
use crate::domain::Feature;

/// The columns, in the order each row writes them.
pub(super) const COLUMNS: &str = "id, layer, geom, category, status, time_start, time_end, organisation, classification, properties, created_at, updated_at, created_by, version";
const FIELDS: i16 = 14;

/// The file header: signature, flags (no OIDs), header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
pub(super) const PG_EPOCH_UNIX: i128 = 946_684_800;

/// Copies `features` into `features` on `conn` (in the caller's transaction).
///
/// # Errors
/// Geometry encoding and database errors (a taken id is a unique violation).
pub(super) async fn copy_rows(
    conn: &mut PgConnection,
    features: &[Feature],
) -> Result<u64, StoreError> {
    copy_encoded(conn, &encode(features)?).await
}

/// Copies rows [`encode`] made into `features` on `conn` (in the caller's transaction); a bulk
/// insert encodes the next batch on another thread meanwhile ([`super::bulk`]).
///
/// # Errors
/// Database errors (a taken id is a unique violation).
pub(super) async fn copy_encoded(conn: &mut PgConnection, data: &[u8]) -> Result<u64, StoreError> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY features ({COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    // The protocol's messages are at most 1 GiB; batches are far smaller, but send in pieces.
    for piece in data.chunks(1 << 20) {
        if let Err(e) = copy.send(piece).await {
            let _ = copy.abort("the client could not send the rows").await;
            return Err(e.into());
        }
    }
    Ok(copy.finish().await?)
}

/// The binary `COPY` data of `features`: header, one tuple each, trailer.
///
/// # Errors
/// When a geometry cannot be encoded.
pub(super) fn encode(features: &[Feature]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(HEADER.len() + features.len() * 320 + 2);
    out.extend_from_slice(HEADER);
    for f in features {
        let d = Derived::of(f)?;
        out.extend_from_slice(&FIELDS.to_be_bytes());
        field(&mut out, f.id.as_bytes())?;
        field(&mut out, f.layer().as_str().as_bytes())?;
        field(&mut out, &ewkb_4326(&d.wkb)?)?;
        optional(&mut out, d.category.map(str::as_bytes))?;
        optional(&mut out, d.status.map(str::as_bytes))?;
        optional(
            &mut out,
            d.time_start.map(timestamptz).as_ref().map(|b| &b[..]),
        )?;
        optional(
            &mut out,
            d.time_end.map(timestamptz).as_ref().map(|b| &b[..]),
        )?;
        field(&mut out, f.meta.organisation.as_bytes())?;
        field(&mut out, f.meta.classification.as_str().as_bytes())?;
        let mut jsonb = Vec::with_capacity(d.properties.len() + 1);
        jsonb.push(1);
        jsonb.extend_from_slice(d.properties.as_bytes());
        field(&mut out, &jsonb)?;
        field(&mut out, &timestamptz(f.meta.created_at))?;
        field(&mut out, &timestamptz(f.meta.updated_at))?;
        field(&mut out, f.meta.created_by.as_bytes())?;
        field(&mut out, &f.meta.version.to_be_bytes())?;
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), StoreError> {
    // A field's length is a signed 32-bit number: a longer one cannot be sent (none of a
    // valid feature's fields comes near it).
    let len = i32::try_from(bytes.len())
        .map_err(|_| StoreError::Corrupt("a field is too long for COPY (over 2 GiB)".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

pub(super) fn optional(out: &mut Vec<u8>, bytes: Option<&[u8]>) -> Result<(), StoreError> {
    match bytes {
        Some(b) => field(out, b),
        None => {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            Ok(())
        }
    }
}

/// A timestamptz's binary form: microseconds since 2000-01-01 UTC.
pub(super) fn timestamptz(t: OffsetDateTime) -> [u8; 8] {
    let micros = t.unix_timestamp_nanos() / 1000 - PG_EPOCH_UNIX * 1_000_000;
    i64::try_from(micros).unwrap_or(i64::MAX).to_be_bytes()
}

/// OGC WKB as PostGIS's extended WKB with SRID 4326 on the outer geometry.
fn ewkb_4326(wkb: &[u8]) -> Result<Vec<u8>, StoreError> {
    const SRID_FLAG: u32 = 0x2000_0000;
    let bad = || StoreError::Corrupt("cannot encode the geometry as EWKB".into());
    let (&order, rest) = wkb.split_first().ok_or_else(bad)?;
    let kind: [u8; 4] = rest
        .get(..4)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(bad)?;
    let mut out = Vec::with_capacity(wkb.len() + 4);
    out.push(order);
    match order {
        1 => {
            out.extend_from_slice(&(u32::from_le_bytes(kind) | SRID_FLAG).to_le_bytes());
            out.extend_from_slice(&4326u32.to_le_bytes());
        }
        0 => {
            out.extend_from_slice(&(u32::from_be_bytes(kind) | SRID_FLAG).to_be_bytes());
            out.extend_from_slice(&4326u32.to_be_bytes());
        }
        _ => return Err(bad()),
    }
    out.extend_from_slice(&rest[4..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wkb_point_gets_the_srid_flag_and_4326() {
        let wkb = super::super::codec::to_wkb(&geo::Geometry::Point(geo::Point::new(17.9, 59.2)))
            .unwrap();
        let e = ewkb_4326(&wkb).unwrap();
        assert_eq!(e.len(), wkb.len() + 4);
        assert_eq!(e[0], wkb[0]);
        let (kind, srid) = if e[0] == 1 {
            (
                u32::from_le_bytes(e[1..5].try_into().unwrap()),
                u32::from_le_bytes(e[5..9].try_into().unwrap()),
            )
        } else {
            (
                u32::from_be_bytes(e[1..5].try_into().unwrap()),
                u32::from_be_bytes(e[5..9].try_into().unwrap()),
            )
        };
        assert_eq!((kind, srid), (0x2000_0001, 4326));
        assert_eq!(&e[9..], &wkb[5..]);
        assert!(ewkb_4326(&[]).is_err());
        assert!(ewkb_4326(&[7, 1, 0, 0, 0]).is_err());
    }

    #[test]
    fn timestamps_count_from_the_year_2000() {
        let t = time::macros::datetime!(2000-01-01 00:00:01 UTC);
        assert_eq!(i64::from_be_bytes(timestamptz(t)), 1_000_000);
        let t = time::macros::datetime!(1999-12-31 23:59:59.5 UTC);
        assert_eq!(i64::from_be_bytes(timestamptz(t)), -500_000);
    }
}
