//! People: faces grouped into persons without labels.
//!
//! Immich's rule (a density-based grouping with a minimum of core faces; LibrePhotos uses
//! DBSCAN with min_samples 3): a face is a *core* face when at least [`PeopleParams::min_faces`]
//! faces (itself included) lie within [`PeopleParams::max_distance`] of it (dlib's same-person
//! threshold 0.6 on its 128-d descriptors). Core faces within the distance join, closest pairs
//! first; other faces join the person of their nearest core face in reach; the rest stay
//! unassigned. Two faces of one photo are never the same person (a join that would put them
//! together is skipped). Person ids are kept across runs by matching each new person to the
//! nearest remembered centre.

use crate::albums::{counted_faces, FACE_SCORE};
use crate::scan::PhotoRecord;
use deepclust_embed::faces::descriptor_distance as dist;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeopleParams {
    /// Largest descriptor distance of two faces of one person.
    pub max_distance: f32,
    /// Faces within reach (itself included) that make a face a core face.
    pub min_faces: usize,
}

impl Default for PeopleParams {
    fn default() -> Self {
        PeopleParams {
            max_distance: deepclust_embed::faces::SAME_PERSON,
            min_faces: 3,
        }
    }
}

/// One face of one photo: the photo's index and the face's index in its signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FaceRef {
    pub photo: usize,
    pub face: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Stable across runs (1-based, `person-001`).
    pub id: u32,
    pub faces: Vec<FaceRef>,
    /// Mean descriptor, remembered for the next run.
    pub centre: Vec<f32>,
    /// The largest, best-scored face: the person's cover.
    pub cover: FaceRef,
}

impl Person {
    pub fn folder(&self) -> String {
        format!("person-{:03}", self.id)
    }
}

