//! The plan: which link goes where. Pure (no file system access), so it is tested directly and
//! printed as-is by `--dry-run`.

use crate::scan::{fnv1a64, PhotoRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// The ways photos are grouped; each has its own top folder in the output tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Date,
    Event,
    Place,
    Content,
    People,
    NearDuplicates,
    /// Cluster ids computed elsewhere (`deepclust import-clusters`: Spark on the Parquet
    /// export, a notebook).
    Imported,
}

impl GroupKind {
    /// The name scripts and the catalogue use (`date`, ..., `near_duplicates`).
    pub fn name(self) -> &'static str {
        match self {
            GroupKind::Date => "date",
            GroupKind::Event => "event",
            GroupKind::Place => "place",
            GroupKind::Content => "content",
            GroupKind::People => "people",
            GroupKind::NearDuplicates => "near_duplicates",
            GroupKind::Imported => "imported",
        }
    }

    /// `(kind, name, description)` for a command line's `--by` (near-duplicates has a flag
    /// of its own).
    pub const CHOICES: &'static [(GroupKind, &'static str, &'static str)] = &[
        (
            GroupKind::Date,
            "date",
            "One folder per day: by-date/YYYY/YYYY-MM-DD (the camera's local day)",
        ),
        (
            GroupKind::Event,
            "event",
            "Runs of photos without a long gap: by-event/YYYY/<dates> <place>",
        ),
        (
            GroupKind::Place,
            "place",
            "by-place/Country/Region/City from GPS (offline); no GPS -> unknown-place",
        ),
        (
            GroupKind::Content,
            "content",
            "Content albums (what is in the pictures: text, faces, objects): by-content/<name>",
        ),
        (
            GroupKind::People,
            "people",
            "Persons from their faces (needs the face models): by-people/person-NNN",
        ),
        (
            GroupKind::Imported,
            "imported",
            "Clusters brought in by `deepclust import-clusters` (Spark, a notebook): by-imported/<name>/cluster-N",
        ),
    ];

    pub fn folder(self) -> &'static str {
        match self {
            GroupKind::Date => "by-date",
            GroupKind::Event => "by-event",
            GroupKind::Place => "by-place",
            GroupKind::Content => "by-content",
            GroupKind::People => "by-people",
            GroupKind::NearDuplicates => "near-duplicates",
            GroupKind::Imported => "by-imported",
        }
    }
}

/// One photo's group for one kind: a relative folder path (`/`-separated, may be nested) and
/// why the photo is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub kind: GroupKind,
    pub group: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLink {
    /// Index of the photo in the slice the plan was built from.
    pub photo: usize,
    pub kind: GroupKind,
    /// Relative to the output directory.
    pub target: PathBuf,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub links: Vec<PlannedLink>,
}

/// Makes one path component safe on common file systems: no separators, control characters
/// or characters Windows forbids, no leading dot (hidden), no trailing dot or space, not empty.
pub fn sanitize_component(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let leading_dots = out.len() - out.trim_start_matches('.').len();
    out.replace_range(..leading_dots, &"_".repeat(leading_dots));
    let trimmed = out.trim_end_matches(['.', ' ']).trim_start().to_string();
    if trimmed.is_empty() {
        "_".to_string()
    } else {
        trimmed.chars().take(120).collect()
    }
}

/// A folder path from `/`-separated group text, each component sanitised.
pub fn group_path(group: &str) -> PathBuf {
    group
        .split('/')
        .filter(|c| !c.is_empty())
        .map(sanitize_component)
        .collect()
}

/// `name~0123abcd.ext`: the suffix depends only on the photo's relative path, so the same photo
/// gets the same name on every run whatever else is in the library.
pub fn suffixed_name(file_name: &str, rel_path: &str) -> String {
    let tag = format!("{:08x}", fnv1a64(rel_path.as_bytes()) as u32);
    match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}~{tag}.{ext}"),
        _ => format!("{file_name}~{tag}"),
    }
}

