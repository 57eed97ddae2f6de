//! Reading features out of PostGIS with one binary `COPY (SELECT …) TO STDOUT`: how a server
//! starts from the table (issue 17, item 3).
//!
//! A query's rows cost the client more than the rows themselves: sqlx checks each column's type
//! and allocates a `String` or `Vec` per value, which took a third of a start-up's client CPU.
//! The rows of a binary `COPY` are read in place instead: [`super::read`]'s `SELECT`, each
//! field borrowed from the received buffer and handed to [`RowRef::to_feature`], which both
//! paths share. The format is the one [`super::pgcopy`] writes (PostgreSQL documentation,
//! "COPY", "Binary Format").

use futures_util::TryStreamExt;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{Interner, RowRef};
use super::pgcopy::PG_EPOCH_UNIX;
use super::{Sink, StoreError};

/// The file header's fixed part: the signature, then the flags and the extension's length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The columns each row holds, in [`super::read`]'s order.
const FIELDS: usize = 13;

/// The flag bits of the header a reader must understand (16–31); none is defined.
const CRITICAL_FLAGS: u32 = 0xffff_0000;

/// The `COPY` statement that sends the rows of `select` (a `SELECT` of [`FIELDS`] columns).
fn statement(select: &str) -> String {
    format!("COPY ({select}) TO STDOUT (FORMAT binary)")
}

/// Every row `select` (a `SELECT` of [`super::read`]'s columns) gives, as a feature into
/// `sink`; returns how many.
///
/// The connection is closed afterwards, not handed back to the pool: sqlx does not keep count
/// of what a `COPY` that failed to start or was dropped half-read still owes the connection,
/// and the next query on it would read that instead of its own answer. A read of the whole
/// table is rare (start-up, a reload, an export), so a fresh connection costs nothing.
///
/// # Errors
/// Database errors, a row that no longer reads (named by its id), or a stream that is not
/// what the statement asks for; the first one ends the read.
pub(super) async fn for_each(
    pool: &PgPool,
    select: &str,
    sink: Sink<'_>,
) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    conn.close_on_drop();
    let mut stream = conn.copy_out_raw(&statement(select)).await?;
    let mut reader = Reader::default();
    let mut strings = Interner::default();
    let mut n = 0;
    while let Some(chunk) = stream.try_next().await? {
        reader.feed(&chunk, &mut |row| {
            sink(row.to_feature(&mut strings)?);
            n += 1;
            Ok(())
        })?;
    }
    reader.finish().map(|()| n)
}

/// Cuts binary `COPY` data into rows, whatever the pieces it arrives in.
#[derive(Default)]
struct Reader {
    /// The start of a row (or of the header) whose end has not arrived yet.
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

/// One row's fields, `None` for NULL.
type Fields<'a> = [Option<&'a [u8]>; FIELDS];

impl Reader {
    /// Reads every whole row in `chunk` (after what was pending) into `row`.
    fn feed(
        &mut self,
        chunk: &[u8],
        row: &mut dyn FnMut(RowRef<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut pending = std::mem::take(&mut self.pending);
        let data: &[u8] = if pending.is_empty() {
            chunk
        } else {
            pending.extend_from_slice(chunk);
            &pending
        };
        let mut at = 0;
        if !self.header_read {
            match header_len(data)? {
                Some(len) => {
                    at = len;
                    self.header_read = true;
                }
                None => {
                    self.pending = data.to_vec();
                    return Ok(());
                }
            }
        }
        let mut fields: Fields<'_> = [None; FIELDS];
        while !self.ended {
            match next_row(&data[at..], &mut fields)? {
                Next::Row(len) => {
                    row(row_ref(&fields)?)?;
                    at += len;
                }
                Next::End => {
                    self.ended = true;
                    at += 2;
                }
                Next::Incomplete => break,
            }
        }
        if self.ended && at < data.len() {
            return Err(malformed("data after the trailer"));
        }
        let rest = data[at..].to_vec();
        self.pending = rest;
        Ok(())
    }

    /// Checks the data ended with the trailer and nothing half-read.
    fn finish(&self) -> Result<(), StoreError> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(malformed("the data ended before its trailer"))
        }
    }
}