/// A person remembered from an earlier run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownPerson {
    pub id: u32,
    pub centre: Vec<f32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct People {
    /// Largest first.
    pub persons: Vec<Person>,
    /// Faces with a descriptor that belong to no person.
    pub unassigned: Vec<FaceRef>,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Joins the persons of faces `i` and `j` unless they share a photo.
fn join(parent: &mut [usize], photos_of: &mut [BTreeSet<usize>], i: usize, j: usize) {
    let (a, b) = (find(parent, i), find(parent, j));
    if a == b || !photos_of[a].is_disjoint(&photos_of[b]) {
        return;
    }
    let moved = std::mem::take(&mut photos_of[b]);
    photos_of[a].extend(moved);
    parent[b] = a;
}

/// Groups the faces of `photos` into persons; `known` keeps the ids of an earlier run.
pub fn group_people(
    photos: &[PhotoRecord],
    params: &PeopleParams,
    known: &[KnownPerson],
) -> People {
    // Faces that count (score, size) and have a descriptor, in photo order.
    let mut refs: Vec<FaceRef> = Vec::new();
    let mut desc: Vec<&[f32]> = Vec::new();
    let mut quality: Vec<f32> = Vec::new();
    for (pi, p) in photos.iter().enumerate() {
        let Some(f) = p
            .content
            .as_ref()
            .and_then(|c| c.signals.as_ref())
            .and_then(|s| s.faces.as_ref())
        else {
            continue;
        };
        for (fi, share) in counted_faces(f) {
            if let Some(d) = f.faces[fi].descriptor.as_deref() {
                refs.push(FaceRef {
                    photo: pi,
                    face: fi,
                });
                desc.push(d);
                quality.push(share * f.faces[fi].score.max(FACE_SCORE));
            }
        }
    }
    let n = refs.len();
    let t = params.max_distance;
    // Pairs within reach, from different photos (quadratic; a library's faces number in the
    // thousands, not millions, and each distance is 128 values).
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    let mut reach = vec![1usize; n];
    for i in 0..n {
        for j in i + 1..n {
            if refs[i].photo == refs[j].photo {
                continue;
            }
            let d = dist(desc[i], desc[j]);
            if d < t {
                pairs.push((d, i, j));
                reach[i] += 1;
                reach[j] += 1;
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let core: Vec<bool> = reach.iter().map(|&r| r >= params.min_faces).collect();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut photos_of: Vec<BTreeSet<usize>> =
        refs.iter().map(|r| BTreeSet::from([r.photo])).collect();
    for &(_, i, j) in &pairs {
        if core[i] && core[j] {
            join(&mut parent, &mut photos_of, i, j);
        }
    }
    // Border faces: the nearest core face in reach whose person has no face of this photo.
    for i in (0..n).filter(|&i| !core[i]) {
        let mut best: Option<(f32, usize)> = None;
        for &(d, a, b) in &pairs {
            let other = if a == i {
                b
            } else if b == i {
                a
            } else {
                continue;
            };
            if core[other] && best.is_none_or(|(bd, _)| d < bd) {
                let root = find(&mut parent, other);
                if !photos_of[root].contains(&refs[i].photo) {
                    best = Some((d, other));
                }
            }
        }
        if let Some((_, other)) = best {
            join(&mut parent, &mut photos_of, other, i);
        }
    }
    // Persons: groups holding a core face.
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut found: Vec<Vec<usize>> = Vec::new();
    let mut unassigned = Vec::new();
    for members in groups.into_values() {
        if members.iter().any(|&i| core[i]) {
            found.push(members);
        } else {
            unassigned.extend(members.iter().map(|&i| refs[i]));
        }
    }
    found.sort_by(|a, b| b.len().cmp(&a.len()).then(refs[a[0]].cmp(&refs[b[0]])));
    let centre = |members: &[usize]| -> Vec<f32> {
        let mut c = vec![0f32; desc[members[0]].len()];
        for &i in members {
            for (s, v) in c.iter_mut().zip(desc[i]) {
                *s += v;
            }
        }
        c.iter_mut().for_each(|s| *s /= members.len() as f32);
        c
    };
    let centres: Vec<Vec<f32>> = found.iter().map(|m| centre(m)).collect();
    // Stable ids: closest (new person, known person) pairs within reach first.
    let mut matches: Vec<(f32, usize, usize)> = Vec::new();
    for (p, c) in centres.iter().enumerate() {
        for (k, known_person) in known.iter().enumerate() {
            if known_person.centre.len() == c.len() {
                let d = dist(c, &known_person.centre);
                if d < t {
                    matches.push((d, p, k));
                }
            }
        }
    }
    matches.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let mut id_of: Vec<Option<u32>> = vec![None; found.len()];
    let mut used = vec![false; known.len()];
    for (_, p, k) in matches {
        if id_of[p].is_none() && !used[k] {
            id_of[p] = Some(known[k].id);
            used[k] = true;
        }
    }
    let mut next = known.iter().map(|k| k.id).max().unwrap_or(0) + 1;
    let persons = found
        .iter()
        .zip(centres)
        .enumerate()
        .map(|(p, (members, centre))| {
            let id = id_of[p].unwrap_or_else(|| {
                next += 1;
                next - 1
            });
            let cover = members
                .iter()
                .copied()
                .max_by(|&a, &b| quality[a].total_cmp(&quality[b]).then(b.cmp(&a)))
                .map_or(refs[members[0]], |i| refs[i]);
            let mut faces: Vec<FaceRef> = members.iter().map(|&i| refs[i]).collect();
            faces.sort();
            Person {
                id,
                faces,
                centre,
                cover,
            }
        })
        .collect();
    People {
        persons,
        unassigned,
    }
}

/// Side of a person's face cover in the index.
pub const COVER_SIDE: u32 = 128;

/// Writes the face `face` of `photo` (its file under `input`) as a square JPEG cover: the face
/// box grown by half on every side, from a decode at the size the signals were computed on.
pub fn write_face_cover(
    input: &std::path::Path,
    photo: &PhotoRecord,
    face: usize,
    decode_side: u32,
    path: &std::path::Path,
) -> Result<(), String> {
    let f = photo
        .content
        .as_ref()
        .and_then(|c| c.signals.as_ref())
        .and_then(|s| s.faces.as_ref())
        .ok_or("no face signals")?;
    let b = f.faces.get(face).ok_or("no such face")?.bbox;
    let bytes =
        std::fs::read(crate::relpath::join(input, &photo.rel_path)).map_err(|e| e.to_string())?;
    let img = crate::thumbs::decode_thumbnail(&bytes, photo.kind, photo.orientation, decode_side)?;
    // The boxes are in the pixels of the scan's decode; scale if this one differs.
    let (sx, sy) = (
        img.width() as f32 / f.width.max(1) as f32,
        img.height() as f32 / f.height.max(1) as f32,
    );
    let (cx, cy) = ((b[0] + b[2]) / 2.0 * sx, (b[1] + b[3]) / 2.0 * sy);
    // A square twice the face's larger side: the box plus half of it on every side.
    let half = ((b[2] - b[0]) * sx).max((b[3] - b[1]) * sy);
    let x0 = (cx - half).max(0.0) as u32;
    let y0 = (cy - half).max(0.0) as u32;
    let side = ((2.0 * half) as u32)
        .min(img.width().saturating_sub(x0))
        .min(img.height().saturating_sub(y0))
        .max(1);
    let crop = image::imageops::crop_imm(&img, x0, y0, side, side).to_image();
    let cover = image::imageops::resize(
        &crop,
        COVER_SIDE,
        COVER_SIDE,
        image::imageops::FilterType::Triangle,
    );
    let jpeg = crate::thumbs::encode_jpeg(&cover)?;
    std::fs::write(path, jpeg).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::WallClock;
    use crate::exif_meta::TimeSource;
    use crate::sniff::ImageKind;
    use crate::thumbs::ContentFeatures;
    use deepclust_embed::{Face, FaceSignals, PhotoSignals};

    /// A photo whose faces have the given descriptors (2-d here; only distances matter).
    fn photo(name: &str, descriptors: &[[f32; 2]]) -> PhotoRecord {
        let faces = descriptors
            .iter()
            .enumerate()
            .map(|(i, d)| Face {
                score: 0.9,
                bbox: [i as f32 * 30.0, 0.0, i as f32 * 30.0 + 20.0, 20.0],
                keypoints: [[0.0; 2]; 6],
                descriptor: Some(d.to_vec()),
            })
            .collect();
        PhotoRecord {
            rel_path: name.into(),
            size: 1,
            mtime_secs: 0,
            mtime_nanos: 0,
            kind: ImageKind::Jpeg,
            taken: WallClock::from_unix_utc(0),
            time_source: TimeSource::FileMtime,
            gps: None,
            orientation: 1,
            camera: None,
            thumb_width: 100,
            thumb_height: 100,
            content: Some(ContentFeatures {
                embedding: vec![],
                signals: Some(PhotoSignals {
                    faces: Some(FaceSignals {
                        width: 100,
                        height: 100,
                        faces,
                    }),
                    ..PhotoSignals::default()
                }),
                embedder: String::new(),
                dhash: 0,
                pixels: vec![],
            }),
            notes: vec![],
            content_hash: 0,
        }
    }

    #[test]
    fn core_faces_make_persons_and_loners_stay_unassigned() {
        // A at (0,0), B at (5,5): three photos of A, two of B (below the minimum of 3), and
        // one photo with A next to a stranger.
        let photos = vec![
            photo("a1", &[[0.0, 0.0]]),
            photo("a2", &[[0.1, 0.0]]),
            photo("a3", &[[0.0, 0.2]]),
            photo("b1", &[[5.0, 5.0]]),
            photo("b2", &[[5.1, 5.0]]),
            photo("a-and-c", &[[0.2, 0.1], [9.0, 0.0]]),
        ];
        let people = group_people(&photos, &PeopleParams::default(), &[]);
        assert_eq!(people.persons.len(), 1);
        let a: Vec<usize> = people.persons[0].faces.iter().map(|f| f.photo).collect();
        assert_eq!(a, vec![0, 1, 2, 5]);
        assert_eq!(people.persons[0].id, 1);
        let loners: Vec<usize> = people.unassigned.iter().map(|f| f.photo).collect();
        assert_eq!(loners, vec![3, 4, 5]);
    }

    #[test]
    fn two_faces_of_one_photo_are_never_one_person() {
        // Twins: in each photo both faces look alike, but they are two people.
        let photos = vec![
            photo("t1", &[[0.0, 0.0], [0.3, 0.0]]),
            photo("t2", &[[0.0, 0.05], [0.3, 0.05]]),
            photo("t3", &[[0.0, 0.1], [0.3, 0.1]]),
        ];
        let people = group_people(&photos, &PeopleParams::default(), &[]);
        for p in &people.persons {
            let mut seen: Vec<usize> = p.faces.iter().map(|f| f.photo).collect();
            let n = seen.len();
            seen.dedup();
            assert_eq!(seen.len(), n, "one photo twice in {p:?}");
        }
        assert_eq!(people.persons.len(), 2);
    }

    #[test]
    fn ids_are_kept_across_runs() {
        let photos = vec![
            photo("b1", &[[5.0, 5.0]]),
            photo("b2", &[[5.1, 5.0]]),
            photo("b3", &[[5.0, 5.1]]),
            photo("a1", &[[0.0, 0.0]]),
            photo("a2", &[[0.1, 0.0]]),
            photo("a3", &[[0.0, 0.1]]),
        ];
        let known = vec![
            KnownPerson {
                id: 7,
                centre: vec![0.05, 0.05],
            },
            KnownPerson {
                id: 2,
                centre: vec![20.0, 20.0],
            },
        ];
        let people = group_people(&photos, &PeopleParams::default(), &known);
        let ids: Vec<(u32, usize)> = people
            .persons
            .iter()
            .map(|p| (p.id, p.faces[0].photo))
            .collect();
        // A keeps 7; B is new and gets the next id after the largest known one.
        assert!(ids.contains(&(7, 3)) && ids.contains(&(8, 0)), "{ids:?}");
    }
}
