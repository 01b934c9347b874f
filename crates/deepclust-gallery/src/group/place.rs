//! `by-place/<country>/<region>/<city>`: the nearest named place to the EXIF GPS position
//! (offline), or `unknown-place`.

use super::{Grouping, Library};
use crate::error::GalleryError;
use crate::layout::UNKNOWN_PLACE;
use crate::places::Geocoder;
use crate::plan::{Assignment, GroupKind};

pub(crate) struct ByPlace;

impl Grouping for ByPlace {
    fn kind(&self) -> GroupKind {
        GroupKind::Place
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        Ok(library
            .photos
            .iter()
            .zip(library.places)
            .map(|(p, place)| {
                vec![match (place, p.gps) {
                    (Some(place), Some(g)) => {
                        let (_, dist) = Geocoder::embedded()
                            .nearest(g)
                            .unwrap_or((place.clone(), f64::NAN));
                        Assignment {
                            kind: GroupKind::Place,
                            group: format!("{}/{}/{}", place.country, place.region, place.city),
                            reason: format!(
                                "GPS {:.5}, {:.5}: nearest place {} ({dist:.1} km)",
                                g.lat,
                                g.lon,
                                place.label()
                            ),
                        }
                    }
                    _ => Assignment {
                        kind: GroupKind::Place,
                        group: UNKNOWN_PLACE.into(),
                        reason: "no GPS position in EXIF".into(),
                    },
                }]
            })
            .collect())
    }
}
