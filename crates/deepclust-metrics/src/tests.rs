use super::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

#[test]
fn hand_computed_small_case() {
    // truth [0,0,0,1,1,1], pred [0,0,1,1,2,2]: table [[2,1,0],[0,1,2]].
    let (t, p) = ([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]);
    // MI = (2/3) ln 2, H(t) = ln 2, H(p) = ln 3  =>  NMI = (4/3) ln 2 / ln 6.
    close(nmi(&t, &p).unwrap(), 4.0 / 3.0 * 2f64.ln() / 6f64.ln());
    // Best matching c0->0 (2) and c2->1 (2): 4 of 6.
    close(acc(&t, &p).unwrap(), 4.0 / 6.0);
    // Pairs: index 2, expected 6*3/15 = 1.2, max 4.5  =>  (2 - 1.2) / (4.5 - 1.2).
    close(ari(&t, &p).unwrap(), 0.8 / 3.3);
}

/// Reference values from scikit-learn 1.9.1, produced by:
/// ```python
/// from sklearn.metrics import normalized_mutual_info_score as nmi, adjusted_rand_score as ari
/// from scipy.optimize import linear_sum_assignment   # acc = matched count / n on -w
/// print(repr(nmi(t, p)), repr(acc(t, p)), repr(ari(t, p)))
/// ```
#[test]
fn matches_scikit_learn() {
    /// truth, prediction, then scikit-learn's NMI, ACC and ARI.
    type Case<'a> = (&'a [usize], &'a [usize], f64, f64, f64);
    let cases: [Case; 4] = [
        (
            &[0, 0, 0, 1, 1, 1],
            &[0, 0, 1, 1, 2, 2],
            0.5158037429793889,
            0.6666666666666666,
            0.24242424242424243,
        ),
        (
            &[0, 0, 1, 1, 2, 2, 2, 3],
            &[1, 1, 0, 0, 0, 2, 2, 2],
            0.7020168761809934,
            0.75,
            0.3684210526315789,
        ),
        (
            &[0, 1, 2, 0, 1, 2, 0, 1, 2, 0],
            &[0, 0, 0, 1, 1, 1, 2, 2, 2, 2],
            0.012714017928048455,
            0.4,
            -0.25,
        ),
        (
            &[2, 2, 2, 2, 0, 0, 1, 1, 1, 5, 5, 5],
            &[3, 3, 1, 1, 0, 0, 0, 2, 2, 2, 4, 4],
            0.7056118682719414,
            0.6666666666666666,
            0.3497536945812808,
        ),
    ];
    for (t, p, want_nmi, want_acc, want_ari) in cases {
        let s = scores(t, p).unwrap();
        assert!(
            (s.nmi - want_nmi).abs() < 1e-6,
            "nmi {t:?} {p:?}: {} vs {want_nmi}",
            s.nmi
        );
        assert!((s.acc - want_acc).abs() < 1e-6, "acc {t:?} {p:?}");
        assert!((s.ari - want_ari).abs() < 1e-6, "ari {t:?} {p:?}");
    }
}

/// 500 samples, 10 classes, 7 clusters; the same formulas in Python gave
/// nmi 0.49469653741168523, acc 0.716, ari 0.5623458817075937 (scikit-learn 1.9.1):
/// `t=[(i*i*31+7*i)%10 for i in range(500)]`,
/// `p=[(t[i]*3)%7 if (i*13)%10>=3 else (i*i*17+3)%7 for i in range(500)]`.
#[test]
fn matches_scikit_learn_larger_rectangular() {
    let t: Vec<usize> = (0..500).map(|i| (i * i * 31 + 7 * i) % 10).collect();
    let p: Vec<usize> = (0..500)
        .map(|i| {
            if (i * 13) % 10 >= 3 {
                (t[i] * 3) % 7
            } else {
                (i * i * 17 + 3) % 7
            }
        })
        .collect();
    let s = scores(&t, &p).unwrap();
    assert!((s.nmi - 0.49469653741168523).abs() < 1e-6, "{s}");
    assert!((s.acc - 0.716).abs() < 1e-6, "{s}");
    assert!((s.ari - 0.5623458817075937).abs() < 1e-6, "{s}");
}

