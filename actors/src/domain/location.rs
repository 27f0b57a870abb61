//! Where merchants and venues are: an address with coordinates, and the distances apps
//! order them by (great-circle, on a sphere of the Earth's mean radius).

use serde::{Deserialize, Serialize};

/// The Earth's mean radius, in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// How far `GET /locations` looks when not told (5 km), and the farthest it may be told.
pub const WITHIN_DEFAULT_M: f64 = 5_000.0;
pub const WITHIN_MAX_M: f64 = 20_000_000.0;
/// Longest address line, in characters.
pub const ADDRESS_TEXT_MAX: usize = 200;

/// An organisation's address; `lat` and `lon` place it (degrees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub line_1: Option<String>,
    pub line_2: Option<String>,
    pub town_city: Option<String>,
    pub state_province_county: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-3, as the contract has it.
    pub country_code: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

/// A point, checked: latitude −90 to 90, longitude −180 to 180, both finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    pub fn new(lat: f64, lon: f64) -> Result<Point, &'static str> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err("lat must be a latitude, -90 to 90");
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err("lon must be a longitude, -180 to 180");
        }
        Ok(Point { lat, lon })
    }

    /// The great-circle distance to `other`, in metres (haversine).
    pub fn distance_m(self, other: Point) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// The places within `within_m` of `origin`, nearest first (ties by key), with their
/// distance in metres.
pub fn nearest<K: Ord + Copy>(places: &[(K, Point)], origin: Point, within_m: f64) -> Vec<(K, f64)> {
    let mut found: Vec<(K, f64)> = places
        .iter()
        .map(|(key, point)| (*key, origin.distance_m(*point)))
        .filter(|(_, distance)| *distance <= within_m)
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circles() {
        let nicosia = Point::new(35.1856, 33.3823).unwrap();
        let limassol = Point::new(34.7071, 33.0226).unwrap();
        let distance = nicosia.distance_m(limassol);
        assert!((distance - 62_700.0).abs() < 1_000.0, "{distance}");
        assert_eq!(nicosia.distance_m(nicosia), 0.0);
        // A quarter of the way round the equator.
        let quarter = Point::new(0.0, 0.0).unwrap().distance_m(Point::new(0.0, 90.0).unwrap());
        assert!((quarter - std::f64::consts::FRAC_PI_2 * EARTH_RADIUS_M).abs() < 1.0);
        // Antipodes: half the way round, no NaN.
        let half = Point::new(10.0, 20.0)
            .unwrap()
            .distance_m(Point::new(-10.0, -160.0).unwrap());
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0, "{half}");
    }

    #[test]
    fn nearest_first_within_the_distance() {
        let origin = Point::new(35.0, 33.0).unwrap();
        let places = [
            (3, Point::new(35.02, 33.0).unwrap()),
            (1, Point::new(35.01, 33.0).unwrap()),
            (2, Point::new(35.5, 33.0).unwrap()),
            (4, Point::new(35.01, 33.0).unwrap()),
        ];
        let found = nearest(&places, origin, 5_000.0);
        assert_eq!(found.iter().map(|(key, _)| *key).collect::<Vec<_>>(), [1, 4, 3]);
        assert!(found[0].1 < found[2].1);
    }

    #[test]
    fn points_off_the_globe_are_refused() {
        for (lat, lon) in [
            (91.0, 0.0),
            (-90.5, 0.0),
            (0.0, 180.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(Point::new(lat, lon).is_err(), "{lat} {lon}");
        }
        assert!(Point::new(-90.0, 180.0).is_ok());
    }
}
