//! A stack of dense layers with a flat parameter vector, forward and backward passes.
//!
//! Layout: layer `l` maps `fan_in -> fan_out` with weights `W_l` (fan_in x fan_out,
//! row-major, the Keras layout) and bias `b_l` (fan_out); `y = act(x W + b)`.
//! All parameters live in one flat `Vec<f32>` (and gradients in one of the same layout)
//! so that an optimiser step is a single pass over contiguous memory.
//!
//! Fusion: the forward pass does `y = relu(x W + b)` as one GEMM plus one pass that adds the
//! bias and clamps; the backward pass masks the incoming gradient by `y > 0` and sums the
//! bias gradient in the same pass over memory.

use std::ops::Range;

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::gemm::{matmul, Accumulate, Operand};
use crate::init::Initializer;

/// Activation applied after the affine map of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// Identity.
    Linear,
}

/// Shape and parameter offsets of one dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseLayer {
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
    /// Activation after the affine map.
    pub activation: Activation,
    /// Offset of `W` (fan_in x fan_out) in the flat parameter vector.
    pub weight_offset: usize,
    /// Offset of `b` (fan_out) in the flat parameter vector.
    pub bias_offset: usize,
}

impl DenseLayer {
    fn weight_range(&self) -> Range<usize> {
        self.weight_offset..self.weight_offset + self.fan_in * self.fan_out
    }
    fn bias_range(&self) -> Range<usize> {
        self.bias_offset..self.bias_offset + self.fan_out
    }
}

/// A multi-layer perceptron: dense layers and their flat parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<DenseLayer>,
    params: Vec<f32>,
}

/// Rows per rayon task in the elementwise passes; small matrices stay on one thread.
const ROWS_PER_TASK_MIN_ELEMS: usize = 1 << 14;

fn rows_per_task(rows: usize, width: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let by_threads = rows.div_ceil(threads).max(1);
    let by_size = ROWS_PER_TASK_MIN_ELEMS.div_ceil(width.max(1)).max(1);
    by_threads.max(by_size)
}

