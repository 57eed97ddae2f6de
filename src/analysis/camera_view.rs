//! What a camera sees: its view from position, direction, field of view and range, in zones
//! by image detail after IEC 62676-4, cut by buildings where footprints are known.
//!
//! **Image detail.** IEC 62676-4 names what an operator can do by the pixels per metre (ppm)
//! across the scene at the target: detection 25, observation 62, recognition 125,
//! identification 250. A camera of `resolution_px` horizontal pixels spreads them across the
//! scene's width at distance `d`, `W(d) = d · w` with `w = 2 tan(fov / 2)` for a rectilinear
//! lens (up to [`MAX_RECTILINEAR_DEG`]), running on linearly in the angle to `w = 2π` for a
//! panoramic lens at 360° (see [`width_factor`]). So the detail `ppm` reaches
//! `resolution_px / (ppm · w)` metres, never past the camera's registered range. A camera
//! without a resolution has one zone, its range, with the detail unknown.
//!
//! **Buildings.** The view is cast as rays from the camera at most [`RAY_STEP_DEG`] apart;
//! each ray stops at the first footprint edge it meets. The polygon joins the rays' ends, so it
//! follows a facade between two rays as a straight chord; the tests hold its area within 1 %
//! of a brute-force reference that asks, for every point of a fine grid, whether the line from
//! the camera reaches it without crossing a footprint.
//!
//! Positions are worked in metres on a plane tangent at the camera (equirectangular, 111 320 m
//! a degree of latitude): within the longest range accepted (2 km) that is within about 0.3 %
//! (a few metres at 2 km, centimetres at a camera's usual 20–100 m).

use geo::{Coord, Line, LineString, Polygon};

use crate::domain::crs::METRES_PER_DEGREE;

/// The widest field of view worked as a rectilinear lens.
pub const MAX_RECTILINEAR_DEG: f64 = 90.0;
/// The largest angle between two rays of a view.
pub const RAY_STEP_DEG: f64 = 0.25;
/// Footprint edges nearer the camera than this are its own wall (a camera on a facade).
const OWN_WALL_M: f64 = 0.5;

/// Image detail after IEC 62676-4, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// 250 ppm: a person can be identified beyond reasonable doubt.
    Identification,
    /// 125 ppm: a known person can be recognised.
    Recognition,
    /// 62 ppm: what a person or group does can be seen.
    Observation,
    /// 25 ppm: that a person is there can be told.
    Detection,
}

impl Detail {
    /// Every level, finest first.
    pub const ALL: [Self; 4] = [
        Self::Identification,
        Self::Recognition,
        Self::Observation,
        Self::Detection,
    ];

    /// The pixels per metre the level needs.
    #[must_use]
    pub const fn ppm(self) -> f64 {
        match self {
            Self::Identification => 250.0,
            Self::Recognition => 125.0,
            Self::Observation => 62.0,
            Self::Detection => 25.0,
        }
    }

    /// The level's name in the API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Identification => "identification",
            Self::Recognition => "recognition",
            Self::Observation => "observation",
            Self::Detection => "detection",
        }
    }
}

/// A camera as its view needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lens {
    /// Longitude, latitude of the camera.
    pub at: (f64, f64),
    /// Viewing direction, degrees clockwise from north.
    pub direction: f64,
    /// Horizontal field of view in degrees, above 0, at most 360.
    pub field_of_view: f64,
    /// Registered range in metres.
    pub range_m: f64,
    /// Horizontal pixels, when known.
    pub resolution_px: Option<u32>,
}

/// The scene's width per metre of distance: `W(d) = d · width_factor(fov)`. A rectilinear
/// lens up to [`MAX_RECTILINEAR_DEG`] (`2 tan(fov / 2)`, 2 at 90°); wider lenses are not
/// rectilinear, and the factor runs on linearly in the angle to a panoramic lens's 2π at 360°
/// (pixels spread over the whole circumference), so a degree wider never makes a jump.
#[must_use]
pub fn width_factor(field_of_view: f64) -> f64 {
    if field_of_view <= MAX_RECTILINEAR_DEG {
        2.0 * (field_of_view.to_radians() / 2.0).tan()
    } else {
        let at = 2.0 * (MAX_RECTILINEAR_DEG.to_radians() / 2.0).tan();
        let t = (field_of_view.min(360.0) - MAX_RECTILINEAR_DEG) / (360.0 - MAX_RECTILINEAR_DEG);
        at + (std::f64::consts::TAU - at) * t
    }
}