fn malformed(what: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "the database's binary COPY of the features: {what}"
    ))
}

/// The header's length, `None` until all of it has arrived.
fn header_len(data: &[u8]) -> Result<Option<usize>, StoreError> {
    let fixed = SIGNATURE.len() + 8;
    if data.len() < fixed {
        return Ok(None);
    }
    if &data[..SIGNATURE.len()] != SIGNATURE {
        return Err(malformed("no COPY signature"));
    }
    if u32::from_be_bytes(word(&data[SIGNATURE.len()..])?) & CRITICAL_FLAGS != 0 {
        return Err(malformed("a header flag this reader does not know"));
    }
    let extension = u32::from_be_bytes(word(&data[SIGNATURE.len() + 4..])?);
    let len = fixed + usize::try_from(extension).map_err(|_| malformed("header"))?;
    Ok((data.len() >= len).then_some(len))
}

enum Next {
    /// A whole row, its fields set, and the bytes it took.
    Row(usize),
    /// The trailer.
    End,
    /// The row goes on in the next piece.
    Incomplete,
}

/// The next row of `data` into `fields`.
fn next_row<'a>(data: &'a [u8], fields: &mut Fields<'a>) -> Result<Next, StoreError> {
    let Some(count) = data.get(..2) else {
        return Ok(Next::Incomplete);
    };
    let count = i16::from_be_bytes([count[0], count[1]]);
    if count == -1 {
        return Ok(Next::End);
    }
    if usize::try_from(count).ok() != Some(FIELDS) {
        return Err(malformed(&format!("a row of {count} fields, not {FIELDS}")));
    }
    *fields = [None; FIELDS];
    let mut at = 2;
    for field in fields.iter_mut() {
        let Some(len) = data.get(at..at + 4) else {
            return Ok(Next::Incomplete);
        };
        let len = i32::from_be_bytes(word(len)?);
        at += 4;
        if len == -1 {
            continue;
        }
        let len = usize::try_from(len).map_err(|_| malformed("a negative field length"))?;
        let Some(value) = data.get(at..at + len) else {
            return Ok(Next::Incomplete);
        };
        *field = Some(value);
        at += len;
    }
    Ok(Next::Row(at))
}

fn word(b: &[u8]) -> Result<[u8; 4], StoreError> {
    b.get(..4)
        .and_then(|w| w.try_into().ok())
        .ok_or_else(|| malformed("a short word"))
}

/// The row's values, each as the column's type sends it; what does not read names the row.
fn row_ref<'a>(f: &Fields<'a>) -> Result<RowRef<'a>, StoreError> {
    let id = f[0]
        .and_then(|b| Uuid::from_slice(b).ok())
        .ok_or_else(|| malformed("a row without a 16-byte id"))?;
    let bad = |name: &str, what: &str| StoreError::Corrupt(format!("feature {id}: {name} {what}"));
    let bytes = |i: usize, name: &str| f[i].ok_or_else(|| bad(name, "is NULL"));
    let text = |i: usize, name: &str| -> Result<Option<&'a str>, StoreError> {
        f[i].map(|b| std::str::from_utf8(b).map_err(|_| bad(name, "is not UTF-8")))
            .transpose()
    };
    let needed = |i: usize, name: &str| text(i, name)?.ok_or_else(|| bad(name, "is NULL"));
    let eight = |b: &[u8], name: &str| -> Result<[u8; 8], StoreError> {
        b.try_into().map_err(|_| bad(name, "is not 8 bytes long"))
    };
    let time = |b: &[u8], name: &str| {
        timestamptz(eight(b, name)?).ok_or_else(|| bad(name, "is out of range"))
    };
    Ok(RowRef {
        id,
        layer: needed(1, "layer")?,
        geom: bytes(2, "geom")?,
        properties: needed(3, "properties")?,
        organisation: needed(4, "organisation")?,
        classification: needed(5, "classification")?,
        created_at: time(bytes(6, "created_at")?, "created_at")?,
        updated_at: time(bytes(7, "updated_at")?, "updated_at")?,
        created_by: needed(8, "created_by")?,
        version: i64::from_be_bytes(eight(bytes(9, "version")?, "version")?),
        category: text(10, "category")?,
        status: text(11, "status")?,
        time_start: f[12].map(|b| time(b, "time_start")).transpose()?,
    })
}