impl Mlp {
    /// Layers `dims[i] -> dims[i+1]` with `activations[i]`; parameters are zero.
    ///
    /// # Panics
    /// If `activations.len() + 1 != dims.len()` (callers validate their configs first).
    pub fn new(dims: &[usize], activations: &[Activation]) -> Self {
        assert_eq!(
            dims.len(),
            activations.len() + 1,
            "one activation per layer"
        );
        let mut layers = Vec::with_capacity(activations.len());
        let mut offset = 0;
        for (pair, &activation) in dims.windows(2).zip(activations) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let weight_offset = offset;
            let bias_offset = weight_offset + fan_in * fan_out;
            offset = bias_offset + fan_out;
            layers.push(DenseLayer {
                fan_in,
                fan_out,
                activation,
                weight_offset,
                bias_offset,
            });
        }
        Self {
            layers,
            params: vec![0.0; offset],
        }
    }

    /// Draw all weights with `init` (layer by layer, in order) and zero the biases.
    pub fn initialize<R: Rng>(&mut self, init: Initializer, rng: &mut R) {
        for layer in &self.layers {
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            init.fill(&mut self.params[layer.weight_range()], fan_in, fan_out, rng);
            self.params[layer.bias_range()].fill(0.0);
        }
    }

    /// The layers.
    pub fn layers(&self) -> &[DenseLayer] {
        &self.layers
    }
    /// All parameters, flat.
    pub fn params(&self) -> &[f32] {
        &self.params
    }
    /// All parameters, flat, mutable.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    /// Number of scalar parameters.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }
    /// Range of the flat parameter vector that holds layers `layers`.
    pub fn param_range(&self, layers: Range<usize>) -> Range<usize> {
        if layers.is_empty() {
            return 0..0;
        }
        let first = &self.layers[layers.start];
        let last = &self.layers[layers.end - 1];
        first.weight_offset..last.bias_offset + last.fan_out
    }
    /// Weights of layer `l` (fan_in x fan_out, row-major).
    pub fn weight(&self, l: usize) -> &[f32] {
        &self.params[self.layers[l].weight_range()]
    }
    /// Bias of layer `l`.
    pub fn bias(&self, l: usize) -> &[f32] {
        &self.params[self.layers[l].bias_range()]
    }
    /// Input width of layer `l`.
    pub fn width_in(&self, l: usize) -> usize {
        self.layers[l].fan_in
    }
    /// Output width of layer `l`.
    pub fn width_out(&self, l: usize) -> usize {
        self.layers[l].fan_out
    }

    /// Forward pass of layers `layers` on `n` rows of `input` (n x fan_in of the first layer).
    /// The output of layer `l` is left in `ws.activation(l)`.
    pub fn forward(&self, layers: Range<usize>, input: &[f32], n: usize, ws: &mut Workspace) {
        assert!(
            n <= ws.batch,
            "batch of {n} rows exceeds the workspace ({})",
            ws.batch
        );
        for l in layers.clone() {
            let layer = self.layers[l];
            // Take the output buffer out so the previous activation can be borrowed.
            let mut out = std::mem::take(&mut ws.activations[l]);
            {
                let x: &[f32] = if l == layers.start {
                    input
                } else {
                    &ws.activations[l - 1]
                };
                dense_forward(&layer, &self.params, x, n, &mut out);
            }
            ws.activations[l] = out;
        }
    }

    /// Backward pass of layers `layers` (after [`Mlp::forward`] over the same rows).
    ///
    /// On entry `ws.gradient_mut()` holds dLoss/d(output of the last layer), n x fan_out;
    /// on exit, if `input_gradient` is true, it holds dLoss/d(input of the first layer),
    /// n x fan_in (otherwise its content is unspecified). Parameter gradients of these
    /// layers are written (overwritten) into `grads`, which has the layout of `params()`.
    pub fn backward(
        &self,
        layers: Range<usize>,
        input: &[f32],
        n: usize,
        ws: &mut Workspace,
        grads: &mut [f32],
        input_gradient: bool,
    ) {
        assert_eq!(grads.len(), self.params.len());
        for l in layers.clone().rev() {
            let layer = self.layers[l];
            let x: &[f32] = if l == layers.start {
                input
            } else {
                &ws.activations[l - 1]
            };
            let y = &ws.activations[l];
            let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
            let dy = &mut ws.gradient[..n * fan_out];
            // dZ = dY * act'(Z) and db = column sums of dZ, in one pass.
            let (w_grad, b_grad) = grads[layer.weight_offset..layer.bias_offset + fan_out]
                .split_at_mut(fan_in * fan_out);
            activation_and_bias_backward(
                layer.activation,
                &y[..n * fan_out],
                dy,
                n,
                fan_out,
                b_grad,
                &mut ws.partial_sums,
            );
            // dW = X^T dZ.
            matmul(
                fan_in,
                fan_out,
                n,
                Operand::transposed(&x[..n * fan_in]),
                Operand::plain(dy),
                w_grad,
                Accumulate::Overwrite,
            );
            if l > layers.start || input_gradient {
                // dX = dZ W^T.
                matmul(
                    n,
                    fan_in,
                    fan_out,
                    Operand::plain(dy),
                    Operand::transposed(&self.params[layer.weight_range()]),
                    &mut ws.gradient_next[..n * fan_in],
                    Accumulate::Overwrite,
                );
                std::mem::swap(&mut ws.gradient, &mut ws.gradient_next);
            }
        }
    }
}