/// How far `detail` reaches for a camera of `resolution_px` pixels across `field_of_view`
/// degrees, before the registered range is applied.
#[must_use]
pub fn reach_m(resolution_px: u32, field_of_view: f64, detail: Detail) -> f64 {
    f64::from(resolution_px) / (detail.ppm() * width_factor(field_of_view))
}

/// One zone of a view: the ground the camera sees at `detail` or better (`None`: the whole
/// range, detail unknown or coarser than detection).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The detail, or `None` for the whole registered range.
    pub detail: Option<Detail>,
    /// The zone's outer distance in metres (before buildings cut it).
    pub radius_m: f64,
    /// The zone, in longitude and latitude.
    pub polygon: Polygon<f64>,
    /// Its area in square metres.
    pub area_m2: f64,
}

/// A plane tangent at a point: metres east and north of it.
#[derive(Debug, Clone, Copy)]
pub struct Plane {
    lon0: f64,
    lat0: f64,
    east: f64,
}

impl Plane {
    /// The plane tangent at `(lon, lat)`.
    #[must_use]
    pub fn at(lon: f64, lat: f64) -> Self {
        Self {
            lon0: lon,
            lat0: lat,
            east: METRES_PER_DEGREE * lat.to_radians().cos(),
        }
    }

    /// `(lon, lat)` in metres east and north.
    #[must_use]
    pub fn metres(&self, lon: f64, lat: f64) -> Coord<f64> {
        Coord {
            x: (lon - self.lon0) * self.east,
            y: (lat - self.lat0) * METRES_PER_DEGREE,
        }
    }

    /// Metres east and north back to `(lon, lat)`.
    #[must_use]
    pub fn degrees(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: self.lon0 + c.x / self.east,
            y: self.lat0 + c.y / METRES_PER_DEGREE,
        }
    }
}

/// Footprints as a view meets them, in metres on the plane at the camera: their edges, and
/// the footprints themselves (a ray that starts into one sees nothing).
#[derive(Debug, Default)]
pub struct Obstacles {
    walls: Vec<Line<f64>>,
    footprints: Vec<Polygon<f64>>,
}

impl Obstacles {
    /// The footprints (longitude and latitude) that may meet a view of `reach` metres from
    /// the plane's origin.
    #[must_use]
    pub fn near(plane: &Plane, buildings: &[Polygon<f64>], reach: f64) -> Self {
        let mut out = Self::default();
        let to_metres = |ring: &LineString<f64>| -> LineString<f64> {
            ring.coords().map(|c| plane.metres(c.x, c.y)).collect()
        };
        for b in buildings {
            let exterior = to_metres(b.exterior());
            // Footprints wholly outside the reach's square cannot meet the view.
            let outside = exterior.coords().all(|c| c.x > reach)
                || exterior.coords().all(|c| c.x < -reach)
                || exterior.coords().all(|c| c.y > reach)
                || exterior.coords().all(|c| c.y < -reach);
            if outside {
                continue;
            }
            let interiors: Vec<LineString<f64>> = b.interiors().iter().map(to_metres).collect();
            out.walls.extend(exterior.lines());
            for hole in &interiors {
                out.walls.extend(hole.lines());
            }
            out.footprints.push(Polygon::new(exterior, interiors));
        }
        out
    }

    /// How far the ray from the camera in direction `(dx, dy)` (a unit vector) sees, at most
    /// `max`: nothing when it starts into a footprint, else up to the first wall past the
    /// camera's own.
    fn sight(&self, dx: f64, dy: f64, max: f64) -> f64 {
        let start = geo::Point::new(dx * OWN_WALL_M, dy * OWN_WALL_M);
        if self
            .footprints
            .iter()
            .any(|f| geo::Contains::contains(f, &start))
        {
            return 0.0;
        }
        first_wall(dx, dy, max, &self.walls)
    }
}

