//! Maximum-weight bipartite matching (Kuhn–Munkres, O(n³) with potentials) on a rectangular
//! weight matrix, padded to a square one with zeros.

/// `weights[r][c]` for `r` in rows, `c` in columns (all rows the same length). Returns the
/// matched `(row, column)` pairs of a maximum-weight matching that covers min(rows, cols)
/// real pairs; pairs involving padding are dropped.
pub fn max_weight_matching(weights: &[Vec<i64>]) -> Vec<(usize, usize)> {
    let rows = weights.len();
    let cols = weights.first().map_or(0, Vec::len);
    let size = rows.max(cols);
    if size == 0 {
        return Vec::new();
    }
    let max_w = weights.iter().flatten().copied().max().unwrap_or(0);
    // Minimise cost = max_w - weight over the padded square matrix.
    let cost = |r: usize, c: usize| -> i64 {
        if r < rows && c < cols {
            max_w - weights[r][c]
        } else {
            max_w
        }
    };
    // Classic e-maxx formulation, 1-based with a virtual column 0.
    let inf = i64::MAX / 4;
    let mut u = vec![0i64; size + 1];
    let mut v = vec![0i64; size + 1];
    let mut p = vec![0usize; size + 1];
    let mut way = vec![0usize; size + 1];
    for i in 1..=size {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![inf; size + 1];
        let mut used = vec![false; size + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0usize;
            for j in 1..=size {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=size {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    (1..=size)
        .filter_map(|j| {
            let (r, c) = (p[j] - 1, j - 1);
            (r < rows && c < cols).then_some((r, c))
        })
        .collect()
}
