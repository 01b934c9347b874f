//! The whole run, as a list of stages: check -> prepare the output -> open the catalogue
//! (what earlier runs learned) -> choose the embedder -> scan (each photo read is committed
//! to the catalogue in batches) -> geocode -> group -> plan -> reconcile with the earlier
//! links -> apply -> write the outputs (manifest, index) -> record the run in the catalogue. The library never prints;
//! progress goes through a callback, and the cancel flag is checked by the scan and the
//! links and before anything is written.

use crate::apply::apply_plan;
use crate::content::ContentModel;
use crate::embedder::ChosenEmbedder;
use crate::error::GalleryError;
use crate::group::{
    ByContent, ByDate, ByEvent, ByImported, ByPeople, ByPlace, Grouping, Library, NearDuplicates,
};
use crate::layout::MANIFEST_FILE;
use crate::params::{absolute_normalised, previous_source};
use crate::places::{Geocoder, Place};
use crate::plan::{build_plan, Assignment, GroupKind};
use crate::prune::{remove_stale, LibraryBytes, PreviousLinks};
use crate::reconcile::Reconcile;
use crate::scan::{scan_with, PhotoRecord, Progress, ScanParams, OUTPUT_MARKER};
use crate::store::{Earlier, Store};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use crate::layout::{CACHE_FILE, INDEX_FILE, THUMBS_DIR, UNKNOWN_PLACE};
pub use crate::outcome::{ContentCluster, ContentSummary, OrganizeReport};
pub use crate::params::OrganizeParams;

/// Runs the organizer. See [`OrganizeParams`].
pub fn organize(
    params: &OrganizeParams,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<OrganizeReport, GalleryError> {
    params.validate()?;
    let input = fs::canonicalize(&params.input).map_err(|e| GalleryError::io(&params.input, e))?;
    let output = absolute_normalised(&params.output)?;
    let thumb_dir = prepare_output(params, &output)?;
    let mut notes = Vec::new();
    let (store, earlier) = Store::open(params, &output, &mut notes)?;
    let run = Run {
        params,
        input,
        output,
        thumb_dir,
        store: &store,
        progress,
        cancel,
    };
    match run.stages(earlier, notes) {
        Ok(report) => Ok(report),
        Err(e) => {
            store.fail(&e);
            Err(e)
        }
    }
}

/// One run's fixed inputs.
struct Run<'a> {
    params: &'a OrganizeParams,
    input: PathBuf,
    output: PathBuf,
    thumb_dir: Option<PathBuf>,
    store: &'a Store,
    progress: &'a (dyn Fn(Progress) + Sync),
    cancel: &'a AtomicBool,
}