/// The distance along the ray from the origin in direction `(dx, dy)` (a unit vector) to the
/// nearest of `walls` past [`OWN_WALL_M`], or `max` if none is met before.
fn first_wall(dx: f64, dy: f64, max: f64, walls: &[Line<f64>]) -> f64 {
    let mut nearest = max;
    for w in walls {
        // Origin + t·d = w.start + u·(w.end − w.start), 0 ≤ u ≤ 1, t ≥ 0.
        let ex = w.end.x - w.start.x;
        let ey = w.end.y - w.start.y;
        let denom = dx * ey - dy * ex;
        if denom.abs() < 1e-12 {
            continue;
        }
        let t = (w.start.x * ey - w.start.y * ex) / denom;
        let u = (w.start.x * dy - w.start.y * dx) / denom;
        if t >= OWN_WALL_M && t < nearest && (0.0..=1.0).contains(&u) {
            nearest = t;
        }
    }
    nearest
}

/// The view of `lens` cut by `obstacles`, out to each of `radii`: one ring per radius, in
/// metres on the plane at the camera, with its area.
fn cast(lens: &Lens, obstacles: &Obstacles, radii: &[f64]) -> Vec<(Vec<Coord<f64>>, f64)> {
    let fov = lens.field_of_view.clamp(f64::EPSILON, 360.0);
    let full = fov >= 360.0;
    // Whole steps of at most RAY_STEP_DEG across the field of view.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let steps = (fov / RAY_STEP_DEG).ceil().max(1.0) as usize;
    let start = lens.direction - fov / 2.0;
    let longest = radii.iter().copied().fold(0.0, f64::max);
    // Where each ray stops, however far it was asked to go.
    let rays: Vec<(f64, f64, f64)> = (0..=steps)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let bearing = (start + fov * i as f64 / steps as f64).to_radians();
            let (dx, dy) = (bearing.sin(), bearing.cos());
            (dx, dy, obstacles.sight(dx, dy, longest))
        })
        .collect();
    radii
        .iter()
        .map(|&r| {
            let mut ring: Vec<Coord<f64>> = Vec::with_capacity(rays.len() + 2);
            if !full {
                ring.push(Coord { x: 0.0, y: 0.0 });
            }
            for &(dx, dy, stop) in &rays {
                let d = stop.min(r);
                ring.push(Coord {
                    x: dx * d,
                    y: dy * d,
                });
            }
            if full {
                // The last ray is the first again.
                ring.pop();
            }
            let area = shoelace(&ring);
            (ring, area)
        })
        .collect()
}

/// The area of a simple ring (not closed), in its own units squared.
fn shoelace(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let twice: f64 = (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            a.x * b.y - b.x * a.y
        })
        .sum();
    twice.abs() / 2.0
}

