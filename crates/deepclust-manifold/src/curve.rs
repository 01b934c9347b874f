//! umap-learn's `find_ab_params`: least-squares fit of `1 / (1 + a·x^(2b))` to the target
//! membership curve (1 below `min_dist`, `exp(-(x - min_dist) / spread)` above) on 300 points
//! of `[0, 3·spread]`, by Levenberg–Marquardt from `(a, b) = (1, 1)` as scipy's `curve_fit`.

use crate::ManifoldError;

/// Returns `(a, b)` for the given `spread` and `min_dist`.
pub fn find_ab_params(spread: f32, min_dist: f32) -> Result<(f64, f64), ManifoldError> {
    if !(spread.is_finite() && spread > 0.0) {
        return Err(ManifoldError::InvalidParam {
            name: "spread",
            reason: format!("must be finite and > 0, got {spread}"),
        });
    }
    if !(min_dist.is_finite() && min_dist >= 0.0 && min_dist <= spread) {
        return Err(ManifoldError::InvalidParam {
            name: "min_dist",
            reason: format!("must be in [0, spread = {spread}], got {min_dist}"),
        });
    }
    let (spread, min_dist) = (spread as f64, min_dist as f64);
    let xs: Vec<f64> = (0..300).map(|i| spread * 3.0 * i as f64 / 299.0).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    let sse = |a: f64, b: f64| -> f64 {
        xs.iter()
            .zip(&ys)
            .map(|(&x, &y)| {
                let r = 1.0 / (1.0 + a * x.powf(2.0 * b)) - y;
                r * r
            })
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let mut lambda = 1e-3;
    let mut cost = sse(a, b);
    for _ in 0..500 {
        // Normal equations J'J δ = -J'r with the analytic Jacobian.
        let (mut jaa, mut jab, mut jbb, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &y) in xs.iter().zip(&ys) {
            let p = if x > 0.0 { x.powf(2.0 * b) } else { 0.0 };
            let den = 1.0 + a * p;
            let f = 1.0 / den;
            let r = f - y;
            let da = -p / (den * den);
            let db = if x > 0.0 {
                -a * p * 2.0 * x.ln() / (den * den)
            } else {
                0.0
            };
            jaa += da * da;
            jab += da * db;
            jbb += db * db;
            ga += da * r;
            gb += db * r;
        }
        let mut improved = false;
        for _ in 0..50 {
            let (m11, m22) = (jaa * (1.0 + lambda), jbb * (1.0 + lambda));
            let det = m11 * m22 - jab * jab;
            if det.abs() < 1e-300 {
                lambda *= 10.0;
                continue;
            }
            let da = -(m22 * ga - jab * gb) / det;
            let db = -(m11 * gb - jab * ga) / det;
            let new_cost = sse(a + da, b + db);
            if new_cost.is_finite() && new_cost < cost {
                let rel_step = (da.abs() / a.abs().max(1e-12)).max(db.abs() / b.abs().max(1e-12));
                a += da;
                b += db;
                let rel_cost = (cost - new_cost) / cost.max(1e-300);
                cost = new_cost;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if rel_step < 1e-10 || rel_cost < 1e-14 {
                    return Ok((a, b));
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_umap_learn() {
        // umap-learn 0.5.12 / scipy: umap.umap_.find_ab_params(spread, min_dist)
        for (spread, min_dist, a_ref, b_ref) in [
            (1.0, 0.0, 1.93280839734315, 0.7904949732233831),
            (1.0, 0.1, 1.5769434602697652, 0.8950608778515733),
            (2.0, 0.5, 0.2588787412869628, 1.0574996994409025),
        ] {
            let (a, b) = find_ab_params(spread, min_dist).unwrap();
            assert!(
                (a - a_ref).abs() < 1e-4 * a_ref,
                "{spread} {min_dist}: a {a} vs {a_ref}"
            );
            assert!(
                (b - b_ref).abs() < 1e-4 * b_ref,
                "{spread} {min_dist}: b {b} vs {b_ref}"
            );
        }
    }

    #[test]
    fn rejects_bad_values() {
        assert!(find_ab_params(0.0, 0.0).is_err());
        assert!(find_ab_params(1.0, -0.1).is_err());
        assert!(find_ab_params(1.0, f32::NAN).is_err());
    }
}
