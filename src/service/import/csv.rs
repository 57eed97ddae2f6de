//! CSV as municipalities' tools write it: Swedish Excel (`;` between fields, decimal comma,
//! Windows-1252 or UTF-8 with a byte-order mark), GDAL (`ogr2ogr -f CSV`, with a `WKT` column
//! or `X`,`Y`), and plain `lon,lat` files. The separator is detected from the header unless
//! given.

use std::io::{BufRead, BufReader, Cursor, Read, Seek};

use serde_json::{Map, Value};

use super::text::{self, Text};
use super::{ImportError, ImportOptions, ImportReport, InputCrs, RowError, RowReader};
use crate::domain::{FeatureDraft, Layer, ValidationError, ValidationErrors};

/// The separator between CSV fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,`
    Comma,
    /// `;` (Swedish Excel).
    Semicolon,
    /// A tab.
    Tab,
}

impl Delimiter {
    const fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => "','",
            Delimiter::Semicolon => "';'",
            Delimiter::Tab => "tab",
        }
    }

    /// The separator a header line uses most (outside quotes).
    fn detect(header: &str) -> Self {
        let mut counts = [0usize; 3];
        let mut quoted = false;
        for c in header.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => counts[0] += 1,
                ';' if !quoted => counts[1] += 1,
                '\t' if !quoted => counts[2] += 1,
                _ => {}
            }
        }
        if counts[1] > counts[0] && counts[1] >= counts[2] {
            Delimiter::Semicolon
        } else if counts[2] > counts[0] {
            Delimiter::Tab
        } else {
            Delimiter::Comma
        }
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "," | "comma" => Ok(Delimiter::Comma),
            ";" | "semicolon" => Ok(Delimiter::Semicolon),
            "\t" | "tab" => Ok(Delimiter::Tab),
            other => Err(format!("unknown separator '{other}'; use ',', ';' or tab")),
        }
    }
}

/// Reads a CSV file with a header row (see [`read_csv_with`]).
///
/// # Errors
/// When the header cannot be read or has no position columns.
pub fn read_csv(
    layer: Layer,
    input: impl Read,
    crs: InputCrs,
) -> Result<ImportReport, ImportError> {
    read_csv_with(
        layer,
        input,
        &ImportOptions {
            crs,
            ..ImportOptions::default()
        },
    )
}

/// Where a row's geometry is.
enum Place {
    /// A WKT column (GDAL's `GEOMETRY=AS_WKT`), any geometry kind.
    Wkt(usize),
    /// Two number columns.
    Xy(usize, usize),
    /// The mapping's `[position]`.
    Mapped,
}

/// Reads a CSV file with a header row into a report holding every valid draft (see
/// [`stream_csv`], which reads a file of any size without keeping its rows).
///
/// # Errors
/// When the header cannot be read or has no position columns.
pub fn read_csv_with(
    layer: Layer,
    mut input: impl Read,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let mut drafts = Vec::new();
    let mut report = stream_csv(layer, Cursor::new(bytes), options, &mut |d, _| {
        drafts.push(d);
        true
    })?;
    report.drafts = drafts;
    Ok(report)
}

/// Reads a CSV file with a header row, handing each valid draft to `sink` with how many
/// bytes of the file have been read, as it is read: the report keeps the rejected rows and
/// the counts, never the drafts. Reading stops early when `sink` returns `false`.
///
/// The file is read twice, keeping nothing the first time: once to decide its encoding (UTF-8,
/// else Windows-1252), then to read the rows.
///
/// Geometry: a `WKT` (or `geometry`) column in WKT, as GDAL writes it; else `lon,lat` (or
/// `longitude,latitude`, or GDAL's `X,Y`) in WGS84, or with [`InputCrs::Sweref99Tm`] `e,n` (or
/// `x,y`; when `x` holds the northing, as in Swedish surveying convention, the columns are
/// swapped); or the mapping's `[position]`. Other columns are properties; empty cells are left
/// out; `weekdays` is a list separated by `;`, `,` or spaces; decimal commas are read.
///
/// # Errors
/// When the file cannot be read, or its header cannot be read or has no position columns.
pub fn stream_csv<R: Read + Seek>(
    layer: Layer,
    mut input: R,
    options: &ImportOptions,
    sink: &mut dyn FnMut(FeatureDraft, u64) -> bool,
) -> Result<ImportReport, ImportError> {
    let encoding = text::detect(&mut input)?;
    let text = Text::new(BufReader::with_capacity(1 << 16, input), encoding)?;
    let mut text = BufReader::with_capacity(1 << 16, text);
    let delimiter = match options.delimiter {
        Some(d) => d,
        None => {
            // The header line from the first buffer (not consumed: the CSV reader reads it).
            let head = text.fill_buf()?;
            let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
            Delimiter::detect(&String::from_utf8_lossy(line))
        }
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter.byte())
        .trim(::csv::Trim::All)
        .flexible(false)
        .from_reader(text);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Format(format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let crs = options.crs;
    let place = if let Some(i) = find(&["wkt", "geometry", "the_geom", "geom"]) {
        Place::Wkt(i)
    } else if options
        .mapping
        .as_ref()
        .is_some_and(|m| m.position.is_some())
    {
        Place::Mapped
    } else {
        let (x, y) = match crs {
            InputCrs::Wgs84 => (
                find(&["lon", "longitude", "lng", "x"]),
                find(&["lat", "latitude", "y"]),
            ),
            InputCrs::Sweref99Tm => (find(&["e", "easting", "x"]), find(&["n", "northing", "y"])),
        };
        match (x, y) {
            (Some(x), Some(y)) => Place::Xy(x, y),
            _ => {
                return Err(ImportError::Format(match crs {
                    InputCrs::Wgs84 => format!(
                        "the CSV header ({}) has no 'lon' and 'lat' (or 'x' and 'y', or 'WKT') columns; for SWEREF 99 TM data with 'e,n' or 'x,y' columns add --crs EPSG:3006 (the fields were separated by {})",
                        headers.join(","),
                        delimiter.name()
                    ),
                    InputCrs::Sweref99Tm => format!(
                        "the CSV header ({}) has no 'e' and 'n' (or 'x' and 'y', or 'WKT') columns (the fields were separated by {})",
                        headers.join(","),
                        delimiter.name()
                    ),
                }));
            }
        }
    };
    let rows = RowReader::new(layer, options, crs)?;
    let mut report = ImportReport {
        csv_dialect: Some(format!(
            "separator {}, {}",
            delimiter.name(),
            encoding.name()
        )),
        ..ImportReport::default()
    };
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if e.is_io_error() => {
                return Err(match e.into_kind() {
                    ::csv::ErrorKind::Io(e) => ImportError::Io(e),
                    other => ImportError::Format(format!("{other:?}")),
                });
            }
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                report.rejected.push(RowError {
                    row: format!("line {line}"),
                    errors: ValidationErrors::one("", e.to_string()),
                });
                continue;
            }
        }
        let line = record.position().map_or(0, ::csv::Position::line);
        match csv_row(&rows, &headers, &record, &place, &mut report) {
            Ok(Some(d)) => {
                if !sink(d, reader.position().byte()) {
                    break;
                }
            }
            Ok(None) => {}
            Err(errors) => report.rejected.push(RowError {
                row: format!("line {line}"),
                errors,
            }),
        }
    }
    Ok(report)
}

