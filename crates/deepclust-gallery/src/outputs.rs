//! What a run writes beside the links, in one place: the manifest (the record of every link,
//! which the next run reconciles against; derived from the run's plan, for people and
//! scripts), the persons' face covers and the index page.

use crate::embedder::ChosenEmbedder;
use crate::error::GalleryError;
use crate::html::write_index;
use crate::layout::{INDEX_FILE, MANIFEST_FILE, THUMBS_DIR};
use crate::manifest::{write_json_atomic, Manifest};
use crate::outcome::OrganizeReport;
use crate::params::OrganizeParams;

/// Writes the manifest, the face covers and the index, and records their paths in `report`
/// (the catalogue records the run itself, see [`crate::store`]).
pub(crate) fn write_outputs(
    params: &OrganizeParams,
    chosen: &ChosenEmbedder,
    report: &mut OrganizeReport,
) -> Result<(), GalleryError> {
    let output = report.output.clone();
    let manifest = Manifest::from_report(report, params);
    let manifest_path = output.join(MANIFEST_FILE);
    write_json_atomic(&manifest_path, &manifest, true)?;
    report.manifest = Some(manifest_path);
    if let (Some(people), true) = (&report.people, params.html) {
        let decode_side = chosen
            .embedder
            .as_ref()
            .map_or(crate::thumbs::THUMB_SIZE, |e| {
                e.decode_side().max(crate::thumbs::THUMB_SIZE)
            });
        let mut notes = Vec::new();
        for person in &people.persons {
            let path = output
                .join(THUMBS_DIR)
                .join(format!("{}.jpg", person.folder()));
            let photo = &report.photos[person.cover.photo];
            if let Err(e) = crate::people::write_face_cover(
                &report.input,
                photo,
                person.cover.face,
                decode_side,
                &path,
            ) {
                notes.push(format!("{}: face cover not written: {e}", person.folder()));
            }
        }
        report.notes.extend(notes);
    }
    if params.html {
        let path = output.join(INDEX_FILE);
        write_index(&path, report, &manifest)?;
        report.index_html = Some(path);
    }
    Ok(())
}
