//! `deepclust import-clusters`: cluster ids computed elsewhere (Spark MLlib on the Parquet
//! export, a notebook) back into an organized folder's catalogue.

use anyhow::{bail, Context, Result};
use clap::Args;
use deepclust::gallery::catalog::Catalog;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ImportClustersArgs {
    /// A CSV with a header naming `path` and `cluster` (or Spark's `prediction`) columns, a
    /// Parquet file with those columns, or a folder of Spark `part-*` files.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The organized folder whose catalogue receives them.
    #[arg(long, value_name = "ORGANIZED_DIR")]
    pub out: PathBuf,
    /// Name the clusters are stored under (an import of the same name replaces it); the next
    /// `organize --by ...,imported` links them as `by-imported/<NAME>/cluster-N`.
    #[arg(long, default_value = "imported")]
    pub name: String,
}

pub fn run(args: &ImportClustersArgs) -> Result<()> {
    let rows = deepclust::export::read_clusters(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    if !args
        .out
        .join(deepclust::gallery::catalog::CATALOG_FILE)
        .exists()
    {
        bail!(
            "{} holds no catalogue: run `deepclust organize` into it first",
            args.out.display()
        );
    }
    let mut catalog = Catalog::open_for_run(&args.out)
        .with_context(|| format!("opening the catalogue of {}", args.out.display()))?;
    let (matched, unknown) = catalog.import_clusters(&args.name, &rows)?;
    let mut sizes: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, c) in &rows {
        *sizes.entry(*c).or_default() += 1;
    }
    outln!(
        "imported {matched} cluster ids as `{}` into {} ({} clusters)",
        args.name,
        catalog.path().display(),
        sizes.len()
    );
    outln!(
        "albums: re-run `deepclust organize` with `--by ...,imported` for by-imported/{}/cluster-N",
        args.name
    );
    for (cluster, n) in &sizes {
        outln!("  cluster {cluster}: {n} photos");
    }
    if !unknown.is_empty() {
        eprintln!(
            "warning: {} rows name photos the catalogue does not hold (first: {})",
            unknown.len(),
            unknown[0]
        );
    }
    Ok(())
}