/// A timestamptz from its binary form, microseconds since 2000-01-01 UTC; `None` for what
/// `time` cannot hold (PostgreSQL's `infinity`, years past 9999).
fn timestamptz(b: [u8; 8]) -> Option<OffsetDateTime> {
    let micros = i128::from(i64::from_be_bytes(b));
    OffsetDateTime::from_unix_timestamp_nanos((micros + PG_EPOCH_UNIX * 1_000_000) * 1_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Feature, Layer};

    /// Binary `COPY` data of `features` as PostgreSQL would send the statement's columns,
    /// each field encoded by the bulk insert's writer (`store::pgcopy`).
    fn copy_data(features: &[Feature]) -> Vec<u8> {
        use crate::store::pgcopy::{optional, timestamptz as micros};
        let field = |out: &mut Vec<u8>, b: Option<&[u8]>| optional(out, b).unwrap();
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 4, 9, 9, 9, 9]); // a 4-byte extension
        for f in features {
            let d = crate::store::codec::Derived::of(f).unwrap();
            out.extend_from_slice(&i16::try_from(FIELDS).unwrap().to_be_bytes());
            field(&mut out, Some(f.id.as_bytes()));
            field(&mut out, Some(f.layer().as_str().as_bytes()));
            field(&mut out, Some(&d.wkb));
            field(&mut out, Some(d.properties.as_bytes()));
            field(&mut out, Some(f.meta.organisation.as_bytes()));
            field(&mut out, Some(f.meta.classification.as_str().as_bytes()));
            field(&mut out, Some(&micros(f.meta.created_at)));
            field(&mut out, Some(&micros(f.meta.updated_at)));
            field(&mut out, Some(f.meta.created_by.as_bytes()));
            field(&mut out, Some(&f.meta.version.to_be_bytes()));
            field(&mut out, d.category.map(str::as_bytes));
            field(&mut out, d.status.map(str::as_bytes));
            field(&mut out, d.time_start.map(micros).as_ref().map(|b| &b[..]));
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn read_in_pieces(data: &[u8], piece: usize) -> Result<Vec<Feature>, StoreError> {
        let mut reader = Reader::default();
        let mut strings = Interner::default();
        let mut out = Vec::new();
        for chunk in data.chunks(piece) {
            reader.feed(chunk, &mut |row| {
                out.push(row.to_feature(&mut strings)?);
                Ok(())
            })?;
        }
        reader.finish()?;
        Ok(out)
    }

    fn demo() -> Vec<Feature> {
        crate::demo::demo(time::macros::datetime!(2026-11-23 12:00 UTC))
            .into_iter()
            .step_by(7)
            .collect()
    }

    #[test]
    fn every_layer_reads_back_whatever_the_pieces() {
        let features = demo();
        let layers: std::collections::BTreeSet<_> = features.iter().map(Feature::layer).collect();
        assert_eq!(
            layers.len(),
            Layer::ALL.len(),
            "the sample covers every layer"
        );
        let data = copy_data(&features);
        for piece in [1, 2, 3, 7, 19, 64, 1000, data.len()] {
            let back = read_in_pieces(&data, piece).unwrap();
            assert_eq!(back.len(), features.len(), "pieces of {piece}");
            // Times to the microsecond, as PostgreSQL keeps them.
            for (a, b) in features.iter().zip(&back) {
                let mut a = a.clone();
                for t in [&mut a.meta.created_at, &mut a.meta.updated_at] {
                    *t = t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap();
                }
                assert_eq!(&a.id, &b.id);
                assert_eq!(a.geometry(), b.geometry());
                assert_eq!(a.meta, b.meta, "{}", a.id);
                assert_eq!(a.properties, b.properties, "{}", a.id);
            }
        }
    }

    #[test]
    fn cut_short_or_malformed_data_is_refused_and_names_what() {
        let data = copy_data(&demo());
        // Without its trailer, or cut inside a row.
        for cut in [data.len() - 2, data.len() - 40, 30] {
            let e = read_in_pieces(&data[..cut], 100).unwrap_err().to_string();
            assert!(e.contains("ended before its trailer"), "{e}");
        }
        // Not COPY data.
        let e = read_in_pieces(b"PGCOPY\n\xff\r\nX\0\0\0\0\0\0\0\0", 5)
            .unwrap_err()
            .to_string();
        assert!(e.contains("signature"), "{e}");
        // A row of another shape.
        let mut other = data[..25].to_vec();
        other[23..25].copy_from_slice(&12i16.to_be_bytes());
        let e = read_in_pieces(&other, 100).unwrap_err().to_string();
        assert!(e.contains("12 fields"), "{e}");
        // Something after the trailer.
        let mut more = data.clone();
        more.push(0);
        let e = read_in_pieces(&more, 100).unwrap_err().to_string();
        assert!(e.contains("after the trailer"), "{e}");
    }

    #[test]
    fn a_row_that_does_not_read_is_named_by_its_id() {
        let features = demo();
        let mut data = copy_data(&features[..1]);
        // The layer's name (the second field, after the 16-byte id) made unknown.
        let at = SIGNATURE.len() + 8 + 4 + 2 + 4 + 16 + 4;
        data[at] = b'X';
        let e = read_in_pieces(&data, 64).unwrap_err().to_string();
        assert!(
            e.contains(&features[0].id.to_string()) && e.contains("layer"),
            "{e}"
        );
    }

    #[test]
    fn fixed_bytes_read_as_postgresql_means_them() {
        // PostgreSQL's epoch, a microsecond before it, and `infinity` (i64::MAX).
        assert_eq!(
            timestamptz(0i64.to_be_bytes()),
            Some(time::macros::datetime!(2000-01-01 00:00 UTC))
        );
        assert_eq!(
            timestamptz((-1i64).to_be_bytes()),
            Some(time::macros::datetime!(1999-12-31 23:59:59.999999 UTC))
        );
        assert_eq!(timestamptz(i64::MAX.to_be_bytes()), None);
        // The signature as the documentation spells it: "PGCOPY\n\377\r\n\0".
        assert_eq!(SIGNATURE, [80, 71, 67, 79, 80, 89, 10, 255, 13, 10, 0]);
        // An empty result: header without extension, then the trailer.
        let empty = [SIGNATURE, &[0; 8], &[0xff, 0xff]].concat();
        assert!(read_in_pieces(&empty, 3).unwrap().is_empty());
        // A critical flag (bit 16) this reader does not know.
        let flagged = [SIGNATURE, &[0, 1, 0, 0, 0, 0, 0, 0], &[0xff, 0xff]].concat();
        let e = read_in_pieces(&flagged, 64).unwrap_err().to_string();
        assert!(e.contains("header flag"), "{e}");
    }

    #[test]
    fn the_statement_wraps_the_select() {
        assert_eq!(
            statement("SELECT 1"),
            "COPY (SELECT 1) TO STDOUT (FORMAT binary)"
        );
    }

    #[test]
    fn values_that_do_not_read_name_the_row_and_the_column() {
        let features = demo();
        let data = copy_data(&features[..1]);
        let id = features[0].id.to_string();
        // created_at (the seventh field) set to `infinity`.
        let mut at = SIGNATURE.len() + 8 + 4 + 2;
        for _ in 0..6 {
            let len = i32::from_be_bytes(data[at..at + 4].try_into().unwrap());
            at += 4 + usize::try_from(len).unwrap();
        }
        let mut infinite = data.clone();
        infinite[at + 4..at + 12].copy_from_slice(&i64::MAX.to_be_bytes());
        let e = read_in_pieces(&infinite, 64).unwrap_err().to_string();
        assert!(
            e.contains(&id) && e.contains("created_at is out of range"),
            "{e}"
        );
        // The same field made NULL (its 8 bytes dropped, its length -1).
        let mut null = data[..at].to_vec();
        null.extend_from_slice(&(-1i32).to_be_bytes());
        null.extend_from_slice(&data[at + 12..]);
        let e = read_in_pieces(&null, 64).unwrap_err().to_string();
        assert!(e.contains(&id) && e.contains("created_at is NULL"), "{e}");
    }
}
