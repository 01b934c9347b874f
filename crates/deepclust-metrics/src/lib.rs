//! External clustering metrics, computed exactly as scikit-learn does:
//!
//! * [`nmi`]: normalised mutual information with the arithmetic mean of the entropies
//!   (scikit-learn's default `average_method="arithmetic"`);
//! * [`acc`]: clustering accuracy, the fraction of samples on the best one-to-one matching of
//!   clusters to classes (Hungarian algorithm; any number of clusters and classes);
//! * [`ari`]: adjusted Rand index;
//! * [`Contingency`]: the class x cluster count table, printable, with the matched order.
//!
//! Labels are arbitrary `usize` values; only their equality matters.

mod hungarian;

pub use hungarian::max_weight_matching;
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MetricsError {
    #[error("label vectors differ in length: {truth} true labels, {pred} predicted")]
    LengthMismatch { truth: usize, pred: usize },
    #[error("no samples to score")]
    Empty,
}

/// NMI, ACC and ARI of one labelling.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    pub nmi: f64,
    pub acc: f64,
    pub ari: f64,
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NMI {:.4}  ACC {:.4}  ARI {:.4}",
            self.nmi, self.acc, self.ari
        )
    }
}

/// All three metrics at once.
pub fn scores(truth: &[usize], pred: &[usize]) -> Result<Scores, MetricsError> {
    let table = Contingency::new(truth, pred)?;
    Ok(Scores {
        nmi: table.nmi(),
        acc: table.acc(),
        ari: table.ari(),
    })
}

pub fn nmi(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(Contingency::new(truth, pred)?.nmi())
}

pub fn acc(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(Contingency::new(truth, pred)?.acc())
}

pub fn ari(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(Contingency::new(truth, pred)?.ari())
}

/// Counts of samples per (true class, cluster), classes and clusters in ascending label order.
#[derive(Debug, Clone, PartialEq)]
pub struct Contingency {
    classes: Vec<usize>,
    clusters: Vec<usize>,
    /// `counts[class_index][cluster_index]`.
    counts: Vec<Vec<u64>>,
    n: u64,
}

fn dense_ids(labels: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut ids = BTreeMap::new();
    for &l in labels {
        ids.entry(l).or_insert(0usize);
    }
    for (i, v) in ids.values_mut().enumerate() {
        *v = i;
    }
    let dense = labels.iter().map(|l| ids[l]).collect();
    (ids.into_keys().collect(), dense)
}

/// `sum x ln x` over the counts, the building block of every entropy here.
fn x_ln_x(counts: impl Iterator<Item = u64>) -> f64 {
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let c = c as f64;
            c * c.ln()
        })
        .sum()
}

impl Contingency {
    pub fn new(truth: &[usize], pred: &[usize]) -> Result<Self, MetricsError> {
        if truth.len() != pred.len() {
            return Err(MetricsError::LengthMismatch {
                truth: truth.len(),
                pred: pred.len(),
            });
        }
        if truth.is_empty() {
            return Err(MetricsError::Empty);
        }
        let (classes, t) = dense_ids(truth);
        let (clusters, p) = dense_ids(pred);
        let mut counts = vec![vec![0u64; clusters.len()]; classes.len()];
        for (&a, &b) in t.iter().zip(&p) {
            counts[a][b] += 1;
        }
        Ok(Self {
            classes,
            clusters,
            counts,
            n: truth.len() as u64,
        })
    }

    pub fn classes(&self) -> &[usize] {
        &self.classes
    }
    pub fn clusters(&self) -> &[usize] {
        &self.clusters
    }
    /// `counts()[class_index][cluster_index]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }
    pub fn class_sizes(&self) -> Vec<u64> {
        self.counts.iter().map(|r| r.iter().sum()).collect()
    }
    pub fn cluster_sizes(&self) -> Vec<u64> {
        (0..self.clusters.len())
            .map(|j| self.counts.iter().map(|r| r[j]).sum())
            .collect()
    }

    /// Entropy (nats) of a marginal.
    fn entropy(&self, sizes: &[u64]) -> f64 {
        let n = self.n as f64;
        (n * n.ln() - x_ln_x(sizes.iter().copied())) / n
    }