/// `out = act(x W + b)` for one layer on `n` rows.
fn dense_forward(layer: &DenseLayer, params: &[f32], x: &[f32], n: usize, out: &mut [f32]) {
    let (fan_in, fan_out) = (layer.fan_in, layer.fan_out);
    let w = &params[layer.weight_range()];
    let b = &params[layer.bias_range()];
    let out = &mut out[..n * fan_out];
    matmul(
        n,
        fan_out,
        fan_in,
        Operand::plain(&x[..n * fan_in]),
        Operand::plain(w),
        out,
        Accumulate::Overwrite,
    );
    let rows = rows_per_task(n, fan_out);
    let activation = layer.activation;
    out.par_chunks_mut(rows * fan_out).for_each(|chunk| {
        for row in chunk.chunks_exact_mut(fan_out) {
            match activation {
                Activation::Relu => {
                    for (v, &bias) in row.iter_mut().zip(b) {
                        *v = (*v + bias).max(0.0);
                    }
                }
                Activation::Linear => {
                    for (v, &bias) in row.iter_mut().zip(b) {
                        *v += bias;
                    }
                }
            }
        }
    });
}

/// In place `dy *= act'(y)` and `bias_grad = sum over rows of dy`, in one pass.
/// `partial_sums` is scratch of at least `tasks * width` (see [`Workspace`]).
fn activation_and_bias_backward(
    activation: Activation,
    y: &[f32],
    dy: &mut [f32],
    n: usize,
    width: usize,
    bias_grad: &mut [f32],
    partial_sums: &mut Vec<f32>,
) {
    let rows = rows_per_task(n, width);
    let tasks = n.div_ceil(rows).max(1);
    if partial_sums.len() < tasks * width {
        partial_sums.resize(tasks * width, 0.0);
    }
    let partial = &mut partial_sums[..tasks * width];
    dy.par_chunks_mut(rows * width)
        .zip(y.par_chunks(rows * width))
        .zip(partial.par_chunks_mut(width))
        .for_each(|((dy, y), sums)| {
            sums.fill(0.0);
            for (dy_row, y_row) in dy.chunks_exact_mut(width).zip(y.chunks_exact(width)) {
                match activation {
                    Activation::Relu => {
                        for ((d, &v), s) in dy_row.iter_mut().zip(y_row).zip(sums.iter_mut()) {
                            // relu'(z) = 1 where the output is positive; 0 at z <= 0.
                            if v <= 0.0 {
                                *d = 0.0;
                            }
                            *s += *d;
                        }
                    }
                    Activation::Linear => {
                        for (&d, s) in dy_row.iter().zip(sums.iter_mut()) {
                            *s += d;
                        }
                    }
                }
            }
        });
    bias_grad.fill(0.0);
    for sums in partial.chunks_exact(width) {
        for (b, &s) in bias_grad.iter_mut().zip(sums) {
            *b += s;
        }
    }
}

/// Buffers for forward/backward passes of one [`Mlp`], allocated once for a maximum
/// batch size and reused for every batch (smaller batches use a prefix).
#[derive(Debug, Clone)]
pub struct Workspace {
    batch: usize,
    activations: Vec<Vec<f32>>,
    gradient: Vec<f32>,
    gradient_next: Vec<f32>,
    partial_sums: Vec<f32>,
}

