//! Weight initialisers (biases always start at zero, as in Keras and the DEC code).

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the weights of a dense layer are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Initializer {
    /// Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); Keras' default.
    #[default]
    GlorotUniform,
    /// VarianceScaling(scale = 1/3, mode = fan_in, distribution = uniform):
    /// U(-l, l) with l = sqrt(3 * scale / fan_in) = sqrt(1 / fan_in). This is what the best
    /// public DEC code uses, and the same bound as PyTorch's default `nn.Linear` weights.
    VarianceScalingThirdFanIn,
}

impl Initializer {
    /// Half-width of the uniform distribution for a layer with these fans.
    pub fn limit(self, fan_in: usize, fan_out: usize) -> f32 {
        match self {
            Initializer::GlorotUniform => (6.0 / (fan_in + fan_out) as f64).sqrt() as f32,
            Initializer::VarianceScalingThirdFanIn => (1.0 / fan_in as f64).sqrt() as f32,
        }
    }

    /// Fill `weights` (fan_in x fan_out) from `rng`.
    pub fn fill<R: Rng>(self, weights: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut R) {
        let limit = self.limit(fan_in, fan_out);
        for w in weights.iter_mut() {
            *w = rng.gen_range(-limit..limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn limits_match_the_formulas() {
        assert!(
            (Initializer::GlorotUniform.limit(784, 500) - (6.0f32 / 1284.0).sqrt()).abs() < 1e-7
        );
        assert!((Initializer::VarianceScalingThirdFanIn.limit(400, 9) - 0.05).abs() < 1e-7);
    }

    #[test]
    fn samples_stay_in_range_and_have_uniform_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut w = vec![0.0f32; 200 * 300];
        Initializer::GlorotUniform.fill(&mut w, 200, 300, &mut rng);
        let limit = Initializer::GlorotUniform.limit(200, 300);
        assert!(w.iter().all(|v| v.abs() <= limit));
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64;
        // Uniform(-l, l) has variance l^2 / 3 = 2 / (fan_in + fan_out).
        assert!(mean.abs() < 1e-3);
        assert!((var - 2.0 / 500.0).abs() < 2e-4, "variance {var}");
    }
}
