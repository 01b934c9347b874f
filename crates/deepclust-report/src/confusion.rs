//! The confusion table after Hungarian matching, and purity per cluster and per class, in
//! the shape the template shows them (numbers already formatted).

use deepclust_metrics::Contingency;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ConfusionTable {
    /// Column heads: cluster labels, ordered so that each matched cluster sits under its
    /// class (the diagonal holds the correctly clustered counts); unmatched ones last.
    pub columns: Vec<String>,
    pub rows: Vec<ConfusionRow>,
    /// Items per column's cluster.
    pub column_totals: Vec<u64>,
    pub total: u64,
    pub acc: f64,
    pub nmi: f64,
    pub ari: f64,
    pub clusters: Vec<ClusterPurity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfusionRow {
    pub class: String,
    pub cells: Vec<ConfusionCell>,
    pub size: u64,
    /// Cluster matched to this class, when there is one.
    pub matched_cluster: Option<String>,
    /// Share of the class that landed in its matched cluster (recall).
    pub share_in_match: f64,
    /// Share of the matched cluster that belongs to this class (precision, the class's
    /// purity of its cluster).
    pub purity_of_match: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfusionCell {
    pub count: u64,
    /// Count over the class size, 0..1: the cell's shade.
    pub fraction: f64,
    /// The cell pairs the class with its matched cluster.
    pub matched: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterPurity {
    pub cluster: usize,
    pub size: u64,
    pub majority_class: usize,
    pub purity: f64,
    pub matched_class: Option<usize>,
}

impl ConfusionTable {
    pub fn new(table: &Contingency) -> Self {
        let counts = table.counts();
        let classes = table.classes();
        let clusters = table.clusters();
        let matching = table.matching();
        let class_sizes = table.class_sizes();
        let cluster_sizes = table.cluster_sizes();
        // matched_cluster_of[class_index] = cluster_index
        let mut matched_cluster_of = vec![None; classes.len()];
        let mut matched_class_of = vec![None; clusters.len()];
        for &(cluster, class) in &matching {
            matched_cluster_of[class] = Some(cluster);
            matched_class_of[cluster] = Some(class);
        }
        let mut order: Vec<usize> = matched_cluster_of.iter().flatten().copied().collect();
        order.extend((0..clusters.len()).filter(|j| matched_class_of[*j].is_none()));
        let rows = counts
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let size = class_sizes[i];
                let cells = order
                    .iter()
                    .map(|&j| ConfusionCell {
                        count: row[j],
                        fraction: ratio(row[j], size),
                        matched: matched_cluster_of[i] == Some(j),
                    })
                    .collect();
                let (share_in_match, purity_of_match) = match matched_cluster_of[i] {
                    Some(j) => (ratio(row[j], size), ratio(row[j], cluster_sizes[j])),
                    None => (0.0, 0.0),
                };
                ConfusionRow {
                    class: classes[i].to_string(),
                    cells,
                    size,
                    matched_cluster: matched_cluster_of[i].map(|j| clusters[j].to_string()),
                    share_in_match,
                    purity_of_match,
                }
            })
            .collect();
        let purity = table.cluster_purity();
        let cluster_rows = purity
            .into_iter()
            .enumerate()
            .map(|(j, (cluster, majority_class, purity))| ClusterPurity {
                cluster,
                size: cluster_sizes[j],
                majority_class,
                purity,
                matched_class: matched_class_of[j].map(|i| classes[i]),
            })
            .collect();
        ConfusionTable {
            columns: order.iter().map(|&j| clusters[j].to_string()).collect(),
            rows,
            column_totals: order.iter().map(|&j| cluster_sizes[j]).collect(),
            total: class_sizes.iter().sum(),
            acc: table.acc(),
            nmi: table.nmi(),
            ari: table.ari(),
            clusters: cluster_rows,
        }
    }

    /// Purity figures of one cluster label.
    pub fn cluster(&self, label: usize) -> Option<&ClusterPurity> {
        self.clusters.iter().find(|c| c.cluster == label)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_clusters_sit_on_the_diagonal() {
        // Class 0 went mostly to cluster 5, class 1 to cluster 2; cluster 9 is extra.
        let truth = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0];
        let pred = [5, 5, 5, 2, 2, 2, 2, 5, 9, 9];
        let t = ConfusionTable::new(&Contingency::new(&truth, &pred).expect("table"));
        assert_eq!(t.columns, vec!["5", "2", "9"]);
        assert_eq!(t.rows[0].class, "0");
        let counts: Vec<Vec<u64>> = t
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.count).collect())
            .collect();
        assert_eq!(counts, vec![vec![3, 1, 1], vec![1, 3, 1]]);
        assert!(t.rows[0].cells[0].matched && t.rows[1].cells[1].matched);
        assert!(!t.rows[0].cells[1].matched && !t.rows[1].cells[2].matched);
        assert_eq!(t.column_totals, vec![4, 4, 2]);
        // Class 0: 5 items, 3 of them in cluster 5, which holds 4 items.
        assert_eq!(t.rows[0].matched_cluster.as_deref(), Some("5"));
        assert!((t.rows[0].share_in_match - 0.6).abs() < 1e-12);
        assert!((t.rows[0].purity_of_match - 0.75).abs() < 1e-12);
        assert!((t.acc - 0.6).abs() < 1e-12);
        let nine = t.cluster(9).expect("cluster 9");
        assert_eq!((nine.size, nine.matched_class), (2, None));
        assert!((nine.purity - 0.5).abs() < 1e-12);
        let five = t.cluster(5).expect("cluster 5");
        assert_eq!((five.majority_class, five.matched_class), (0, Some(0)));
    }
}