impl Workspace {
    /// Buffers for batches of up to `batch` rows through every layer of `mlp`.
    pub fn new(mlp: &Mlp, batch: usize) -> Self {
        let widest = mlp
            .layers
            .iter()
            .map(|l| l.fan_in.max(l.fan_out))
            .max()
            .unwrap_or(0);
        let activations = mlp
            .layers
            .iter()
            .map(|l| vec![0.0; batch * l.fan_out])
            .collect();
        let threads = rayon::current_num_threads().max(1);
        Self {
            batch,
            activations,
            gradient: vec![0.0; batch * widest],
            gradient_next: vec![0.0; batch * widest],
            partial_sums: vec![0.0; threads * widest],
        }
    }
    /// Buffers for inference only: activations of `layers` for batches of up to `batch`
    /// rows, no gradient buffers ([`Mlp::backward`] must not be called with it).
    pub fn for_inference(mlp: &Mlp, layers: Range<usize>, batch: usize) -> Self {
        let activations = mlp
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                if layers.contains(&l) {
                    vec![0.0; batch * layer.fan_out]
                } else {
                    Vec::new()
                }
            })
            .collect();
        Self {
            batch,
            activations,
            gradient: Vec::new(),
            gradient_next: Vec::new(),
            partial_sums: Vec::new(),
        }
    }
    /// Maximum rows per batch.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Output of layer `l` from the last forward pass (`batch x fan_out` capacity; the
    /// first `n * fan_out` values are the last batch's).
    pub fn activation(&self, l: usize) -> &[f32] {
        &self.activations[l]
    }
    /// The gradient buffer that [`Mlp::backward`] reads on entry and leaves on exit.
    pub fn gradient(&self) -> &[f32] {
        &self.gradient
    }
    /// Mutable gradient buffer (write dLoss/d(output) here before [`Mlp::backward`]).
    pub fn gradient_mut(&mut self) -> &mut [f32] {
        &mut self.gradient
    }
    /// The output of layer `l` and the gradient buffer at once (for losses that read one
    /// and write the other).
    pub fn activation_and_gradient_mut(&mut self, l: usize) -> (&[f32], &mut [f32]) {
        (&self.activations[l], &mut self.gradient)
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// f64 reference forward pass of the whole network on one sample.
    pub(crate) fn reference_forward(mlp: &Mlp, params: &[f64], x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for layer in mlp.layers() {
            let mut out = vec![0.0; layer.fan_out];
            for (j, o) in out.iter_mut().enumerate() {
                let mut s = params[layer.bias_offset + j];
                for (i, &hi) in h.iter().enumerate() {
                    s += hi * params[layer.weight_offset + i * layer.fan_out + j];
                }
                *o = match layer.activation {
                    Activation::Relu => s.max(0.0),
                    Activation::Linear => s,
                };
            }
            h = out;
        }
        h
    }

    /// Loss used by the gradient test: sum over rows and outputs of c_ij * y_ij
    /// (a random linear functional, so dLoss/dy = c).
    fn reference_loss(mlp: &Mlp, params: &[f64], xs: &[f64], n: usize, c: &[f64]) -> f64 {
        let d_in = mlp.width_in(0);
        let d_out = mlp.width_out(mlp.layers().len() - 1);
        let mut total = 0.0;
        for r in 0..n {
            let y = reference_forward(mlp, params, &xs[r * d_in..(r + 1) * d_in]);
            for j in 0..d_out {
                total += c[r * d_out + j] * y[j];
            }
        }
        total
    }

    fn small_net(seed: u64) -> (Mlp, Vec<f32>, Vec<f32>, usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dims = [5, 7, 6, 3];
        let mut mlp = Mlp::new(
            &dims,
            &[Activation::Relu, Activation::Relu, Activation::Linear],
        );
        mlp.initialize(Initializer::GlorotUniform, &mut rng);
        // Non-zero biases so their gradients are exercised.
        for l in 0..3 {
            let range = mlp.layers[l].bias_range();
            for b in &mut mlp.params[range] {
                *b = rng.gen_range(-0.3..0.3);
            }
        }
        let n = 4;
        let x: Vec<f32> = (0..n * 5).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let c: Vec<f32> = (0..n * 3).map(|_| rng.gen_range(-1.0..1.0)).collect();
        (mlp, x, c, n)
    }

    #[test]
    fn forward_matches_f64_reference() {
        let (mlp, x, _, n) = small_net(3);
        let mut ws = Workspace::new(&mlp, 8);
        mlp.forward(0..3, &x, n, &mut ws);
        let p64: Vec<f64> = mlp.params().iter().map(|&v| v as f64).collect();
        for r in 0..n {
            let x64: Vec<f64> = x[r * 5..(r + 1) * 5].iter().map(|&v| v as f64).collect();
            let want = reference_forward(&mlp, &p64, &x64);
            for j in 0..3 {
                let got = ws.activation(2)[r * 3 + j] as f64;
                assert!((got - want[j]).abs() < 1e-5, "{got} vs {}", want[j]);
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences_for_every_parameter_and_input() {
        for seed in 0..3 {
            let (mlp, x, c, n) = small_net(seed);
            let mut ws = Workspace::new(&mlp, n);
            mlp.forward(0..3, &x, n, &mut ws);
            ws.gradient_mut()[..c.len()].copy_from_slice(&c);
            let mut grads = vec![0.0f32; mlp.n_params()];
            mlp.backward(0..3, &x, n, &mut ws, &mut grads, true);
            let input_grad = ws.gradient()[..n * 5].to_vec();

            let p64: Vec<f64> = mlp.params().iter().map(|&v| v as f64).collect();
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let c64: Vec<f64> = c.iter().map(|&v| v as f64).collect();
            let eps = 1e-6;
            for i in 0..p64.len() {
                let mut plus = p64.clone();
                plus[i] += eps;
                let mut minus = p64.clone();
                minus[i] -= eps;
                let fd = (reference_loss(&mlp, &plus, &x64, n, &c64)
                    - reference_loss(&mlp, &minus, &x64, n, &c64))
                    / (2.0 * eps);
                assert!(
                    (grads[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                    "seed {seed} param {i}: analytic {} vs numeric {fd}",
                    grads[i]
                );
            }
            for i in 0..x64.len() {
                let mut plus = x64.clone();
                plus[i] += eps;
                let mut minus = x64.clone();
                minus[i] -= eps;
                let fd = (reference_loss(&mlp, &p64, &plus, n, &c64)
                    - reference_loss(&mlp, &p64, &minus, n, &c64))
                    / (2.0 * eps);
                assert!(
                    (input_grad[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                    "seed {seed} input {i}: analytic {} vs numeric {fd}",
                    input_grad[i]
                );
            }
        }
    }

    #[test]
    fn backward_over_a_sub_range_touches_only_its_parameters() {
        let (mlp, x, c, n) = small_net(5);
        let mut ws = Workspace::new(&mlp, n);
        mlp.forward(0..3, &x, n, &mut ws);
        ws.gradient_mut()[..c.len()].copy_from_slice(&c);
        let mut grads = vec![7.0f32; mlp.n_params()];
        // Only the last layer: the first two keep their sentinel values.
        let h1 = ws.activation(1)[..n * 6].to_vec();
        mlp.backward(2..3, &h1, n, &mut ws, &mut grads, false);
        let touched = mlp.param_range(2..3);
        assert!(grads[..touched.start].iter().all(|&g| g == 7.0));
        assert!(grads[touched].iter().any(|&g| g != 7.0));
    }

    #[test]
    fn param_ranges_tile_the_vector() {
        let mlp = Mlp::new(&[4, 3, 2], &[Activation::Relu, Activation::Linear]);
        assert_eq!(mlp.n_params(), 4 * 3 + 3 + 3 * 2 + 2);
        assert_eq!(mlp.param_range(0..1), 0..15);
        assert_eq!(mlp.param_range(1..2), 15..23);
        assert_eq!(mlp.param_range(0..2), 0..23);
    }

    #[test]
    fn large_batches_split_across_tasks_give_the_same_bias_gradient() {
        // Wide enough that the elementwise passes run as several rayon tasks.
        let n = 300;
        let width = 200;
        let y: Vec<f32> = (0..n * width).map(|i| ((i % 5) as f32) - 2.0).collect();
        let mut dy: Vec<f32> = (0..n * width).map(|i| ((i % 3) as f32) - 1.0).collect();
        let mut want = vec![0.0f64; width];
        for r in 0..n {
            for j in 0..width {
                if y[r * width + j] > 0.0 {
                    want[j] += dy[r * width + j] as f64;
                }
            }
        }
        let mut bias = vec![0.0f32; width];
        let mut scratch = Vec::new();
        activation_and_bias_backward(
            Activation::Relu,
            &y,
            &mut dy,
            n,
            width,
            &mut bias,
            &mut scratch,
        );
        for j in 0..width {
            assert_eq!(bias[j] as f64, want[j]);
        }
    }
}