    /// Mutual information in nats, clipped at 0 like scikit-learn.
    pub fn mutual_information(&self) -> f64 {
        let n = self.n as f64;
        let a = self.class_sizes();
        let b = self.cluster_sizes();
        let mut mi = 0.0;
        for (i, row) in self.counts.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                if c > 0 {
                    let c = c as f64;
                    mi += c / n * ((c * n).ln() - (a[i] as f64 * b[j] as f64).ln());
                }
            }
        }
        mi.max(0.0)
    }

    /// NMI with the arithmetic mean of the two entropies (scikit-learn's default).
    pub fn nmi(&self) -> f64 {
        // Both labellings put everything in one group: a perfect match (scikit-learn's rule).
        if self.classes.len() == 1 && self.clusters.len() == 1 {
            return 1.0;
        }
        let mi = self.mutual_information();
        if mi == 0.0 {
            return 0.0;
        }
        let h_true = self.entropy(&self.class_sizes());
        let h_pred = self.entropy(&self.cluster_sizes());
        let normalizer = ((h_true + h_pred) / 2.0).max(f64::EPSILON);
        mi / normalizer
    }

    /// Best one-to-one matching of clusters to classes: `(cluster_index, class_index)` pairs.
    pub fn matching(&self) -> Vec<(usize, usize)> {
        let weights: Vec<Vec<i64>> = (0..self.clusters.len())
            .map(|j| self.counts.iter().map(|r| r[j] as i64).collect())
            .collect();
        max_weight_matching(&weights)
    }

    /// Accuracy under the best one-to-one matching (unmatched clusters count as errors).
    pub fn acc(&self) -> f64 {
        let correct: u64 = self
            .matching()
            .into_iter()
            .map(|(cluster, class)| self.counts[class][cluster])
            .sum();
        correct as f64 / self.n as f64
    }

    /// Adjusted Rand index from the pair confusion matrix (exact integer arithmetic).
    pub fn ari(&self) -> f64 {
        let n = i128::from(self.n);
        let a: Vec<i128> = self.class_sizes().into_iter().map(i128::from).collect();
        let b: Vec<i128> = self.cluster_sizes().into_iter().map(i128::from).collect();
        let sum_squares: i128 = self
            .counts
            .iter()
            .flatten()
            .map(|&c| i128::from(c).pow(2))
            .sum();
        let tp = sum_squares - n;
        let fp: i128 = self
            .counts
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&b)
                    .map(|(&c, &bj)| i128::from(c) * bj)
                    .sum::<i128>()
            })
            .sum::<i128>()
            - sum_squares;
        let fn_: i128 = self
            .counts
            .iter()
            .zip(&a)
            .map(|(row, &ai)| row.iter().map(|&c| i128::from(c) * ai).sum::<i128>())
            .sum::<i128>()
            - sum_squares;
        let tn = n * n - fp - fn_ - sum_squares;
        if fn_ == 0 && fp == 0 {
            return 1.0;
        }
        let num = 2 * (tp * tn - fn_ * fp);
        let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
        num as f64 / den as f64
    }

    /// Fraction of each cluster that belongs to its majority class, with that class label.
    pub fn cluster_purity(&self) -> Vec<(usize, usize, f64)> {
        let sizes = self.cluster_sizes();
        (0..self.clusters.len())
            .map(|j| {
                let (best_class, best) = self
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (i, r[j]))
                    .max_by_key(|&(i, c)| (c, std::cmp::Reverse(i)))
                    .unwrap_or((0, 0));
                let purity = if sizes[j] == 0 {
                    0.0
                } else {
                    best as f64 / sizes[j] as f64
                };
                (self.clusters[j], self.classes[best_class], purity)
            })
            .collect()
    }
}

/// Prints the table with clusters reordered so that each matched cluster sits under its
/// class (the diagonal holds the correctly clustered counts); unmatched clusters come last.
impl fmt::Display for Contingency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let matching = self.matching();
        let mut order: Vec<usize> = Vec::new();
        for class in 0..self.classes.len() {
            if let Some(&(cluster, _)) = matching.iter().find(|&&(_, c)| c == class) {
                order.push(cluster);
            }
        }
        for j in 0..self.clusters.len() {
            if !order.contains(&j) {
                order.push(j);
            }
        }
        let width = self
            .counts
            .iter()
            .flatten()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(5);
        write!(f, "{:>8} |", "class")?;
        for &j in &order {
            write!(f, " {:>width$}", format!("c{}", self.clusters[j]))?;
        }
        writeln!(f, " | {:>width$}", "total")?;
        writeln!(
            f,
            "{}",
            "-".repeat(10 + (width + 1) * (order.len() + 1) + 2)
        )?;
        for (i, row) in self.counts.iter().enumerate() {
            write!(f, "{:>8} |", self.classes[i])?;
            for &j in &order {
                write!(f, " {:>width$}", row[j])?;
            }
            writeln!(f, " | {:>width$}", row.iter().sum::<u64>())?;
        }
        write!(f, "{:>8} |", "size")?;
        let sizes = self.cluster_sizes();
        for &j in &order {
            write!(f, " {:>width$}", sizes[j])?;
        }
        writeln!(f, " | {:>width$}", self.n)
    }
}

#[cfg(test)]
mod tests;