/// Builds the plan from each photo's assignments (`assignments[i]` for `photos[i]`).
///
/// Name collisions inside one folder (two `IMG_0001.JPG` from different cameras) are resolved
/// by giving every colliding photo except the first by relative path a stable suffix (see
/// [`suffixed_name`]). Comparison is case-insensitive so the plan also holds on
/// case-insensitive file systems.
pub fn build_plan(photos: &[PhotoRecord], assignments: &[Vec<Assignment>]) -> Plan {
    // folder -> photos in it, ordered by relative path.
    let mut folders: BTreeMap<(GroupKind, PathBuf), Vec<usize>> = BTreeMap::new();
    for (i, groups) in assignments.iter().enumerate() {
        for a in groups {
            let dir = PathBuf::from(a.kind.folder()).join(group_path(&a.group));
            folders.entry((a.kind, dir)).or_default().push(i);
        }
    }
    let mut links = Vec::new();
    for ((kind, dir), mut members) in folders {
        members.sort_by(|&a, &b| photos[a].rel_path.cmp(&photos[b].rel_path));
        members.dedup();
        let mut taken: HashSet<String> = HashSet::new();
        for i in members {
            let rel = &photos[i].rel_path;
            // Links are named by the display form: a name that is not UTF-8 gets a UTF-8 link
            // (U+FFFD for each stray byte), which browsers and other tools can open.
            let shown = crate::relpath::display(rel);
            let base = sanitize_component(shown.rsplit('/').next().unwrap_or(&shown));
            let name = if taken.contains(&base.to_lowercase()) {
                suffixed_name(&base, rel)
            } else {
                base
            };
            taken.insert(name.to_lowercase());
            links.push(PlannedLink {
                photo: i,
                kind,
                target: dir.join(name),
            });
        }
    }
    Plan { links }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::WallClock;
    use crate::exif_meta::TimeSource;
    use crate::sniff::ImageKind;

    fn photo(rel: &str) -> PhotoRecord {
        PhotoRecord {
            rel_path: rel.into(),
            size: 1,
            mtime_secs: 0,
            mtime_nanos: 0,
            kind: ImageKind::Jpeg,
            taken: WallClock::from_unix_utc(0),
            time_source: TimeSource::FileMtime,
            gps: None,
            orientation: 1,
            camera: None,
            thumb_width: 1,
            thumb_height: 1,
            content: None,
            notes: vec![],
            content_hash: 0,
        }
    }

    fn day(group: &str) -> Vec<Assignment> {
        vec![Assignment {
            kind: GroupKind::Date,
            group: group.into(),
            reason: String::new(),
        }]
    }

    #[test]
    fn collisions_get_stable_suffixes() {
        let photos = [
            photo("b/IMG_1.jpg"),
            photo("a/IMG_1.jpg"),
            photo("c/img_1.JPG"),
        ];
        let plan = build_plan(
            &photos,
            &[
                day("2020/2020-01-01"),
                day("2020/2020-01-01"),
                day("2020/2020-01-01"),
            ],
        );
        let targets: Vec<String> = plan
            .links
            .iter()
            .map(|l| l.target.to_string_lossy().into_owned())
            .collect();
        assert_eq!(targets[0], "by-date/2020/2020-01-01/IMG_1.jpg");
        assert_eq!(
            plan.links[0].photo, 1,
            "a/ sorts first and keeps the plain name"
        );
        assert_eq!(
            targets[1],
            format!(
                "by-date/2020/2020-01-01/{}",
                suffixed_name("IMG_1.jpg", "b/IMG_1.jpg")
            )
        );
        assert_eq!(
            targets[2],
            format!(
                "by-date/2020/2020-01-01/{}",
                suffixed_name("img_1.JPG", "c/img_1.JPG")
            )
        );
        // Adding a photo elsewhere changes nothing for these.
        let more = [
            photos[0].clone(),
            photos[1].clone(),
            photos[2].clone(),
            photo("z.jpg"),
        ];
        let plan2 = build_plan(
            &more,
            &[
                day("2020/2020-01-01"),
                day("2020/2020-01-01"),
                day("2020/2020-01-01"),
                day("2021/2021-01-01"),
            ],
        );
        assert_eq!(&plan2.links[..3], &plan.links[..]);
    }

    #[test]
    fn sanitizes_components() {
        assert_eq!(sanitize_component("../etc"), "__/etc".replace('/', "_"));
        assert_eq!(sanitize_component("a:b?"), "a_b_");
        assert_eq!(sanitize_component("..."), "___");
        assert_eq!(sanitize_component("name. "), "name");
        assert_eq!(
            group_path("China/Beijing/Beijing"),
            PathBuf::from("China/Beijing/Beijing")
        );
        assert_eq!(group_path("../x"), PathBuf::from("__/x"));
        assert_eq!(
            suffixed_name("IMG.jpg", "a/IMG.jpg").len(),
            "IMG~01234567.jpg".len()
        );
    }
}
