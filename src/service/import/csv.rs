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
    input: R,
    options: &ImportOptions,
    sink: &mut dyn FnMut(FeatureDraft, u64) -> bool,
) -> Result<ImportReport, ImportError> {
    stream_rows(layer, input, options, sink, true).map(|(report, _)| report)
}

/// [`stream_csv`], with the fast path for the common case ([`FastIncidents`]) or without it;
/// also says how many rows the fast path read.
fn stream_rows<R: Read + Seek>(
    layer: Layer,
    mut input: R,
    options: &ImportOptions,
    sink: &mut dyn FnMut(FeatureDraft, u64) -> bool,
    fast: bool,
) -> Result<(ImportReport, usize), ImportError> {
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
    let fast = FastIncidents::of(layer, &headers, &place, options).filter(|_| fast);
    let mut fast_rows = 0;
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
        if let Some(fast) = &fast
            && let Some((draft, swedish)) = fast.read(&headers, &record, rows.transform.as_ref())
        {
            report.swedish_times += usize::from(swedish);
            fast_rows += 1;
            if !sink(draft, reader.position().byte()) {
                break;
            }
            continue;
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
    Ok((report, fast_rows))
}

/// `(x, y)` with the easting first: Swedish convention names the northing X, and SWEREF 99 TM
/// northings are in the millions.
fn easting_first(sweref: bool, x: f64, y: f64) -> (f64, f64) {
    if sweref && x > 1_000_000.0 && y < 1_000_000.0 {
        (y, x)
    } else {
        (x, y)
    }
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
            let (x, y) = easting_first(rows.transform.is_some(), x, y);
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
    let Some(props) = rows.properties(source, report).map_err(ValidationErrors)? else {
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

/// The common case read straight into a draft: a file of incidents with position columns, no
/// mapping, and no column but the incident's own fields (and the server-written ones, which
/// every import drops). Each row is read into its types and checked by the same rules; only a
/// row that passes them all is taken from here. Any other row — one with a problem, or in a
/// form only the general way reads (a severity written `3,0`) — is read again the general way,
/// which decides it and names every problem. The general way builds a JSON document of each
/// row and reads it back, which took a third of a million-row import's reading time.
struct FastIncidents {
    x: usize,
    y: usize,
    category: usize,
    occurred_at: usize,
    severity: usize,
    organisation: usize,
    status: Option<usize>,
    reference: Option<usize>,
    description: Option<usize>,
    classification: Option<usize>,
}

impl FastIncidents {
    /// The fast path's columns, when the file is the common case (each column once).
    fn of(
        layer: Layer,
        headers: &[String],
        place: &Place,
        options: &ImportOptions,
    ) -> Option<Self> {
        let (Layer::Incidents, Place::Xy(x, y), None) = (layer, place, &options.mapping) else {
            return None;
        };
        let mut seen = std::collections::HashSet::new();
        let known = [
            "category",
            "occurred_at",
            "severity",
            "organisation",
            "status",
            "reference",
            "description",
            "classification",
        ];
        for (i, h) in headers.iter().enumerate() {
            let ours = i == *x
                || i == *y
                || known.contains(&h.as_str())
                || crate::domain::feature::READ_ONLY_PROPERTIES.contains(&h.as_str());
            if !ours || !seen.insert(h.as_str()) {
                return None;
            }
        }
        let find = |name: &str| headers.iter().position(|h| h == name);
        Some(Self {
            x: *x,
            y: *y,
            category: find("category")?,
            occurred_at: find("occurred_at")?,
            severity: find("severity")?,
            organisation: find("organisation")?,
            status: find("status"),
            reference: find("reference"),
            description: find("description"),
            classification: find("classification"),
        })
    }

    /// The row's draft, and whether its time was read as Swedish time; `None` when the row is
    /// to be read the general way.
    fn read(
        &self,
        headers: &[String],
        record: &::csv::StringRecord,
        transform: Option<&crate::domain::crs::Sweref99Tm>,
    ) -> Option<(FeatureDraft, bool)> {
        use crate::domain::incident::{Incident, IncidentStatus};
        use time::format_description::well_known::Rfc3339;
        // Empty cells are absent, as the general way reads them.
        let cell = |i: usize| record.get(i).filter(|c| !c.is_empty());
        let optional = |i: Option<usize>| i.and_then(cell);
        let x = number(headers, record, self.x).ok()?;
        let y = number(headers, record, self.y).ok()?;
        let (x, y) = easting_first(transform.is_some(), x, y);
        let (lon, lat) = match transform {
            Some(t) => t.to_wgs84(x, y).ok()?,
            None => (x, y),
        };
        let written = cell(self.occurred_at)?;
        let (occurred_at, swedish) = match time::OffsetDateTime::parse(written, &Rfc3339) {
            Ok(at) => (at, false),
            Err(_) => {
                // As the general way: rewritten in RFC 3339, then read.
                let w = crate::domain::time::parse_written_instant(written).ok()?;
                let text = w.at.format(&Rfc3339).ok()?;
                (
                    time::OffsetDateTime::parse(&text, &Rfc3339).ok()?,
                    w.assumed_swedish_time,
                )
            }
        };
        let status = match optional(self.status) {
            Some(s) => s.parse().ok()?,
            None => IncidentStatus::Open,
        };
        let classification = match optional(self.classification) {
            Some(c) => c.parse().ok()?,
            None => crate::domain::Classification::Internal,
        };
        let incident = Incident {
            category: cell(self.category)?.parse().ok()?,
            occurred_at,
            severity: cell(self.severity)?.parse().ok()?,
            status,
            reference: optional(self.reference).map(Box::from),
            description: optional(self.description)
                .map(Box::from)
                .unwrap_or_default(),
        };
        let draft = FeatureDraft::point_from_parts(
            lon,
            lat,
            crate::domain::Properties::Incident(incident),
            cell(self.organisation)?.to_owned(),
            classification,
        )?;
        Some((draft, swedish))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::import::Mapping;

    /// A small deterministic generator (the test must read the same rows every run).
    struct Lcg(u64);

    impl Lcg {
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            items[((self.0 >> 33) % items.len() as u64) as usize]
        }
    }

    /// Reads `text` with and without the fast path: the two must agree on every draft, every
    /// rejected row and every count; returns how many rows the fast path read.
    fn both_ways(text: &str, crs: InputCrs) -> usize {
        let options = ImportOptions {
            crs,
            ..ImportOptions::default()
        };
        let read = |fast: bool| {
            let mut drafts = Vec::new();
            let (report, fast_rows) = stream_rows(
                Layer::Incidents,
                Cursor::new(text.as_bytes().to_vec()),
                &options,
                &mut |d, _| {
                    drafts.push(d);
                    true
                },
                fast,
            )
            .unwrap();
            (drafts, report, fast_rows)
        };
        let (fast_drafts, fast, fast_rows) = read(true);
        let (drafts, general, none) = read(false);
        assert_eq!(none, 0);
        assert_eq!(fast_drafts.len(), drafts.len());
        for (i, (a, b)) in fast_drafts.iter().zip(&drafts).enumerate() {
            assert_eq!(a, b, "draft {i}");
            // Equal times compare by instant alone: their offsets must agree too.
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "draft {i}");
        }
        assert_eq!(fast.rejected, general.rejected);
        assert_eq!(fast.swedish_times, general.swedish_times);
        assert_eq!(fast.skipped, general.skipped);
        assert_eq!(fast.csv_dialect, general.csv_dialect);
        fast_rows
    }

    /// The fast path for the common case takes only rows the general way takes, as the same
    /// drafts: thousands of rows drawn from cells real files hold, good and bad (decimal commas,
    /// times without an offset, out-of-range and foreign values, personal data, server-written
    /// columns), in files with and without the optional columns, in WGS84 and SWEREF 99 TM.
    #[test]
    fn the_fast_path_reads_exactly_what_the_general_way_reads() {
        let mut rng = Lcg(17);
        let mut fast_total = 0;
        let mut rows_total = 0;
        let optional = ["status", "reference", "description", "classification", "id"];
        for file in 0..40 {
            let sweref = file % 4 == 3;
            let mut columns: Vec<&str> = if sweref {
                vec![rng.pick(&["e", "x"]), rng.pick(&["n", "y"])]
            } else {
                vec!["lon", "lat"]
            };
            columns.extend(["category", "occurred_at", "severity", "organisation"]);
            for c in optional {
                if rng.pick(&["with", "without"]) == "with" {
                    columns.push(c);
                }
            }
            // Column order as the file has it.
            for i in (1..columns.len()).rev() {
                let j = (rng
                    .pick(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])
                    .parse::<usize>()
                    .unwrap())
                    % (i + 1);
                columns.swap(i, j);
            }
            let mut text = columns.join(";");
            text.push('\n');
            for _ in 0..200 {
                // Most rows are written cleanly (the cells the general way takes); the others
                // draw from every cell, good and bad.
                let clean = rng.pick(&["clean", "clean", "clean", "any"]) == "clean";
                let cells: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let (good, bad): (&[&str], &[&str]) = match *c {
                            "lon" => (
                                &["17.84", "17,8448", "-17.5", "17.123456789"],
                                &["200", "x", ""],
                            ),
                            "lat" => (&["59.24", "59,2393", "59.3"], &["95", "NaN", ""]),
                            "e" | "x" => (&["670817.916", "6577304.567", "670817,9"], &["a"]),
                            "n" | "y" => (&["6577304.567", "670817.916", "6577304,5"], &[""]),
                            "category" => (
                                &["vandalism", "car_fire", "shooting", "other"],
                                &["Vandalism", "skottlossning", ""],
                            ),
                            "occurred_at" => (
                                &[
                                    "2026-03-01T21:00:00Z",
                                    "2026-03-01T21:00:00.123456789+01:00",
                                    "2026-03-01 21:00",
                                    "2026-07-01 09:05:00 +0200",
                                    "2026/11/30 22:15:00+01",
                                    "2026-11-30T22:15",
                                ],
                                &["igår", "2099-01-01T00:00:00Z", "1800-01-01T00:00:00Z", ""],
                            ),
                            "severity" => (
                                &["3", "1", "5", "+2", "03", "3,0", "3.0"],
                                &["0", "6", "256", "hög", ""],
                            ),
                            "organisation" => {
                                (&["Polisen", "Botkyrka kommun"], &["Ring 070-123 45 67", ""])
                            }
                            "status" => (&["open", "closed", ""], &["Open"]),
                            "reference" => (&["575101", "K-2026/11", ""], &["19850101-1234"]),
                            "description" => (
                                &["Klotter på vägg", "Händelse vid centrum", ""],
                                &["Ring 070-123 45 67"],
                            ),
                            "classification" => {
                                (&["internal", "open", "restricted", ""], &["secret"])
                            }
                            "id" => (
                                &["0b5d6f0e-0000-4000-8000-000000000001", "not an id", ""],
                                &[],
                            ),
                            other => panic!("{other}"),
                        };
                        let all: Vec<&str> = good.iter().chain(bad).copied().collect();
                        let cell = if clean {
                            rng.pick(good)
                        } else {
                            rng.pick(&all)
                        };
                        if cell.contains(';') {
                            format!("\"{cell}\"")
                        } else {
                            cell.to_owned()
                        }
                    })
                    .collect();
                text.push_str(&cells.join(";"));
                text.push('\n');
                rows_total += 1;
            }
            let crs = if sweref {
                InputCrs::Sweref99Tm
            } else {
                InputCrs::Wgs84
            };
            fast_total += both_ways(&text, crs);
        }
        // Not vacuous: the fast path read most rows, not all of them.
        assert!(
            fast_total > rows_total / 3 && fast_total < rows_total,
            "{fast_total} of {rows_total}"
        );
    }

    /// A file with a column the incident does not have, a mapping, or another layer is read
    /// the general way only (which names the column).
    #[test]
    fn the_fast_path_is_for_the_common_case_only() {
        let headers = |h: &str| -> Vec<String> { h.split(',').map(str::to_owned).collect() };
        let place = Place::Xy(0, 1);
        let options = ImportOptions::default();
        let common = headers("lon,lat,category,occurred_at,severity,organisation");
        assert!(FastIncidents::of(Layer::Incidents, &common, &place, &options).is_some());
        assert!(FastIncidents::of(Layer::Cameras, &common, &place, &options).is_none());
        let colour = headers("lon,lat,category,occurred_at,severity,organisation,colour");
        assert!(FastIncidents::of(Layer::Incidents, &colour, &place, &options).is_none());
        let twice = headers("lon,lat,category,occurred_at,severity,organisation,category");
        assert!(FastIncidents::of(Layer::Incidents, &twice, &place, &options).is_none());
        let mapped = ImportOptions {
            mapping: Some(Mapping::default()),
            ..ImportOptions::default()
        };
        assert!(FastIncidents::of(Layer::Incidents, &common, &place, &mapped).is_none());
        assert!(FastIncidents::of(Layer::Incidents, &common, &Place::Wkt(0), &options).is_none());
    }
}
