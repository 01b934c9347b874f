//! Mean squared error, fused with its gradient.

use rayon::prelude::*;

/// Mean squared error over all `prediction.len()` elements (PyTorch `MSELoss()` and Keras
/// `mse` agree on this: mean over features, then over rows) and, in the same pass,
/// `gradient = weight * d(mse)/d(prediction) = weight * 2 (prediction - target) / len`.
///
/// Returns the (unweighted) loss, accumulated in f64.
///
/// # Panics
/// If the three slices differ in length.
pub fn mse_with_gradient(
    prediction: &[f32],
    target: &[f32],
    gradient: &mut [f32],
    weight: f32,
) -> f64 {
    assert_eq!(prediction.len(), target.len());
    assert_eq!(prediction.len(), gradient.len());
    let len = prediction.len();
    if len == 0 {
        return 0.0;
    }
    let scale = 2.0 * weight / len as f32;
    const CHUNK: usize = 1 << 14;
    let sum: f64 = gradient
        .par_chunks_mut(CHUNK)
        .zip(prediction.par_chunks(CHUNK))
        .zip(target.par_chunks(CHUNK))
        .map(|((g, p), t)| {
            let mut s = 0.0f32;
            for ((g, &p), &t) in g.iter_mut().zip(p).zip(t) {
                let diff = p - t;
                s += diff * diff;
                *g = scale * diff;
            }
            s as f64
        })
        .sum();
    sum / len as f64
}

/// Mean squared error without the gradient.
pub fn mse(prediction: &[f32], target: &[f32]) -> f64 {
    assert_eq!(prediction.len(), target.len());
    if prediction.is_empty() {
        return 0.0;
    }
    let sum: f64 = prediction
        .iter()
        .zip(target)
        .map(|(&p, &t)| ((p - t) as f64).powi(2))
        .sum();
    sum / prediction.len() as f64
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_value_and_gradient() {
        let p = [1.0f32, 2.0, 0.5, -1.0];
        let t = [0.0f32, 2.0, 1.5, 1.0];
        let mut g = [0.0f32; 4];
        // (1 + 0 + 1 + 4) / 4 = 1.5
        let loss = mse_with_gradient(&p, &t, &mut g, 1.0);
        assert!((loss - 1.5).abs() < 1e-12);
        assert_eq!(g, [0.5, 0.0, -0.5, -1.0]);
        assert!((mse(&p, &t) - 1.5).abs() < 1e-12);
        // The weight scales the gradient, not the returned loss.
        let loss = mse_with_gradient(&p, &t, &mut g, 0.1);
        assert!((loss - 1.5).abs() < 1e-12);
        assert!((g[3] + 0.1).abs() < 1e-7);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let t: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin()).collect();
        let p: Vec<f32> = (0..50).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut g = vec![0.0f32; 50];
        mse_with_gradient(&p, &t, &mut g, 1.0);
        let t64: Vec<f64> = t.iter().map(|&v| v as f64).collect();
        let loss64 = |p: &[f64]| {
            p.iter()
                .zip(&t64)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                / 50.0
        };
        let p64: Vec<f64> = p.iter().map(|&v| v as f64).collect();
        for i in 0..50 {
            let eps = 1e-6;
            let mut plus = p64.clone();
            plus[i] += eps;
            let mut minus = p64.clone();
            minus[i] -= eps;
            let fd = (loss64(&plus) - loss64(&minus)) / (2.0 * eps);
            assert!((g[i] as f64 - fd).abs() < 1e-6, "{i}: {} vs {fd}", g[i]);
        }
    }
}
