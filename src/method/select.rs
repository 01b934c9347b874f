//! The number of clusters chosen without labels for methods that take a fixed one (K-Means,
//! the mixture): every k of a range is fitted and the partition of highest silhouette is
//! kept, as N2D's `KSelect::Auto` does on its layout.

use super::{Fitted, Method, MethodError};
use crate::control::Control;
use deepclust_cluster::silhouette_score;
use deepclust_data::Dataset;

/// Rows the silhouette is computed on (it is O(n²)): a seeded sample of larger data.
pub const SILHOUETTE_SAMPLE: usize = 3000;

/// A fit of `M` and the silhouette of every k tried.
pub type Selected<M> = (
    Fitted<<M as Method>::Model, <M as Method>::Details>,
    Vec<(usize, f64)>,
);

/// The fit of highest silhouette among `make(k)` for `k` in `min..=max`, and the silhouette
/// of every k tried. `seed` draws the silhouette's sample of large data.
pub fn select_k<M: Method>(
    make: impl Fn(usize) -> M,
    data: &Dataset,
    (min, max): (usize, usize),
    seed: u64,
    control: &Control,
) -> Result<Selected<M>, MethodError> {
    if min < 2 || min > max {
        return Err(MethodError::InvalidParam(format!(
            "choosing k needs 2 <= min <= max, got {min}..={max}"
        )));
    }
    if min > data.len() {
        return Err(MethodError::InvalidParam(format!(
            "k = {min} is larger than the number of items ({}) in {}",
            data.len(),
            data.source
        )));
    }
    let rows = crate::pipeline::sample_rows(data.len(), SILHOUETTE_SAMPLE, seed);
    let sample = data.features.select(ndarray::Axis(0), &rows);
    let mut best: Option<(f64, Fitted<_, _>)> = None;
    let mut scores = Vec::new();
    for k in min..=max.min(data.len()) {
        let fitted = make(k).fit(data, control)?;
        let labels: Vec<usize> = rows.iter().map(|&i| fitted.clustering.labels[i]).collect();
        let s = silhouette_score(sample.view(), &labels);
        scores.push((k, s));
        // Ties keep the smaller k.
        if best.as_ref().is_none_or(|(b, _)| s > *b) {
            best = Some((s, fitted));
        }
    }
    match best {
        Some((_, fitted)) => Ok((fitted, scores)),
        None => Err(MethodError::InvalidParam(format!(
            "no k in {min}..={max} could be tried"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::KMeans;
    use ndarray::Array2;

    #[test]
    fn picks_the_number_of_separated_blobs() {
        // Five tight blobs on a line.
        let mut x = Array2::<f32>::zeros((100, 2));
        for i in 0..100 {
            x[[i, 0]] = (i % 5) as f32 * 10.0 + (i as f32 * 0.37).sin() * 0.5;
            x[[i, 1]] = (i as f32 * 0.71).cos() * 0.5;
        }
        let data = Dataset::from_features(x, None, "blobs").expect("dataset");
        let (fitted, scores) = select_k(
            |k| KMeans::params(k).n_init(3).seed(1),
            &data,
            (2, 8),
            0,
            &Control::none(),
        )
        .expect("select");
        assert_eq!(fitted.clustering.n_clusters, 5, "{scores:?}");
        assert_eq!(scores.len(), 7);
        assert!(select_k(KMeans::params, &data, (1, 3), 0, &Control::none()).is_err());
    }
}