#[test]
fn degenerate_cases_follow_scikit_learn() {
    // One group on both sides: a perfect match.
    assert_eq!(nmi(&[0, 0, 0], &[1, 1, 1]).unwrap(), 1.0);
    assert_eq!(ari(&[0, 0, 0], &[1, 1, 1]).unwrap(), 1.0);
    // One cluster, two classes: no information.
    assert_eq!(nmi(&[0, 0, 1], &[2, 2, 2]).unwrap(), 0.0);
    assert_eq!(ari(&[0, 0, 1], &[2, 2, 2]).unwrap(), 0.0);
    let perfect = scores(&[0, 1, 2], &[5, 7, 9]).unwrap();
    close(perfect.nmi, 1.0);
    close(perfect.acc, 1.0);
    close(perfect.ari, 1.0);
}

#[test]
fn errors_on_bad_input() {
    assert_eq!(
        nmi(&[0, 1], &[0]),
        Err(MetricsError::LengthMismatch { truth: 2, pred: 1 })
    );
    assert_eq!(acc(&[], &[]), Err(MetricsError::Empty));
}

#[test]
fn more_clusters_than_classes() {
    // 4 clusters, 2 classes: only two clusters can be matched.
    let t = [0, 0, 0, 0, 1, 1, 1, 1];
    let p = [0, 0, 1, 1, 2, 2, 3, 3];
    close(acc(&t, &p).unwrap(), 0.5);
}

#[test]
fn table_prints_matched_diagonal() {
    let table = Contingency::new(&[0, 0, 1, 1, 1], &[7, 7, 3, 3, 7]).unwrap();
    let text = table.to_string();
    // Cluster 7 is matched to class 0 and must come first.
    let header = text.lines().next().unwrap();
    assert!(
        header.find("c7").unwrap() < header.find("c3").unwrap(),
        "{text}"
    );
    assert!(text.contains("total"));
    let purity = table.cluster_purity();
    assert_eq!(purity, vec![(3, 1, 1.0), (7, 0, 2.0 / 3.0)]);
}

/// Brute force over all injective assignments, for checking the Hungarian algorithm.
fn brute_force(weights: &[Vec<i64>]) -> i64 {
    fn go(w: &[Vec<i64>], row: usize, used: &mut Vec<bool>) -> i64 {
        if row == w.len() {
            return 0;
        }
        // The row may also stay unmatched (when rows > cols).
        let mut best = go(w, row + 1, used);
        for c in 0..used.len() {
            if !used[c] {
                used[c] = true;
                best = best.max(w[row][c] + go(w, row + 1, used));
                used[c] = false;
            }
        }
        best
    }
    let cols = weights.first().map_or(0, Vec::len);
    go(weights, 0, &mut vec![false; cols])
}

proptest! {
    #[test]
    fn hungarian_is_optimal(rows in 1usize..6, cols in 1usize..6, seed in any::<u64>()) {
        let mut state = seed;
        let weights: Vec<Vec<i64>> = (0..rows)
            .map(|_| (0..cols).map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) % 20) as i64
            }).collect())
            .collect();
        let pairs = max_weight_matching(&weights);
        let total: i64 = pairs.iter().map(|&(r, c)| weights[r][c]).sum();
        prop_assert_eq!(total, brute_force(&weights));
        prop_assert_eq!(pairs.len(), rows.min(cols));
    }

    #[test]
    fn relabelling_keeps_every_score(
        pairs in proptest::collection::vec((0usize..5, 0usize..6), 1..80),
        shift in 1usize..50,
    ) {
        let t: Vec<usize> = pairs.iter().map(|p| p.0).collect();
        let p: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        // A permutation of cluster ids (reversal plus offset) and of class ids.
        let p2: Vec<usize> = p.iter().map(|&x| 1000 - x * 7).collect();
        let t2: Vec<usize> = t.iter().map(|&x| x + shift).collect();
        let a = scores(&t, &p).unwrap();
        let b = scores(&t2, &p2).unwrap();
        prop_assert!((a.nmi - b.nmi).abs() < 1e-12);
        prop_assert!((a.acc - b.acc).abs() < 1e-12);
        prop_assert!((a.ari - b.ari).abs() < 1e-12);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&a.nmi));
        prop_assert!((0.0..=1.0).contains(&a.acc));
        prop_assert!(a.ari <= 1.0 + 1e-12);
        // Symmetry of NMI and ARI.
        let c = scores(&p, &t).unwrap();
        prop_assert!((a.nmi - c.nmi).abs() < 1e-12);
        prop_assert!((a.ari - c.ari).abs() < 1e-12);
    }
}
