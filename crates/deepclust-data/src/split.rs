//! Deterministic train / validation splits.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// Number of rows in the first part: `floor(n * fraction)`, as the tutorial's
/// `int(n * 0.7)`. Both parts must be non-empty.
fn first_part_len(ds: &Dataset, fraction: f64) -> Result<usize> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::InvalidOptions {
            reason: format!("split fraction must be strictly between 0 and 1, got {fraction}"),
        });
    }
    let n = ds.len();
    let first = (n as f64 * fraction).floor() as usize;
    if first == 0 || first == n {
        return Err(DataError::InvalidOptions {
            reason: format!(
                "splitting {} ({n} rows) at {fraction} leaves an empty part",
                ds.source
            ),
        });
    }
    Ok(first)
}

/// The first `floor(n * fraction)` rows, then the rest, in file order (no shuffle): the
/// tutorial's protocol (`fraction = 0.7`).
pub fn split_fraction(ds: &Dataset, fraction: f64) -> Result<(Dataset, Dataset)> {
    let first = first_part_len(ds, fraction)?;
    let rows: Vec<usize> = (0..ds.len()).collect();
    Ok(parts(ds, &rows, first))
}

/// Like [`split_fraction`] after a seeded shuffle of the rows (ChaCha8, so the same seed
/// gives the same split on every platform). Each part keeps the shuffled order.
pub fn shuffled_split(ds: &Dataset, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
    let first = first_part_len(ds, fraction)?;
    let mut rows: Vec<usize> = (0..ds.len()).collect();
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    Ok(parts(ds, &rows, first))
}

fn parts(ds: &Dataset, rows: &[usize], first: usize) -> (Dataset, Dataset) {
    let (a, b) = rows.split_at(first);
    let mut head = ds.select(a);
    let mut tail = ds.select(b);
    head.source = format!("{} [first {} rows]", ds.source, a.len());
    tail.source = format!("{} [last {} rows]", ds.source, b.len());
    (head, tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn numbered(n: usize) -> Dataset {
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f32);
        Dataset::from_features(x, Some((0..n).map(|i| i % 3).collect()), "numbered").unwrap()
    }

    #[test]
    fn first_70_percent_then_rest_in_order() {
        let ds = numbered(10);
        let (train, val) = split_fraction(&ds, 0.7).unwrap();
        assert_eq!((train.len(), val.len()), (7, 3));
        assert_eq!(train.ids, (0..7).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(val.ids, vec!["7", "8", "9"]);
        assert_eq!(val.features.row(0).to_vec(), vec![14.0, 15.0]);
        assert_eq!(val.labels, Some(vec![1, 2, 0]));
        // floor, like int(n * 0.7): 49,000 / 21,000 for the 70,000 MNIST rows.
        let (a, b) = split_fraction(&numbered(19), 0.7).unwrap();
        assert_eq!((a.len(), b.len()), (13, 6));
    }

    #[test]
    fn shuffled_split_is_a_seeded_permutation() {
        let ds = numbered(50);
        let (a1, b1) = shuffled_split(&ds, 0.6, 7).unwrap();
        let (a2, b2) = shuffled_split(&ds, 0.6, 7).unwrap();
        let (a3, _) = shuffled_split(&ds, 0.6, 8).unwrap();
        assert_eq!((a1.len(), b1.len()), (30, 20));
        assert_eq!(a1, a2);
        assert_eq!(b1, b2);
        assert_ne!(a1.ids, a3.ids);
        let mut all: Vec<usize> = a1
            .ids
            .iter()
            .chain(&b1.ids)
            .map(|s| s.parse().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
        // Rows move together with their ids and labels.
        for (i, id) in a1.ids.iter().enumerate() {
            let k: usize = id.parse().unwrap();
            assert_eq!(a1.features[[i, 0]], (2 * k) as f32);
            assert_eq!(a1.labels.as_ref().unwrap()[i], k % 3);
        }
    }

    #[test]
    fn bad_fractions_are_rejected() {
        let ds = numbered(10);
        for f in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            assert!(matches!(
                split_fraction(&ds, f).unwrap_err(),
                DataError::InvalidOptions { .. }
            ));
        }
        let err = split_fraction(&numbered(1), 0.5).unwrap_err();
        assert!(err.to_string().contains("empty part"), "{err}");
    }
}