impl Run<'_> {
    fn stages(&self, earlier: Earlier, notes: Vec<String>) -> Result<OrganizeReport, GalleryError> {
        let (params, progress, cancel) = (self.params, self.progress, self.cancel);
        let (input, output) = (&self.input, &self.output);
        let mut timings: Vec<(&str, f64)> = Vec::new();
        let mut clock = Instant::now();
        let mut lap = |name: &'static str, timings: &mut Vec<(&str, f64)>| {
            timings.push((name, clock.elapsed().as_secs_f64()));
            clock = Instant::now();
        };
        let wants = |k: GroupKind| params.by.contains(&k);
        let need_content =
            wants(GroupKind::Content) || wants(GroupKind::People) || params.near_duplicates;
        let chosen = if need_content {
            crate::embedder::choose(params)?
        } else {
            ChosenEmbedder::default()
        };
        let scan_params = ScanParams {
            embedder: chosen.embedder.clone(),
            follow_symlinks: params.follow_symlinks,
            content: need_content,
            thumb_dir: self.thumb_dir.clone(),
            exclude: vec![output.clone()],
            ..ScanParams::default()
        };
        // Photos read from their files are committed in batches as they come, so a killed
        // run keeps them and the next one decodes only the rest.
        let sink = self.store.sink();
        let fresh = |p: &PhotoRecord| {
            if let Some(s) = &sink {
                s.push(p);
            }
        };
        let scanned = scan_with(
            input,
            &scan_params,
            &earlier.photos,
            &fresh,
            progress,
            cancel,
        );
        if let Some(s) = sink {
            s.finish()?;
        }
        let scanned = scanned.ok_or(GalleryError::Cancelled)?;
        lap("scan", &mut timings);
        let photos = scanned.photos;
        let places = geocode(params, &photos);
        let previous_model = earlier.content_model.as_ref();
        let mut content = ByContent {
            chosen: &chosen,
            output,
            previous: previous_model,
            progress,
            cancel,
            result: None,
        };
        let mut people = ByPeople {
            known: &earlier.people,
            found: None,
        };
        let (mut date, mut event, mut place, mut near) = (ByDate, ByEvent, ByPlace, NearDuplicates);
        let mut imported = ByImported {
            clusters: &earlier.imported,
        };
        // In this order: the order of each photo's assignments in the plan and the manifest.
        let mut groupings: Vec<&mut dyn Grouping> = Vec::new();
        if wants(GroupKind::Date) {
            groupings.push(&mut date);
        }
        if wants(GroupKind::Event) {
            groupings.push(&mut event);
        }
        if wants(GroupKind::Place) {
            groupings.push(&mut place);
        }
        if wants(GroupKind::Content) {
            groupings.push(&mut content);
        }
        if wants(GroupKind::People) {
            groupings.push(&mut people);
        }
        if wants(GroupKind::Imported) {
            groupings.push(&mut imported);
        }
        if params.near_duplicates {
            groupings.push(&mut near);
        }
        let library = Library {
            photos: &photos,
            places: &places,
            params,
        };
        let mut assignments: Vec<Vec<Assignment>> = vec![Vec::new(); photos.len()];
        for grouping in groupings {
            let kind = grouping.kind();
            let more = grouping.assign(&library)?;
            debug_assert!(more.iter().flatten().all(|a| a.kind == kind));
            for (mine, more) in assignments.iter_mut().zip(more) {
                mine.extend(more);
            }
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(GalleryError::Cancelled);
        }
        lap("group", &mut timings);

        let plan = build_plan(&photos, &assignments);
        let (content, model): (Option<ContentSummary>, Option<ContentModel>) = match content.result
        {
            Some((s, m)) => (Some(s), Some(m)),
            None => (None, previous_model.cloned()),
        };
        let mut report = OrganizeReport {
            input: input.clone(),
            output: output.clone(),
            places,
            assignments,
            skipped: scanned.skipped,
            other_files: scanned.other_files,
            from_cache: scanned.from_cache,
            plan,
            content,
            notes,
            people: people.found,
            ..OrganizeReport::default()
        };
        report.notes.extend(chosen.notes.iter().cloned());
        if wants(GroupKind::Imported) && earlier.imported.is_empty() {
            report.notes.push(
                "--by imported: the catalogue holds no imported clusters (bring them in with \
                 `deepclust import-clusters FILE --out OUTPUT`)"
                    .to_string(),
            );
        }
        if wants(GroupKind::People) && chosen.embedder.is_none() {
            report
                .notes
                .push("--by people needs the face models: no faces were looked for".to_string());
        }
        let reconcile = Reconcile::new(input, output, &photos);
        if params.replace_source {
            replace_previous_source(output, input, params.dry_run, &mut report.notes);
        }
        report.superseded = reconcile.superseded();
        if params.dry_run {
            report.pruned = reconcile.dry_run(&report.plan);
            report.photos = photos;
            return Ok(report);
        }
        report.pruned = reconcile.before_apply(&report.plan);
        report
            .superseded
            .extend(report.pruned.set_aside.iter().cloned());
        let applied = apply_plan(
            &report.plan,
            &photos,
            input,
            output,
            params.link,
            &reconcile.recorded(),
            progress,
            cancel,
        )?;
        let after = reconcile.after_apply(&report.plan, &applied);
        report.pruned.merge(after);
        report.photos = photos;
        report.apply = Some(applied);
        lap("link", &mut timings);
        crate::outputs::write_outputs(params, &chosen, &mut report)?;
        lap("outputs", &mut timings);
        self.store.finish(&report, model.as_ref(), &timings)?;
        Ok(report)
    }
}

/// Creates the output folder with its marker (the scanner never enters a marked folder)
/// and the thumbnails folder; returns the latter when the index is wanted. Nothing in a dry
/// run.
fn prepare_output(params: &OrganizeParams, output: &Path) -> Result<Option<PathBuf>, GalleryError> {
    let thumb_dir = (params.html && !params.dry_run).then(|| output.join(THUMBS_DIR));
    if params.dry_run {
        return Ok(thumb_dir);
    }
    fs::create_dir_all(output).map_err(|e| GalleryError::io(output, e))?;
    let marker = output.join(OUTPUT_MARKER);
    if !marker.exists() {
        fs::write(
            &marker,
            "Output of `deepclust organize`; the scanner never enters this folder.\n",
        )
        .map_err(|e| GalleryError::io(&marker, e))?;
    }
    if let Some(t) = &thumb_dir {
        fs::create_dir_all(t).map_err(|e| GalleryError::io(t, e))?;
    }
    Ok(thumb_dir)
}

/// The named place of every photo with GPS, when a grouping uses places.
fn geocode(params: &OrganizeParams, photos: &[PhotoRecord]) -> Vec<Option<Place>> {
    let wanted = [GroupKind::Place, GroupKind::Event, GroupKind::Content]
        .iter()
        .any(|k| params.by.contains(k));
    photos
        .iter()
        .map(|p| {
            if wanted {
                p.gps.and_then(|g| Geocoder::embedded().resolve(g))
            } else {
                None
            }
        })
        .collect()
}

/// `--replace-source`: the links the output holds for another photo folder go (those
/// provably ours, checked against that folder), before this folder's links are written.
fn replace_previous_source(output: &Path, input: &Path, dry_run: bool, notes: &mut Vec<String>) {
    let Some(previous) = previous_source(output) else {
        return;
    };
    let previous = fs::canonicalize(&previous).unwrap_or(previous);
    if previous == input {
        return;
    }
    let Some(links) = PreviousLinks::read(&output.join(MANIFEST_FILE), &previous) else {
        return;
    };
    let pruned = remove_stale(
        &links.pairs(|_| true),
        &previous,
        output,
        dry_run,
        &LibraryBytes::default(),
    );
    notes.push(format!(
        "--replace-source: {} {} links of {} (and {} emptied folders), kept {} not provably ours",
        if dry_run { "would remove" } else { "removed" },
        pruned.removed.len(),
        previous.display(),
        pruned.removed_folders,
        pruned.kept.len()
    ));
}
