//! Day folders and events (runs of photos without a long gap between consecutive ones).

use crate::civil::{Day, WallClock};
use crate::places::Place;
use std::collections::BTreeMap;

/// Default gap that separates two events: 36 hours, as LibrePhotos uses.
pub const DEFAULT_EVENT_GAP_HOURS: f64 = 36.0;

/// `YYYY/YYYY-MM-DD` for the camera's wall-clock day.
pub fn day_folder(day: Day) -> String {
    format!("{:04}/{}", day.year, day)
}

/// One event: a maximal run of photos whose consecutive capture times are at most `gap` apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub first: WallClock,
    pub last: WallClock,
    /// Indices into the photo slice, in time order.
    pub members: Vec<usize>,
    /// Most frequent place among members with one (ties: alphabetical).
    pub place: Option<Place>,
    /// Folder name, e.g. `2003-11-23 Beijing` or `2014-04-26 to 2014-04-28 Salzwedel`.
    pub name: String,
}

/// The most frequent value (ties broken by the smallest), ignoring `None`.
pub fn dominant<'a, T: Ord + 'a>(
    items: impl Iterator<Item = Option<&'a T>>,
) -> Option<(&'a T, usize)> {
    let mut counts: BTreeMap<&T, usize> = BTreeMap::new();
    for it in items.flatten() {
        *counts.entry(it).or_default() += 1;
    }
    // BTreeMap iterates in ascending order and max_by_key keeps the last maximum, so iterate
    // in reverse to keep the smallest among equals.
    counts.into_iter().rev().max_by_key(|&(_, c)| c)
}

/// The cities an event passes through, in the order it reaches them: every city with at least
/// [`MIN_CITY_SHARE`] of the event's placed photos (and at least two of them), at most
/// [`MAX_EVENT_CITIES`]. A trip through Alleppey, Munnar and Kochi is named by all three.
fn event_cities(members: &[usize], places: &[Option<Place>]) -> Vec<String> {
    let placed: Vec<&str> = members
        .iter()
        .filter_map(|&i| places[i].as_ref().map(|p| p.city.as_str()))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &placed {
        *counts.entry(c).or_default() += 1;
    }
    let mut out: Vec<String> = Vec::new();
    for c in &placed {
        let n = counts[c];
        if n >= 2 && n as f64 >= MIN_CITY_SHARE * placed.len() as f64 && !out.iter().any(|o| o == c)
        {
            out.push(c.to_string());
        }
    }
    if out.len() > MAX_EVENT_CITIES {
        // Keep the most photographed, still in travel order.
        let mut ranked = out.clone();
        ranked.sort_by_key(|c| std::cmp::Reverse(counts[c.as_str()]));
        ranked.truncate(MAX_EVENT_CITIES);
        out.retain(|c| ranked.contains(c));
    }
    out
}

/// Share of an event's placed photos a city needs to appear in the event's name.
pub const MIN_CITY_SHARE: f64 = 0.15;
/// Cities named in an event's name at most.
pub const MAX_EVENT_CITIES: usize = 3;

/// Splits photos into events. `times[i]` is photo i's capture time and `places[i]` its place.
/// Photos are ordered by absolute time (ties by index, so the result is deterministic).
pub fn split_events(times: &[WallClock], places: &[Option<Place>], gap_seconds: i64) -> Vec<Event> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| (times[i].timeline_seconds(), i));
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut prev: Option<i64> = None;
    for i in order {
        let t = times[i].timeline_seconds();
        match (prev, runs.last_mut()) {
            (Some(p), Some(run)) if t - p <= gap_seconds => run.push(i),
            _ => runs.push(vec![i]),
        }
        prev = Some(t);
    }
    runs.into_iter()
        .map(|members| {
            let first = times[members[0]];
            let last = times[members[members.len() - 1]];
            let place =
                dominant(members.iter().map(|&i| places[i].as_ref())).map(|(p, _)| p.clone());
            let dates = if first.day == last.day {
                first.day.to_string()
            } else {
                format!("{} to {}", first.day, last.day)
            };
            let cities = event_cities(&members, places);
            let name = if cities.len() > 1 {
                format!("{dates} {}", cities.join(", "))
            } else {
                match &place {
                    Some(p) => format!("{dates} {}", p.city),
                    None => dates,
                }
            };
            Event {
                first,
                last,
                members,
                place,
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::parse_exif_datetime;

    fn t(s: &str) -> WallClock {
        let (day, seconds_of_day) = parse_exif_datetime(s).unwrap();
        WallClock {
            day,
            seconds_of_day,
            utc_offset_minutes: None,
        }
    }

    fn place(city: &str) -> Option<Place> {
        Some(Place {
            country: "X".into(),
            country_code: "XX".into(),
            region: "R".into(),
            city: city.into(),
        })
    }

    #[test]
    fn a_trip_through_several_cities_is_named_by_them() {
        let times: Vec<WallClock> = [
            "2022:06:01 09:00:00",
            "2022:06:01 12:00:00",
            "2022:06:02 10:00:00",
            "2022:06:02 15:00:00",
            "2022:06:02 18:00:00",
            "2022:06:03 09:00:00",
            "2022:06:03 11:00:00",
        ]
        .iter()
        .map(|s| t(s))
        .collect();
        let places = vec![
            place("Alleppey"),
            place("Alleppey"),
            place("Munnar"),
            place("Munnar"),
            place("Munnar"),
            place("Kochi"),
            place("Kochi"),
        ];
        let ev = split_events(&times, &places, 36 * 3600);
        assert_eq!(ev.len(), 1);
        assert_eq!(
            ev[0].name,
            "2022-06-01 to 2022-06-03 Alleppey, Munnar, Kochi"
        );
        // One stray photo elsewhere does not make it into the name.
        let mut places = places;
        places[6] = place("Ernakulam");
        let ev = split_events(&times, &places, 36 * 3600);
        assert_eq!(ev[0].name, "2022-06-01 to 2022-06-03 Alleppey, Munnar");
    }

    #[test]
    fn splits_on_gaps_and_names_by_range_and_place() {
        let times = [
            t("2020:07:02 09:00:00"),
            t("2020:07:01 10:00:00"),
            t("2020:07:03 20:00:00"), // 35 h after the previous: same event
            t("2020:07:10 08:00:00"), // far later: new event
        ];
        let places = [place("Oslo"), None, place("Oslo"), None];
        let ev = split_events(&times, &places, 36 * 3600);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].members, vec![1, 0, 2]);
        assert_eq!(ev[0].name, "2020-07-01 to 2020-07-03 Oslo");
        assert_eq!(ev[1].name, "2020-07-10");
        // A gap of exactly the limit stays in the event; one second more splits.
        let two = [t("2020:01:01 00:00:00"), t("2020:01:02 12:00:00")];
        assert_eq!(split_events(&two, &[None, None], 36 * 3600).len(), 1);
        assert_eq!(split_events(&two, &[None, None], 36 * 3600 - 1).len(), 2);
    }

    #[test]
    fn dominant_prefers_count_then_smallest() {
        let v = [Some(&"b"), Some(&"a"), Some(&"b"), None, Some(&"a")];
        assert_eq!(dominant(v.into_iter()), Some((&"a", 2)));
        assert_eq!(
            day_folder(Day {
                year: 2003,
                month: 11,
                day: 23
            }),
            "2003/2003-11-23"
        );
    }
}