fn number(
    headers: &[String],
    record: &::csv::StringRecord,
    i: usize,
) -> Result<f64, ValidationError> {
    let cell = record.get(i).unwrap_or("");
    cell.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            ValidationError::new(
                format!("column '{}'", headers[i]),
                format!("'{cell}' is not a number"),
            )
        })
}

fn csv_row(
    rows: &RowReader<'_>,
    headers: &[String],
    record: &::csv::StringRecord,
    place: &Place,
    report: &mut ImportReport,
) -> Result<Option<crate::domain::FeatureDraft>, ValidationErrors> {
    let mut source = Map::new();
    for (i, (h, cell)) in headers.iter().zip(record.iter()).enumerate() {
        let skip = match place {
            Place::Wkt(w) => i == *w,
            Place::Xy(x, y) => i == *x || i == *y,
            Place::Mapped => false,
        };
        if skip || cell.is_empty() {
            continue;
        }
        // Text as written: the row reader reads numbers, lists and booleans by the property.
        let value = Value::from(cell);
        source.insert(h.clone(), value);
    }
    let geometry = match place {
        Place::Wkt(i) => {
            use geozero::ToGeo;
            let cell = record.get(*i).unwrap_or("");
            let g = geozero::wkt::Wkt(cell).to_geo().map_err(|e| {
                ValidationErrors::one(
                    format!("column '{}'", headers[*i]),
                    format!("is not WKT ({e})"),
                )
            })?;
            serde_json::to_value(geojson::Geometry::from(&g)).map_err(|e| {
                ValidationErrors::one(format!("column '{}'", headers[*i]), e.to_string())
            })?
        }
        Place::Xy(xi, yi) => {
            let (x, y) = match (number(headers, record, *xi), number(headers, record, *yi)) {
                (Ok(x), Ok(y)) => (x, y),
                (a, b) => {
                    return Err(ValidationErrors(
                        [a.err(), b.err()].into_iter().flatten().collect(),
                    ));
                }
            };
            // Swedish convention names the northing X; SWEREF 99 TM northings are in the millions.
            let (x, y) = if rows.transform.is_some() && x > 1_000_000.0 && y < 1_000_000.0 {
                (y, x)
            } else {
                (x, y)
            };
            serde_json::json!({"type": "Point", "coordinates": [x, y]})
        }
        Place::Mapped => {
            let m = rows.options.mapping.as_ref();
            let (x, y) = m
                .and_then(|m| m.position(&source))
                .unwrap_or_else(|| Err(ValidationError::new("", "has no position")))
                .map_err(ValidationErrors::from)?;
            serde_json::json!({"type": "Point", "coordinates": [x, y]})
        }
    };
    let Some(props) = rows.properties(&source, report).map_err(ValidationErrors)? else {
        return Ok(None);
    };
    rows.draft(geometry, props, None, report)
        .map(Some)
        .map_err(|e| {
            // Point at CSV columns rather than JSON pointers.
            ValidationErrors(
                e.0.into_iter()
                    .map(|mut v| {
                        v.field = match v.field.strip_prefix("/properties/") {
                            Some(prop) => {
                                format!("column '{}'", prop.split('/').next().unwrap_or(prop))
                            }
                            // A mapped property, already named by its source field.
                            None if v.field.starts_with("field ") => {
                                v.field.replacen("field ", "column ", 1)
                            }
                            None if v.field.starts_with("/geometry") => match place {
                                Place::Wkt(i) => format!("column '{}'", headers[*i]),
                                Place::Xy(x, y) => {
                                    format!("columns '{}','{}'", headers[*x], headers[*y])
                                }
                                Place::Mapped => "position".into(),
                            },
                            None => v.field,
                        };
                        v
                    })
                    .collect(),
            )
        })
}
