//! `by-imported/<name>/cluster-N`: cluster ids computed elsewhere (Spark MLlib on the Parquet
//! export, a notebook) and stored in the catalogue by `deepclust import-clusters`.

use super::{Grouping, Library};
use crate::error::GalleryError;
use crate::plan::{Assignment, GroupKind};
use std::collections::HashMap;

pub(crate) struct ByImported<'a> {
    /// `(source, cluster)` by relative path, from the catalogue.
    pub clusters: &'a HashMap<String, Vec<(String, i64)>>,
}

impl Grouping for ByImported<'_> {
    fn kind(&self) -> GroupKind {
        GroupKind::Imported
    }

    fn assign(&mut self, library: &Library<'_>) -> Result<Vec<Vec<Assignment>>, GalleryError> {
        Ok(library
            .photos
            .iter()
            .map(|p| {
                self.clusters
                    .get(&p.rel_path)
                    .map(|found| {
                        found
                            .iter()
                            .map(|(source, cluster)| Assignment {
                                kind: GroupKind::Imported,
                                group: format!("{source}/cluster-{cluster}"),
                                reason: format!(
                                    "cluster {cluster} of `{source}` (deepclust import-clusters)"
                                ),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect())
    }
}
