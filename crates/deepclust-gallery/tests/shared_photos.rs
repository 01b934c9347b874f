//! Scanning the real camera files in ../shared/data/photos (skipped when absent).
#![allow(clippy::print_stderr, clippy::unwrap_used)]

use deepclust_gallery::scan::{scan, ScanParams};
use deepclust_gallery::{Geocoder, TimeSource};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn shared_photos() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/photos");
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: {} not found (shared data is not part of the repository)",
            p.display()
        );
        None
    }
}

#[test]
fn camera_files_dates_gps_places_and_hostile_files() {
    let Some(root) = shared_photos() else { return };
    let params = ScanParams {
        content: true,
        ..ScanParams::default()
    };
    let r = scan(
        &root,
        &params,
        &HashMap::new(),
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    let by_name: HashMap<&str, _> = r.photos.iter().map(|p| (p.rel_path.as_str(), p)).collect();
    assert_eq!(r.photos.len(), 8);

    // (file, day, city, region, country); expectations from shared/README.md for Beijing 2003
    // and from the nearest GeoNames place for the others.
    let expected = [
        (
            "exif/beijing-2003-nikon.jpg",
            "2003-11-23",
            "Beijing",
            "Beijing",
            "China",
        ),
        (
            "exif/beijing-2016-iphone.jpg",
            "2016-03-24",
            "Wangjing",
            "Beijing",
            "China",
        ),
        (
            "exif/stockholm-2014-iphone.jpg",
            "2014-09-01",
            "Stockholm",
            "Stockholm",
            "Sweden",
        ),
        (
            "exif/gps-as-string-2014-htc.jpg",
            "2014-04-26",
            "Salzwedel",
            "Saxony-Anhalt",
            "Germany",
        ),
        // 55.0388 N 8.4572 E lies between Sylt (Germany) and Romo (Denmark); the nearest place
        // with more than 1,000 inhabitants is List on Sylt, 2.5 km away.
        (
            "exif/denmark-2013-nokia.jpg",
            "2013-05-10",
            "List",
            "Schleswig-Holstein",
            "Germany",
        ),
    ];
    for (file, day, city, region, country) in expected {
        let p = by_name[file];
        assert_eq!(p.taken.day.to_string(), day, "{file}");
        assert_eq!(p.time_source, TimeSource::ExifOriginal, "{file}");
        let place = Geocoder::embedded().resolve(p.gps.unwrap()).unwrap();
        assert_eq!(
            (
                place.city.as_str(),
                place.region.as_str(),
                place.country.as_str()
            ),
            (city, region, country),
            "{file}"
        );
    }
    let beijing = by_name["exif/beijing-2003-nikon.jpg"];
    let gps = beijing.gps.unwrap();
    assert!(
        (gps.lat - 39.9156).abs() < 1e-4 && (gps.lon - 116.3908).abs() < 1e-4,
        "{gps:?}"
    );
    assert_eq!(beijing.taken.seconds_of_day, 18 * 3600 + 7 * 60 + 37);
    // GPS written as strings with a decimal comma: 52 deg 50' 34.0118" N, 11 deg 10' 58.2836" E.
    let htc = by_name["exif/gps-as-string-2014-htc.jpg"].gps.unwrap();
    assert!((htc.lat - (52.0 + 50.0 / 60.0 + 34.0118 / 3600.0)).abs() < 1e-9);
    assert!((htc.lon - (11.0 + 10.0 / 60.0 + 58.2836 / 3600.0)).abs() < 1e-9);
    // iPhones store portrait shots rotated: orientation 6, thumbnails come out upright.
    let sthlm = by_name["exif/stockholm-2014-iphone.jpg"];
    assert_eq!(sthlm.orientation, 6);
    assert!(sthlm.thumb_height > sthlm.thumb_width);
    // Dated without GPS.
    for f in [
        "exif/DSCN0614_small.jpg",
        "exif/dsc_09827.jpg",
        "exif/Bush-dog.jpg",
    ] {
        assert!(by_name[f].gps.is_none(), "{f}");
    }
    assert_eq!(
        by_name["exif/Bush-dog.jpg"].time_source,
        TimeSource::ExifModified
    );

    let mut skipped: Vec<&str> = r.skipped.iter().map(|s| s.rel_path.as_str()).collect();
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        [
            "corrupt/huge_tag_exif.jpg",
            "corrupt/infinite_loop_exif.jpg",
            "corrupt/max_uint32_exif.jpg"
        ]
    );
    assert!(r
        .skipped
        .iter()
        .all(|s| s.reason.starts_with("malformed EXIF")));
}
