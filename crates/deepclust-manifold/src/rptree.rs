//! Random-projection trees (pynndescent's Euclidean split) used to seed NN-descent: points
//! sharing a leaf are likely near each other, so leaf-mates make a good initial graph.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Leaves of one tree: `points[bounds[l].0..bounds[l].1]` are the members of leaf `l`,
/// `leaf_of[i]` is the leaf of point `i`.
pub(crate) struct RpLeaves {
    pub points: Vec<u32>,
    pub bounds: Vec<(u32, u32)>,
    pub leaf_of: Vec<u32>,
}

impl RpLeaves {
    pub fn mates(&self, i: usize) -> &[u32] {
        let (a, b) = self.bounds[self.leaf_of[i] as usize];
        &self.points[a as usize..b as usize]
    }
}

/// Builds one tree over the rows of `data` (`n x dim`, row-major) with leaves of at most
/// `leaf_size` points.
pub(crate) fn build_rp_tree(
    data: &[f32],
    dim: usize,
    leaf_size: usize,
    rng: &mut ChaCha8Rng,
) -> RpLeaves {
    let n = data.len() / dim;
    let mut points: Vec<u32> = (0..n as u32).collect();
    let mut bounds = Vec::new();
    let mut stack = vec![(0usize, n)];
    let mut normal = vec![0.0f32; dim];
    let mut side = Vec::new();
    let mut scratch = Vec::new();
    while let Some((start, end)) = stack.pop() {
        let len = end - start;
        if len <= leaf_size.max(1) {
            bounds.push((start as u32, end as u32));
            continue;
        }
        let seg = &mut points[start..end];
        // Hyperplane equidistant from two random members, as pynndescent's
        // euclidean_random_projection_split.
        let left = seg[rng.gen_range(0..len)] as usize;
        let mut right = seg[rng.gen_range(0..len - 1)] as usize;
        if right == left {
            right = seg[len - 1] as usize;
        }
        let (pl, pr) = (&data[left * dim..][..dim], &data[right * dim..][..dim]);
        let mut offset = 0.0f32;
        for d in 0..dim {
            normal[d] = pl[d] - pr[d];
            offset -= normal[d] * (pl[d] + pr[d]) * 0.5;
        }
        side.clear();
        let mut n_left = 0usize;
        for &p in seg.iter() {
            let x = &data[p as usize * dim..][..dim];
            let margin = offset + normal.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
            let goes_left = if margin.abs() < 1e-8 {
                rng.gen::<bool>()
            } else {
                margin > 0.0
            };
            n_left += goes_left as usize;
            side.push(goes_left);
        }
        // Degenerate split (duplicates, or all on one side): split at random instead.
        if n_left == 0 || n_left == len {
            n_left = 0;
            for s in side.iter_mut() {
                *s = rng.gen::<bool>();
                n_left += *s as usize;
            }
            if n_left == 0 || n_left == len {
                for (i, s) in side.iter_mut().enumerate() {
                    *s = i < len / 2;
                }
                n_left = len / 2;
            }
        }
        scratch.clear();
        scratch.extend(seg.iter().zip(&side).filter(|(_, &s)| s).map(|(&p, _)| p));
        scratch.extend(seg.iter().zip(&side).filter(|(_, &s)| !s).map(|(&p, _)| p));
        seg.copy_from_slice(&scratch);
        stack.push((start + n_left, end));
        stack.push((start, start + n_left));
    }
    let mut leaf_of = vec![0u32; n];
    for (l, &(a, b)) in bounds.iter().enumerate() {
        for &p in &points[a as usize..b as usize] {
            leaf_of[p as usize] = l as u32;
        }
    }
    RpLeaves {
        points,
        bounds,
        leaf_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn leaves_partition_the_points_and_respect_the_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let data: Vec<f32> = (0..1000 * 3).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let t = build_rp_tree(&data, 3, 15, &mut rng);
        let mut seen = vec![0; 1000];
        for &(a, b) in &t.bounds {
            assert!(b - a <= 15 && b > a);
            for &p in &t.points[a as usize..b as usize] {
                seen[p as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        assert!(t.mates(17).contains(&17));
    }

    #[test]
    fn duplicates_still_split() {
        let data = vec![1.0f32; 100 * 2];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let t = build_rp_tree(&data, 2, 10, &mut rng);
        assert!(t.bounds.iter().all(|&(a, b)| b - a <= 10));
    }
}