/// The zones of `lens`'s view, cut by `buildings` (footprints in longitude and latitude; may
/// be empty): one per detail level the camera reaches, finest first, then the whole range.
/// Levels whose reach equals the range's are given all the same (each is a level of its own).
#[must_use]
pub fn zones(lens: &Lens, buildings: &[Polygon<f64>]) -> Vec<Zone> {
    let plane = Plane::at(lens.at.0, lens.at.1);
    let range = lens.range_m.max(0.0);
    let mut levels: Vec<(Option<Detail>, f64)> = match lens.resolution_px {
        Some(px) => Detail::ALL
            .iter()
            .map(|d| (Some(*d), reach_m(px, lens.field_of_view, *d).min(range)))
            .collect(),
        None => Vec::new(),
    };
    levels.push((None, range));
    let obstacles = Obstacles::near(&plane, buildings, range);
    let radii: Vec<f64> = levels.iter().map(|(_, r)| *r).collect();
    cast(lens, &obstacles, &radii)
        .into_iter()
        .zip(levels)
        .map(|((ring, area), (detail, radius))| {
            let mut coords: Vec<Coord<f64>> = ring.iter().map(|c| plane.degrees(*c)).collect();
            if let Some(first) = coords.first().copied() {
                coords.push(first);
            }
            Zone {
                detail,
                radius_m: radius,
                polygon: Polygon::new(LineString::from(coords), vec![]),
                area_m2: area,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Intersects, Point};

    const AT: (f64, f64) = (17.8448, 59.2385);

    fn lens(direction: f64, fov: f64, range: f64, px: Option<u32>) -> Lens {
        Lens {
            at: AT,
            direction,
            field_of_view: fov,
            range_m: range,
            resolution_px: px,
        }
    }

    /// A footprint given in metres east and north of the camera.
    fn building(plane: &Plane, corners: &[(f64, f64)]) -> Polygon<f64> {
        let mut ring: Vec<Coord<f64>> = corners
            .iter()
            .map(|(x, y)| plane.degrees(Coord { x: *x, y: *y }))
            .collect();
        ring.push(ring[0]);
        Polygon::new(LineString::from(ring), vec![])
    }

    /// The brute-force reference: on a grid of `cell` metres, the points within the sector
    /// (bearing inside the field of view, distance within `radius`) whose line from the
    /// camera crosses no footprint; their count times the cell's area.
    fn reference_area(l: &Lens, radius: f64, buildings: &[Polygon<f64>], cell: f64) -> f64 {
        let plane = Plane::at(l.at.0, l.at.1);
        let footprints: Vec<Polygon<f64>> = buildings
            .iter()
            .map(|b| {
                let ring: Vec<Coord<f64>> = b
                    .exterior()
                    .coords()
                    .map(|c| plane.metres(c.x, c.y))
                    .collect();
                Polygon::new(LineString::from(ring), vec![])
            })
            .collect();
        #[allow(clippy::cast_possible_truncation)]
        let n = (radius / cell).ceil() as i64;
        let mut seen = 0u64;
        for i in -n..=n {
            for j in -n..=n {
                #[allow(clippy::cast_precision_loss)]
                let p = Coord {
                    x: (i as f64 + 0.5) * cell,
                    y: (j as f64 + 0.5) * cell,
                };
                let d = p.x.hypot(p.y);
                if d > radius {
                    continue;
                }
                let bearing = p.x.atan2(p.y).to_degrees();
                let off = (bearing - l.direction + 540.0).rem_euclid(360.0) - 180.0;
                if l.field_of_view < 360.0 && off.abs() > l.field_of_view / 2.0 {
                    continue;
                }
                // Sight starts past the camera's own wall, as a camera on a facade looks.
                let from = Coord {
                    x: p.x / d * OWN_WALL_M,
                    y: p.y / d * OWN_WALL_M,
                };
                let sight = Line::new(from, p);
                let blocked = footprints.iter().any(|f| {
                    f.contains(&Point::from(p))
                        || (d > OWN_WALL_M
                            && (f.contains(&Point::from(from))
                                || f.exterior().lines().any(|w| w.intersects(&sight))))
                });
                if !blocked {
                    seen += 1;
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let area = seen as f64 * cell * cell;
        area
    }

    #[test]
    fn reaches_follow_iec_62676_4() {
        // 1920 px across 90°: W(d) = 2d, so 250 ppm reaches 3.84 m, 25 ppm 38.4 m.
        assert!((reach_m(1920, 90.0, Detail::Identification) - 3.84).abs() < 1e-9);
        assert!((reach_m(1920, 90.0, Detail::Detection) - 38.4).abs() < 1e-9);
        // A panoramic camera spreads its pixels over the circumference: 3840 px over 360°.
        let r = reach_m(3840, 360.0, Detail::Observation);
        assert!((r - 3840.0 / (62.0 * std::f64::consts::TAU)).abs() < 1e-9);
        // No jump anywhere: the scene's width grows steadily with the field of view.
        let mut last = 0.0;
        for tenth in 1..=3600 {
            let w = width_factor(f64::from(tenth) / 10.0);
            assert!(w > last && w - last < 0.01, "{tenth}: {last} → {w}");
            last = w;
        }
        // Finer detail never reaches farther.
        for w in Detail::ALL.windows(2) {
            assert!(reach_m(2688, 60.0, w[0]) < reach_m(2688, 60.0, w[1]));
        }
    }

    #[test]
    fn an_open_view_is_its_sector_and_zones_nest() {
        let l = lens(45.0, 60.0, 80.0, Some(3840));
        let zs = zones(&l, &[]);
        assert_eq!(zs.len(), 5);
        assert_eq!(zs.last().unwrap().detail, None);
        let sector = std::f64::consts::PI * 80.0 * 80.0 * 60.0 / 360.0;
        let whole = zs.last().unwrap().area_m2;
        assert!(
            (whole - sector).abs() / sector < 0.001,
            "{whole} vs {sector}"
        );
        for w in zs.windows(2) {
            assert!(w[0].area_m2 <= w[1].area_m2 + 1e-9);
            assert!(w[0].radius_m <= w[1].radius_m);
        }
        // The polygon in degrees has the same area, measured on the plane again.
        let plane = Plane::at(AT.0, AT.1);
        let back: Vec<Coord<f64>> = zs[4]
            .polygon
            .exterior()
            .coords()
            .map(|c| plane.metres(c.x, c.y))
            .collect();
        let again = Polygon::new(LineString::from(back), vec![]).unsigned_area();
        assert!((again - whole).abs() / whole < 1e-6);
        // Points the view says it sees: ahead yes, behind no.
        let ahead = plane.degrees(Coord { x: 30.0, y: 30.0 });
        let behind = plane.degrees(Coord { x: -30.0, y: -30.0 });
        assert!(zs[4].polygon.contains(&Point::from(ahead)));
        assert!(!zs[4].polygon.contains(&Point::from(behind)));
    }

    #[test]
    fn a_camera_without_a_resolution_has_one_zone_and_a_full_circle_has_no_apex() {
        let zs = zones(&lens(0.0, 360.0, 50.0, None), &[]);
        assert_eq!(zs.len(), 1);
        let circle = std::f64::consts::PI * 2500.0;
        assert!((zs[0].area_m2 - circle).abs() / circle < 0.001);
    }

    #[test]
    fn views_cut_by_buildings_are_within_one_per_cent_of_a_ray_cast_reference() {
        let plane = Plane::at(AT.0, AT.1);
        let blocks = vec![
            building(
                &plane,
                &[(10.0, 20.0), (30.0, 20.0), (30.0, 35.0), (10.0, 35.0)],
            ),
            building(&plane, &[(-25.0, 40.0), (-5.0, 45.0), (-12.0, 60.0)]),
            building(
                &plane,
                &[(35.0, -5.0), (55.0, -5.0), (55.0, 10.0), (35.0, 10.0)],
            ),
            // The camera's own wall, right behind it.
            building(
                &plane,
                &[(-20.0, -0.2), (20.0, -0.2), (20.0, -10.0), (-20.0, -10.0)],
            ),
        ];
        for (direction, fov, range) in [
            (30.0, 90.0, 70.0),
            (0.0, 170.0, 80.0),
            (80.0, 40.0, 75.0),
            (0.0, 360.0, 70.0),
        ] {
            let l = lens(direction, fov, range, Some(2688));
            let zs = zones(&l, &blocks);
            let whole = zs.last().unwrap();
            let reference = reference_area(&l, range, &blocks, 0.25);
            let open = zones(&l, &[]).last().unwrap().area_m2;
            assert!(
                whole.area_m2 < open * 0.995,
                "the buildings cut the view ({direction}°, {fov}°)"
            );
            let error = (whole.area_m2 - reference).abs() / reference;
            assert!(
                error < 0.01,
                "{direction}°, {fov}°: {} m² against the reference's {reference} m² ({:.2} %)",
                whole.area_m2,
                error * 100.0
            );
        }
    }
}
